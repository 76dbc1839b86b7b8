"""Absence and deputies: work never waits for someone on leave.

A person is away on the days of an absence period (from `starts_on` to `ends_on`, both
included, unless it was ended early). Their deputy is the period's, else the default
deputy of the organisation file; a deputy who is away too passes on to their own deputy,
and a loop (or a chain that runs out) means nobody can stand in: the recipient rule
then takes its next step (the heads of the person's unit, then the coordinators; see
engine/notify/recipients.py). During the absence the deputy acts on the absent person's
projects with the absent person's roles (`OrgIndex.during`), and every event they write
there says for whom (`acting_for`, engine/work.py).

`Absences` is pure (a day and the periods covering it); the functions below it store,
list and end periods for the CLI and the web, checking who may set them: the person,
someone who heads one of their units, or a coordinator. No reason is ever stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from storage import absences as stored
from storage.absences import AbsenceRecord
from workflow import domains
from workflow.errors import Conflict, NotAllowed, NotFound, UsageError
from workflow.org import Organisation
from workflow.scheme import COORDINATOR

if TYPE_CHECKING:
    from engine.permissions import OrgIndex
    from engine.service import Engine

RIGA = ZoneInfo("Europe/Riga")  # absence days are the municipality's calendar days
HEAD_SUFFIX = "_head"  # a role that heads its unit: parish_head, development_head, …
LONGEST = dt.timedelta(days=366 * 2)  # an absence longer than this is a typing mistake


def day_of(now: dt.datetime) -> dt.date:
    """The municipality's calendar day at `now`."""
    return now.astimezone(RIGA).date()


@dataclass(frozen=True, slots=True)
class Standin:
    """Who stands in for `absent` until `until` (their last day away), and through whom
    (`chain`: the absent person, then each deputy asked in turn)."""

    deputy: str
    absent: str
    until: dt.date
    chain: tuple[str, ...]


@dataclass(frozen=True)
class Absences:
    """Who is away on `day` (person → last day away, and their deputy), and the default
    deputies of the organisation file."""

    day: dt.date
    away: dict[str, tuple[dt.date, str | None]] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    known: frozenset[str] = frozenset()

    @classmethod
    def of(cls, day: dt.date, periods: Iterable[AbsenceRecord], org: Organisation) -> Absences:
        """The periods covering `day` (overlapping ones of one person: the latest last
        day, and the deputy of the one that started last)."""
        away: dict[str, tuple[dt.date, str | None]] = {}
        for p in sorted(periods, key=lambda p: (p.starts_on, p.id)):
            if p.ended_at is not None or not p.starts_on <= day <= p.ends_on:
                continue
            before = away.get(p.person_id)
            until = max(p.ends_on, before[0]) if before else p.ends_on
            away[p.person_id] = (until, p.deputy_id or (before[1] if before else None))
        defaults = {pid: person.deputy for pid, person in org.people.items() if person.deputy}
        return cls(day, away, defaults, frozenset(org.people))

    def is_absent(self, person: str) -> bool:
        return person in self.away

    def until(self, person: str) -> dt.date | None:
        """`person`'s last day away, or None when they are here."""
        found = self.away.get(person)
        return found[0] if found else None

    def named_deputy(self, person: str) -> str | None:
        """The deputy named for `person` now: the period's, else the default one."""
        found = self.away.get(person)
        return (found[1] if found else None) or self.defaults.get(person)

    def deputy(self, person: str) -> Standin | None:
        """Who stands in for `person` while they are away: the named deputy, or (when
        that one is away too) theirs, and so on; None when `person` is here, or the
        chain runs out or loops."""
        if person not in self.away:
            return None
        chain = [person]
        current = self.named_deputy(person)
        while current is not None and current in self.known and current not in chain:
            if current not in self.away:
                return Standin(current, person, self.away[person][0], (*chain, current))
            chain.append(current)
            current = self.named_deputy(current)
        return None

    def why_nobody(self, person: str) -> str:
        """Why nobody stands in for the absent `person` (for the history's `why`)."""
        chain, current = [person], self.named_deputy(person)
        while current is not None and current in self.known and current not in chain:
            chain.append(current)
            current = self.named_deputy(current)
        if current is not None and current in chain:
            return "the deputies form a loop: " + " → ".join([*chain, current])
        return "no deputy is named" if len(chain) == 1 else "every deputy is away"

    def stands_in_for(self, deputy: str) -> list[Standin]:
        """Everyone `deputy` stands in for today."""
        found = (self.deputy(p) for p in sorted(self.away))
        return [s for s in found if s is not None and s.deputy == deputy]


