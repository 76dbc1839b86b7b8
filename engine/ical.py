"""Deadlines as an iCalendar file (RFC 5545) that calendar programs import.

Written by hand, so the runtime needs no iCalendar library: CRLF line ends, lines folded
at 75 octets without splitting a UTF-8 character, TEXT values escaped, times in UTC.
Each open, running deadline (a stage, a periodic duty or a handoff to acknowledge) is
one event at its due time; its UID is stable, so importing a newer export updates the
events instead of duplicating them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, select

from engine.service import Engine
from engine.views import _View
from storage.tables import deadlines, projects
from workflow.errors import NotFound
from workflow.labels import text
from workflow.scheme import COORDINATOR

PRODID = "-//Shema//Shema deadlines//LV"
_KIND = {
    "lv": {"stage": "termiņš", "duty": "kārtējais uzdevums", "handoff": "pieņemt nodošanu"},
    "en": {"stage": "deadline", "duty": "periodic duty", "handoff": "acknowledge the handoff"},
}


@dataclass(frozen=True)
class DeadlineEvent(_View):
    """One upcoming deadline, ready to be written as a VEVENT."""

    uid: str
    due_at: dt.datetime
    code: str
    title: str
    kind: str
    stage: str
    summary: str
    description: str
    who: list[str]


_OPEN = (
    select(
        deadlines.c.id,
        deadlines.c.kind,
        deadlines.c.stage,
        deadlines.c.action,
        deadlines.c.due_at,
        projects.c.code,
        projects.c.title,
        projects.c.unit_id,
        projects.c.responsible_id,
        projects.c.scheme_version_id,
    )
    .join(projects, projects.c.id == deadlines.c.project_id)
    .where(and_(deadlines.c.closed_at.is_(None), deadlines.c.paused_at.is_(None)))
    .order_by(deadlines.c.due_at, deadlines.c.id)
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
        me = engine._person(org, actor)
        if person is not None and person not in org.org.people:
            raise NotFound(f"no person {person!r} in the organisation", actor=person)
        stmt = _OPEN
        if unit is not None:
            if unit not in org.org.units:
                raise NotFound(f"no unit {unit!r}", unit=unit)
            stmt = stmt.where(projects.c.unit_id.in_(org.subtree(unit)))
        prefix = org.org.municipality.code_prefix.lower()
        out = []
        for r in conn.execute(stmt):
            cs = engine.compiled(conn, r.scheme_version_id)
            if not org.acting_roles(me, r.unit_id, cs.levels, cs.version_id):
                continue
            scheme = cs.scheme
            owner = scheme.stages[r.stage].owner if r.stage in scheme.stages else None
            if r.kind != "handoff" and r.responsible_id is not None:
                who = [r.responsible_id]
            else:
                who, _ = org.recipients(owner or COORDINATOR, r.unit_id, cs.levels)
            if person is not None and person not in who:
                continue
            stage_title = scheme.stage_title(r.stage, lang)
            what = _KIND[lang].get(r.kind, r.kind)
            if r.kind == "duty" and r.action:
                what = scheme.action_title(r.action, lang)
            unit_spec = org.org.units.get(r.unit_id)
            names = [org.org.people[p].name if p in org.org.people else p for p in who]
            description = "\n".join(
                [
                    r.title,
                    f"{text(unit_spec.name if unit_spec else None, lang, r.unit_id)}",
                    f"{stage_title} ({r.stage})",
                    ("Atbild: " if lang == "lv" else "Who: ") + ", ".join(names),
                    f"shema project show {r.code}",
                ]
            )
            out.append(
                DeadlineEvent(
                    uid=f"deadline-{r.id}@{prefix}.shema",
                    due_at=r.due_at,
                    code=r.code,
                    title=r.title,
                    kind=r.kind,
                    stage=r.stage,
                    summary=f"{r.code}: {stage_title} — {what}",
                    description=description,
                    who=who,
                )
            )
        return out


def escape(value: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines escaped."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str, limit: int = 75) -> str:
    """A content line folded into CRLF + space continuations of at most `limit` octets
    each, never splitting a UTF-8 character (RFC 5545 §3.1)."""
    parts: list[str] = []
    current, size = "", 0
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            parts.append(current)
            current, size = " " + ch, 1 + n
        else:
            current, size = current + ch, size + n
    parts.append(current)
    return "\r\n".join(parts)


def _utc(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def to_ics(events: Sequence[DeadlineEvent], *, now: dt.datetime, name: str) -> str:
    """A VCALENDAR of `events`, each a zero-length, non-blocking VEVENT at its due time."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(name)}",
    ]
    stamp = _utc(now)
    for e in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{e.uid}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_utc(e.due_at)}",
            f"DTEND:{_utc(e.due_at)}",
            f"SUMMARY:{escape(e.summary)}",
            f"DESCRIPTION:{escape(e.description)}",
            f"CATEGORIES:{escape(e.kind)}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
