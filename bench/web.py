"""Web pages with 1,000 projects: "Mani darbi" and a project page, timed through
Starlette's TestClient as a ratio to a static file and a trivial route served by the
same app in the same run (so the machine's speed cancels out).

    .venv/bin/python -m bench.web [--projects 1000] [--rounds 50]
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import statistics
import tempfile
import time
from pathlib import Path

from starlette.testclient import TestClient

from engine import accounts
from engine.loading import load_org, load_scheme
from engine.service import Engine
from schemes import shipped
from storage.database import Database
from storage.migrate import upgrade
from web.app import create_app

COORDINATOR = "ilze.kalnina"
MANAGER = "janis.ozols"
PASSWORD = "bench-parole"
T0 = dt.datetime(2026, 2, 2, 8, 0, tzinfo=dt.UTC)


def populate(url: str, n: int) -> str:
    """`n` projects spread over the parishes' specialists; every tenth submitted, so it
    waits at the handoff for the project managers. Returns one submitted project's code."""
    db = Database(url)
    upgrade(db)
    engine = Engine(db)
    text = shipped("ogre.yaml").read_text(encoding="utf-8")
    load_org(engine, text, "ogre.yaml", actor=COORDINATOR, now=T0)
    text = shipped("unified.yaml").read_text(encoding="utf-8")
    load_scheme(engine, text, "unified.yaml", actor=COORDINATOR, now=T0)
    with db.read() as conn:
        org = engine.org_index(conn)
    makers = [
        (pid, unit)
        for pid, roles in org.assignments.items()
        for role, unit in roles
        if role == "parish_specialist"
    ]
    sample = ""
    for i in range(n):
        who, unit = makers[i % len(makers)]
        at = T0 + dt.timedelta(minutes=i)
        code = engine.create_project(title=f"Projekts {i}", unit=unit, actor=who, now=at).code
        if i % 10 == 0:
            for item in ("problem_statement", "estimated_cost"):
                engine.check(code, item, actor=who, now=at)
            engine.advance(code, "submit_idea", actor=who, now=at)
            sample = code
    accounts.store_hash(engine, [MANAGER], accounts.hash_password(PASSWORD))
    db.dispose()
    return sample


def median_ms(client: TestClient, url: str, rounds: int) -> float:
    assert client.get(url).status_code == 200, url  # warm caches once
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        answer = client.get(url)
        times.append(time.perf_counter() - start)
        assert answer.status_code == 200, url
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        started = time.perf_counter()
        code = populate(url, args.projects)
        print(f"{args.projects} projects in {time.perf_counter() - started:.1f} s")
        now = T0 + dt.timedelta(days=3)
        app = create_app(url, clock=lambda: now)
        with TestClient(app, follow_redirects=False) as client:
            token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
            assert token
            form = {"person": MANAGER, "password": PASSWORD, "csrf": token.group(1)}
            assert client.post("/login", data=form).status_code == 303
            pages = {
                "/static/style.css": "static file",
                "/healthz": "trivial route",
                "/": "Mani darbi",
                f"/projects/{code}": "project page",
            }
            ms = {url: median_ms(client, url, args.rounds) for url in pages}
        base = ms["/static/style.css"]
        print(f"\n{'page':<16} {'url':<26} {'median ms':>10} {'× static':>9}")
        for url, name in pages.items():
            print(f"{name:<16} {url:<26} {ms[url]:>10.2f} {ms[url] / base:>9.1f}")


if __name__ == "__main__":
    main()
