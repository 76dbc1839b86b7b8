"""What `audit verify` and `audit anchor` read: every project's row, hash-chained history,
checklist ticks, risks and cost-benefit analysis, the stored organisation and scheme
versions, the role assignments and the people's `active` flags; (the verified heads
it keeps are in storage/audit_heads.py).

Every read runs in the caller's transaction, which should be a `snapshot` so that all
of them see the database at one moment; nothing here writes. The `stream_*`
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

from sqlalchemy import Connection, Result, Select, select

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


def stream_rows(conn: Connection, stmt: Select[Any], batch: int = STREAM_BATCH) -> Result[Any]:
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
    return starmap(ProjectSnapshot, stream_rows(conn, stmt))


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
    return starmap(ChainEvent, stream_rows(conn, stmt))


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
    return starmap(ChecklistTick, stream_rows(conn, stmt.order_by(c.project_id, c.item)))


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
    return starmap(RiskRow, stream_rows(conn, stmt))


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
    return starmap(CbaRow, stream_rows(conn, stmt.order_by(c.project_id)))


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
    return starmap(CbaYear, stream_rows(conn, stmt))


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
    return starmap(StoredScheme, stream_rows(conn, stmt, VERSION_BATCH))


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
    return starmap(StoredOrg, stream_rows(conn, stmt, VERSION_BATCH))


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
    return starmap(RoleAssignment, stream_rows(conn, stmt))


@dataclass(frozen=True, slots=True)
class PersonActive:
    """A person row's id and `active` flag."""

    id: str
    active: bool


def stream_people(conn: Connection) -> Iterator[PersonActive]:
    """Every person's id and `active` flag, in id order."""
    p = t.people.c
    rows = stream_rows(conn, select(p.id, p.active).order_by(p.id))
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
    return starmap(ProjectHead, stream_rows(conn, stmt))


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
    return starmap(ChainEvent, stream_rows(conn, stmt.order_by(h.project_id, h.seq)))


def project_history(conn: Connection, project_id: int) -> list[ChainEvent]:
    """One project's history in sequence order (empty when it has none)."""
    h = t.history.c
    stmt = select(*(h[name] for name in CHAIN_COLUMNS)).where(h.project_id == project_id)
    return list(starmap(ChainEvent, conn.execute(stmt.order_by(h.seq))))
