"""Shēma benchmarks: every figure is a ratio to a baseline measured in the same run.

    python bench/run.py            # all sections
    python bench/run.py advance sweep cli bulk postgres   # some of them

Every comparison is interleaved and repeated (A B A B …, bench/measure.py): a figure is
the median of the rounds and a ratio is the median of the per-round ratios, with their
min–max. A child's peak memory is its own, from /usr/bin/time (see bench/measure.py for
why ru_maxrss, even the child's RUSAGE_SELF, is not).

Sizes come from the environment (defaults in brackets): SHEMA_BENCH_ADVANCES [3000],
SHEMA_BENCH_SWEEP_PROJECTS [100000], SHEMA_BENCH_BULK [10000], SHEMA_BENCH_CLI_RUNS [15],
SHEMA_BENCH_ROUNDS [5],
SHEMA_BENCH_BULK_ROUNDS [3], SHEMA_BENCH_PG [postgresql+psycopg://postgres@127.0.0.1:5432/postgres].
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, pool  # noqa: E402

from bench import measure  # noqa: E402
from bench.fair import T0, raw_advances  # noqa: E402
from engine.history import GENESIS  # noqa: E402
from engine.loading import load_org, load_scheme  # noqa: E402
from engine.service import Engine  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

ADVANCES = int(os.environ.get("SHEMA_BENCH_ADVANCES", "3000"))
SWEEP_PROJECTS = int(os.environ.get("SHEMA_BENCH_SWEEP_PROJECTS", "100000"))
BULK = int(os.environ.get("SHEMA_BENCH_BULK", "10000"))
CLI_RUNS = int(os.environ.get("SHEMA_BENCH_CLI_RUNS", "15"))
ROUNDS = int(os.environ.get("SHEMA_BENCH_ROUNDS", "5"))  # interleaved rounds per comparison
BULK_ROUNDS = int(os.environ.get("SHEMA_BENCH_BULK_ROUNDS", "3"))
PG = os.environ.get("SHEMA_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PROJECTS = 20  # the advance loops cycle over this many projects

rows: list[tuple[str, str, str, str]] = []


def report(section: str, what: str, value: str, ratio: str) -> None:
    rows.append((section, what, value, ratio))
    print(f"  {what:<58} {value:>16}  {ratio}", flush=True)


def setup_engine(url: str) -> tuple[Engine, list[str]]:
    db = Database(url)
    upgrade(db)
    engine = Engine(db)
    bench = ROOT / "bench"
    load_org(engine, (bench / "org.yaml").read_text(), "org.yaml", actor="admin", now=T0)
    load_scheme(engine, (bench / "scheme.yaml").read_text(), "scheme.yaml", actor="admin", now=T0)
    codes = [
        engine.create_project(title=f"p{i}", unit="town", actor="w", now=T0).code
        for i in range(PROJECTS)
    ]
    return engine, codes


def engine_advances(engine: Engine, codes: list[str], n: int) -> float:
    """Advances per second through the service API (send/back between two stages)."""
    start = time.perf_counter()
    for i in range(n):
        code = codes[i % len(codes)]
        action = "send" if (i // len(codes)) % 2 == 0 else "back"
        engine.advance(code, action, actor="w", now=T0 + dt.timedelta(seconds=i))
    return n / (time.perf_counter() - start)


# -- the fair limit: the same statements one advance issues, on the bare driver ----------


def sqlite_stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")


def section_advance(tmp: Path) -> None:
    print(f"\n1. Advance throughput, SQLite (WAL, synchronous=NORMAL), {ROUNDS} rounds")
    url = f"sqlite:///{tmp / 'advance.db'}"
    engine, codes = setup_engine(url)
    engine_advances(engine, codes, 10 * PROJECTS)  # warm caches (ends where it began)

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(tmp / "advance.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    from bench.naive import steps_per_second

    runs = iter(range(10**6))
    got = measure.interleave(
        {
            "fair": lambda: per(
                raw_advances(connect, "?", "BEGIN IMMEDIATE", ADVANCES, sqlite_stamp)
            ),
            "shema": lambda: per(engine_advances(engine, codes, ADVANCES)),
            "naive": lambda: per(
                steps_per_second(tmp / f"naive{next(runs)}.db", ADVANCES, PROJECTS)
            ),
        },
        ROUNDS,
    )
    engine.db.dispose()
    report("advance", "raw sqlite3, same statements (fair limit)", rate(got, "fair"), "1.00")
    report("advance", "Shēma Engine.advance", rate(got, "shema"),
           f"{got.ratio_text('fair', 'shema')} fair limit")  # fmt: skip
    report("advance", "transitions + ORM, UPDATE + INSERT only (naive)", rate(got, "naive"),
           f"Shēma = {got.ratio_text('naive', 'shema')} naive")  # fmt: skip


def per(rate_per_second: float) -> measure.Sample:
    """A throughput as the time ADVANCES of them take (so ratios of times are ratios of
    rates, inverted)."""
    return measure.Sample(ADVANCES / rate_per_second)


def rate(got: measure.Summary, name: str) -> str:
    return f"{ADVANCES / got.median(name):,.0f}/s"


def section_postgres() -> None:
    print("\n2. Advance throughput, PostgreSQL")
    admin = create_engine(PG, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    name = f"shema_bench_{secrets.token_hex(4)}"
    try:
        with admin.connect() as c:
            c.exec_driver_sql(f"CREATE DATABASE {name}")
    except Exception as exc:
        print(f"  skipped: PostgreSQL unreachable ({type(exc).__name__})")
        return
    url = PG.rsplit("/", 1)[0] + f"/{name}"
    try:
        engine, codes = setup_engine(url)
        engine_advances(engine, codes, 10 * PROJECTS)
        import psycopg

        def connect() -> Any:
            return psycopg.connect(
                url.replace("postgresql+psycopg", "postgresql"), prepare_threshold=0
            )

        got = measure.interleave(
            {
                "fair": lambda: per(raw_advances(connect, "%s", None, ADVANCES, lambda v: v)),
                "shema": lambda: per(engine_advances(engine, codes, ADVANCES)),
            },
            ROUNDS,
        )
        engine.db.dispose()
        report("postgres", "raw psycopg, same statements (fair limit)", rate(got, "fair"), "1.00")
        report("postgres", "Shēma Engine.advance", rate(got, "shema"),
               f"{got.ratio_text('fair', 'shema')} fair limit")  # fmt: skip
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


def child(code: str) -> dict[str, Any]:
    """Run `code` in a fresh interpreter; it prints JSON; add its own peak memory (MB,
    under /usr/bin/time: see bench/measure.py) as "rss"."""
    done = measure.run([sys.executable, "-c", code], cwd=ROOT)
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "rss": done.peak_mb}


SWEEP_SETUP = r"""
import datetime as dt, sqlite3, sys, json
sys.path.insert(0, ".")
from bench.run import setup_engine, sqlite_stamp, T0
path, n = sys.argv[1], int(sys.argv[2])
"""


def populate_sweep(path: Path, n: int) -> dt.datetime:
    """n active projects, each with a stage deadline and three timers; 1 % of them due."""
    engine, _ = setup_engine(f"sqlite:///{path}")
    engine.db.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("BEGIN")
    cur = conn.cursor()
    svid = cur.execute("SELECT max(id) FROM scheme_versions").fetchone()[0]
    now = T0 + dt.timedelta(days=30)
    far = T0 + dt.timedelta(days=400)
    due_every = 100
    for i in range(n):
        pid = 1000 + i
        cur.execute(
            "INSERT INTO projects (id, code, title, unit_id, scheme_version_id, stage, "
            "stage_entered_at, version, created_at, head_seq, head_hash) VALUES "
            "(?,?,?,?,?,?,?,?,?,?,?)",
            (
                pid,
                f"BEN-X-{i:06d}",
                f"p{i}",
                "town",
                svid,
                "draft",
                sqlite_stamp(T0),
                1,
                sqlite_stamp(T0),
                0,
                GENESIS,
            ),
        )
        due = T0 + dt.timedelta(days=20) if i % due_every == 0 else far
        cur.execute(
            "INSERT INTO deadlines (project_id, kind, stage, opened_at, due_at) VALUES (?,?,?,?,?)",
            (pid, "stage", "draft", sqlite_stamp(T0), sqlite_stamp(due)),
        )
        did = cur.lastrowid
        cur.executemany(
            "INSERT INTO timers (deadline_id, project_id, step, role, fire_at) VALUES (?,?,?,?,?)",
            [
                (did, pid, "reminder0", None, sqlite_stamp(due - dt.timedelta(days=1))),
                (did, pid, "overdue", None, sqlite_stamp(due)),
                (did, pid, "escalation0", "boss", sqlite_stamp(due + dt.timedelta(days=365))),
            ],
        )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    return now


def section_sweep(tmp: Path) -> None:
    print(f"\n3. Sweep over {SWEEP_PROJECTS:,} active projects, 1 % due (SQLite)")
    path = tmp / "sweep.db"
    now = populate_sweep(path, SWEEP_PROJECTS)
    query = (
        "SELECT timers.id, timers.step, deadlines.id, projects.id FROM timers "
        "JOIN deadlines ON deadlines.id = timers.deadline_id "
        "JOIN projects ON projects.id = timers.project_id "
        "WHERE timers.fired_at IS NULL AND timers.fire_at <= ? AND deadlines.closed_at IS NULL "
        "AND deadlines.paused_at IS NULL ORDER BY timers.fire_at, timers.id"
    )
    code = f"""
