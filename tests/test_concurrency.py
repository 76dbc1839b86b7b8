"""Several OS processes writing the same projects at once, on one SQLite file and on
PostgreSQL: compare-and-set lets exactly one writer win per version, the losers get
Conflict (nothing else), and the hash chains stay whole.

Sizes: SHEMA_STRESS_PROCS processes (default 4) × SHEMA_STRESS_ATTEMPTS attempts each
(default 25). The worker processes are started once ("spawn": nothing inherited) and
shared by the tests of this module, because starting them costs more than the races."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event, func, select

from engine.audit import verify
from engine.loading import load_org, load_scheme
from engine.service import Engine
from schemes import shipped
from storage.database import Database
from storage.migrate import upgrade
from storage.tables import history, projects
from workflow.errors import Conflict, NotAllowed

PROCS = int(os.environ.get("SHEMA_STRESS_PROCS", "4"))
ATTEMPTS = int(os.environ.get("SHEMA_STRESS_ATTEMPTS", "25"))
POOL = max(PROCS, 2)  # the advance race needs two
COORDINATOR = "ilze.kalnina"
SPECIALIST = "liga.ozolina"  # parish_specialist in krapes_pagasts
T0 = dt.datetime(2026, 2, 2, 8, 0, tzinfo=dt.UTC)
START_TIMEOUT = 60.0  # how long a worker waits for the others: a hang, not a pause


# -- what runs in the worker processes (module level, so "spawn" can import it) -------------


_start: Any = None  # a Barrier of POOL parties, reused round after round


def _ready(barrier: Any) -> None:
    global _start
    _start = barrier


@dataclass
class Tally:
    """What one worker saw: each win as (code, version it expected, note), how many
    Conflicts and NotAlloweds, and every other exception as (type name, message)."""

    wins: list[tuple[str, int, str]] = field(default_factory=list)
    conflicts: int = 0
    refusals: int = 0
    unexpected: list[tuple[str, str]] = field(default_factory=list)


def _engine_ready(url: str, warm: Callable[[Engine], object]) -> Engine:
    """An Engine on `url`, its caches and connection warmed by `warm`, returned once every
    worker of the round is ready, so that they start writing together."""
    engine = Engine(Database(url))
    try:
        warm(engine)
    finally:
        _start.wait(START_TIMEOUT)  # even on failure: the others must not wait in vain
    return engine


def _idle(url: str, worker: int) -> Tally:
    """A worker without a job this round (the barrier counts every worker)."""
    _start.wait(START_TIMEOUT)
    return Tally()


def _write_attempts(url: str, worker: int, codes: list[str], attempts: int, kind: str) -> Tally:
    """Look at a project, then write to it expecting the version seen; `attempts` times."""
    engine = _engine_ready(url, lambda e: e.project(codes[0], actor=SPECIALIST))
    tally = Tally()
    try:
        for n in range(attempts):
            code = codes[(worker + n) % len(codes)]
            now = T0 + dt.timedelta(seconds=worker * 1000 + n)
            try:
                seen = engine.project(code, actor=SPECIALIST)
                if kind == "comment":
                    note = f"worker {worker} attempt {n}"
                    out = engine.comment(
                        code, note, actor=SPECIALIST, now=now, expect_version=seen.version
                    )
                else:
                    ticked = {i.item for i in seen.checklist if i.checked}
                    note = f"toggle {worker}/{n}"
                    out = engine.check(
                        code,
                        "problem_statement",
                        actor=SPECIALIST,
                        now=now,
                        checked="problem_statement" not in ticked,
                        expect_version=seen.version,
                    )
                assert out.version == seen.version + 1
                tally.wins.append((code, seen.version, note))
            except Conflict:
                tally.conflicts += 1
            except Exception as exc:  # the point: any other type is a finding
                tally.unexpected.append((type(exc).__name__, str(exc)))
    finally:
        engine.db.dispose()
    return tally


def _advance_all(url: str, worker: int, codes: list[str]) -> Tally:
    """Submit the idea of every project, without an expected version; odd workers go
    through the projects backwards, so that two workers meet somewhere in the middle."""
    engine = _engine_ready(url, lambda e: e.project(codes[0], actor=SPECIALIST))
    tally = Tally()
    try:
        for n, code in enumerate(codes if worker % 2 == 0 else codes[::-1]):
            now = T0 + dt.timedelta(hours=1, seconds=worker * 100 + n)
            try:
                out = engine.advance(code, "submit_idea", actor=SPECIALIST, now=now)
                tally.wins.append((code, out.version - 1, "advanced"))
            except Conflict:
                tally.conflicts += 1
            except NotAllowed:
                tally.refusals += 1
            except Exception as exc:
                tally.unexpected.append((type(exc).__name__, str(exc)))
    finally:
        engine.db.dispose()
    return tally


def _create_projects(url: str, worker: int, count: int) -> Tally:
    """Create `count` projects; each new code is recorded as a win."""
    engine = _engine_ready(url, lambda e: e.list_projects(actor=SPECIALIST))
    tally = Tally()
    try:
        for n in range(count):
            try:
                out = engine.create_project(
                    title=f"Worker {worker} project {n}",
                    unit="krapes_pagasts",
                    actor=SPECIALIST,
                    now=T0 + dt.timedelta(seconds=n),
                )
                tally.wins.append((out.code, out.version, out.kind))
            except Exception as exc:
                tally.unexpected.append((type(exc).__name__, str(exc)))
    finally:
        engine.db.dispose()
    return tally


# -- set-up in the test process ----------------------------------------------------------------


@pytest.fixture(scope="module")
def workers() -> Iterator[ProcessPoolExecutor]:
    """POOL worker processes started with "spawn", sharing one start barrier."""
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        POOL, mp_context=ctx, initializer=_ready, initargs=(ctx.Barrier(POOL),)
    ) as pool:
        yield pool


def race(
    pool: ProcessPoolExecutor, procs: int, job: Callable[..., Tally], url: str, *rest: Any
) -> list[Tally]:
    """Run `job(url, worker, *rest)` for worker 0..procs-1, each in its own process, all
    starting together; their tallies."""
    jobs = [(job, (url, worker, *rest)) for worker in range(procs)]
    jobs += [(_idle, (url, worker)) for worker in range(procs, POOL)]
    # Every worker blocks at the barrier until all POOL have a job, so no process can
    # take two jobs of one round.
    futures = [pool.submit(fn, *fn_args) for fn, fn_args in jobs]
    return [f.result(timeout=180) for f in futures][:procs]


def _shipped(name: str) -> str:
    return shipped(name).read_text(encoding="utf-8")


@pytest.fixture
def setup(database_url: str) -> Iterator[tuple[str, Engine]]:
    """The URL and an Engine on it with the shipped organisation and scheme loaded."""
    db = Database(database_url)
    upgrade(db)
    engine = Engine(db)
    load_org(engine, _shipped("ogre.yaml"), "ogre.yaml", actor=COORDINATOR, now=T0)
    load_scheme(engine, _shipped("unified.yaml"), "unified.yaml", actor=COORDINATOR, now=T0)
    yield database_url, engine
    db.dispose()


def _new_projects(engine: Engine, count: int, *, ready: bool = False) -> list[str]:
    codes = []
    for n in range(count):
        code = engine.create_project(
            title=f"Projekts {n}", unit="krapes_pagasts", actor=SPECIALIST, now=T0
        ).code
        if ready:
            for item in ("problem_statement", "estimated_cost"):
                engine.check(code, item, actor=SPECIALIST, now=T0)
        codes.append(code)
    engine.db.dispose()  # the workers must not find a connection of ours in the way
    return codes


def _heads(engine: Engine) -> dict[str, tuple[int, int, int]]:
    """Per project code: (version, head_seq, number of history rows)."""
    with engine.db.read() as conn:
        counts: dict[int, int] = dict(
            conn.execute(
                select(history.c.project_id, func.count()).group_by(history.c.project_id)
            ).all()
        )
        return {
            r.code: (r.version, r.head_seq, counts.get(r.id, 0))
            for r in conn.execute(
                select(projects.c.id, projects.c.code, projects.c.version, projects.c.head_seq)
            )
        }


def _assert_one_win_per_version(
    pool: ProcessPoolExecutor, setup: tuple[str, Engine], kind: str
) -> tuple[Engine, list[str], list[Tally]]:
    """Race PROCS × ATTEMPTS `kind` writes over three projects; check that only Conflict
    refused anything, that no two writers won the same version, and that versions, heads,
    history rows and hash chains agree."""
    url, engine = setup
    codes = _new_projects(engine, 3)
    before = _heads(engine)

    tallies = race(pool, PROCS, _write_attempts, url, codes, ATTEMPTS, kind)

    assert [t.unexpected for t in tallies] == [[]] * PROCS
    wins = [w for t in tallies for w in t.wins]
    assert len(wins) + sum(t.conflicts for t in tallies) == PROCS * ATTEMPTS
    assert wins, "nobody won: the race tested nothing"
    if PROCS > 1:
        assert sum(t.conflicts for t in tallies), "nobody lost: the writers never overlapped"
    per_version = Counter((code, version) for code, version, _ in wins)
    assert [key for key, n in per_version.items() if n > 1] == []
    after = _heads(engine)
    for code in codes:
        version, head_seq, rows = after[code]
        assert version == before[code][0] + sum(1 for c, _, _ in wins if c == code)
        assert version == head_seq == rows
        # every version from the first one seen to the last was won by exactly one writer
        assert sorted(v for (c, v) in per_version if c == code) == list(
            range(before[code][0], version)
        )
    assert verify(engine.db).ok
    return engine, codes, tallies


# -- the races -------------------------------------------------------------------------------


def test_concurrent_comments_with_an_expected_version_win_exactly_once_per_version(
    workers: ProcessPoolExecutor, setup: tuple[str, Engine]
) -> None:
    engine, codes, tallies = _assert_one_win_per_version(workers, setup, "comment")

    for code in codes:  # and each winner's comment is in the history, once
        won = sorted(note for t in tallies for c, _, note in t.wins if c == code)
        history_ = engine.history(code, actor=COORDINATOR)
        assert sorted(e.comment or "" for e in history_ if e.kind == "commented") == won


def test_concurrent_ticks_and_unticks_with_an_expected_version_win_exactly_once_per_version(
    workers: ProcessPoolExecutor, setup: tuple[str, Engine]
) -> None:
    engine, codes, _ = _assert_one_win_per_version(workers, setup, "toggle")

    for code in codes:
        kinds = Counter(e.kind for e in engine.history(code, actor=COORDINATOR))
        assert kinds["checked"] - kinds["unchecked"] in (0, 1)


def test_two_processes_racing_to_submit_the_same_idea_advance_it_once(
    workers: ProcessPoolExecutor, setup: tuple[str, Engine]
) -> None:
    url, engine = setup
    codes = _new_projects(engine, 10, ready=True)

    tallies = race(workers, 2, _advance_all, url, codes)

    assert [t.unexpected for t in tallies] == [[], []]
    assert sorted(c for t in tallies for c, _, _ in t.wins) == codes
    assert sum(t.conflicts + t.refusals for t in tallies) == len(codes)
    for code in codes:
        kinds = [e.kind for e in engine.history(code, actor=COORDINATOR)]
        assert kinds.count("advanced") == 1
        assert engine.project(code, actor=COORDINATOR).stage == "pre_assessment"
    assert verify(engine.db).ok


def test_concurrent_creators_get_distinct_consecutive_codes(
    workers: ProcessPoolExecutor, setup: tuple[str, Engine]
) -> None:
    url, engine = setup
    engine.db.dispose()
    each = max(1, ATTEMPTS // 5)

    tallies = race(workers, PROCS, _create_projects, url, each)

    assert [t.unexpected for t in tallies] == [[]] * PROCS
    codes = sorted(code for t in tallies for code, _, _ in t.wins)
    assert codes == [f"OGR-2026-{n:04d}" for n in range(1, PROCS * each + 1)]
    assert sorted(_heads(engine)) == codes
    assert verify(engine.db).ok


# -- a deterministic interleaving on PostgreSQL ----------------------------------------------


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_on_postgresql_a_write_arriving_midway_waits_and_then_gets_a_conflict(
    setup: tuple[str, Engine],
) -> None:
    # The project row is locked from the first read of a write, so another writer that
    # arrives while the first is between its reads waits for it, then finds its version
    # stale: a Conflict, never a rule refusal computed from a half-old view.
    url, engine = setup
    (code,) = _new_projects(engine, 1)
    seen = engine.project(code, actor=SPECIALIST).version
    other = Engine(Database(url))
    outcome: list[BaseException | str] = []

    def second_writer() -> None:
        try:
            other.check(code, "problem_statement", actor=SPECIALIST, now=T0, expect_version=seen)
            outcome.append("won")
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=second_writer)

    def start_the_other_writer_midway(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if (
            not thread.is_alive()
            and not outcome
            and statement.lstrip().upper().startswith("SELECT CHECKLIST.ITEM")
        ):
            thread.start()

    event.listen(engine.db.engine, "before_cursor_execute", start_the_other_writer_midway)
    try:
        engine.check(code, "problem_statement", actor=SPECIALIST, now=T0, expect_version=seen)
    finally:
        event.remove(engine.db.engine, "before_cursor_execute", start_the_other_writer_midway)
    thread.join(timeout=START_TIMEOUT)
    other.db.dispose()
    assert not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], Conflict), outcome
