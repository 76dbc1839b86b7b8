"""Pydantic models of an organisation file: the municipality, its unit tree, its people
and their roles, the municipality's own calendar overrides, and the meeting dates of its
bodies (the council, its committees)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from workflow.labels import Label
from workflow.scheme import Duration, Identifier

PERSON_ID = r"^[a-z][a-z0-9_.-]*$"
PersonId = Annotated[str, Field(pattern=PERSON_ID, max_length=63)]


def mail_address(value: str | None) -> str | None:
    """An address SMTP can carry: an ASCII local part, a domain that may be
    internationalised (kept as written; sent as its ASCII form). Checked by
    email-validator, without asking DNS."""
    if value is None:
        return None
    from email_validator import EmailNotValidError, validate_email

    try:
        found = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ValueError(f"not an e-mail address that mail can be sent to: {exc}") from None
    return value if value.isascii() else found.ascii_email


Address = Annotated[str | None, AfterValidator(mail_address)]
OneLine = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\r\n]+$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UnitKind(StrEnum):
    """What a unit is; decides nothing by itself, but reads well in lists and reports."""

    municipality = "municipality"
    former_municipality = "former_municipality"
    administration = "administration"
    city = "city"
    town = "town"
    parish = "parish"
    department = "department"
    office = "office"
    body = "body"
    institution = "institution"


class CalendarDay(_Model):
    """A date with an optional name."""

    date: dt.date
    title: Label | None = None


class CalendarOverrides(_Model):
    """The municipality's own deviations from the national working-day calendar."""

    days_off: list[CalendarDay] = Field(default_factory=list)
    working_days: list[CalendarDay] = Field(default_factory=list)
    declined_transfers: list[dt.date] = Field(
        default_factory=list,
        description="National days off moved from a working Saturday that the municipality "
        "did not adopt: both the day off and the working Saturday revert.",
    )


class Meetings(_Model):
    """The listed meetings of one body (the council, a committee): a stage decided at
    them is due at the first one after its preparation deadline, and its documents are
    due `cutoff` before that meeting."""

    title: Label
    cutoff: Duration = Field(
        default_factory=lambda: Duration(working_days=5),
        description="How long before a meeting its documents are due (default 5 working days).",
    )
    dates: list[dt.date] = Field(
        default_factory=list, max_length=500, description="The meeting days, in any order."
    )

    @model_validator(mode="after")
    def _no_repeats(self) -> Meetings:
        """A day is listed once: a repeat is most likely a typing slip."""
        repeated = sorted(d for d, n in Counter(self.dates).items() if n > 1)
        if repeated:
            raise ValueError(f"meeting days listed twice: {', '.join(map(str, repeated))}")
        return self

    def first_on_or_after(self, day: dt.date) -> dt.date | None:
        """The first listed meeting on or after `day`; None past the last one."""
        return min((d for d in self.dates if d >= day), default=None)


class Municipality(_Model):
    """The municipality the file describes."""

    name: Label
    code_prefix: Annotated[str, Field(pattern=r"^[A-Z]{2,6}$")]
    root: Identifier
    mail_from: Address = Field(
        default=None,
        description="The sender of Shēma's messages (also the domain of their Message-IDs); "
        "default shema@ the domain most of the staff's addresses use.",
    )


class Unit(_Model):
    """A node of the unit tree."""

    name: Label
    kind: UnitKind
    parent: Identifier | None = None


class Assignment(_Model):
    """A role held by a person in a unit (and, for parish roles, its sub-units)."""

    role: Identifier
    unit: Identifier


class Person(_Model):
    """A member of staff. Only the id enters history, so name and e-mail can be erased."""

    name: OneLine = Field(description="One line: it is used in mail headers.")
    email: Address = None
    lang: Annotated[str, Field(pattern=r"^(lv|en)$")] = "lv"
    roles: list[Assignment] = Field(default_factory=list)
    accounts: list[str] = Field(
        default_factory=list, description="Operating-system accounts that may act as this person."
    )
    digest: bool = Field(
        default=False,
        description="Gather reminders, overdue notices and escalations into one message a day.",
    )
    deputy: PersonId | None = Field(
        default=None,
        description="Who stands in while this person is away, unless the absence names "
        "someone else.",
    )


class Organisation(_Model):
    """A whole organisation file."""

    municipality: Municipality
    calendar: CalendarOverrides = Field(default_factory=CalendarOverrides)
    funding_instruments: dict[Identifier, Label] = Field(default_factory=dict)
    meetings: dict[Identifier, Meetings] = Field(
        default_factory=dict,
        description="Bodies whose meetings decide stages (`decided_at` in a scheme), by id.",
    )
    units: dict[Identifier, Unit] = Field(min_length=1)
    people: dict[PersonId, Person] = Field(default_factory=dict)

    @property
    def sender(self) -> str:
        """Who Shēma's messages come from: `mail_from`, else shema@ the staff's usual
        domain (shema@localhost only for an organisation with no addresses at all)."""
        if self.municipality.mail_from:
            return self.municipality.mail_from
        domains = Counter(
            p.email.rsplit("@", 1)[1].lower() for p in self.people.values() if p.email
        )
        return f"shema@{domains.most_common(1)[0][0]}" if domains else "shema@localhost"

    @model_validator(mode="after")
    def _deputies_known(self) -> Organisation:
        """A default deputy is someone else in the file."""
        for pid, person in self.people.items():
            if person.deputy == pid:
                raise ValueError(f"{pid} cannot be their own deputy")
            if person.deputy is not None and person.deputy not in self.people:
                raise ValueError(f"{pid}'s deputy {person.deputy!r} is not in the file")
        return self

    def ancestors(self, unit: str) -> Iterator[str]:
        """The unit itself, then its parent, up to the root (cycle-safe)."""
        seen: set[str] = set()
        current: str | None = unit
        while current is not None and current not in seen and current in self.units:
            seen.add(current)
            yield current
            current = self.units[current].parent

    def holders(self, role: str, unit: str | None = None) -> list[str]:
        """People holding `role` (in `unit` exactly, when given)."""
        return [
            pid
            for pid, p in self.people.items()
            if any(a.role == role and (unit is None or a.unit == unit) for a in p.roles)
        ]
