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
(`OrgIndex.recipients`). Deputies will be added here.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.permissions import OrgIndex
from workflow.scheme import COORDINATOR, Level


@dataclass(frozen=True, slots=True)
class Recipients:
    """The people a notice goes to (in order) and why they were chosen."""

    people: list[str]
    why: str
    role: str  # the role the notice is addressed to


def holders(org: OrgIndex, role: str, unit: str, levels: dict[str, Level]) -> Recipients:
    """The holders of `role` for a project of `unit` (see the module's docstring)."""
    people, why = org.recipients(role, unit, levels)
    return Recipients(list(people), why, role)


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
        return Recipients([responsible], "the responsible person", role)
    return holders(org, role, unit, levels)


def escalation(org: OrgIndex, role: str, unit: str, levels: dict[str, Level]) -> Recipients:
    """Who receives an escalation step addressed to `role`."""
    return holders(org, role, unit, levels)
