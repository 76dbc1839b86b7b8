"""Reading the notebook: one idea, the filtered list, the counts by status.

The notebook is shared: everyone in the organisation may read it, so parishes see what
their neighbours plan.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from engine.ideas.views import IdeaView, parse_ref, view_of
from engine.permissions import OrgIndex
from engine.service import Engine
from engine.work import person as person_of
from storage import ideas as stored
from storage.ideas import IdeaRecord
from workflow.errors import NotFound, UsageError
from workflow.ideas import PRIORITY_RANK, IdeaStatus, Priority, matches


def load_idea(conn: Connection, idea_id: int) -> IdeaRecord:
    """The idea `idea_id`, or NotFound."""
    record = stored.load(conn, idea_id)
    if record is None:
        raise NotFound(f"no idea #{idea_id}", code="idea.unknown", idea=idea_id)
    return record


def reader(engine: Engine, conn: Connection, actor: str | None) -> tuple[OrgIndex, str]:
    """The current organisation and `actor`, refused unless the organisation knows them."""
    org = engine.org_index(conn)
    return org, person_of(org, actor)


def get_idea(engine: Engine, ref: str | int, *, actor: str | None, lang: str = "lv") -> IdeaView:
    """One idea; everyone in the organisation may read the notebook."""
    with engine.db.read() as conn:
        org, _ = reader(engine, conn, actor)
        return view_of(load_idea(conn, parse_ref(ref)), org, lang)


def _check_filters(status: Sequence[str], priority: str | None) -> None:
    for s in status:
        if s not in IdeaStatus.__members__:
            raise UsageError(
                f"no idea status {s!r} (one of {', '.join(IdeaStatus)})",
                code="idea.unknown_status",
                status=s,
                known=[s.value for s in IdeaStatus],
            )
    if priority is not None and priority not in Priority.__members__:
        raise UsageError(
            f"no priority {priority!r} (one of {', '.join(Priority)})",
            code="idea.unknown_priority",
            priority=priority,
            known=[p.value for p in Priority],
        )


def list_ideas(
    engine: Engine,
    *,
    actor: str | None,
    status: Sequence[str] = (),
    unit: str | None = None,
    instrument: str | None = None,
    tag: str | None = None,
    priority: str | None = None,
    search: str | None = None,
    include_archived: bool = False,
    lang: str = "lv",
) -> list[IdeaView]:
    """Ideas matching every filter given, highest priority first, then oldest first.
    Without `status`, archived ideas are left out unless `include_archived`. `unit` takes
    its sub-units too; `search` matches every word in the title, description, partners
    and tags, ignoring case and diacritics."""
    _check_filters(status, priority)
    with engine.db.read() as conn:
        org, _ = reader(engine, conn, actor)
        if unit is not None and unit not in org.org.units:
            raise NotFound(f"no unit {unit!r}", code="idea.unknown_unit", unit=unit)
        records = stored.search(
            conn,
            statuses=status,
            not_status=None if status or include_archived else IdeaStatus.archived.value,
            units=None if unit is None else org.subtree(unit),
            priority=priority,
            instrument=instrument,
            tag=None if tag is None else tag.strip().lstrip("#").lower(),
        )
        views = [view_of(r, org, lang) for r in records]
    if search:
        views = [
            v
            for v in views
            if matches(
                search,
                v.title,
                v.description,
                *v.municipalities,
                *v.organisations,
                *v.tags,
                v.unit_name,
            )
        ]
    return sorted(views, key=lambda v: (PRIORITY_RANK[Priority(v.priority)], v.id))


def count_by_status(conn: Connection) -> dict[str, int]:
    """How many ideas are in each status."""
    return stored.count_by_status(conn)
