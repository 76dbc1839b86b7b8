"""The verified heads of `audit verify` (`audit_heads`) and the runs that wrote them
(`audit_runs`): what lets a run check only what was appended since the last one.
`write_heads` is the only writer; the reads run in the caller's snapshot."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import starmap

from sqlalchemy import Connection, delete, insert, select

from storage import tables as t
from storage.audit import stream_rows


@dataclass(frozen=True, slots=True)
class VerifiedHead:
    """The last event of a project a verify run found whole, and a digest of the
    project's rows as they were then (`state`)."""

    project_id: int
    seq: int
    hash: str
    state: str
    verified_at: dt.datetime


def stream_verified_heads(conn: Connection) -> Iterator[VerifiedHead]:
    """Every verified head, by project id (a project that is gone keeps its head)."""
    a = t.audit_heads.c
    stmt = select(a.project_id, a.seq, a.hash, a.state, a.verified_at).order_by(a.project_id)
    return starmap(VerifiedHead, stream_rows(conn, stmt))


@dataclass(frozen=True, slots=True)
class AuditRun:
    """A verify run that wrote `audit_heads`: the digest over the heads it left, chained
    to the previous run's digest."""

    id: int
    verified_at: dt.datetime
    mode: str
    heads: int
    heads_digest: str
    prev_digest: str
    digest: str


def stream_runs(conn: Connection) -> Iterator[AuditRun]:
    """Every verify run that wrote heads, in id order (the order they ran)."""
    r = t.audit_runs.c
    cols = (r.id, r.verified_at, r.mode, r.heads, r.heads_digest, r.prev_digest, r.digest)
    return starmap(AuditRun, stream_rows(conn, select(*cols).order_by(r.id)))


def latest_run(conn: Connection) -> AuditRun | None:
    """The last verify run that wrote heads, or None."""
    r = t.audit_runs.c
    cols = (r.id, r.verified_at, r.mode, r.heads, r.heads_digest, r.prev_digest, r.digest)
    row = conn.execute(select(*cols).order_by(r.id.desc()).limit(1)).first()
    return None if row is None else AuditRun(*row)


_CHUNK = 500  # ids per DELETE … IN (…)


def write_heads(
    conn: Connection,
    heads: list[VerifiedHead],
    drop: list[int],
    run: AuditRun,
    after: int | None,
    *,
    replace: bool = False,
) -> bool:
    """Replace the verified heads of `heads`' projects (with `replace`: every head, so
    only `heads` are left), delete those of `drop`, and append `run`, in the caller's
    writing transaction, if the last run is still `after` (its id; None: no run yet);
    False, writing nothing, if another run came between. Holds the write lock on
    `audit_runs` (SQLite's `BEGIN IMMEDIATE` already does) until commit."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE audit_runs IN EXCLUSIVE MODE")
    last = latest_run(conn)
    if (None if last is None else last.id) != after:
        return False
    a = t.audit_heads.c
    ids = [h.project_id for h in heads] + drop
    if replace:
        conn.execute(delete(t.audit_heads))
        ids = []
    for i in range(0, len(ids), _CHUNK):
        conn.execute(delete(t.audit_heads).where(a.project_id.in_(ids[i : i + _CHUNK])))
    if heads:
        fields = ("project_id", "seq", "hash", "state", "verified_at")
        rows = [{f: getattr(h, f) for f in fields} for h in heads]
        conn.execute(insert(t.audit_heads), rows)
    run_fields = ("id", "verified_at", "mode", "heads", "heads_digest", "prev_digest", "digest")
    conn.execute(insert(t.audit_runs).values({f: getattr(run, f) for f in run_fields}))
    return True
