"""A municipality's ten-year archive, built fast and cached: the growth benchmark's data.

A few dozen template projects are walked through the real engine (bench/walks.py) on a
database with the shipped scheme and organisation; then the database is copied and the
templates are cloned in bulk with SQLAlchemy Core inserts into the tables of
storage/tables.py: new ids, codes and titles, every time shifted by whole weeks (so
working days stay working days), and each clone's history re-chained with
`engine.history.event_hash` from `GENESIS`, so `shema audit verify` passes.

What a size-`n` database holds: about 97 % finished projects (imported, withdrawn,
rejected, completed) created four to ten years ago; the running ones (3 %, at least 150)
are dated relative to the anchor, the build's real time (the CLI reads the real clock):
100 of them ask something of the busy manager (janis.ozols: handoffs to take over,
stages to decide, an overdue application escalated to the development head, a hold to
resume), 1 % of all projects are parish ideas whose reminder falls due just after the
anchor (the sweep's work), the rest are parish ideas (some overdue and escalated) and
plans waiting for the council.

The cache (SHEMA_BENCH_CACHE, default /tmp/shema-growth) keys each file by the schema
revision, the tables, this generator and the shipped files; a file older than a day is
rebuilt, because its running deadlines are relative to the day it was built.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import cycle
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, event, func, select, update

from bench import walks
from engine import accounts
from engine.history import GENESIS, dumps, event_hash
from engine.loading import load_org, load_scheme
from engine.notify.sweep import sweep
from engine.service import Engine
from schemes import shipped
from storage import migrate, tables
from storage.database import Database
from storage.types import UTCDateTime
from workflow.labels import folded

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("SHEMA_BENCH_CACHE", "/tmp/shema-growth"))
MAX_AGE = dt.timedelta(days=1)
PASSWORD = "bench-parole"
WEEK = dt.timedelta(days=7)
ARCHIVE_WEEKS = 52 * 6  # terminal clones move back up to six years from their template
OBJECTS = (
    "Tautas nama jumta atjaunošana",
    "Pagasta ceļa pārbūve",
    "Bērnu rotaļu laukuma izbūve",
    "Ielu apgaismojuma modernizācija",
    "Skolas sporta laukuma pārbūve",
    "Bibliotēkas energoefektivitātes uzlabošana",
    "Gājēju ietves izbūve",
    "Estrādes atjaunošana",
    "Ūdenssaimniecības attīstība",
    "Pirmsskolas izglītības iestādes siltināšana",
    "Peldvietas labiekārtošana",
    "Veloceliņa izbūve",
)
CLONED = (
    "checklist",
    "handoffs",
    "history",
    "deadlines",
    "timers",
    "outbox",
    "risks",
    "cba",
    "cba_years",
)


@dataclass(frozen=True)
class Built:
    """A cached database and what the benchmark needs to know of it."""

    path: Path
    n: int
    anchor: dt.datetime  # the build's "now": running deadlines are relative to it
    sweep_at: dt.datetime  # a moment just after the due reminders fall due
    events: int
    active: int
    sample: str  # a long-history project for the project page

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"


def cache_key() -> str:
    """Changes when the schema revision, the tables, this generator or the shipped
    scheme and organisation change."""
    digest = hashlib.sha256(migrate.HEAD.encode())
    for path in (
        ROOT / "storage" / "tables.py",
        Path(__file__),
        Path(walks.__file__),
        shipped("unified.yaml"),
        shipped("ogre.yaml"),
    ):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def ensure(n: int, echo: Any = print) -> Built:
    """The cached size-`n` database, built first when missing or stale."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"growth-{n}-{cache_key()}.db"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        info = json.loads(meta.read_text())
        anchor = dt.datetime.fromisoformat(info["anchor"])
        if dt.datetime.now(dt.UTC) - anchor < MAX_AGE:
            return _built(path, info)
    for old in CACHE.glob(f"growth-{n}-*"):
        old.unlink()
    start = dt.datetime.now(dt.UTC)
    info = build(path, n)
    meta.write_text(json.dumps(info))
    took = (dt.datetime.now(dt.UTC) - start).total_seconds()
    echo(f"  built {n:,} projects, {info['events']:,} events in {took:.1f} s → {path}")
    return _built(path, info)