import datetime as dt, json, sys, time
sys.path.insert(0, ".")
from engine.service import Engine
from engine.notify.sweep import sweep
from storage.deadlines import claim_due_timers
from storage.database import Database
db = Database("sqlite:///{tmp / "sweeping.db"}")
engine = Engine(db)
now = dt.datetime.fromisoformat("{now.isoformat()}")
with db.read() as conn:
    t = time.perf_counter()
    found = claim_due_timers(conn, now, 10**9)
    claim = time.perf_counter() - t
t = time.perf_counter(); report = sweep(engine, now); full = time.perf_counter() - t
print(json.dumps({{"claim": claim, "found": len(found), "full": full, "fired": report.fired,
                  "messages": report.messages}}))
"""
    found: list[Any] = []

    def raw() -> measure.Sample:
        conn = sqlite3.connect(path)
        start = time.perf_counter()
        found[:] = conn.execute(query, (sqlite_stamp(now),)).fetchall()
        took = time.perf_counter() - start
        conn.close()
        return measure.Sample(took)

    def fresh(name: str) -> None:  # the sweep fires what it finds: sweep a copy each time
        if name == "sweep":
            shutil.copyfile(path, tmp / "sweeping.db")

    got = measure.interleave(
        {"raw": raw, "sweep": lambda: measure.run([sys.executable, "-c", code], cwd=ROOT)},
        ROUNDS,
        prepare=fresh,
    )
    out = [json.loads(r.stdout.strip().splitlines()[-1]) for r in got.samples["sweep"]]
    parts = measure.Summary(
        {
            "raw": got.samples["raw"],
            "claim": [measure.Sample(o["claim"]) for o in out],
            "full": [measure.Sample(o["full"]) for o in out],
        }
    )
    last = out[-1]
    report(
        "sweep",
        f"raw indexed query: {len(found):,} due timers",
        measure.ms(parts.median("raw")),
        "1.00",
    )
    report(
        "sweep",
        "Shēma claim query (the same rows through Core)",
        measure.ms(parts.median("claim")),
        f"{parts.ratio_text('claim', 'raw')} query",
    )
    report(
        "sweep",
        f"Shēma full sweep: {last['fired']:,} fired, {last['messages']:,} messages",
        measure.ms(parts.median("full")),
        f"{parts.ratio_text('full', 'raw')} query",
    )
    peak = measure.mb(got.peak("sweep"))
    report("sweep", "peak memory of the sweeping process (its own)", peak, "")


def section_cli(tmp: Path) -> None:
    print(f"\n4. CLI latency of a read command (SQLite), {CLI_RUNS} rounds")
    url = f"sqlite:///{tmp / 'cli.db'}"
    engine, codes = setup_engine(url)
    engine.db.dispose()
    shema = str(Path(sys.executable).with_name("shema"))
    floor = [sys.executable, "-c", "import sqlalchemy.orm"]
    show = [shema, "--db", url, "--as", "w", "project", "show", codes[0]]
    got = measure.interleave(
        {"floor": lambda: measure.run(floor, cwd=tmp), "show": lambda: measure.run(show, cwd=tmp)},
        CLI_RUNS,
    )
    report(
        "cli", "python -c 'import sqlalchemy.orm' (floor)", measure.ms(got.median("floor")), "1.00"
    )
    report("cli", "shema project show CODE", measure.ms(got.median("show")),
           f"{got.ratio_text('show', 'floor')} floor")  # fmt: skip


def section_bulk(tmp: Path) -> None:
    print(
        f"\n5. Bulk: {BULK:,} projects created and walked through 5 stages (SQLite), "
        f"{BULK_ROUNDS} rounds"
    )
    path = tmp / "bulk.db"
    code = f"""
