"""Who receives a notice, and why: the one recipient rule.

Every notice the engine writes goes to the people this module names, and the reason
(`why`) is recorded beside them. Pure: no database, only the organisation index.

- a handoff goes to the holders of the receiving stage's owner role (else coordinators);
- an action's `notify` goes to the holders of each notified role;
- a reminder or overdue notice goes to the responsible person, else to the holders of
  the stage's owner role (a handoff's deadline: to the handoff's receivers);
- an escalation step goes to the holders of its role.

"The holders of a role" for a project of a unit: those in the unit, else in its nearest
ancestor that has one (a central role: its holders anywhere), else the coordinators
(`OrgIndex.recipients`).

During an absence (an `OrgIndex` taken `during` the day's absences, engine/absence.py)
an absent person is passed over in favour of their deputy, resolved when the notice is
created; a deputy away too passes on to theirs. When nobody can stand in (no deputy, a
loop) the next step is taken: the heads of the absent person's unit, then the
coordinators, whoever of them is here. `why` says who was passed over and why, and
`instead` tells each deputy whom they stand in for (their message says so).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from engine.absence import heads
from engine.permissions import OrgIndex
from workflow.scheme import COORDINATOR, Level


@dataclass(frozen=True, slots=True)
class Recipients:
    """The people a notice goes to (in order) and why they were chosen."""

    people: list[str]
    why: str
    role: str  # the role the notice is addressed to
    # deputy → (the absent person they receive this for, that person's last day away)
    instead: dict[str, tuple[str, dt.date]] = field(default_factory=dict)


def holders(org: OrgIndex, role: str, unit: str, levels: dict[str, Level]) -> Recipients:
    """The holders of `role` for a project of `unit` (see the module's docstring)."""
    people, why = org.recipients(role, unit, levels)
    return present(org, Recipients(list(people), why, role))


def present(org: OrgIndex, found: Recipients) -> Recipients:
    """`found` with each absent person replaced by their deputy (see the module's
    docstring); unchanged when nobody in it is away."""
    away = org.absences
    if away is None or not any(away.is_absent(p) for p in found.people):
        return found
    people: list[str] = []
    notes: list[str] = []
    instead: dict[str, tuple[str, dt.date]] = {}
    for pid in found.people:
        until = away.until(pid)
        if until is None:
            people.append(pid)
            continue
        standin = away.deputy(pid)
        if standin is not None:
            people.append(standin.deputy)
            instead.setdefault(standin.deputy, (pid, until))
            via = (
                f" (via {', '.join(standin.chain[1:-1])}, away too)"
                if len(standin.chain) > 2
                else ""
            )
            notes.append(f"{pid} is away until {until}: deputy {standin.deputy}{via}")
            continue
        notes.append(f"{pid} is away until {until} and {away.why_nobody(pid)}")
    if not people:
        fallback, how = next_step(org, found.people[0])
        people, notes = fallback, [*notes, how]
    why = "; ".join([found.why, *notes])
    return Recipients(list(dict.fromkeys(people)), why, found.role, instead)


def next_step(org: OrgIndex, absent: str) -> tuple[list[str], str]:
    """Who receives what nobody can stand in for `absent` to: the heads of their unit who
    are here, else the coordinators who are here (all coordinators if none is)."""
    away = org.absences
    here = [p for p in heads(org, absent) if away is None or not away.is_absent(p)]
    if here:
        return here, "the heads of their unit instead"
    coordinators = org.by_role.get(COORDINATOR, [])
    present_ones = [p for p in coordinators if away is None or not away.is_absent(p)]
    return present_ones or list(coordinators), "the coordinators instead"


def handoff(org: OrgIndex, owner: str | None, unit: str, levels: dict[str, Level]) -> Recipients:
    """Who receives (and may acknowledge) a handoff to a stage owned by `owner`."""
    return holders(org, owner or COORDINATOR, unit, levels)


def notified(org: OrgIndex, role: str, unit: str, levels: dict[str, Level]) -> Recipients:
    """Who receives an action's notice to `role`."""
    return holders(org, role, unit, levels)


def reminder(
    org: OrgIndex,
    *,
    owner: str | None,
    handoff_role: str | None,
    responsible: str | None,
    unit: str,
    levels: dict[str, Level],
) -> Recipients:
    """Who receives a reminder or overdue notice: a handoff's receivers (`handoff_role`,
    the role its timer names); else the responsible person, when the organisation knows
    them; else the holders of the stage's owner role (coordinators when it has none)."""
    if handoff_role is not None:
        return holders(org, handoff_role, unit, levels)
    role = owner or COORDINATOR
    if responsible and responsible in org.org.people:
        return present(org, Recipients([responsible], "the responsible person", role))
    return holders(org, role, unit, levels)


def escalation(org: OrgIndex, role: str, unit: str, levels: dict[str, Level]) -> Recipients:
    """Who receives an escalation step addressed to `role`."""
    return holders(org, role, unit, levels)
