"""Absence periods: a person away from one day to another, and who stands in for them.

No reason is stored (reasons are personal data, often health data). Every function runs
in the caller's transaction and commits nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, and_, insert, select, update

from storage.tables import absences


@dataclass(frozen=True, slots=True)
class AbsenceRecord:
    """One absence period; `ends_on` is the last day away; `ended_at` when it was ended
    early (the person came back)."""

    id: int
    person_id: str
    deputy_id: str | None
    starts_on: dt.date
    ends_on: dt.date
    created_at: dt.datetime
    created_by: str
    ended_at: dt.datetime | None


def _record(row: object) -> AbsenceRecord:
    m = row._mapping  # type: ignore[attr-defined]
    return AbsenceRecord(
        m["id"],
        m["person_id"],
        m["deputy_id"],
        m["starts_on"],
        m["ends_on"],
        m["created_at"],
        m["created_by"],
        m["ended_at"],
    )


def add(
    conn: Connection,
    *,
    person: str,
    deputy: str | None,
    starts_on: dt.date,
    ends_on: dt.date,
    by: str,
    now: dt.datetime,
) -> int:
    """Store a period; returns its id."""
    result = conn.execute(
        insert(absences).values(
            person_id=person,
            deputy_id=deputy,
            starts_on=starts_on,
            ends_on=ends_on,
            created_at=now,
            created_by=by,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def get(conn: Connection, absence_id: int) -> AbsenceRecord | None:
    """The period `absence_id`, or None."""
    row = conn.execute(select(absences).where(absences.c.id == absence_id)).first()
    return _record(row) if row is not None else None


def end(conn: Connection, absence_id: int, now: dt.datetime) -> bool:
    """Mark the period ended at `now`; False when it was ended already or is unknown."""
    result = conn.execute(
        update(absences)
        .where(and_(absences.c.id == absence_id, absences.c.ended_at.is_(None)))
        .values(ended_at=now)
    )
    return bool(result.rowcount)


def open_from(conn: Connection, day: dt.date, person: str | None = None) -> list[AbsenceRecord]:
    """Periods not ended early whose last day is `day` or later (current and future),
    of `person` when given; ordered by person and start."""
    query = select(absences).where(and_(absences.c.ended_at.is_(None), absences.c.ends_on >= day))
    if person is not None:
        query = query.where(absences.c.person_id == person)
    query = query.order_by(absences.c.person_id, absences.c.starts_on, absences.c.id)
    return [_record(r) for r in conn.execute(query)]


def current(conn: Connection, day: dt.date) -> list[AbsenceRecord]:
    """Periods covering `day` and not ended early."""
    query = select(absences).where(
        and_(
            absences.c.ended_at.is_(None),
            absences.c.starts_on <= day,
            absences.c.ends_on >= day,
        )
    )
    return [_record(r) for r in conn.execute(query.order_by(absences.c.id))]


def of_person(conn: Connection, person: str, *, include_past: bool = False) -> list[AbsenceRecord]:
    """`person`'s periods, newest first (past and ended ones only with `include_past`)."""
    query = select(absences).where(absences.c.person_id == person)
    if not include_past:
        query = query.where(absences.c.ended_at.is_(None))
    return [_record(r) for r in conn.execute(query.order_by(absences.c.starts_on.desc()))]


def overlapping(
    conn: Connection, person: str, starts_on: dt.date, ends_on: dt.date
) -> list[AbsenceRecord]:
    """`person`'s open periods sharing a day with `starts_on`–`ends_on`."""
    query = select(absences).where(
        and_(
            absences.c.person_id == person,
            absences.c.ended_at.is_(None),
            absences.c.starts_on <= ends_on,
            absences.c.ends_on >= starts_on,
        )
    )
    return [_record(r) for r in conn.execute(query)]


__all__ = ["AbsenceRecord", "add", "current", "end", "get", "of_person", "open_from", "overlapping"]