def _built(path: Path, info: dict[str, Any]) -> Built:
    return Built(
        path,
        info["n"],
        dt.datetime.fromisoformat(info["anchor"]),
        dt.datetime.fromisoformat(info["sweep_at"]),
        info["events"],
        info["active"],
        info["sample"],
    )


def build(path: Path, n: int) -> dict[str, Any]:
    anchor = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    work = path.with_suffix(".tmp")
    work.unlink(missing_ok=True)
    made, sweep_at = _templates(work, anchor)
    plan, active = _plan(n, made)
    engine = create_engine(f"sqlite:///{work}")
    event.listen(engine, "connect", _fast)
    with engine.begin() as conn:
        _clone_all(conn, plan, made, random.Random(n))
        total = conn.execute(select(func.count()).select_from(tables.projects)).scalar_one()
        events = conn.execute(select(func.count()).select_from(tables.history)).scalar_one()
    engine.dispose()
    assert total == n, (total, n)
    work.replace(path)
    return {
        "n": n,
        "anchor": anchor.isoformat(),
        "sweep_at": sweep_at.isoformat(),
        "events": events,
        "active": active,
        "sample": made["implementing"][0][0],
    }


def _fast(dbapi_conn: Any, _: Any) -> None:
    """No journal while cloning: a failed build is thrown away whole."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=OFF")
    cur.execute("PRAGMA synchronous=OFF")
    cur.close()


# -- the templates -------------------------------------------------------------------------

Made = dict[str, list[tuple[str, int]]]  # archetype → [(code, project id)]


def _templates(path: Path, anchor: dt.datetime) -> tuple[Made, dt.datetime]:
    """Walk the templates on a fresh database; sweep it at the anchor (so overdue running
    projects have fired their timers and escalated); returns them and the sweep moment."""
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db)
    engine = Engine(db)
    loaded = anchor - dt.timedelta(days=365 * 11)
    for name, loader in (("ogre.yaml", load_org), ("unified.yaml", load_scheme)):
        text = shipped(name).read_text(encoding="utf-8")
        loader(engine, text, name, actor=walks.COORDINATOR, now=loaded)
    accounts.store_hash(engine, [walks.MANAGER, walks.DEV_HEAD], accounts.hash_password(PASSWORD))
    with db.read() as conn:
        org = engine.org_index(conn)
    makers = [
        (pid, unit)
        for pid, roles in org.assignments.items()
        for role, unit in roles
        if role == "parish_specialist"
    ]
    made: Made = {}
    titles = cycle(OBJECTS)

    def walk(name: str, fn: walks.WalkFn, start: dt.datetime, maker: tuple[str, str]) -> None:
        w = fn(walks.Walk(engine, maker[0], maker[1], start, f"{next(titles)} (paraugs)"))
        made.setdefault(name, []).append((w.code, 0))

    for i, (name, (fn, _)) in enumerate(walks.TERMINAL.items()):
        for k in range(3):
            walk(name, fn, anchor - dt.timedelta(days=365 * 4 + 20 * i + k), makers[(i + k) % 9])
    for i, (name, (fn, days, _, _)) in enumerate(walks.ACTIVE.items()):
        for k in range(2):
            start = anchor - dt.timedelta(days=days + 0.01 * k)
            walk(name, fn, start, makers[(i + k) % len(makers)])
    for k in range(28):  # candidates for the due ideas: one of them is closest
        walk("due?", walks.idea_fresh, anchor - dt.timedelta(hours=60 + 6 * k), makers[k % 5])
    sweep(engine, anchor)
    with db.write() as conn:
        ids = dict(conn.execute(select(tables.projects.c.code, tables.projects.c.id)).all())
        made = {k: [(c, ids[c]) for c, _ in v] for k, v in made.items()}
        candidates = made.pop("due?")
        sweep_at, due = _closest_due(conn, anchor, [pid for _, pid in candidates])
        made[walks.DUE] = [due]
        made["due_rest"] = [c for c in candidates if c != due]
        conn.execute(
            update(tables.outbox).values(status="sent", sent_at=tables.outbox.c.created_at)
        )
    db.dispose()
    return made, sweep_at


def _closest_due(conn: Connection, anchor: dt.datetime, pids: list[int]) -> tuple[Any, Any]:
    """The candidate whose first pending timer after the anchor comes soonest."""
    t, d = tables.timers, tables.deadlines
    rows = conn.execute(
        select(t.c.project_id, func.min(t.c.fire_at))
        .join(d, d.c.id == t.c.deadline_id)
        .where(t.c.project_id.in_(pids), t.c.fired_at.is_(None), d.c.closed_at.is_(None))
        .group_by(t.c.project_id)
    ).all()
    at: dict[int, dt.datetime] = {}
    for pid, value in rows:
        stamp = UTCDateTime().process_result_value(value, conn.dialect)
        if stamp is not None and stamp > anchor:
            at[pid] = stamp
    pid = min(at, key=lambda p: at[p])
    code = conn.execute(
        select(tables.projects.c.code).where(tables.projects.c.id == pid)
    ).scalar_one()
    return at[pid] + dt.timedelta(minutes=1), (code, pid)


def _plan(n: int, made: Made) -> tuple[dict[str, int], int]:
    """How many clones of each archetype make a size-`n` database, and how many of its
    projects are running."""
    present = {k: len(v) for k, v in made.items()}
    asking = {k: v[3] for k, v in walks.ACTIVE.items() if v[2]}
    resting = {k: v[3] for k, v in walks.ACTIVE.items() if not v[2]}
    running = sum(present.values()) - sum(present[k] for k in walks.TERMINAL)
    busy = max(100 - sum(present[k] for k in asking), 0)
    due = max(round(0.01 * n) - present[walks.DUE], 0)
    rest = max(max(round(0.03 * n), 150) - running - busy - due, 0)
    terminal = n - sum(present.values()) - busy - due - rest
    if terminal < 0:
        raise SystemExit(f"{n} projects are too few (at least {n - terminal} are needed)")
    plan = {walks.DUE: due}
    plan |= _share(busy, asking)
    plan |= _share(rest, resting)
    plan |= _share(terminal, {k: v[1] for k, v in walks.TERMINAL.items()})
    return plan, running + busy + due + rest


def _share(total: int, weights: dict[str, float]) -> dict[str, int]:
    """`total` split by `weights`, largest remainders first."""
    whole = sum(weights.values())
    exact = {k: total * w / whole for k, w in weights.items()}
    out = {k: int(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: exact[k] - out[k], reverse=True)[
        : total - sum(out.values())
    ]:
        out[k] += 1
    return out


# -- the clones ----------------------------------------------------------------------------


def _rows(conn: Connection, table: Any, pid: int) -> list[dict[str, Any]]:
    col = table.c.project_id if "project_id" in table.c else table.c.id
    order = [c for c in table.primary_key.columns]
    return [
        dict(r._mapping) for r in conn.execute(select(table).where(col == pid).order_by(*order))
    ]


def _shift(table: Any, row: dict[str, Any], delta: dt.timedelta) -> dict[str, Any]:
    out = dict(row)
    for col in table.c:
        if isinstance(col.type, UTCDateTime) and out.get(col.name) is not None:
            out[col.name] = out[col.name] + delta
    return out


class _Ids:
    """The next free id of each table with a surrogate key."""

    def __init__(self, conn: Connection) -> None:
        self.next = {
            name: (conn.execute(select(func.max(getattr(tables, name).c.id))).scalar() or 0) + 1
            for name in ("projects", "handoffs", "deadlines", "timers", "outbox")
        }

    def take(self, name: str) -> int:
        self.next[name] += 1
        return self.next[name] - 1


def _clone_all(conn: Connection, plan: dict[str, int], made: Made, rng: random.Random) -> None:
    ids = _Ids(conn)
    counters = dict(
        conn.execute(select(tables.code_counters.c.year, tables.code_counters.c.last_number)).all()
    )
    batch: dict[str, list[dict[str, Any]]] = {"projects": [], **{k: [] for k in CLONED}}
    for name, count in plan.items():
        sources = [_template(conn, pid) for _, pid in made[name]]
        terminal = name in walks.TERMINAL
        for i in range(count):
            weeks = rng.randrange(ARCHIVE_WEEKS) if terminal else 0
            title = f"{rng.choice(OBJECTS)} Nr. {rng.randrange(1, 999)}"
            for table, row in _clone(
                sources[i % len(sources)], -weeks * WEEK, title, ids, counters
            ):
                batch[table].append(row)
            if len(batch["history"]) > 50_000:
                _flush(conn, batch)
    _flush(conn, batch)
    for year, last in counters.items():
        conn.execute(tables.code_counters.delete().where(tables.code_counters.c.year == year))
        conn.execute(
            tables.code_counters.insert().values(prefix="OGR", year=year, last_number=last)
        )


def _template(conn: Connection, pid: int) -> dict[str, list[dict[str, Any]]]:
    out = {"projects": _rows(conn, tables.projects, pid)}
    for name in CLONED:
        out[name] = _rows(conn, getattr(tables, name), pid)
    return out


def _flush(conn: Connection, batch: dict[str, list[dict[str, Any]]]) -> None:
    for name in ("projects", *CLONED):  # parents before children
        if batch[name]:
            conn.execute(getattr(tables, name).insert(), batch[name])
            batch[name].clear()


def _clone(
    src: dict[str, list[dict[str, Any]]],
    delta: dt.timedelta,
    title: str,
    ids: _Ids,
    counters: dict[int, int],
) -> Iterator[tuple[str, dict[str, Any]]]:
    head = _shift(tables.projects, src["projects"][0], delta)
    old, pid = head["id"], ids.take("projects")
    year = head["created_at"].year
    counters[year] = counters.get(year, 0) + 1
    code = f"OGR-{year}-{counters[year]:04d}"
    prev = GENESIS
    chain = []
    for ev in src["history"]:
        row = _shift(tables.history, ev, delta) | {"project_id": pid, "prev_hash": prev}
        if row["kind"] == "created":
            row["data"] = dumps({**json.loads(row["data"]), "code": code, "title": title})
        row["hash"] = prev = event_hash(row)
        chain.append(row)
    head |= {"id": pid, "code": code, "title": title, "head_hash": prev}
    head["search_text"] = folded(f"{code} {title}")
    yield "projects", head
    for row in chain:
        yield "history", row
    for name in ("checklist", "risks", "cba", "cba_years"):
        for r in src[name]:
            yield name, _shift(getattr(tables, name), r, delta) | {"project_id": pid}
    yield from _clone_clocks(src, delta, old, pid, code, ids)


def _clone_clocks(
    src: dict[str, list[dict[str, Any]]],
    delta: dt.timedelta,
    old: int,
    pid: int,
    code: str,
    ids: _Ids,
) -> Iterator[tuple[str, dict[str, Any]]]:
    old_code = src["projects"][0]["code"]
    deadline_ids: dict[int, int] = {}
    for r in src["handoffs"]:
        yield (
            "handoffs",
            _shift(tables.handoffs, r, delta) | {"id": ids.take("handoffs"), "project_id": pid},
        )
    for r in src["deadlines"]:
        deadline_ids[r["id"]] = new = ids.take("deadlines")
        yield "deadlines", _shift(tables.deadlines, r, delta) | {"id": new, "project_id": pid}
    for r in src["timers"]:
        yield (
            "timers",
            _shift(tables.timers, r, delta)
            | {
                "id": ids.take("timers"),
                "project_id": pid,
                "deadline_id": deadline_ids[r["deadline_id"]],
            },
        )
    for r in src["outbox"]:
        parts = r["key"].split(":")
        if parts[0] == "deadline":
            parts[1] = str(deadline_ids[int(parts[1])])
        elif parts[1] == str(old):
            parts[1] = str(pid)
        yield (
            "outbox",
            _shift(tables.outbox, r, delta)
            | {
                "id": ids.take("outbox"),
                "project_id": pid,
                "deadline_id": deadline_ids.get(r["deadline_id"]) if r["deadline_id"] else None,
                "key": ":".join(parts),
                "subject": r["subject"].replace(old_code, code),
                "body": r["body"].replace(old_code, code),
            },
        )
