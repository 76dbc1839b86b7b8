"""The portfolio in pictures with 1,000 projects: /report/pictures timed against the plain
/report page of the same app, interleaved round after round (bench/measure.py), so the
ratio says what the charts cost on top of the report whatever the machine's speed.

The charts read one page of projects (at most engine/portfolio.py's DEFAULT_LIMIT) and the
report's aggregates, so the ratio should stay flat as the archive grows: run it with
--projects 1000 and --projects 4000 to see.

    .venv/bin/python -m bench.pictures [--projects 1000] [--rounds 15]
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import tempfile
import time
from pathlib import Path

from starlette.testclient import TestClient

from bench import measure
from bench.web import MANAGER, PASSWORD, T0, populate
from web.app import create_app

PAGES = {"report": "/report", "pictures": "/report/pictures"}


def signed_in(url: str, now: dt.datetime) -> TestClient:
    client = TestClient(create_app(url, clock=lambda: now), follow_redirects=False)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert token
    form = {"person": MANAGER, "password": PASSWORD, "csrf": token.group(1)}
    assert client.post("/login", data=form).status_code == 303
    return client


def case(client: TestClient, path: str) -> measure.Sample:
    """One timed request (its answer must be a page)."""
    start = time.perf_counter()
    answer = client.get(path)
    seconds = time.perf_counter() - start
    assert answer.status_code == 200, path
    return measure.Sample(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        started = time.perf_counter()
        populate(url, args.projects)
        print(f"{args.projects} projects in {time.perf_counter() - started:.1f} s")
        with signed_in(url, T0 + dt.timedelta(days=3)) as client:
            for path in PAGES.values():  # warm the caches once
                case(client, path)
            cases = {name: (lambda p=path: case(client, p)) for name, path in PAGES.items()}
            summary = measure.interleave(cases, args.rounds)
    print(f"\n{'page':<10} {'url':<18} {'median ms':>10}")
    for name, path in PAGES.items():
        print(f"{name:<10} {path:<18} {summary.median(name) * 1000:>10.1f}")
    ratio = summary.ratio_text("pictures", "report")
    print(f"\n/report/pictures ÷ /report, {args.rounds} interleaved rounds: {ratio}")


if __name__ == "__main__":
    main()
