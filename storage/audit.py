"""What `audit verify` and `audit anchor` read: every project's row, hash-chained history,
checklist ticks, risks and cost-benefit analysis, the stored organisation and scheme
versions, the role assignments and the people's `active` flags; and the verified heads
(`audit_heads`, `audit_runs`) that let it check only what was appended since its last run,
which `write_heads` alone writes.

Every read runs in the caller's transaction, which should be a `snapshot` so that all
of them see the database at one moment; none but `write_heads` writes. The `stream_*`
functions execute their statement when called and hand out its rows lazily, fetched in batches (of
`STREAM_BATCH`, or `VERSION_BATCH` for the large compiled versions) in the order each
names, so an audit of any size holds about one batch per table in memory; several
streams may be open on one connection at once. Rows come back as the typed records
below; an empty table gives an empty stream or list, never None.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from itertools import starmap
from typing import Any

from sqlalchemy import Connection, Result, Select, delete, insert, select

from storage import tables as t
from storage.database import Database

STREAM_BATCH = 1000  # rows fetched at a time from a streamed table
VERSION_BATCH = 8  # stored versions fetched at a time (each holds a compiled model)


@contextmanager
def snapshot(db: Database) -> Iterator[Connection]:
    """A read-only transaction in which every statement sees the same snapshot: REPEATABLE
    READ on PostgreSQL (SQLite's read transaction already is one). It never writes and
    is rolled back at the end."""
    with db.read() as conn:
        if not db.is_sqlite:
            conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield conn


def _stream(conn: Connection, stmt: Select[Any], batch: int = STREAM_BATCH) -> Result[Any]:
    return conn.execution_options(yield_per=batch).execute(stmt)


def _json_or_text(text: Any) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


# -- projects and what belongs to each -------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProjectSnapshot:
    """A project row as stored. Its JSON columns are kept as text (`partners_json`,
    `dates_json`) and decoded on each read of `partners` and `dates`."""

    id: int
    code: str
    title: str
    unit_id: str
    scheme_version_id: int
    stage: str
    stage_entered_at: dt.datetime
    version: int
    responsible_id: str | None
    budget_amount: Decimal | None
    budget_currency: str
    funding_instrument: str | None
    partners_json: str
    dates_json: str
    handoff_since: dt.datetime | None
    hold_since: dt.datetime | None
    hold_reason: str | None
    created_at: dt.datetime
    created_by: str | None
    head_seq: int
    head_hash: str
    idea_id: int | None

    @property
    def partners(self) -> Any:
        """The partners decoded (a list, as Shēma writes them), or the stored text when it
        is not JSON."""
        return _json_or_text(self.partners_json)

    @property
    def dates(self) -> Any:
        """The dates decoded ({name: ISO date}, as Shēma writes them), or the stored text
        when it is not JSON."""
        return _json_or_text(self.dates_json)


def stream_projects(conn: Connection) -> Iterator[ProjectSnapshot]:
    """Every project row, in id order."""
    p = t.projects.c
    stmt = select(
        p.id,
        p.code,
        p.title,
        p.unit_id,
        p.scheme_version_id,
        p.stage,
        p.stage_entered_at,
        p.version,
        p.responsible_id,
        p.budget_amount,
        p.budget_currency,
        p.funding_instrument,
        p.partners,
        p.dates,
        p.handoff_since,
        p.hold_since,
        p.hold_reason,
        p.created_at,
        p.created_by,
        p.head_seq,
        p.head_hash,
        p.idea_id,
    ).order_by(p.id)
    return starmap(ProjectSnapshot, _stream(conn, stmt))


CHAIN_COLUMNS = (
    "project_id",
    "seq",
    "at",
    "actor_id",
    "kind",
    "action",
    "from_stage",
    "to_stage",
    "comment",
    "refs",
    "data",
    "prev_hash",
    "hash",
)
_CHAIN_KEYS = frozenset(CHAIN_COLUMNS)


@dataclass(frozen=True, slots=True)
class ChainEvent(Mapping[str, Any]):
    """One stored history event, every column as stored: the JSON columns `refs` and
    `data` stay the text the chain's hashes cover. It reads as a mapping of those columns
    too (`event["seq"]`), as `engine.history.verify_chain` reads a row; `details` is
    `data` decoded."""

    project_id: int
    seq: int
    at: dt.datetime
    actor_id: str | None
    kind: str
    action: str | None
    from_stage: str | None
    to_stage: str | None
    comment: str | None
    refs: str
    data: str
    prev_hash: str
    hash: str

    @property
    def details(self) -> dict[str, Any]:
        """`data` decoded on each read: the JSON object Shēma writes there, or an empty
        dict when the stored text is not JSON or not an object."""
        try:
            decoded = json.loads(self.data)
        except (TypeError, ValueError):
            return {}
        return decoded if isinstance(decoded, dict) else {}

    def __getitem__(self, key: str) -> Any:
        if key not in _CHAIN_KEYS:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(CHAIN_COLUMNS)

    def __len__(self) -> int:
        return len(CHAIN_COLUMNS)


def stream_history(conn: Connection) -> Iterator[ChainEvent]:
    """Every history event, by project id and then sequence number; the events of a
    project id that has no project row come in their place in that order too."""
    h = t.history.c
    stmt = select(*(h[name] for name in CHAIN_COLUMNS)).order_by(h.project_id, h.seq)
    return starmap(ChainEvent, _stream(conn, stmt))


@dataclass(frozen=True, slots=True)
class ChecklistTick:
    """One ticked checklist item of a project."""

    project_id: int
    item: str
    checked_at: dt.datetime
    checked_by: str | None


def stream_ticks(conn: Connection) -> Iterator[ChecklistTick]:
    """Every checklist tick, by project id and then item."""
    c = t.checklist.c
    stmt = select(c.project_id, c.item, c.checked_at, c.checked_by)
    return starmap(ChecklistTick, _stream(conn, stmt.order_by(c.project_id, c.item)))


@dataclass(frozen=True, slots=True)
class RiskRow:
    """One risk of a project's register, R`number`."""

    project_id: int
    number: int
    title: str
    likelihood: int | None
    impact: int | None
    owner_id: str | None
    mitigation: str
    status: str
    created_at: dt.datetime
    created_by: str | None
    updated_at: dt.datetime
    updated_by: str | None


def stream_risks(conn: Connection) -> Iterator[RiskRow]:
    """Every risk, by project id and then number."""
    r = t.risks.c
    stmt = select(
        r.project_id,
        r.number,
        r.title,
        r.likelihood,
        r.impact,
        r.owner_id,
        r.mitigation,
        r.status,
        r.created_at,
        r.created_by,
        r.updated_at,
        r.updated_by,
    ).order_by(r.project_id, r.number)
    return starmap(RiskRow, _stream(conn, stmt))


@dataclass(frozen=True, slots=True)
class CbaRow:
    """A project's cost-benefit analysis, without its yearly flows (`CbaYear`)."""

    project_id: int
    discount_rate: Decimal
    currency: str
    updated_at: dt.datetime
    updated_by: str | None


def stream_cbas(conn: Connection) -> Iterator[CbaRow]:
    """Every cost-benefit analysis, by project id (at most one per project)."""
    c = t.cba.c
    stmt = select(c.project_id, c.discount_rate, c.currency, c.updated_at, c.updated_by)
    return starmap(CbaRow, _stream(conn, stmt.order_by(c.project_id)))


@dataclass(frozen=True, slots=True)
class CbaYear:
    """One year's flows of a project's cost-benefit analysis."""

    project_id: int
    year: int
    cost: Decimal
    benefit: Decimal


def stream_cba_years(conn: Connection) -> Iterator[CbaYear]:
    """Every cost-benefit year, by project id and then year."""
    y = t.cba_years.c
    stmt = select(y.project_id, y.year, y.cost, y.benefit).order_by(y.project_id, y.year)
    return starmap(CbaYear, _stream(conn, stmt))


# -- the organisation and the stored versions -------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredScheme:
    """A stored scheme version: its compiled model (JSON) and the hash it was stored with."""

    id: int
    name: str
    version: int
    content_hash: str
    compiled: str


def stream_scheme_versions(conn: Connection) -> Iterator[StoredScheme]:
    """Every stored scheme version, in id order (the order they were loaded)."""
    s = t.scheme_versions.c
    stmt = select(s.id, s.name, s.version, s.content_hash, s.compiled).order_by(s.id)
    return starmap(StoredScheme, _stream(conn, stmt, VERSION_BATCH))


@dataclass(frozen=True, slots=True)
class StoredOrg:
    """A stored organisation version: its compiled model (JSON) and the hash it was
    stored with."""

    id: int
    content_hash: str
    compiled: str


def stream_org_versions(conn: Connection) -> Iterator[StoredOrg]:
    """Every stored organisation version, in id order (the last is the one in force)."""
    o = t.org_versions.c
    stmt = select(o.id, o.content_hash, o.compiled).order_by(o.id)
    return starmap(StoredOrg, _stream(conn, stmt, VERSION_BATCH))


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    """One row of `role_assignments`: a person holds a role for a unit."""

    person_id: str
    role: str
    unit_id: str


def stream_role_assignments(conn: Connection) -> Iterator[RoleAssignment]:
    """Every role assignment, by person, role and then unit."""
    a = t.role_assignments.c
    stmt = select(a.person_id, a.role, a.unit_id).order_by(a.person_id, a.role, a.unit_id)
    return starmap(RoleAssignment, _stream(conn, stmt))


@dataclass(frozen=True, slots=True)
class PersonActive:
    """A person row's id and `active` flag."""

    id: str
    active: bool


def stream_people(conn: Connection) -> Iterator[PersonActive]:
    """Every person's id and `active` flag, in id order."""
    p = t.people.c
    rows = _stream(conn, select(p.id, p.active).order_by(p.id))
    return (PersonActive(r.id, bool(r.active)) for r in rows)


# -- what an anchor records ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProjectHead:
    """The head of a project's history chain, as its row records it."""

    id: int
    code: str
    head_seq: int
    head_hash: str


def stream_heads(conn: Connection) -> Iterator[ProjectHead]:
    """Every project's chain head, in id order."""
    p = t.projects.c
    stmt = select(p.id, p.code, p.head_seq, p.head_hash).order_by(p.id)
    return starmap(ProjectHead, _stream(conn, stmt))


@dataclass(frozen=True, slots=True)
class OrgHash:
    """A stored organisation version's content hash."""

    id: int
    content_hash: str


def org_hashes(conn: Connection) -> list[OrgHash]:
    """Every stored organisation version's content hash, in id order."""
    o = t.org_versions.c
    return list(starmap(OrgHash, conn.execute(select(o.id, o.content_hash).order_by(o.id))))


@dataclass(frozen=True, slots=True)
class SchemeHash:
    """A stored scheme version's name, version number and content hash."""

    id: int
    name: str
    version: int
    content_hash: str


def scheme_hashes(conn: Connection) -> list[SchemeHash]:
    """Every stored scheme version's name, version and content hash, in id order."""
    s = t.scheme_versions.c
    stmt = select(s.id, s.name, s.version, s.content_hash).order_by(s.id)
    return list(starmap(SchemeHash, conn.execute(stmt)))


# -- verified heads -------------------------------------------------------------------


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
    return starmap(VerifiedHead, _stream(conn, stmt))


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
    return starmap(AuditRun, _stream(conn, select(*cols).order_by(r.id)))


def latest_run(conn: Connection) -> AuditRun | None:
    """The last verify run that wrote heads, or None."""
    r = t.audit_runs.c
    cols = (r.id, r.verified_at, r.mode, r.heads, r.heads_digest, r.prev_digest, r.digest)
    row = conn.execute(select(*cols).order_by(r.id.desc()).limit(1)).first()
    return None if row is None else AuditRun(*row)


def stream_moved_history(conn: Connection) -> Iterator[ChainEvent]:
    """The history of each project whose row's head is not its verified head (or that
    has none), by project id and then sequence number."""
    h, p, a = t.history.c, t.projects.c, t.audit_heads.c
    moved = (
        select(p.id)
        .select_from(t.projects.outerjoin(t.audit_heads, a.project_id == p.id))
        .where(a.project_id.is_(None) | (a.seq != p.head_seq) | (a.hash != p.head_hash))
    )
    stmt = select(*(h[name] for name in CHAIN_COLUMNS)).where(h.project_id.in_(moved))
    return starmap(ChainEvent, _stream(conn, stmt.order_by(h.project_id, h.seq)))


def project_history(conn: Connection, project_id: int) -> list[ChainEvent]:
    """One project's history in sequence order (empty when it has none)."""
    h = t.history.c
    stmt = select(*(h[name] for name in CHAIN_COLUMNS)).where(h.project_id == project_id)
    return list(starmap(ChainEvent, conn.execute(stmt.order_by(h.seq))))


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
