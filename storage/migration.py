"""What moving running projects to another scheme version needs of the database beyond
the other nouns' modules: finding a version by its number, the projects on a version a
page at a time, a deadline's timers fired or not, and the rows that name a rebuilt
deadline or a renamed stage.

Every function runs in the caller's transaction; none commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, and_, select, update

from storage.tables import handoffs, outbox, projects, scheme_versions, timers


@dataclass(frozen=True, slots=True)
class TimerRecord:
    """One timer of a deadline, with when it fired (None: not yet)."""

    deadline_id: int
    step: str
    role: str | None
    fire_at: dt.datetime
    fired_at: dt.datetime | None


def version_id(conn: Connection, name: str, number: int) -> int | None:
    """The id of version `number` of scheme `name`, or None when it was never loaded."""
    found = conn.execute(
        select(scheme_versions.c.id).where(
            and_(scheme_versions.c.name == name, scheme_versions.c.version == number)
        )
    ).scalar()
    return None if found is None else int(found)


def codes_on_version(
    conn: Connection, scheme_version_id: int, *, after_id: int = 0, limit: int = 500
) -> list[tuple[int, str]]:
    """Up to `limit` (id, code) pairs of the projects following `scheme_version_id` whose id
    is above `after_id`, by id (a keyset page: call again with the last id for the next;
    empty when none are left)."""
    rows = conn.execute(
        select(projects.c.id, projects.c.code)
        .where(and_(projects.c.scheme_version_id == scheme_version_id, projects.c.id > after_id))
        .order_by(projects.c.id)
        .limit(limit)
    )
    return [(int(r.id), str(r.code)) for r in rows]


def timers_of(conn: Connection, deadline_ids: Sequence[int]) -> list[TimerRecord]:
    """Every timer of the deadlines `deadline_ids`, fired or not, by deadline and time
    (empty for none)."""
    ids = list(deadline_ids)
    if not ids:
        return []
    rows = conn.execute(
        select(timers)
        .where(timers.c.deadline_id.in_(ids))
        .order_by(timers.c.deadline_id, timers.c.fire_at, timers.c.id)
    )
    return [TimerRecord(r.deadline_id, r.step, r.role, r.fire_at, r.fired_at) for r in rows]


def repoint_messages(conn: Connection, moved: Mapping[int, int]) -> None:
    """Let the messages sent for each old deadline of `moved` (old id → new id) name the
    deadline that replaced it, so an escalation already sent still counts while the
    replacement runs."""
    for old, new in moved.items():
        conn.execute(update(outbox).where(outbox.c.deadline_id == old).values(deadline_id=new))


def rename_pending_handoff(conn: Connection, project_id: int, to_stage: str) -> None:
    """Let the project's handoff waiting to be acknowledged lead into `to_stage` (the
    stage it waits in under another name); no-op when none waits."""
    conn.execute(
        update(handoffs)
        .where(and_(handoffs.c.project_id == project_id, handoffs.c.acknowledged_at.is_(None)))
        .values(to_stage=to_stage)
    )


def versions_by_scheme(conn: Connection) -> dict[str, list[int]]:
    """Every stored version number of every scheme, by scheme name, oldest first."""
    rows = conn.execute(
        select(scheme_versions.c.name, scheme_versions.c.version).order_by(
            scheme_versions.c.name, scheme_versions.c.version
        )
    )
    out: dict[str, list[int]] = {}
    for r in rows:
        out.setdefault(str(r.name), []).append(int(r.version))
    return out