NOBODY = Absences(dt.date.min)


def today(conn: Connection, org: OrgIndex, now: dt.datetime) -> Absences:
    """The absences on the municipality's day at `now`, in the caller's transaction."""
    day = day_of(now)
    return Absences.of(day, stored.current(conn, day), org.org)


def heads(org: OrgIndex, person: str) -> list[str]:
    """Who heads `person`'s units: holders of a `…_head` role in the nearest unit above
    (or at) one of the units `person` holds a role in; `person` excluded."""
    out: list[str] = []
    for _, unit in org.assignments.get(person, ()):
        for where in org.ancestors.get(unit, ()):
            found = [
                pid
                for (role, u), holders in org.by_role_unit.items()
                if u == where and role.endswith(HEAD_SUFFIX)
                for pid in holders
                if pid != person
            ]
            if found:
                out += found
                break
    return list(dict.fromkeys(out))


def heads_of(org: OrgIndex, actor: str, person: str) -> bool:
    """Whether `actor` heads one of `person`'s units (or a unit above one)."""
    units = {u for _, u in org.assignments.get(person, ())}
    for role, where in org.assignments.get(actor, ()):
        if role.endswith(HEAD_SUFFIX) and any(where in org.ancestors.get(u, ()) for u in units):
            return True
    return False


def may_set(org: OrgIndex, actor: str, person: str) -> bool:
    """Whether `actor` may set or end `person`'s absences."""
    return actor == person or org.is_coordinator(actor) or heads_of(org, actor, person)


# -- the service: add, list, end -------------------------------------------------------


@dataclass(frozen=True)
class AbsenceView:
    """One period as the CLI and the web show it (no reason: none is stored)."""

    id: int
    person: str
    person_name: str
    deputy: str | None
    deputy_name: str | None
    starts_on: dt.date
    ends_on: dt.date
    current: bool
    created_by: str
    notes: tuple[str, ...] = ()  # codes of what the answer should point out

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "person": self.person,
            "deputy": self.deputy,
            "starts_on": self.starts_on.isoformat(),
            "ends_on": self.ends_on.isoformat(),
            "current": self.current,
            "created_by": self.created_by,
            "notes": list(self.notes),
        }


def _view(
    org: OrgIndex, rec: AbsenceRecord, day: dt.date, notes: Sequence[str] = ()
) -> AbsenceView:
    people = org.org.people
    deputy = rec.deputy_id or (people[rec.person_id].deputy if rec.person_id in people else None)
    return AbsenceView(
        rec.id,
        rec.person_id,
        people[rec.person_id].name if rec.person_id in people else rec.person_id,
        deputy,
        people[deputy].name if deputy and deputy in people else None,
        rec.starts_on,
        rec.ends_on,
        rec.starts_on <= day <= rec.ends_on,
        rec.created_by,
        tuple(notes),
    )


def _known(org: OrgIndex, pid: str, actor: str) -> None:
    if pid not in org.org.people:
        raise NotFound(
            f"no person {pid!r} in the organisation", code="person.unknown", person=pid, actor=actor
        )


def _allowed(org: OrgIndex, actor: str, person: str) -> None:
    if not may_set(org, actor, person):
        raise NotAllowed(
            f"{actor} may not set {person}'s absences: only {person}, someone who heads "
            "their unit, or a coordinator may",
            code="absence.not_allowed",
            actor=actor,
            person=person,
        )


