"""The ideas notebook (ideju burtnīca): cooperation project ideas with partners, candidate
funding instruments and an estimated cost, before any project exists.

Pure data and rules: what an idea holds, which status changes are allowed, and the
accent-insensitive search used by ``shema idea list --search``.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from workflow import limits
from workflow.errors import invalid_fields
from workflow.org import PersonId
from workflow.scheme import Identifier

Tag = Annotated[str, Field(pattern=r"^\w[\w-]*$", max_length=40)]


class IdeaStatus(StrEnum):
    """Where an idea is: drafted, looking for partners, agreed with them, promoted into a
    project, or put away."""

    draft = "draft"
    open_for_partners = "open_for_partners"
    agreed = "agreed"
    promoted = "promoted"
    archived = "archived"


STATUS_TITLES = {
    IdeaStatus.draft: {"lv": "Melnraksts", "en": "Draft"},
    IdeaStatus.open_for_partners: {"lv": "Meklē partnerus", "en": "Open for partners"},
    IdeaStatus.agreed: {"lv": "Saskaņota", "en": "Agreed"},
    IdeaStatus.promoted: {"lv": "Kļuvusi par projektu", "en": "Promoted"},
    IdeaStatus.archived: {"lv": "Arhivēta", "en": "Archived"},
}
PROMOTABLE = frozenset({IdeaStatus.draft, IdeaStatus.open_for_partners, IdeaStatus.agreed})


class Priority(StrEnum):
    """How much the municipality wants the idea."""

    high = "high"
    medium = "medium"
    low = "low"


PRIORITY_RANK = {Priority.high: 0, Priority.medium: 1, Priority.low: 2}
PRIORITY_TITLES = {
    Priority.high: {"lv": "augsta", "en": "high"},
    Priority.medium: {"lv": "vidēja", "en": "medium"},
    Priority.low: {"lv": "zema", "en": "low"},
}


class PartnerKind(StrEnum):
    municipality = "municipality"
    organisation = "organisation"


class Partner(BaseModel):
    """A partner municipality or organisation, by name (partners are outside our tree)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=limits.TEXT["name"])]
    kind: PartnerKind = PartnerKind.municipality

    @field_validator("name", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return " ".join(value.split()) if isinstance(value, str) else value


class IdeaFields(BaseModel):
    """Everything a person writes about an idea; validated on every create and edit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Annotated[str, Field(min_length=1, max_length=limits.TEXT["title"])]
    description: Annotated[str, Field(max_length=limits.TEXT["description"])] = ""
    unit: Identifier
    proposer: PersonId
    partners: list[Partner] = Field(default_factory=list)
    instruments: list[Identifier] = Field(default_factory=list)
    cost: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)] | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "EUR"
    priority: Priority = Priority.medium
    tags: list[Tag] = Field(default_factory=list)
    status: IdeaStatus = IdeaStatus.draft

    @field_validator("title", "description", mode="before")
    @classmethod
    def _trim(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: object) -> object:
        if isinstance(value, list):
            value = [t.strip().lstrip("#").lower() if isinstance(t, str) else t for t in value]
        return _unique(value)

    @field_validator("instruments", mode="before")
    @classmethod
    def _instruments(cls, value: object) -> object:
        return _unique(value)

    @field_validator("partners", mode="after")
    @classmethod
    def _partners(cls, value: list[Partner]) -> list[Partner]:
        seen: set[tuple[str, str]] = set()
        out = []
        for p in value:
            key = (p.kind.value, fold(p.name))
            if key not in seen:
                seen.add(key)
                out.append(p)
        return out

    def partner_names(self, kind: PartnerKind | None = None) -> list[str]:
        return [p.name for p in self.partners if kind is None or p.kind == kind]


def _unique(value: object) -> object:
    if not isinstance(value, list):
        return value
    out: list[Any] = []
    for v in value:
        if v not in out:
            out.append(v)
    return out


def validate_fields(data: dict[str, Any]) -> IdeaFields:
    """`data` as IdeaFields, or a UsageError naming every bad field."""
    try:
        return IdeaFields.model_validate(data)
    except ValidationError as exc:
        raise invalid_fields("idea", list(exc.errors()), "idea.invalid") from None


def status_change_problem(old: IdeaStatus, new: IdeaStatus) -> str | None:
    """Why an edit may not move an idea from `old` to `new`, or None if it may. Promotion
    happens only through promote, and a promoted idea stays promoted."""
    if new == old:
        return None
    if new == IdeaStatus.promoted:
        return "an idea becomes promoted only by `shema idea promote`"
    if old == IdeaStatus.promoted:
        return "it was promoted into a project; change the project instead"
    return None


def fold(value: str) -> str:
    """Lower case without diacritics, so "lēdmane" and "Ledmane" match."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def matches(query: str, *texts: str) -> bool:
    """True when every word of `query` occurs in one of `texts` (case and diacritics
    ignored)."""
    haystack = " ".join(fold(t) for t in texts)
    return all(word in haystack for word in fold(query).split())
