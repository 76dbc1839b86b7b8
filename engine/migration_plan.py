"""The plan of a migration as data (engine/migration.py makes and writes it).

What one project's migration would change: its clocks (`ClockChange`), the reminders and
escalations that move (`TimerChange`), a pending handoff (`HandoffPlan`), all of it in a
`ProjectPlan` with its status (`MIGRATE`, `REFUSED`, `CURRENT`) and its JSON form; what a
migration is asked (`Request`); and the `Draft`, a plan plus what writing it takes (the
clocks to open, the deadlines they replace and those closed). Pure values: nothing here
reads or writes the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from engine.deadlines import Plan
from engine.machines import CompiledScheme
from workflow.calendar import WorkingCalendar
from workflow.errors import ShemaError

MIGRATE, REFUSED, CURRENT = "migrate", "refused", "current"


@dataclass(frozen=True)
class ClockChange:
    """One open deadline: `kept`, `recomputed`, `opened` (the new stage has a clock the
    old one did not run) or `closed` (the new stage has none), with both due dates."""

    kind: str  # stage | duty | handoff
    stage: str
    action: str | None
    mode: str
    before: dt.datetime | None
    after: dt.datetime | None


@dataclass(frozen=True)
class TimerChange:
    """A reminder, overdue notice or escalation step that moves, appears or goes."""

    kind: str
    step: str
    role: str | None
    before: dt.datetime | None
    after: dt.datetime | None


@dataclass(frozen=True)
class HandoffPlan:
    """A handoff waiting to be acknowledged, and whether it waits on in the new stage."""

    from_level: str
    to_level: str
    survives: bool


@dataclass
class ProjectPlan:
    """What migrating one project does (`status` migrate), or why it is not migrated
    (refused, with `error`; current: already on the target version)."""

    code: str
    status: str
    scheme: str | None = None
    from_version: int | None = None
    to_version: int | None = None
    version: int | None = None  # the project's row version the plan was made from
    stage_before: str | None = None
    stage_after: str | None = None
    ticks_kept: list[str] = field(default_factory=list)
    ticks_dropped: list[str] = field(default_factory=list)
    items_added: list[str] = field(default_factory=list)  # new in the stage, not ticked
    clocks: list[ClockChange] = field(default_factory=list)
    timers: list[TimerChange] = field(default_factory=list)
    handoff: HandoffPlan | None = None
    gates_unmet: list[tuple[str, str]] = field(default_factory=list)  # (action, gate)
    responsible_dropped: str | None = None
    error: ShemaError | None = None
    applied: bool = False

    @property
    def refusal(self) -> str | None:
        return None if self.error is None else self.error.code

    def to_json(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "error"}
        out["clocks"] = [asdict(c) for c in self.clocks]
        out["timers"] = [asdict(t) for t in self.timers]
        out["handoff"] = asdict(self.handoff) if self.handoff else None
        out["refusal"] = None
        if self.error is not None:
            out["refusal"] = {"code": self.error.code, "message": self.error.message}
            out["refusal"]["params"] = {k: _plain(v) for k, v in self.error.params.items()}
        return _plain(out)  # type: ignore[no-any-return]


def _plain(value: Any) -> Any:
    """`value` as JSON takes it: times as ISO text, tuples as lists."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True)
class Request:
    """What a migration is asked to do (the keyword arguments of `plan` and `apply`)."""

    to_version: int
    stage_map: Mapping[str, str]
    recompute: bool
    actor: str | None
    now: dt.datetime


@dataclass
class Draft:
    """The plan of one project plus what writing it takes."""

    plan: ProjectPlan
    target: CompiledScheme | None = None
    plans: list[Plan] = field(default_factory=list)  # clocks to open
    replaced: list[int | None] = field(default_factory=list)  # old deadline per plan
    close: list[int] = field(default_factory=list)  # old deadlines closed
    cal: WorkingCalendar | None = None
