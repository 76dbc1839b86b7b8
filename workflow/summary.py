"""A scheme as plain rows (for `shema scheme show` and its JSON)."""

from __future__ import annotations

from typing import Any

from workflow.labels import text
from workflow.scheme import Duration, Scheme


def _span(duration: Duration | None) -> dict[str, Any] | None:
    """A deadline or span as data: {"working_days": 10}, {"calendar_days": 92}, or
    {"before": "call_deadline", "working_days": 2}."""
    return duration.model_dump(exclude_none=True) if duration is not None else None


def summary(scheme: Scheme, lang: str = "lv") -> dict[str, Any]:
    """Roles, stages, actions and handoffs of a scheme in the label language `lang`."""
    return {
        "scheme": scheme.scheme,
        "title": text(scheme.title, lang, scheme.scheme),
        "initial": scheme.initial_stage,
        "roles": [
            {"role": name, "level": r.level.value, "title": text(r.title, lang, name)}
            for name, r in scheme.all_roles.items()
        ],
        "stages": [
            {
                "stage": name,
                "title": text(st.title, lang, name),
                "owner": st.owner,
                "level": lvl.value if (lvl := scheme.level_of_stage(name)) else None,
                "participants": list(st.participants),
                "deadline": _span(st.deadline),
                "deadline_text": st.deadline.describe(lang) if st.deadline else None,
                "reminders": [{"before": _span(r.before)} for r in st.reminders],
                "escalation": [{"after": _span(e.after), "to": e.to} for e in st.escalation],
                "checklist": list(st.checklist),
                "terminal": st.terminal,
            }
            for name, st in scheme.stages.items()
        ],
        "actions": [
            {
                "action": name,
                "title": text(a.title, lang, name),
                "from": list(a.source),
                "to": a.to,
                "by": list(a.by),
                "requires": list(a.requires),
                "comment": a.comment,
                "handoff": scheme.is_handoff(name),
                "gates": list(a.gates),
                "deadline": _span(a.deadline),
                "opened_by": a.opened_by,
                "notify": list(a.notify),
            }
            for name, a in scheme.actions.items()
        ],
        "handoffs": [name for name in scheme.actions if scheme.is_handoff(name)],
    }
