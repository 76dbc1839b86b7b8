"""How the everyday commands grow with the archive: 1k, 10k and 100k projects.

    .venv/bin/python -m bench.growth                    # sizes 1000,10000,100000
    .venv/bin/python -m bench.growth --sizes 1000,10000 # quick
    SHEMA_BENCH_SIZES=1000,10000 .venv/bin/python -m bench.growth

The databases (bench/archive.py) are cached under SHEMA_BENCH_CACHE. Every command is a
black box, a child process run under /usr/bin/time for its own peak memory
(bench/measure.py); the sizes are interleaved round by round, and each figure is the
median of the rounds, with the ratio of the largest size to the smallest as the median
and the min–max of the per-round ratios. The web pages are served by `web.app.create_app`
through Starlette's TestClient in a child per page and size (the person named by a
trusted header, so no password hash is in the peak); a child times three requests after
a warm-up and reports their median.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import archive, measure, walks
from bench.measure import Sample, mb, ms

ROOT = Path(__file__).resolve().parents[1]
SHEMA = str(Path(sys.executable).with_name("shema"))
HEADER = "X-Bench-User"


def shema(built: archive.Built, *args: str) -> list[str]:
    """The CLI on `built`, acting as the busy manager."""
    return [SHEMA, "--db", built.url, "--as", walks.MANAGER, *args]


def audit(built: archive.Built, *args: str) -> list[str]:
    return [SHEMA, "--db", built.url, "audit", "verify", *args]


def accepts_full() -> bool:
    """Whether `shema audit verify` has a --full flag (incremental verify)."""
    done = subprocess.run([SHEMA, "audit", "verify", "--help"], capture_output=True, text=True)
    return "--full" in done.stdout


def commands(full: bool) -> dict[str, Callable[[archive.Built], list[str]]]:
    table: dict[str, Callable[[archive.Built], list[str]]] = {
        "shema project list --overdue": lambda b: shema(b, "project", "list", "--overdue"),
        "shema project list --mine": lambda b: shema(b, "project", "list", "--mine"),
        "shema audit verify": lambda b: audit(b),
    }
    if full:
        table["shema audit verify --full"] = lambda b: audit(b, "--full")
    table["web: Mani darbi (/)"] = lambda b: page(b, "/")
    table["web: projects list (/projects)"] = lambda b: page(b, "/projects")
    table["web: project page"] = lambda b: page(b, f"/projects/{b.sample}")
    table["shema jobs sweep --now (1 % due)"] = lambda b: [
        SHEMA, "--db", f"sqlite:///{scratch(b)}", "jobs", "sweep", "--json",
        "--now", b.sweep_at.isoformat(),
    ]  # fmt: skip
    return table


def page(built: archive.Built, url: str) -> list[str]:
    return [sys.executable, "-m", "bench.growth", "--serve", built.url, url]


def scratch(built: archive.Built) -> Path:
    return built.path.with_name(f"sweep-{built.n}.db")


def fresh_copy(built: archive.Built) -> None:
    """The sweep writes: give it an untouched copy of the database each time."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{scratch(built)}{suffix}").unlink(missing_ok=True)
        source = Path(f"{built.path}{suffix}")
        if source.exists():
            shutil.copyfile(source, f"{scratch(built)}{suffix}")


def serve(db_url: str, url: str) -> None:
    """(The child of a web case.) Print the median time of three GETs of `url`, in
    seconds, after one warm-up request."""
    from starlette.testclient import TestClient

    from web.app import create_app

    app = create_app(db_url, trusted_header=HEADER, trusted_proxies=["testclient"])
    headers = {HEADER: walks.MANAGER}
    with TestClient(app, follow_redirects=False) as client:
        assert client.get(url, headers=headers).status_code == 200, url
        times = []
        for _ in range(3):
            start = time.perf_counter()
            answer = client.get(url, headers=headers)
            times.append(time.perf_counter() - start)
            assert answer.status_code == 200, url
    print(json.dumps({"seconds": statistics.median(times), "bytes": len(answer.content)}))


def case(built: archive.Built, argv: list[str]) -> Callable[[], Sample]:
    def go() -> Sample:
        got = measure.run(argv, cwd=ROOT)
        if argv[1:3] == ["-m", "bench.growth"]:  # a web page: the child timed the request
            inner = json.loads(got.stdout.strip().splitlines()[-1])
            return Sample(inner["seconds"], got.peak_mb, got.stdout)
        return got

    return go


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get("SHEMA_BENCH_SIZES", "1000,10000,100000")
    parser.add_argument("--sizes", default=default, help="comma-separated project counts")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", nargs=2, metavar=("DB_URL", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(*args.serve)
        return
    sizes = sorted(int(s) for s in args.sizes.split(","))
    print(f"Shēma growth — Python {sys.version.split()[0]}, {os.cpu_count()} cores")
    built = {n: archive.ensure(n) for n in sizes}
    for b in built.values():
        verified = measure.run(audit(b), cwd=ROOT, check=False)
        state = "passes" if "ok" in verified.stdout else f"FAILS: {verified.stdout[-300:]}"
        print(
            f"  {b.n:>7,} projects: {b.events:,} events ({b.events / b.n:.1f} each), "
            f"{b.active:,} running; audit verify {state}"
        )
    report(built, args.rounds)


def report(built: dict[int, archive.Built], rounds: int) -> None:
    low, high = min(built), max(built)
    head = "".join(f"{n:>20,}" for n in built)
    print(f"\n{'command':<36}{head}   {high // 1000}k / {low // 1000}k (min–max)")
    for name, argv in commands(accepts_full()).items():
        cases = {str(n): case(b, argv(b)) for n, b in built.items()}

        def prepare(size: str, name: str = name) -> None:
            if "sweep" in name:
                fresh_copy(built[int(size)])

        got = measure.interleave(cases, rounds, prepare=prepare)
        cells = "".join(f"{ms(got.median(k)):>10} {mb(got.peak(k)):>9}" for k in cases)
        ratio = got.ratio_text(str(high), str(low)) if high != low else ""
        print(f"{name:<36}{cells}   {ratio}", flush=True)
        if "sweep" in name:
            fired = [json.loads(got.samples[k][-1].stdout)["sweep"]["fired"] for k in cases]
            print(f"{'':<36}" + "".join(f"{f:>13,} fired" for f in fired))
    startup(built[low], max(rounds, 9))


def startup(b: archive.Built, rounds: int) -> None:
    floor = [sys.executable, "-c", "import sqlalchemy.orm"]
    cases = {
        "floor": case(b, floor),
        "show": case(b, shema(b, "project", "show", b.sample)),
    }
    got = measure.interleave(cases, rounds)
    print(f"\nCLI start-up ({rounds} rounds, interleaved, {b.n:,} projects)")
    print(f"  python -c 'import sqlalchemy.orm' (floor)  {ms(got.median('floor')):>8}  1.00")
    print(
        f"  shema project show {b.sample:<20}  {ms(got.median('show')):>8}  "
        f"{got.ratio_text('show', 'floor')} floor"
    )


if __name__ == "__main__":
    main()
