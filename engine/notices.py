"""Outbox rows: one message to one person, rendered in their language, keyed so that the
same notice is never created twice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import Connection

from engine.messages import render
from engine.permissions import OrgIndex
from storage.tables import outbox
from workflow.calendar import WorkingCalendar
from workflow.labels import text
from workflow.scheme import Scheme

if TYPE_CHECKING:
    from engine.work import Context


def project_context(
    scheme: Scheme,
    org: OrgIndex,
    project: Any,
    lang: str,
    *,
    stage: str,
    due_at: dt.datetime | None,
    now: dt.datetime,
    cal: WorkingCalendar,
    duty: str | None = None,
    web_url: str | None = None,
) -> dict[str, Any]:
    """What every message says about the project, in `lang`; `duty` names the duty (a
    self-loop action) when the message is about its deadline rather than the stage's."""
    unit = org.org.units.get(project.unit_id)
    responsible = org.org.people.get(project.responsible_id) if project.responsible_id else None
    ctx: dict[str, Any] = {
        "code": project.code,
        "title": project.title,
        "unit": text(unit.name if unit else None, lang, project.unit_id),
        "stage": scheme.stage_title(stage, lang),
        "responsible": responsible.name if responsible else None,
        "due": None,
        "due_date": "",
        "days_left": None,
        "duty": scheme.action_title(duty, lang) if duty else None,
        "url": f"{web_url}/projects/{quote(project.code)}" if web_url else None,
        "expected": (
            [scheme.action_title(duty, lang)]
            if duty
            else [
                scheme.action_title(a, lang)
                for a, spec in scheme.actions.items()
                if stage in spec.source and spec.to != stage
            ][:4]
        ),
    }
    if due_at is not None:
        local = due_at.astimezone(cal.zone)
        ctx["due_date"] = local.date().isoformat()
        ctx["due"] = local.strftime("%Y-%m-%d %H:%M")
        ctx["days_left"] = cal.working_days_between(cal.local_date(now), local.date())
    return ctx


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
    context_for: Any,
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
    if not rows:
        return 0
    from sqlalchemy.dialects import postgresql, sqlite

    dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(outbox)
        .on_conflict_do_nothing(index_elements=[outbox.c.key])
        .returning(outbox.c.id)
    )
    created = 0
    for row in rows:  # one statement per row: what it returns tells whether it was new
        created += len(conn.execute(stmt, row).all())
    return created


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
    scheme, org = ctx.scheme.scheme, ctx.org
    actor = org.org.people.get(ctx.actor)

    def context(lang: str) -> dict[str, Any]:
        base = project_context(
            scheme,
            org,
            ctx.row,
            lang,
            stage=stage,
            due_at=due_at,
            now=now,
            cal=cal,
            web_url=web_url,
        )
        return {
            **base,
            "actor": actor.name if actor else None,
            "sent_date": now.astimezone(cal.zone).date().isoformat(),
            "comment": comment,
            "action": "",
            **(extra or {}),
        }

    return message_rows(
        org, recipients, kind=kind, key=key, project_id=ctx.row.id, now=now, context_for=context
    )


__all__ = ["enqueue", "message_rows", "project_context", "project_notices"]
