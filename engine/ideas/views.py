"""An idea as the notebook shows it, built from its stored record, and idea references."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from engine.permissions import OrgIndex
from engine.views import View
from storage.ideas import IdeaRecord
from workflow import domains
from workflow import instruments as catalogue
from workflow.errors import UsageError
from workflow.ideas import PRIORITY_TITLES, STATUS_TITLES, IdeaFields, PartnerKind
from workflow.labels import text
from workflow.money import EUR, Money


@dataclass(frozen=True)
class IdeaView(View):
    """One idea as the notebook shows it (labels in the requested language)."""

    id: int
    title: str
    description: str
    unit: str
    unit_name: str
    proposer: str
    proposer_name: str
    municipalities: list[str]
    organisations: list[str]
    instruments: list[str]
    instrument_titles: list[str]
    cost: Decimal | None
    currency: str
    cost_eur: Decimal | None
    priority: str
    priority_title: str
    tags: list[str]
    status: str
    status_title: str
    project: str | None
    version: int
    created_at: dt.datetime
    created_by: str | None
    updated_at: dt.datetime
    updated_by: str | None


@dataclass(frozen=True)
class Promotion(View):
    """An idea promoted into a project: both sides, as they are after the link."""

    idea: IdeaView
    project: str
    project_version: int
    stage: str


def fields_of(record: IdeaRecord) -> IdeaFields:
    """The idea's fields as the rules check them."""
    return IdeaFields.model_validate(
        {
            "title": record.title,
            "description": record.description,
            "unit": record.unit_id,
            "proposer": record.proposer_id,
            "partners": record.partners,
            "instruments": record.instruments,
            "cost": record.cost_amount,
            "currency": record.cost_currency,
            "priority": record.priority,
            "tags": record.tags,
            "status": record.status,
        }
    )


def view_of(record: IdeaRecord, org: OrgIndex, lang: str) -> IdeaView:
    """The idea with its unit, proposer, instruments, priority and status named in `lang`."""
    f = fields_of(record)
    unit = org.org.units.get(f.unit)
    person = org.org.people.get(f.proposer)
    cost_eur = None
    if f.cost is not None and f.currency in (EUR, "LVL"):
        cost_eur = Money(f.cost, f.currency).to_eur().amount
    return IdeaView(
        id=record.id,
        title=f.title,
        description=f.description,
        unit=f.unit,
        unit_name=text(unit.name if unit else None, lang, f.unit),
        proposer=f.proposer,
        proposer_name=person.name if person else f.proposer,
        municipalities=f.partner_names(PartnerKind.municipality),
        organisations=f.partner_names(PartnerKind.organisation),
        instruments=list(f.instruments),
        instrument_titles=[catalogue.title(i, org.org, lang) for i in f.instruments],
        cost=f.cost,
        currency=f.currency,
        cost_eur=cost_eur,
        priority=f.priority.value,
        priority_title=PRIORITY_TITLES[f.priority][lang],
        tags=list(f.tags),
        status=f.status.value,
        status_title=STATUS_TITLES[f.status][lang],
        project=record.project_code,
        version=record.version,
        created_at=record.created_at,
        created_by=record.created_by,
        updated_at=record.updated_at,
        updated_by=record.updated_by,
    )


def parse_ref(ref: str | int) -> int:
    """An idea's number from ``12``, ``#12`` or ``I-12``; UsageError otherwise."""
    raw = str(ref).strip().lstrip("#")
    if raw[:2].upper() == "I-":
        raw = raw[2:]
    if not raw.isdigit() or len(raw) > 12:
        shown = str(ref)[:40]
        raise UsageError(
            f"{shown!r} is not an idea number (e.g. 12)", code="idea.bad_ref", ref=shown
        )
    return domains.number("idea", int(raw))