import datetime as dt, json, pathlib, sys, time
sys.path.insert(0, ".")
for suffix in ("", "-wal", "-shm"):  # every round starts from an empty database
    pathlib.Path("{path}" + suffix).unlink(missing_ok=True)
from bench.run import setup_engine, T0
engine, _ = setup_engine("sqlite:///{path}")
t = time.perf_counter()
codes = [engine.create_project(title=f"b{{i}}", unit="town", actor="w", now=T0).code
         for i in range({BULK})]
created = time.perf_counter() - t
t = time.perf_counter()
for step, action in enumerate(["send", "back", "send", "back", "finish"]):
    for i, code in enumerate(codes):
        engine.advance(code, action, actor="w", now=T0 + dt.timedelta(minutes=step, microseconds=i))
walked = time.perf_counter() - t
print(json.dumps({{"created": created, "walked": walked}}))
"""
    imports = "import sqlalchemy.orm, transitions, pydantic"
    runs = measure.interleave(
        {
            "bulk": lambda: measure.run([sys.executable, "-c", code], cwd=ROOT),
            "floor": lambda: measure.run([sys.executable, "-c", imports], cwd=ROOT),
        },
        BULK_ROUNDS,
    )
    each = [json.loads(r.stdout.strip().splitlines()[-1]) for r in runs.samples["bulk"]]
    got = {
        "created": statistics.median(e["created"] for e in each),
        "walked": statistics.median(e["walked"] for e in each),
        "rss": runs.peak("bulk") or 0.0,
    }
    floor = {"rss": runs.peak("floor") or 1.0}
    report("bulk", f"create {BULK:,} projects", f"{BULK / got['created']:,.0f}/s", "")
    report(
        "bulk", f"{5 * BULK:,} advances (5 per project)", f"{5 * BULK / got['walked']:,.0f}/s", ""
    )
    report(
        "bulk",
        "peak memory (vs bare imports)",
        f"{got['rss']:.0f} MB",
        f"{got['rss'] / floor['rss']:.2f} × {floor['rss']:.0f} MB",
    )


SECTIONS = {
    "advance": section_advance,
    "postgres": section_postgres,
    "sweep": section_sweep,
    "cli": section_cli,
    "bulk": section_bulk,
}


def main(argv: list[str]) -> None:
    chosen = argv or list(SECTIONS)
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        sys.exit(f"unknown sections: {', '.join(unknown)} (choose from {', '.join(SECTIONS)})")
    print(
        f"Shēma benchmarks — Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} cores; {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name in chosen:
            if name == "postgres":
                section_postgres()
            else:
                SECTIONS[name](Path(tmp))  # type: ignore[call-arg]


if __name__ == "__main__":
    main(sys.argv[1:])
