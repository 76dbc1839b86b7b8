"""Pydantic models of a scheme: roles, stages, actions, deadlines.

The models check shapes and types only; cross-references (unknown roles, unreachable
stages …) are checked by :mod:`workflow.checks`, which works on the raw data so that
every problem in a file is reported at once.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from workflow.labels import Label, text

COORDINATOR = "coordinator"
IDENTIFIER = r"^[a-z][a-z0-9_]*$"

Identifier = Annotated[str, Field(pattern=IDENTIFIER, max_length=63)]

Gate = Literal["risk_register", "cost_benefit"]
"""A built-in check of a project's data that an action may require (see engine/planning.py)."""


class Level(StrEnum):
    """Where a role works: in a parish/town administration or in the central administration."""

    parish = "parish"
    central = "central"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Duration(_Model):
    """A span in working days or calendar days (exactly one of them)."""

    working_days: Annotated[int, Field(ge=0, le=3650)] | None = None
    calendar_days: Annotated[int, Field(ge=0, le=3650)] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Duration:
        if (self.working_days is None) == (self.calendar_days is None):
            raise ValueError("give exactly one of working_days or calendar_days")
        return self

    @property
    def days(self) -> int:
        return self.working_days if self.working_days is not None else self.calendar_days or 0

    @property
    def working(self) -> bool:
        return self.working_days is not None

    def describe(self, lang: str = "en") -> str:
        if self.working:
            return f"{self.days} {'d.d.' if lang == 'lv' else 'WD'}"
        return f"{self.days} {'k.d.' if lang == 'lv' else 'days'}"


class Deadline(Duration):
    """When a stage is due: a span after entering it, or a span before a project date."""

    before: Identifier | None = None

    def describe(self, lang: str = "en") -> str:
        span = super().describe(lang)
        if self.before:
            return f"{span} {'pirms' if lang == 'lv' else 'before'} {self.before}"
        return span


class Reminder(_Model):
    """A reminder sent a span before the deadline."""

    before: Duration


class EscalationStep(_Model):
    """One rung of the escalation ladder: a span after the deadline, to a role."""

    after: Duration
    to: Identifier


class MonthlyRule(_Model):
    """The Nth working day of every month."""

    working_day: Annotated[int, Field(ge=1, le=20)]


class YearlyRule(_Model):
    """Once a year: a day of a month (moved on to the next working day when it is a day
    off), or the Nth working day of a month (exactly one of them)."""

    month: Annotated[int, Field(ge=1, le=12)]
    day: Annotated[int, Field(ge=1, le=31)] | None = None
    working_day: Annotated[int, Field(ge=1, le=20)] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> YearlyRule:
        if (self.day is None) == (self.working_day is None):
            raise ValueError("give exactly one of day or working_day")
        return self


