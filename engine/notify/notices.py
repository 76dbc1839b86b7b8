"""Outbox rows: one message to one person, rendered in their language, keyed so that the
same notice is never created twice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from engine.notify.context import About, ContextFor, action_context
from engine.notify.messages import render
from engine.permissions import OrgIndex
from storage import outbox as stored
from workflow.calendar import WorkingCalendar

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
) -> list[dict[str, Any]]:
    """One outbox row per recipient; `context_for(lang)` gives the template context."""
    rows = []
    for pid in dict.fromkeys(recipients):
        person = org.org.people.get(pid)
        if person is None:
            continue
        context = {**context_for(person.lang), "name": person.name}
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


__all__ = ["DIGESTED", "enqueue", "message_rows", "project_notices"]