def check_period(
    org: OrgIndex, person: str, deputy: str | None, starts_on: dt.date, ends_on: dt.date
) -> list[str]:
    """Refuse a period that cannot be (ends before it starts, too long, deputy oneself
    or unknown); return the notes of one that can but deserves a word (the deputy holds
    none of the person's roles, so acts with theirs only; no deputy at all)."""
    if ends_on < starts_on:
        raise UsageError(
            f"an absence cannot end ({ends_on}) before it starts ({starts_on})",
            code="absence.ends_before_start",
            starts_on=starts_on,
            ends_on=ends_on,
        )
    if ends_on - starts_on > LONGEST:
        raise UsageError(
            f"an absence of more than two years ({starts_on} to {ends_on}) is not accepted",
            code="absence.too_long",
            starts_on=starts_on,
            ends_on=ends_on,
        )
    if deputy == person:
        raise UsageError(
            f"{person} cannot be their own deputy", code="absence.self_deputy", person=person
        )
    notes = []
    named = deputy or org.org.people[person].deputy
    if named is None:
        notes.append("absence.note_no_deputy")
    else:
        _known(org, named, person)
        mine = {r for r, _ in org.assignments.get(person, ())}
        theirs = {r for r, _ in org.assignments.get(named, ())}
        if mine and not mine & theirs:
            notes.append("absence.note_deputy_lacks_roles")
    return notes


def add(
    engine: Engine,
    *,
    actor: str,
    person: str,
    starts_on: dt.date,
    ends_on: dt.date,
    deputy: str | None,
    now: dt.datetime,
) -> AbsenceView:
    """Store `person`'s absence from `starts_on` to `ends_on` (last day away) with
    `deputy` (None: the organisation file's default deputy). Conflict when it overlaps
    one of theirs; refusals as `check_period` says. An empty deputy means the default."""
    domains.moment("time of the change", now)
    deputy = deputy or None
    with engine.db.write() as conn:
        org = engine.org_index(conn)
        _known(org, actor, actor)
        _known(org, person, actor)
        _allowed(org, actor, person)
        notes = check_period(org, person, deputy, starts_on, ends_on)
        clash = stored.overlapping(conn, person, starts_on, ends_on)
        if clash:
            first = clash[0]
            raise Conflict(
                f"{person} is already away from {first.starts_on} to {first.ends_on}: end or "
                "change that absence first",
                code="absence.overlaps",
                person=person,
                starts_on=first.starts_on,
                ends_on=first.ends_on,
            )
        new = stored.add(
            conn,
            person=person,
            deputy=deputy,
            starts_on=starts_on,
            ends_on=ends_on,
            by=actor,
            now=now,
        )
        rec = stored.get(conn, new)
        assert rec is not None
        return _view(org, rec, day_of(now), notes)


def listed(
    engine: Engine, *, actor: str, now: dt.datetime, person: str | None = None
) -> list[AbsenceView]:
    """Current and future absences (of `person`, when given) of the people `actor` may
    see: everyone's for a coordinator or a head, else their own and those they stand in
    for (an absence says when, never why)."""
    day = day_of(now)
    with engine.db.read() as conn:
        org = engine.org_index(conn)
        _known(org, actor, actor)
        if person is not None:
            _known(org, person, actor)
        found = stored.open_from(conn, day, person)
        away = Absences.of(day, found, org.org)
        covering = {s.absent for s in away.stands_in_for(actor)}
        return [
            _view(org, rec, day)
            for rec in found
            if may_set(org, actor, rec.person_id)
            or rec.person_id in covering
            or rec.deputy_id == actor
        ]


def end(engine: Engine, *, actor: str, absence_id: int, now: dt.datetime) -> AbsenceView:
    """End absence `absence_id` now (the person is back): routing to the deputy stops and
    everything is the person's again."""
    domains.moment("time of the change", now)
    with engine.db.write() as conn:
        org = engine.org_index(conn)
        _known(org, actor, actor)
        rec = stored.get(conn, absence_id)
        if rec is None or rec.ended_at is not None:
            raise NotFound(
                f"no open absence {absence_id}", code="absence.unknown", absence=absence_id
            )
        _allowed(org, actor, rec.person_id)
        stored.end(conn, absence_id, now)
        return _view(org, rec, day_of(now))


def of_people(conn: Connection, org: OrgIndex, now: dt.datetime) -> dict[str, dt.date]:
    """Person → last day away, for everyone away at `now` (for "prombūtnē līdz …")."""
    return {pid: until for pid, (until, _) in today(conn, org, now).away.items()}


__all__ = [
    "COORDINATOR",
    "NOBODY",
    "AbsenceView",
    "Absences",
    "Standin",
    "add",
    "day_of",
    "end",
    "heads",
    "listed",
    "may_set",
    "today",
]