class Schedule(_Model):
    """When a recurring duty falls due: `monthly`, `yearly`, or `every_months` counted
    from a project date (exactly one of them)."""

    monthly: MonthlyRule | None = None
    yearly: YearlyRule | None = None
    every_months: Annotated[int, Field(ge=1, le=120)] | None = None
    start: Identifier | None = Field(
        default=None,
        alias="from",
        description="With every_months: the project date the months count from.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Schedule:
        given = [k for k in ("monthly", "yearly", "every_months") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of monthly, yearly or every_months")
        if (self.every_months is None) != (self.start is None):
            raise ValueError("every_months needs from (a project date), and only it does")
        return self


class Until(_Model):
    """The end of a recurring duty: a span of years and months after a project date."""

    after: Identifier
    years: Annotated[int, Field(ge=0, le=30)] = 0
    months: Annotated[int, Field(ge=0, le=360)] = 0


class RecurringDuty(_Model):
    """A duty that falls due on a calendar schedule while the project is in its stage
    (a monthly progress report, a yearly monitoring report). Each occurrence is a clock
    of its own with its own reminders and escalation ladder; it is ticked off by the
    self-loop action of the same name, and the next occurrence opens when one is ticked
    off or falls overdue."""

    schedule: Schedule
    until: Until | None = None
    reminders: list[Reminder] = Field(default_factory=list)
    escalation: list[EscalationStep] = Field(default_factory=list)


class Period(_Model):
    """An outside body's span: calendar months, working days or calendar days (exactly
    one of them)."""

    months: Annotated[int, Field(ge=1, le=120)] | None = None
    working_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    calendar_days: Annotated[int, Field(ge=1, le=3650)] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Period:
        given = [k for k in ("months", "working_days", "calendar_days") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError("give exactly one of months, working_days or calendar_days")
        return self


ENTRY = "entry"
"""`waits_on.starts` for a clock counted from the day the stage is entered."""


class ExternalClock(_Model):
    """A stage waiting on an outside body (CFLA, LAD, the Treasury) that has its own
    period to answer in, extendable once. Its clock only reminds the stage's people to
    follow up when the period lapses: it never escalates and never makes the project
    overdue, since the delay is not the municipality's."""

    body: Label
    period: Period
    extension: Period | None = None
    starts: Identifier = Field(
        default=ENTRY,
        description="What the period counts from: `entry` (the day the stage is "
        "entered) or a project date the scheme declares (e.g. call_deadline); a clock "
        "counted from a date that is not set does not start.",
    )


class Role(_Model):
    """A role people hold in a unit; its level decides where it may act."""

    level: Level
    title: Label | None = None


class ProjectDate(_Model):
    """A date recorded on a project (e.g. a call's closing day) that deadlines can use."""

    title: Label | None = None


class Stage(_Model):
    """Where a project is; owned by one role, worked on by its participants."""

    title: Label | None = None
    description: Label | None = None
    owner: Identifier | None = None
    participants: list[Identifier] = Field(default_factory=list)
    deadline: Deadline | None = None
    reminders: list[Reminder] = Field(default_factory=list)
    escalation: list[EscalationStep] = Field(default_factory=list)
    checklist: dict[Identifier, Label | None] = Field(default_factory=dict)
    terminal: bool = False
    waits_on: ExternalClock | None = Field(
        default=None,
        description="An outside body the stage waits on, with its period and extension "
        "(an `external` clock: one follow-up reminder, no escalation, never overdue).",
    )
    recurring: dict[Identifier, RecurringDuty] = Field(
        default_factory=dict,
        description="Duties due on a calendar schedule while the project is in the stage, "
        "each named by the self-loop action that ticks an occurrence off.",
    )
    decided_at: Identifier | None = Field(
        default=None,
        description="The body (the organisation's `meetings`) whose meeting decides the "
        "stage: it is due at the first listed meeting on or after its deadline, with a "
        "reminder at that meeting's documents cut-off; the plain deadline when none is "
        "listed.",
    )

    @field_validator("checklist", mode="before")
    @classmethod
    def _list_of_items(cls, value: object) -> object:
        # `checklist: [a, b]` is shorthand for `checklist: {a: null, b: null}`.
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return dict.fromkeys(value)
        return value


class Action(_Model):
    """A named move from one or more stages to a stage (a self-loop for periodic duties)."""

    title: Label | None = None
    source: list[Identifier] = Field(alias="from", min_length=1)
    to: Identifier
    by: list[Identifier] = Field(min_length=1)
    requires: list[Identifier] = Field(default_factory=list)
    comment: Literal["required", "optional"] = "optional"
    deadline: Deadline | None = None
    opened_by: Identifier | None = Field(
        default=None,
        description="For a duty done on request (a self-loop with a deadline): the "
        "action whose taking starts its clock, e.g. recording a request for "
        "clarification. Without it the duty is periodic: its clock starts on entering "
        "the stage and again each time it is done.",
    )
    notify: list[Identifier] = Field(default_factory=list)
    gates: list[Gate] = Field(
        default_factory=list,
        description="Built-in checks of the project's own data before the action may be "
        "taken: risk_register (at least one assessed risk), cost_benefit (a computed "
        "cost-benefit analysis).",
    )

    @field_validator("source", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("gates", mode="after")
    @classmethod
    def _no_repeats(cls, value: list[Gate]) -> list[Gate]:
        repeated = sorted({g for g in value if value.count(g) > 1})
        if repeated:
            raise ValueError(f"gate {', '.join(repeated)} is listed more than once")
        return value


class Calendar(_Model):
    """Which national calendar counts working days, and the local time zone."""

    country: Literal["LV"] = "LV"
    timezone: str = "Europe/Riga"


class Scheme(_Model):
    """A whole scheme: the unit that is versioned and loaded into the database."""

    scheme: Identifier
    title: Label | None = None
    description: Label | None = None
    calendar: Calendar = Field(default_factory=Calendar)
    initial: Identifier | None = None
    handoff_deadline: Duration | None = Field(
        default=None,
        description="How long the receiving side has to acknowledge a handoff "
        "(default 2 working days).",
    )
    dates: dict[Identifier, ProjectDate] = Field(default_factory=dict)
    roles: dict[Identifier, Role]
    stages: dict[Identifier, Stage] = Field(min_length=1)
    actions: dict[Identifier, Action] = Field(default_factory=dict)

    @property
    def initial_stage(self) -> str:
        return self.initial or next(iter(self.stages))

    @cached_property
    def all_roles(self) -> dict[str, Role]:
        """The scheme's roles plus the built-in coordinator."""
        builtin = Role(level=Level.central, title={"lv": "Koordinators", "en": "Coordinator"})
        return {COORDINATOR: builtin, **self.roles}

    def level_of_stage(self, stage: str) -> Level | None:
        owner = self.stages[stage].owner
        return self.all_roles[owner].level if owner else None

    def is_handoff(self, action: str) -> bool:
        """An action whose target is owned on another level than one of its sources."""
        act = self.actions[action]
        target = self.level_of_stage(act.to)
        return target is not None and any(
            (lvl := self.level_of_stage(s)) is not None and lvl != target for s in act.source
        )

    def handoff_source_level(self, action: str, stage: str) -> Level | None:
        """The level a handoff leaves from when `action` is taken from `stage`, else None."""
        act = self.actions[action]
        src, dst = self.level_of_stage(stage), self.level_of_stage(act.to)
        return src if src is not None and dst is not None and src != dst else None

    def role_title(self, role: str, lang: str = "lv") -> str:
        r = self.all_roles.get(role)
        return text(r.title if r else None, lang, role)

    def stage_title(self, stage: str, lang: str = "lv") -> str:
        s = self.stages.get(stage)
        return text(s.title if s else None, lang, stage)

    def action_title(self, action: str, lang: str = "lv") -> str:
        a = self.actions.get(action)
        return text(a.title if a else None, lang, action)
