"""The ideas notebook's rows: one idea each, with the code of the project it was promoted
into (projects.idea_id points back at the idea).

Every function runs in the caller's transaction (`Database.write()` or `.read()`); none
commits. Rows come back as `IdeaRecord`s with the JSON lists decoded; writes take the
columns as an `IdeaColumns` and encode the lists as canonical JSON (sorted keys, no
spaces), so a quoted value inside a stored list is an exact element match.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Select, func, select, update

from storage.tables import ideas, projects


@dataclass(frozen=True, slots=True)
class IdeaColumns:
    """The fields of an idea its writers set (everything but id, version and stamps)."""

    title: str
    description: str
    unit_id: str
    proposer_id: str
    partners: list[dict[str, str]]  # [{name, kind}]
    instruments: list[str]
    tags: list[str]
    cost_amount: Decimal | None
    cost_currency: str
    priority: str
    status: str


@dataclass(frozen=True, slots=True)
class IdeaRecord:
    """An idea row, with the code of the project it was promoted into (None if none)."""

    id: int
    title: str
    description: str
    unit_id: str
    proposer_id: str
    partners: list[dict[str, str]]
    instruments: list[str]
    tags: list[str]
    cost_amount: Decimal | None
    cost_currency: str
    priority: str
    status: str
    version: int
    created_at: dt.datetime
    created_by: str | None
    updated_at: dt.datetime
    updated_by: str | None
    project_code: str | None


_SELECT = select(ideas, projects.c.code.label("project_code")).outerjoin(
    projects, projects.c.idea_id == ideas.c.id
)


def _json(value: Any) -> str:
    # The same canonical form as engine.history.dumps (the other JSON columns).
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _record(row: Any) -> IdeaRecord:
    return IdeaRecord(
        id=row.id,
        title=row.title,
        description=row.description,
        unit_id=row.unit_id,
        proposer_id=row.proposer_id,
        partners=json.loads(row.partners),
        instruments=json.loads(row.instruments),
        tags=json.loads(row.tags),
        cost_amount=None if row.cost_amount is None else Decimal(row.cost_amount),
        cost_currency=row.cost_currency,
        priority=row.priority,
        status=row.status,
        version=row.version,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
        project_code=row.project_code,
    )


def _values(columns: IdeaColumns) -> dict[str, Any]:
    values = asdict(columns)
    for name in ("partners", "instruments", "tags"):
        values[name] = _json(values[name])
    return values


def load(conn: Connection, idea_id: int) -> IdeaRecord | None:
    """The idea `idea_id` with its project's code, or None when there is no such idea.
    Takes no lock: writers compare-and-set on the version they read."""
    row = conn.execute(_SELECT.where(ideas.c.id == idea_id)).first()
    return None if row is None else _record(row)


def search(
    conn: Connection,
    *,
    statuses: Sequence[str] = (),
    not_status: str | None = None,
    units: Collection[str] | None = None,
    priority: str | None = None,
    instrument: str | None = None,
    tag: str | None = None,
) -> list[IdeaRecord]:
    """The ideas matching every filter given, in the order they were added (an empty list
    when none match): status among `statuses` (any when empty), status other than
    `not_status`, unit among `units`, the exact `priority`, `instrument` and `tag` each an
    element of the idea's list (compared exactly, case included)."""
    stmt: Select[Any] = _SELECT.order_by(ideas.c.id)
    if statuses:
        stmt = stmt.where(ideas.c.status.in_(list(statuses)))
    if not_status is not None:
        stmt = stmt.where(ideas.c.status != not_status)
    if units is not None:
        stmt = stmt.where(ideas.c.unit_id.in_(list(units)))
    if priority is not None:
        stmt = stmt.where(ideas.c.priority == priority)
    if instrument is not None:
        stmt = stmt.where(ideas.c.instruments.contains(_json(instrument), autoescape=True))
    if tag is not None:
        stmt = stmt.where(ideas.c.tags.contains(_json(tag), autoescape=True))
    return [_record(r) for r in conn.execute(stmt)]


def insert(conn: Connection, columns: IdeaColumns, *, at: dt.datetime, by: str) -> int:
    """Add an idea at version 1, created and last updated `at` by `by`; its new id."""
    values = {
        **_values(columns),
        "version": 1,
        "created_at": at,
        "created_by": by,
        "updated_at": at,
        "updated_by": by,
    }
    return int(conn.execute(ideas.insert().values(values).returning(ideas.c.id)).scalar_one())


def _compare_and_set(conn: Connection, idea_id: int, version: int, values: dict[str, Any]) -> bool:
    done = conn.execute(
        update(ideas)
        .where(ideas.c.id == idea_id, ideas.c.version == version)
        .values(**values, version=version + 1)
    )
    return done.rowcount == 1


def replace(
    conn: Connection,
    idea_id: int,
    version: int,
    columns: IdeaColumns,
    *,
    at: dt.datetime,
    by: str,
) -> bool:
    """Write `columns` over idea `idea_id` if it is still at `version`, moving it to
    `version + 1`, updated `at` by `by`. False (nothing written) when the idea is gone or
    at another version. On PostgreSQL the row stays locked until the transaction ends."""
    values = {**_values(columns), "updated_at": at, "updated_by": by}
    return _compare_and_set(conn, idea_id, version, values)


def set_status(
    conn: Connection, idea_id: int, version: int, status: str, *, at: dt.datetime, by: str
) -> bool:
    """Set idea `idea_id`'s status if it is still at `version`, moving it to `version + 1`,
    updated `at` by `by`. False (nothing written) when the idea is gone or at another
    version. On PostgreSQL the row stays locked until the transaction ends, so two
    transactions cannot both claim the same version."""
    values = {"status": status, "updated_at": at, "updated_by": by}
    return _compare_and_set(conn, idea_id, version, values)


def count_by_status(conn: Connection) -> dict[str, int]:
    """How many ideas are in each status (statuses no idea has are left out)."""
    rows = conn.execute(select(ideas.c.status, func.count()).group_by(ideas.c.status))
    return {status: int(n) for status, n in rows}
