"""What the service API returns: plain, JSON-ready snapshots (no database handles)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any


def _json(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


class View:
    """A snapshot the service API returns; `to_json` gives it as JSON-ready data."""

    def to_json(self) -> dict[str, Any]:
        return {k: _json(v) for k, v in asdict(self).items()}  # type: ignore[call-overload]


@dataclass(frozen=True)
class ChecklistItem(View):
    item: str
    title: str
    checked: bool
    checked_by: str | None = None
    checked_at: dt.datetime | None = None


@dataclass(frozen=True)
class DeadlineView(View):
    """One running clock of a project: its stage's, a duty's, or a handoff's."""

    kind: str  # stage | duty | handoff
    action: str | None  # the duty
    title: str  # what is due: the stage's or the duty's title
    due_at: dt.datetime
    days_left: int | None  # working days, negative when overdue; None while paused
    overdue: bool
    paused: bool


@dataclass(frozen=True)
class Handoff(View):
    """A move across levels waiting for the receiving side to acknowledge it."""

    action: str
    from_stage: str
    to_stage: str
    from_level: str
    to_level: str
    sent_at: dt.datetime
    sent_by: str | None
    receivers: list[str]


@dataclass(frozen=True)
class Ask(View):
    """One thing a project asks of a person now (engine/queue.py)."""

    kind: str  # acknowledge | escalation | resume | decide | checklist | may_decide
    action: str | None = None  # the action to decide
    title: str | None = None  # its title in the asked language
    count: int | None = None  # checklist items still unticked
    for_person: str | None = None  # asked of them as the deputy of this absent person


@dataclass(frozen=True)
class ProjectView(View):
    id: int
    code: str
    title: str
    unit: str
    unit_name: str
    scheme: str
    scheme_version: int
    stage: str
    stage_title: str
    stage_owner: str | None
    stage_entered_at: dt.datetime
    version: int
    responsible: str | None
    holder: str  # for display: a person id, a role's title, or a waiting handoff
    holder_kind: str  # person | role | handoff | nobody
    holder_id: str | None  # the person, the role, or the receiving level (parish|central)
    unstaffed: bool  # nobody holds the stage owner's role for the unit: coordinators receive
    holder_since: dt.datetime
    handoff: Handoff | None
    hold_since: dt.datetime | None
    hold_reason: str | None
    created_at: dt.datetime
    created_by: str | None
    budget_amount: Decimal | None
    budget_currency: str
    funding_instrument: str | None
    partners: list[str]
    dates: dict[str, str]
    terminal: bool
    checklist: list[ChecklistItem] = field(default_factory=list)
    deadlines: list[DeadlineView] = field(default_factory=list)  # single-project views
    due_at: dt.datetime | None = None  # the earliest running deadline
    days_left: int | None = None
    overdue: bool = False
    idea_id: int | None = None  # the notebook idea the project was promoted from
    asks: list[Ask] = field(default_factory=list)  # what it asks of the reader now


@dataclass(frozen=True)
class Blocked(View):
    """One thing that keeps an action from being taken, as data for every language."""

    kind: str  # handoff | on_hold | unticked | gate
    params: dict[str, Any]


@dataclass(frozen=True)
class ActionView(View):
    action: str
    title: str
    to: str
    to_title: str
    handoff: bool
    comment: str
    requires: list[str]
    missing: list[str]
    ready: bool
    blocked_by: list[str]  # in English, for scripts that print it
    why: list[Blocked] = field(default_factory=list)  # the same, as data


@dataclass(frozen=True)
class Event(View):
    seq: int
    at: dt.datetime
    actor: str | None
    kind: str
    action: str | None
    from_stage: str | None
    to_stage: str | None
    comment: str | None
    refs: list[str]
    data: dict[str, Any]
    hash: str


@dataclass(frozen=True)
class Loaded(View):
    """The outcome of loading a scheme or an organisation file."""

    kind: str
    name: str
    version: int
    created: bool
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AuditReport(View):
    projects: int
    events: int
    broken: list[dict[str, Any]]

    @property
    def ok(self) -> bool:
        return not self.broken


_SIDES = {
    "parish": {"lv": "pagasta puse", "en": "parish side"},
    "central": {"lv": "centrālā administrācija", "en": "central administration"},
}
_WAITING = {"lv": "gaida apstiprinājumu", "en": "waiting for acknowledgement"}


def waiting_handoff(level: str, lang: str) -> str:
    """The holder of a project whose handoff to `level` waits, for display."""
    side = _SIDES.get(level, {}).get(lang, level)
    return f"{side}: {_WAITING['en' if lang == 'en' else 'lv']}"
