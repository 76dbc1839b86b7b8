"""Outbox rows: one message to one person, rendered in their language, keyed so that the
same notice is never created twice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from engine.notify.context import About, ContextFor, action_context
from engine.notify.messages import lv_case, render
from engine.permissions import OrgIndex
from storage import outbox as stored
from workflow.calendar import WorkingCalendar
from workflow.labels import Label, text

if TYPE_CHECKING:
    from engine.work import Context

DIGESTED = ("reminder", "overdue", "escalation")  # what a daily digest gathers


def message_rows(
    org: OrgIndex,
    recipients: Iterable[str],
    *,
    kind: str,
    key: str,
    project_id: int | None,
    now: dt.datetime,
    deadline_id: int | None = None,
    context_for: ContextFor,
    instead: Mapping[str, tuple[str, dt.date]] | None = None,
) -> list[dict[str, Any]]:
    """One outbox row per recipient; `context_for(lang)` gives the template context.
    A deputy's message says whom they receive it for (`instead`: deputy → the absent
    person and their last day away; when not given, whom the organisation's absences
    say they stand in for)."""
    rows = []
    for pid in dict.fromkeys(recipients):
        person = org.org.people.get(pid)
        if person is None:
            continue
        context = {
            **context_for(person.lang),
            "name": person.name,
            "instead": standing_in(org, pid, person.lang, instead),
        }
        subject, body = render(kind, person.lang, context)
        held = person.digest and kind in DIGESTED
        rows.append(
            {
                "key": f"{key}:{pid}",
                "project_id": project_id,
                "deadline_id": deadline_id,
                "recipient_id": pid,
                "kind": kind,
                "subject": subject,
                "body": body,
                "status": "digest" if held else "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    return rows


def follow_up_context(base: ContextFor, body: Label) -> ContextFor:
    """The context of an external clock's follow-up (template `followup.txt`): a
    deadline's, plus the outside body waited on, named in the reader's language. The
    lapse is the body's, not the municipality's: no "overdue by" count is given."""

    def context(lang: str) -> dict[str, Any]:
        return {**base(lang), "body": text(body, lang), "days_left": None}

    return context


def standing_in(
    org: OrgIndex,
    pid: str,
    lang: str,
    instead: Mapping[str, tuple[str, dt.date]] | None,
) -> dict[str, str] | None:
    """What a deputy's message says about whom they stand in for, in `lang`; None for
    anyone else."""
    found = (instead or {}).get(pid)
    if found is None and instead is None:
        standins = org.standing_in(pid)
        found = (standins[0].absent, standins[0].until) if standins else None
    if found is None:
        return None
    absent, until = found
    person = org.org.people.get(absent)
    name = person.name if person else absent
    if lang == "lv":
        return {"name": lv_case(name, "gen"), "until": f"{until:%d.%m.%Y}."}
    return {"name": name, "until": f"{until.day} {until:%B %Y}"}


def enqueue(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """Insert outbox rows, skipping keys that exist already; returns how many were new."""
    return stored.insert_new(conn, rows)


def project_notices(
    ctx: Context,
    kind: str,
    key: str,
    recipients: Sequence[str],
    now: dt.datetime,
    *,
    stage: str,
    due_at: dt.datetime | None,
    cal: WorkingCalendar,
    web_url: str | None,
    extra: dict[str, Any] | None = None,
    comment: str | None = None,
) -> list[dict[str, Any]]:
    """Outbox rows announcing something `ctx.actor` did to the project to `recipients`."""
    about = About(ctx.scheme.scheme, ctx.org, ctx.row, stage, due_at, now, cal, web_url=web_url)
    return message_rows(
        ctx.org,
        recipients,
        kind=kind,
        key=key,
        project_id=ctx.row.id,
        now=now,
        context_for=action_context(about, ctx.actor, comment=comment, extra=extra),
    )


__all__ = ["DIGESTED", "enqueue", "follow_up_context", "message_rows", "project_notices"]
