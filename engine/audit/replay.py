"""Replaying a project's history: `replay` folds the (verified) events into what they
say of the project now (`Said`; `UNKNOWN` where no event recorded a value);
engine/audit/compare.py sets that against the rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from storage.audit import ChainEvent


class _Unknown:
    """What no event recorded: not checkable."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


def rate(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)).normalize()
    except (InvalidOperation, ValueError):
        return None


# -- the replay -------------------------------------------------------------------------

FIELDS = (
    "code",
    "title",
    "unit_id",
    "scheme",
    "created_at",
    "created_by",
    "budget_amount",
    "budget_currency",
    "funding_instrument",
    "partners",
    "dates",
    "responsible_id",
    "stage_entered_at",
    "hold_since",
    "hold_reason",
    "handoff_since",
    "idea_id",
)
_RISK_KEYS = {  # event data key → risks column
    "title": "title",
    "likelihood": "likelihood",
    "impact": "impact",
    "owner": "owner_id",
    "mitigation": "mitigation",
    "status": "status",
}


@dataclass
class Said:
    """What one project's history says of its state now (`replay`'s answer)."""

    values: dict[str, Any] = field(default_factory=lambda: dict.fromkeys(FIELDS, UNKNOWN))
    source: dict[str, int] = field(default_factory=dict)  # field → event that set it
    ticks: dict[str, tuple[int, dt.datetime, str | None]] | None = field(default_factory=dict)
    risks: dict[int, dict[str, Any]] | None = field(default_factory=dict)
    risk_source: dict[int, int] = field(default_factory=dict)
    cba: dict[str, Any] | None = None
    last: int | None = None  # the last event: what says a row should not be there

    def set(self, name: str, value: Any, seq: int) -> None:
        """Record that event `seq` says `name` is `value`."""
        self.values[name] = value
        self.source[name] = seq


# `checklist_of(stage)`: the checklist items entering `stage` clears (None: cannot say).
ChecklistOf = Callable[[str | None], Sequence[str] | None]


def replay(events: Iterable[ChainEvent], checklist_of: ChecklistOf) -> Said:
    """Replay a project's (verified) events; `checklist_of(stage)` gives the checklist
    items entering that stage clears (None when the scheme cannot say)."""
    said = Said()
    for ev in events:
        data = ev.details
        step = _STEPS.get(ev.kind)
        if step is not None:
            step(said, ev, data, checklist_of)
        said.last = ev.seq
    return said


# Each step folds one kind of event into what the history says so far.


def _created(said: Said, ev: ChainEvent, data: dict[str, Any], _: ChecklistOf) -> None:
    seq, at = ev.seq, ev.at
    for name, key in _CREATED_KEYS:
        said.set(name, data.get(key, UNKNOWN), seq)
    has_scheme = "scheme" in data and "scheme_version" in data
    scheme = (data["scheme"], data["scheme_version"]) if has_scheme else UNKNOWN
    said.set("scheme", scheme, seq)
    said.set("created_at", at, seq)
    said.set("created_by", ev.actor_id, seq)
    said.set("stage_entered_at", at, seq)
    for name in ("hold_since", "hold_reason", "handoff_since", "idea_id"):
        said.set(name, None, seq)


_CREATED_KEYS = (  # (field, event data key), in the order they are recorded
    ("code", "code"),
    ("title", "title"),
    ("unit_id", "unit"),
    ("budget_amount", "budget_amount"),
    ("budget_currency", "budget_currency"),
    ("funding_instrument", "funding_instrument"),
    ("partners", "partners"),
    ("dates", "dates"),
    ("responsible_id", "responsible"),
)


def _moved(said: Said, ev: ChainEvent, data: dict[str, Any], checklist_of: ChecklistOf) -> None:
    seq, at = ev.seq, ev.at
    if ev.to_stage != ev.from_stage:
        said.set("stage_entered_at", at, seq)
        said.set("hold_since", None, seq)
        said.set("hold_reason", None, seq)
        said.set("responsible_id", data.get("responsible", UNKNOWN), seq)
        items = checklist_of(ev.to_stage)
        if items is None:
            said.ticks = None
        elif said.ticks is not None:
            for item in items:
                said.ticks.pop(item, None)
    if "handoff" in data:
        said.set("handoff_since", at, seq)
    elif ev.kind == "forced":
        said.set("handoff_since", None, seq)


def _acknowledged(said: Said, ev: ChainEvent, data: dict[str, Any], _: ChecklistOf) -> None:
    said.set("handoff_since", None, ev.seq)
    if "responsible" in data:
        said.set("responsible_id", data["responsible"], ev.seq)
    elif said.values["responsible_id"] is None:  # the acknowledger took it over
        said.set("responsible_id", ev.actor_id, ev.seq)


