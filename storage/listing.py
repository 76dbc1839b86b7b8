"""Lists of projects selected, counted and ordered in the database.

The engine decides who sees what and which stages count; it hands a `Selection` here:
for each scheme version the stages and, per stage, the units whose projects qualify.
A list's cost then grows with the rows asked for (a page), not with the archive: the
stage index finds the running projects among the finished ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    case,
    false,
    func,
    or_,
    select,
)

from storage.projects import NEXT_DUE, ORG_VERSION, ProjectRecord, record
from storage.tables import projects

# version → stage → the units whose projects in that stage qualify
Allowed = Mapping[int, Mapping[str, Sequence[str]]]


@dataclass(frozen=True)
class Selection:
    """Which projects a list holds: those in `allowed` (version, stage, unit) matching
    every filter given; `also` adds projects by id whatever their stage (escalations)."""

    allowed: Allowed
    handoffs: Allowed = field(default_factory=dict)  # places that count while a handoff waits
    responsible: str | None = None
    due_before: dt.datetime | None = None
    search: str | None = None  # already folded (workflow.labels.folded)
    also: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Order:
    """How a list is ordered: by `key` (code | deadline | stage | unit); `ranks` gives the
    position of each stage or unit id for the last two (their titles' order)."""

    key: str = "code"
    ranks: Mapping[str, int] = field(default_factory=dict)


def _places(allowed: Allowed) -> list[ColumnElement[bool]]:
    by_place = []
    for version, stages in allowed.items():
        grouped: dict[tuple[str, ...], list[str]] = {}
        for stage, units in stages.items():
            if units:
                grouped.setdefault(tuple(sorted(units)), []).append(stage)
        for units, names in grouped.items():
            by_place.append(
                and_(
                    projects.c.scheme_version_id == version,
                    projects.c.stage.in_(sorted(names)),
                    projects.c.unit_id.in_(units),
                )
            )
    return by_place


def _where(sel: Selection) -> ColumnElement[bool]:
    by_place = _places(sel.allowed)
    waiting = _places(sel.handoffs)
    if waiting:
        by_place.append(and_(projects.c.handoff_since.is_not(None), or_(*waiting)))
    place = or_(*by_place) if by_place else false()
    if sel.also:
        place = or_(place, projects.c.id.in_(sorted(sel.also)))
    conditions = [place]
    if sel.responsible is not None:
        conditions.append(projects.c.responsible_id == sel.responsible)
    if sel.search:
        escaped = sel.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(projects.c.search_text.like(f"%{escaped}%", escape="\\"))
    return and_(*conditions)


def _select(sel: Selection) -> tuple[Select[tuple[object, ...]], ColumnElement[object]]:
    due = NEXT_DUE.subquery()
    stmt = (
        select(projects, ORG_VERSION, due.c.due_at.label("next_due"))
        .outerjoin(due, due.c.project_id == projects.c.id)
        .where(_where(sel))
    )
    if sel.due_before is not None:
        stmt = stmt.where(due.c.due_at < sel.due_before)
    return stmt, due.c.due_at


def _ordered(stmt: Select[tuple[object, ...]], due: ColumnElement[object], order: Order):  # type: ignore[no-untyped-def]
    if order.key == "deadline":
        return stmt.order_by(due.is_(None), due, projects.c.code)
    if order.key in ("stage", "unit"):
        column = projects.c.stage if order.key == "stage" else projects.c.unit_id
        rank = case(dict(order.ranks), value=column, else_=len(order.ranks))
        return stmt.order_by(rank, projects.c.code)
    return stmt.order_by(projects.c.code)


def count(conn: Connection, sel: Selection) -> int:
    """How many projects `sel` holds."""
    stmt, _ = _select(sel)
    return int(conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one())


def page(
    conn: Connection, sel: Selection, order: Order, *, offset: int = 0, limit: int | None = None
) -> list[ProjectRecord]:
    """The projects of `sel` in `order`, `limit` of them from `offset` (all when None),
    each with its earliest running deadline (`next_due`)."""
    stmt, due = _select(sel)
    stmt = _ordered(stmt, due, order).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [record(row) for row in conn.execute(stmt)]


def stream(
    conn: Connection, sel: Selection, order: Order, *, chunk: int = 500
) -> Iterator[list[ProjectRecord]]:
    """The projects of `sel` in `order`, a chunk at a time (for output that streams)."""
    offset = 0
    while True:
        rows = page(conn, sel, order, offset=offset, limit=chunk)
        if rows:
            yield rows
        if len(rows) < chunk:
            return
        offset += chunk
