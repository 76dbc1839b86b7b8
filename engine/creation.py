"""A new project: checked, numbered from its year's counter, with its first event and the
clocks of its initial stage, inside the caller's transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from engine import timekeeping
from engine.deadlines import plan_entry
from engine.history import GENESIS, dumps, event_hash
from engine.machines import CompiledScheme
from engine.permissions import OrgIndex
from engine.versions import Versions
from engine.work import Outcome, aware, person
from storage import projects as stored
from workflow import domains, limits
from workflow import instruments as catalogue
from workflow.errors import NotAllowed, NotFound, UsageError
from workflow.money import EUR, LVL
from workflow.scheme import Level


@dataclass(frozen=True)
class NewProject:
    """What a new project starts with."""

    title: str
    unit: str
    scheme: str | None = None
    budget: Decimal | None = None
    currency: str = EUR
    funding_instrument: str | None = None
    partners: Sequence[str] = ()
    dates: dict[str, dt.date] = field(default_factory=dict)
    responsible: str | None = None
    idea_id: int | None = None

    def checked(self) -> NewProject:
        """The same values, each within its domain; UsageError names the first that is not."""
        if not self.title.strip():
            raise UsageError("a project needs a title", code="project.no_title")
        limits.text("title", self.title)
        limits.texts("partner", tuple(self.partners))
        budget = domains.money("budget", self.budget)
        if self.currency not in (EUR, LVL):
            raise UsageError(
                f"the currency {self.currency[:10]!r} is not EUR or LVL (historical lats)",
                code="project.currency",
                currency=self.currency[:10],
            )
        for name, day in self.dates.items():
            domains.date(f"project date {name}", day)
        return NewProject(
            self.title.strip(),
            self.unit,
            self.scheme,
            budget,
            self.currency,
            self.funding_instrument,
            tuple(self.partners),
            dict(self.dates),
            self.responsible,
            self.idea_id,
        )


def _check_creator(org: OrgIndex, cs: CompiledScheme, who: str, new: NewProject) -> bool:
    """Whether `who` works on the initial stage (then they become responsible); refused
    unless they do or act centrally."""
    if new.funding_instrument is not None and catalogue.unknown([new.funding_instrument], org.org):
        raise UsageError(
            f"unknown funding instrument {new.funding_instrument[:63]!r}",
            code="project.unknown_instrument",
            instrument=new.funding_instrument[:63],
        )
    if new.unit not in org.org.units:
        raise NotFound(f"no unit {new.unit!r}", code="unit.unknown", unit=new.unit)
    roles = org.acting_roles(who, new.unit, cs.levels, cs.version_id)
    first = cs.scheme.stages[cs.scheme.initial_stage]
    works_there = bool(roles & {first.owner, *first.participants})
    if not (works_there or any(cs.levels[r] is Level.central for r in roles)):
        needs = [r for r in [first.owner, *first.participants] if r]
        raise NotAllowed(
            f"{who} may not create a project for {new.unit}: that needs "
            f"{' or '.join(needs)} there or a central role; {who} acts there as "
            f"{', '.join(sorted(roles)) or 'nothing'}",
            code="project.may_not_create",
            actor=who,
            unit=new.unit,
            needs=needs,
            roles=sorted(roles),
        )
    for name in new.dates:
        if name not in cs.scheme.dates:
            raise UsageError(
                f"scheme {cs.name} has no project date {name!r}",
                code="project.unknown_date",
                scheme=cs.name,
                date=name,
            )
    return works_there


def _first_event(
    pid: int, who: str, cs: CompiledScheme, values: dict[str, Any], new: NewProject
) -> dict[str, Any]:
    event = {
        "project_id": pid,
        "seq": 1,
        "at": values["created_at"],
        "actor_id": who,
        "kind": "created",
        "action": None,
        "from_stage": None,
        "to_stage": values["stage"],
        "comment": None,
        "refs": "[]",
        "data": dumps(
            {
                "title": values["title"],
                "unit": new.unit,
                "scheme": cs.name,
                "scheme_version": cs.version,
                # The other initial values, for `audit verify` to replay.
                "code": values["code"],
                "budget_amount": None if new.budget is None else str(new.budget),
                "budget_currency": new.currency,
                "funding_instrument": new.funding_instrument,
                "partners": list(new.partners),
                "dates": {k: v.isoformat() for k, v in new.dates.items()},
                "responsible": values["responsible_id"],
            }
        ),
        "prev_hash": GENESIS,
    }
    event["hash"] = event_hash(event)
    return event


def create_in(
    conn: Connection, versions: Versions, new: NewProject, *, actor: str | None, now: dt.datetime
) -> Outcome:
    """Create `new` (already `checked()`) in the caller's transaction: the project in the
    initial stage of its scheme's newest version, coded PREFIX-YEAR-NNNN (the year in the
    organisation's time zone) from the per-year counter."""
    now = aware(now)
    org = versions.org_index(conn)
    who = person(org, actor)
    cs = versions.scheme_for_new(conn, new.scheme)
    works_there = _check_creator(org, cs, who, new)
    cal = versions.calendar(org, cs.scheme.calendar.timezone)
    year = now.astimezone(cal.zone).year
    prefix = org.org.municipality.code_prefix
    code = f"{prefix}-{year}-{stored.next_code_number(conn, prefix, year):04d}"
    initial = cs.scheme.initial_stage
    values = {
        "code": code,
        "title": new.title,
        "unit_id": new.unit,
        "scheme_version_id": cs.version_id,
        "stage": initial,
        "stage_entered_at": now,
        "version": 1,
        "responsible_id": new.responsible or (who if works_there else None),
        "budget_amount": new.budget,
        "budget_currency": new.currency,
        "funding_instrument": new.funding_instrument,
        "partners": dumps(list(new.partners)),
        "dates": dumps({k: v.isoformat() for k, v in new.dates.items()}),
        "created_at": now,
        "created_by": who,
        "head_seq": 1,
        "head_hash": GENESIS,
        "idea_id": new.idea_id,
    }
    pid = stored.insert(conn, values)
    event = _first_event(pid, who, cs, values, new)
    stored.append_event(conn, event)
    stored.set_head(conn, pid, event["hash"])
    plans = plan_entry(cs.scheme, initial, now, cal, dict(new.dates))
    timekeeping.open_plans(conn, pid, plans, now)
    return Outcome(code, 1, initial, 1, "created", {"unit": new.unit, "scheme_version": cs.version})
