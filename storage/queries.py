"""Statements the engine runs, built once at import (SQLAlchemy caches their compiled form)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, select, update

from storage.tables import (
    checklist,
    code_counters,
    deadlines,
    handoffs,
    history,
    org_versions,
    outbox,
    projects,
    scheme_versions,
)

# The project row plus the current organisation version, in one round trip: caches are
# keyed by that version, so a running process sees an `org load` made elsewhere.
SELECT_PROJECT = select(
    projects,
    select(func.max(org_versions.c.id)).scalar_subquery().label("org_version"),
).where(projects.c.code == bindparam("code"))

SELECT_PROJECT_FOR_UPDATE = SELECT_PROJECT.with_for_update(of=projects)

CAS_PROJECT = update(projects).where(
    and_(projects.c.id == bindparam("pid"), projects.c.version == bindparam("old_version"))
)

INSERT_HISTORY = history.insert()
INSERT_HANDOFF = handoffs.insert()
PENDING_HANDOFFS = select(handoffs).where(handoffs.c.acknowledged_at.is_(None))
ACK_HANDOFF = (
    update(handoffs)
    .where(and_(handoffs.c.project_id == bindparam("pid"), handoffs.c.acknowledged_at.is_(None)))
    .values(acknowledged_at=bindparam("at"), acknowledged_by=bindparam("by"))
)
SELECT_CHECKED = select(checklist.c.item).where(checklist.c.project_id == bindparam("pid"))
INSERT_CHECK = checklist.insert()
CLEAR_CHECKS = checklist.delete().where(
    and_(
        checklist.c.project_id == bindparam("pid"),
        checklist.c.item.in_(bindparam("items", expanding=True)),
    )
)
DELETE_CHECK = checklist.delete().where(
    and_(checklist.c.project_id == bindparam("pid"), checklist.c.item == bindparam("item_name"))
)
SCHEME_BY_ID = select(scheme_versions).where(scheme_versions.c.id == bindparam("id"))


INSERT_PROJECT = projects.insert().returning(projects.c.id)
SET_HEAD = (
    update(projects).where(projects.c.id == bindparam("pid")).values(head_hash=bindparam("head"))
)
_NEXT_NUMBER: dict[str, Any] = {}


def next_code_number(conn: Connection, prefix: str, year: int) -> int:
    """Atomically take the next number of the (prefix, year) counter, in the caller's
    transaction (an upsert on its row, never max()+1)."""
    dialect = conn.dialect.name
    stmt = _NEXT_NUMBER.get(dialect)
    if stmt is None:
        from sqlalchemy.dialects import postgresql, sqlite

        insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = _NEXT_NUMBER[dialect] = (
            insert(code_counters)
            .values(prefix=bindparam("prefix"), year=bindparam("year"), last_number=1)
            .on_conflict_do_update(
                index_elements=[code_counters.c.prefix, code_counters.c.year],
                set_={"last_number": code_counters.c.last_number + 1},
            )
            .returning(code_counters.c.last_number)
        )
    return int(conn.execute(stmt, {"prefix": prefix, "year": year}).scalar_one())


# The earliest running deadline of each project (paused ones do not run).
NEXT_DUE = (
    select(deadlines.c.project_id, func.min(deadlines.c.due_at).label("due_at"))
    .where(and_(deadlines.c.closed_at.is_(None), deadlines.c.paused_at.is_(None)))
    .group_by(deadlines.c.project_id)
)

# One project's open deadlines, soonest first (paused ones included).
OPEN_DEADLINES_OF = (
    select(deadlines)
    .where(and_(deadlines.c.project_id == bindparam("pid"), deadlines.c.closed_at.is_(None)))
    .order_by(deadlines.c.due_at, deadlines.c.id)
)

# Projects with an escalation addressed to a person whose deadline still runs.
ESCALATED_TO = (
    select(outbox.c.project_id)
    .join(deadlines, deadlines.c.id == outbox.c.deadline_id)
    .where(
        and_(
            outbox.c.recipient_id == bindparam("person"),
            outbox.c.kind == "escalation",
            deadlines.c.closed_at.is_(None),
        )
    )
    .distinct()
)