def _assigned(said: Said, ev: ChainEvent, data: dict[str, Any], _: ChecklistOf) -> None:
    said.set("responsible_id", data.get("person", UNKNOWN), ev.seq)


def _details_changed(said: Said, ev: ChainEvent, data: dict[str, Any], _: ChecklistOf) -> None:
    """An edit of the project's details: each changed column as [old, new]."""
    changes = data.get("changes")
    if not isinstance(changes, dict):
        return
    for name, change in changes.items():
        if name in FIELDS and isinstance(change, list) and len(change) == 2:
            said.set(name, change[1], ev.seq)


def _held(said: Said, ev: ChainEvent, data: dict[str, Any], _: ChecklistOf) -> None:
    said.set("hold_since", ev.at, ev.seq)
    said.set("hold_reason", ev.comment, ev.seq)


def _resumed(said: Said, ev: ChainEvent, data: dict[str, Any], _: ChecklistOf) -> None:
    said.set("hold_since", None, ev.seq)
    said.set("hold_reason", None, ev.seq)


def _ticked(said: Said, ev: ChainEvent, data: dict[str, Any], _: ChecklistOf) -> None:
    ticked = data.get("item")
    if not isinstance(ticked, str):
        said.ticks = None
    elif said.ticks is not None:
        if ev.kind == "checked":
            said.ticks[ticked] = (ev.seq, ev.at, ev.actor_id)
        else:
            said.ticks.pop(ticked, None)


def _idea_linked(said: Said, ev: ChainEvent, data: dict[str, Any], _: ChecklistOf) -> None:
    said.set("idea_id", data.get("idea", UNKNOWN), ev.seq)


def _risk_added(said: Said, ev: ChainEvent, data: dict[str, Any], _: ChecklistOf) -> None:
    number = data.get("risk")
    if said.risks is None or not isinstance(number, int) or not _RISK_KEYS.keys() <= data.keys():
        said.risks = None
        return
    said.risks[number] = {
        **{col: data[key] for key, col in _RISK_KEYS.items()},
        "created_at": ev.at,
        "created_by": ev.actor_id,
        "updated_at": ev.at,
        "updated_by": ev.actor_id,
    }
    said.risk_source[number] = ev.seq


def _risk_updated(said: Said, ev: ChainEvent, data: dict[str, Any], _: ChecklistOf) -> None:
    changed, changes = data.get("risk"), data.get("changes")
    if said.risks is None:
        return
    risk = said.risks.get(changed) if isinstance(changed, int) else None
    if risk is None or not isinstance(changes, dict):
        said.risks = None
        return
    for key, change in changes.items():
        if key not in _RISK_KEYS or not isinstance(change, list) or len(change) != 2:
            said.risks = None
            return
        risk[_RISK_KEYS[key]] = change[1]
    risk.update(updated_at=ev.at, updated_by=ev.actor_id)
    said.risk_source[int(data["risk"])] = ev.seq


def _migrated(said: Said, ev: ChainEvent, data: dict[str, Any], _: ChecklistOf) -> None:
    """A move to another version of the scheme: the scheme version it follows now, the
    responsible person it keeps, and every checklist tick it keeps (recorded whole, as the
    earlier events' stages are the old version's and its checklists no longer say what
    they cleared)."""
    seq = ev.seq
    scheme, to = data.get("scheme"), data.get("to")
    number = to.get("version") if isinstance(to, dict) else None
    said.set("scheme", (scheme, number) if scheme and number is not None else UNKNOWN, seq)
    said.set("responsible_id", data.get("responsible", UNKNOWN), seq)
    kept = data.get("checklist")
    if not isinstance(kept, dict):
        said.ticks = None
        return
    before = said.ticks or {}
    ticks: dict[str, tuple[int, dt.datetime, str | None]] = {}
    for item, (at, by) in kept.items():
        when = dt.datetime.fromisoformat(at)
        old = before.get(item)
        same = old is not None and (old[1], old[2]) == (when, by)
        ticks[item] = old if same and old is not None else (seq, when, by)
    said.ticks = ticks


def _cba_set(said: Said, ev: ChainEvent, data: dict[str, Any], _: ChecklistOf) -> None:
    said.cba = {**data, "seq": ev.seq, "updated_at": ev.at, "updated_by": ev.actor_id}


_Step = Callable[[Said, ChainEvent, dict[str, Any], ChecklistOf], None]
_STEPS: dict[str, _Step] = {
    "created": _created,
    "advanced": _moved,
    "forced": _moved,
    "acknowledged": _acknowledged,
    "assigned": _assigned,
    "details_changed": _details_changed,
    "held": _held,
    "resumed": _resumed,
    "checked": _ticked,
    "unchecked": _ticked,
    "idea_linked": _idea_linked,
    "risk_added": _risk_added,
    "risk_updated": _risk_updated,
    "cba_set": _cba_set,
    "migrated": _migrated,
}
