"""The running deadlines a person may see, as events for a calendar program.

Each open, running deadline (a stage, a periodic duty, a handoff to acknowledge or an
outside body's decision awaited) is
one event at its due time, with a stable UID; render/ical.py writes them as an
iCalendar file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import quote

from engine.machines import CompiledScheme
from engine.permissions import OrgIndex
from engine.service import Engine
from engine.views import View
from engine.work import person as person_of
from storage.reports import RunningDeadline, running_deadlines
from workflow.calendar import WorkingCalendar
from workflow.errors import NotFound
from workflow.labels import text
from workflow.scheme import COORDINATOR

_KIND = {
    "lv": {
        "stage": "termiņš",
        "duty": "kārtējais uzdevums",
        "handoff": "pieņemt nodošanu",
        "external": "ārējās iestādes lēmuma termiņš",
    },
    "en": {
        "stage": "deadline",
        "duty": "periodic duty",
        "handoff": "acknowledge the handoff",
        "external": "the outside body's decision due",
    },
}


@dataclass(frozen=True)
class DeadlineEvent(View):
    """One upcoming deadline, ready to be written as a VEVENT."""

    uid: str
    due_at: dt.datetime
    due_date: dt.date  # the day it falls on, in the organisation's time zone
    code: str
    title: str
    kind: str
    stage: str
    summary: str
    description: str
    who: list[str]
    url: str | None = None  # the project's page, when the web's address is known


def _waiting_for(org: OrgIndex, d: RunningDeadline, cs: CompiledScheme) -> list[str]:
    """Who the deadline waits for: the responsible person, else (and for a handoff) the
    holders of the stage owner's role by the recipient rule."""
    if d.kind != "handoff" and d.responsible_id is not None:
        return [d.responsible_id]
    stages = cs.scheme.stages
    owner = stages[d.stage].owner if d.stage in stages else None
    who, _ = org.recipients(owner or COORDINATOR, d.unit_id, cs.levels)
    return who


def _event(
    org: OrgIndex,
    d: RunningDeadline,
    cs: CompiledScheme,
    who: list[str],
    lang: str,
    *,
    cal: WorkingCalendar,
    web_url: str | None,
) -> DeadlineEvent:
    scheme = cs.scheme
    stage_title = scheme.stage_title(d.stage, lang)
    what = _KIND[lang].get(d.kind, d.kind)
    if d.kind == "duty" and d.action:
        what = scheme.action_title(d.action, lang)
    unit_spec = org.org.units.get(d.unit_id)
    names = [org.org.people[p].name if p in org.org.people else p for p in who]
    url = f"{web_url}/projects/{quote(d.code)}" if web_url else None
    description = "\n".join(
        [
            d.title,
            f"{text(unit_spec.name if unit_spec else None, lang, d.unit_id)}",
            f"{stage_title} ({d.stage})",
            ("Atbild: " if lang == "lv" else "Who: ") + ", ".join(names),
            *([url] if url else []),
        ]
    )
    prefix = org.org.municipality.code_prefix.lower()
    return DeadlineEvent(
        uid=f"deadline-{d.id}@{prefix}.shema",
        due_at=d.due_at,
        due_date=cal.local_date(d.due_at),
        code=d.code,
        title=d.title,
        kind=d.kind,
        stage=d.stage,
        summary=f"{d.code}: {stage_title} — {what}",
        description=description,
        who=who,
        url=url,
    )


def upcoming(
    engine: Engine,
    *,
    actor: str | None,
    person: str | None = None,
    unit: str | None = None,
    lang: str = "lv",
) -> list[DeadlineEvent]:
    """The running deadlines of projects `actor` may see, earliest first; only those
    waiting for `person` (the responsible person, else the holders of the stage owner's
    role by the recipient rule), or only those of `unit` and its sub-units."""
    with engine.db.read() as conn:
        org = engine.org_index(conn)
        me = person_of(org, actor)
        if person is not None and person not in org.org.people:
            raise NotFound(
                f"no person {person!r} in the organisation", code="person.unknown", person=person
            )
        units = None
        if unit is not None:
            if unit not in org.org.units:
                raise NotFound(f"no unit {unit!r}", code="unit.unknown", unit=unit)
            units = org.subtree(unit)
        out = []
        for d in running_deadlines(conn, units=units):
            cs = engine.compiled(conn, d.scheme_version_id)
            if not org.acting_roles(me, d.unit_id, cs.levels, cs.version_id):
                continue
            who = _waiting_for(org, d, cs)
            if person is not None and person not in who:
                continue
            cal = engine.calendar(org, cs.scheme.calendar.timezone)
            out.append(_event(org, d, cs, who, lang, cal=cal, web_url=engine.web_url))
        return out
