"""Who may do what where: role assignments scoped to units, and the recipient rule.

A parish-level role acts on projects of the unit it is held in and that unit's
sub-units; a central-level role acts across the municipality. Everything here is pure
and cached per organisation version by the engine.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from workflow.org import Organisation
from workflow.scheme import COORDINATOR, Level

if TYPE_CHECKING:
    from engine.absence import Absences, Standin


@dataclass
class OrgIndex:
    """An organisation prepared for fast lookups; immutable once built."""

    version_id: int
    org: Organisation
    ancestors: dict[str, tuple[str, ...]] = field(default_factory=dict)
    assignments: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    by_role_unit: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    by_role: dict[str, list[str]] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)
    calendar: dict[str, Any] | None = None  # the compiled working-day calendar
    _acting: dict[tuple[int, str, str], frozenset[str]] = field(default_factory=dict)
    # Who is away on one day (engine/absence.py); None: the organisation as it stands.
    absences: Absences | None = None

    def during(self, absences: Absences) -> OrgIndex:
        """This organisation on `absences`' day: deputies act with the roles of those they
        stand in for, and the recipient rule passes over the absent (a copy; the cached
        index itself never changes)."""
        return replace(self, _acting={}, absences=absences)

    def standing_in(self, person: str) -> list[Standin]:
        """Those `person` stands in for today (empty without absences)."""
        return self.absences.stands_in_for(person) if self.absences is not None else []

    def own_roles(
        self, person: str, unit: str, levels: dict[str, Level], scheme_key: int = 0
    ) -> frozenset[str]:
        """The roles `person` holds for a project of `unit`, without anyone's they stand
        in for."""
        above = self.ancestors.get(unit, ())
        return frozenset(
            role
            for role, where in self.assignments.get(person, ())
            if role in levels and (levels[role] is Level.central or where in above)
        )

    @classmethod
    def build(
        cls, version_id: int, org: Organisation, calendar: dict[str, Any] | None = None
    ) -> OrgIndex:
        idx = cls(version_id, org)
        idx.calendar = calendar
        idx.ancestors = {u: tuple(org.ancestors(u)) for u in org.units}
        by_role_unit: dict[tuple[str, str], list[str]] = defaultdict(list)
        by_role: dict[str, list[str]] = defaultdict(list)
        for pid, person in org.people.items():
            idx.assignments[pid] = [(a.role, a.unit) for a in person.roles]
            for a in person.roles:
                by_role_unit[(a.role, a.unit)].append(pid)
                if pid not in by_role[a.role]:
                    by_role[a.role].append(pid)
            for account in person.accounts:
                idx.accounts[account] = pid
        idx.by_role_unit, idx.by_role = dict(by_role_unit), dict(by_role)
        return idx

    def subtree(self, unit: str) -> list[str]:
        """`unit` and every unit below it."""
        return [u for u, anc in self.ancestors.items() if unit in anc]

    def acting_roles(
        self, person: str, unit: str, levels: dict[str, Level], scheme_key: int = 0
    ) -> frozenset[str]:
        """The roles `person` may use on a project of `unit` (roles unknown to the scheme,
        given as role → level, are ignored): their own, and during an absence those of
        the people they stand in for."""
        key = (scheme_key, person, unit)
        cached = self._acting.get(key)
        if cached is not None:
            return cached
        roles = self.own_roles(person, unit, levels)
        for s in self.standing_in(person):
            roles |= self.own_roles(s.absent, unit, levels)
        self._acting[key] = roles
        return roles

    def is_coordinator(self, person: str) -> bool:
        """Whether `person` holds the coordinator role (their own, not a deputy's)."""
        return any(role == COORDINATOR for role, _ in self.assignments.get(person, ()))

    def staffed(self, role: str, unit: str, levels: dict[str, Level]) -> bool:
        """Whether someone holds `role` for a project of `unit` (else its work falls to
        the coordinators)."""
        if role == COORDINATOR:
            return bool(self.by_role.get(COORDINATOR))
        if levels.get(role) is Level.central:
            return bool(self.by_role.get(role))
        return any(self.by_role_unit.get((role, where)) for where in self.ancestors.get(unit, ()))

    def recipients(self, role: str, unit: str, levels: dict[str, Level]) -> tuple[list[str], str]:
        """Who receives what is addressed to `role` for a project of `unit`, and why.

        Holders of the role in the unit; if none, in the nearest ancestor that has one
        (a central role: its holders anywhere); if none, the coordinators.
        """
        if levels.get(role) is Level.central:
            holders = self.by_role.get(role, [])
            if holders:
                return list(holders), f"holders of {role}"
        else:
            for where in self.ancestors.get(unit, ()):
                holders = self.by_role_unit.get((role, where), [])
                if holders:
                    how = (
                        "in the project's unit"
                        if where == unit
                        else f"in {where}, the nearest unit above"
                    )
                    return list(holders), f"holders of {role} {how}"
        return list(
            self.by_role.get(COORDINATOR, [])
        ), f"nobody holds {role} for {unit}: coordinators"
