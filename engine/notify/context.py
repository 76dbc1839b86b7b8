"""The template context of a message about a project, built in one place.

Every message about a project (handoff, notify, reminder, overdue, escalation) starts
from the same facts — `About.context(lang)` — and adds what its kind needs through
`context_for`; `message_rows` (engine/notify/notices.py) adds the recipient's name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from engine.permissions import OrgIndex
from workflow.calendar import WorkingCalendar
from workflow.labels import text
from workflow.scheme import Scheme

Context = dict[str, Any]
ContextFor = Callable[[str], Context]  # language → template context


@dataclass(frozen=True)
class About:
    """What a message is about: the project at a stage, the deadline it names (if any),
    and when it is written. `duty` names the duty (a self-loop action) when the message
    is about its deadline rather than the stage's."""

    scheme: Scheme
    org: OrgIndex
    project: Any  # a storage.projects.ProjectRecord (or anything with its fields)
    stage: str
    due_at: dt.datetime | None
    now: dt.datetime
    cal: WorkingCalendar
    duty: str | None = None
    web_url: str | None = None

    def context(self, lang: str) -> Context:
        """What every message says about the project, in `lang`."""
        scheme, project, duty, stage = self.scheme, self.project, self.duty, self.stage
        unit = self.org.org.units.get(project.unit_id)
        people = self.org.org.people
        responsible = people.get(project.responsible_id) if project.responsible_id else None
        ctx: Context = {
            "code": project.code,
            "title": project.title,
            "unit": text(unit.name if unit else None, lang, project.unit_id),
            "stage": scheme.stage_title(stage, lang),
            "responsible": responsible.name if responsible else None,
            "due": None,
            "due_date": "",
            "days_left": None,
            "duty": scheme.action_title(duty, lang) if duty else None,
            "url": f"{self.web_url}/projects/{quote(project.code)}" if self.web_url else None,
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
        if self.due_at is not None:
            local = self.due_at.astimezone(self.cal.zone)
            ctx["due_date"] = local.date().isoformat()
            ctx["due"] = local.strftime("%Y-%m-%d %H:%M")
            ctx["days_left"] = self.cal.working_days_between(
                self.cal.local_date(self.now), local.date()
            )
        return ctx


def context_for(about: About, more: ContextFor) -> ContextFor:
    """The context in each language: `about`'s facts, then what `more(lang)` adds (its
    keys win)."""

    def build(lang: str) -> Context:
        return {**about.context(lang), **more(lang)}

    return build


def action_context(
    about: About,
    actor: str | None,
    *,
    comment: str | None = None,
    extra: Context | None = None,
) -> ContextFor:
    """The context of a notice of something `actor` did (a handoff, a `notify`)."""
    person = about.org.org.people.get(actor) if actor else None
    sent_date = about.now.astimezone(about.cal.zone).date().isoformat()

    def more(lang: str) -> Context:
        return {
            "actor": person.name if person else None,
            "sent_date": sent_date,
            "comment": comment,
            "action": "",
            **(extra or {}),
        }

    return context_for(about, more)


def deadline_context(about: About, *, kind: str, level: int, role: str) -> ContextFor:
    """The context of a reminder, overdue notice or escalation step of a deadline of
    `kind` (stage, duty, handoff) addressed to `role`."""

    def more(lang: str) -> Context:
        return {"kind": kind, "level": level, "role": about.scheme.role_title(role, lang)}

    return context_for(about, more)
