"""A project's planning data: its risk register and its cost-benefit analysis.

Functions run in the caller's transaction; none commits. Writers run inside the unit of
work, which holds the project's row lock, so numbering and replacing are not raced.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, delete, func, or_, select, update

from storage.tables import cba, cba_years, risks

# -- records ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RiskRecord:
    """One risk of a project's register (R`number`)."""

    number: int
    title: str
    likelihood: int | None  # 1–5; None until assessed
    impact: int | None  # 1–5; None until assessed
    owner: str | None  # a person id
    mitigation: str
    status: str  # open | mitigating | closed
    created_at: dt.datetime
    created_by: str | None
    updated_at: dt.datetime
    updated_by: str | None


@dataclass(frozen=True, slots=True)
class CbaYearRecord:
    """One year's costs and benefits of an analysis."""

    year: int
    cost: Decimal
    benefit: Decimal


@dataclass(frozen=True, slots=True)
class CbaRecord:
    """A project's cost-benefit analysis: its rate, currency and yearly flows."""

    discount_rate: Decimal  # a fraction: 0.04 is 4 %
    currency: str
    updated_at: dt.datetime
    updated_by: str | None
    years: tuple[CbaYearRecord, ...]  # by year


# -- gates ------------------------------------------------------------------------------

_ASSESSED_RISKS = (
    select(func.count())
    .select_from(risks)
    .where(
        and_(
            risks.c.project_id == bindparam("pid"),
            risks.c.likelihood.is_not(None),
            risks.c.impact.is_not(None),
        )
    )
)
_CBA_YEARS_WITH_FLOWS = (
    select(func.count())
    .select_from(cba_years)
    .where(
        and_(
            cba_years.c.project_id == bindparam("pid"),
            or_(cba_years.c.cost > 0, cba_years.c.benefit > 0),
        )
    )
)


def has_assessed_risk(conn: Connection, project_id: int) -> bool:
    """Whether the project has a risk with both likelihood and impact rated."""
    return bool(conn.execute(_ASSESSED_RISKS, {"pid": project_id}).scalar_one() > 0)


def has_cba_flows(conn: Connection, project_id: int) -> bool:
    """Whether the project's cost-benefit analysis has a year with a cost or a benefit."""
    return bool(conn.execute(_CBA_YEARS_WITH_FLOWS, {"pid": project_id}).scalar_one() > 0)


# -- risks ------------------------------------------------------------------------------

_RISK_OF = select(risks).where(
    and_(risks.c.project_id == bindparam("pid"), risks.c.number == bindparam("number"))
)
_RISKS_OF = select(risks).where(risks.c.project_id == bindparam("pid")).order_by(risks.c.number)
_NEXT_NUMBER = select(func.coalesce(func.max(risks.c.number), 0) + 1).where(
    risks.c.project_id == bindparam("pid")
)


def _risk(r: Row[Any]) -> RiskRecord:
    return RiskRecord(
        r.number,
        r.title,
        r.likelihood,
        r.impact,
        r.owner_id,
        r.mitigation,
        r.status,
        r.created_at,
        r.created_by,
        r.updated_at,
        r.updated_by,
    )


def risk(conn: Connection, project_id: int, number: int) -> RiskRecord | None:
    """Risk R`number` of the project; None if it has no such risk."""
    found = conn.execute(_RISK_OF, {"pid": project_id, "number": number}).first()
    return None if found is None else _risk(found)


def risks_of(conn: Connection, project_id: int) -> list[RiskRecord]:
    """The project's risks by number (empty when it has none)."""
    return [_risk(r) for r in conn.execute(_RISKS_OF, {"pid": project_id})]


def next_risk_number(conn: Connection, project_id: int) -> int:
    """The number the project's next risk gets: one past its highest (1 for the first).
    Safe only while the caller holds the project's row lock."""
    return int(conn.execute(_NEXT_NUMBER, {"pid": project_id}).scalar_one())


def _risk_values(record: RiskRecord) -> dict[str, Any]:
    return {
        "title": record.title,
        "likelihood": record.likelihood,
        "impact": record.impact,
        "owner_id": record.owner,
        "mitigation": record.mitigation,
        "status": record.status,
        "updated_at": record.updated_at,
        "updated_by": record.updated_by,
    }


def insert_risk(conn: Connection, project_id: int, record: RiskRecord) -> None:
    """Add `record` to the project's register under its number (an existing number is an
    IntegrityError: the primary key is the project and the number)."""
    conn.execute(
        risks.insert(),
        {
            "project_id": project_id,
            "number": record.number,
            "created_at": record.created_at,
            "created_by": record.created_by,
            **_risk_values(record),
        },
    )


def update_risk(conn: Connection, project_id: int, record: RiskRecord) -> bool:
    """Overwrite the fields of risk R`record.number` that change (all but its number and
    creation); False when the project has no such risk, nothing written."""
    result = conn.execute(
        update(risks)
        .where(risks.c.project_id == project_id, risks.c.number == record.number)
        .values(_risk_values(record))
    )
    return result.rowcount == 1


# -- cost-benefit analysis --------------------------------------------------------------

_CBA_OF = select(cba).where(cba.c.project_id == bindparam("pid"))
_CBA_YEARS_OF = (
    select(cba_years).where(cba_years.c.project_id == bindparam("pid")).order_by(cba_years.c.year)
)


def cba_of(conn: Connection, project_id: int) -> CbaRecord | None:
    """The project's cost-benefit analysis with its years in order; None if it has none."""
    head = conn.execute(_CBA_OF, {"pid": project_id}).first()
    if head is None:
        return None
    years = tuple(
        CbaYearRecord(r.year, Decimal(r.cost), Decimal(r.benefit))
        for r in conn.execute(_CBA_YEARS_OF, {"pid": project_id})
    )
    return CbaRecord(
        Decimal(head.discount_rate), head.currency, head.updated_at, head.updated_by, years
    )


def replace_cba(conn: Connection, project_id: int, record: CbaRecord) -> None:
    """Make `record` the project's cost-benefit analysis, dropping any earlier one with
    all its years; atomic within the caller's transaction."""
    conn.execute(delete(cba_years).where(cba_years.c.project_id == project_id))
    conn.execute(delete(cba).where(cba.c.project_id == project_id))
    conn.execute(
        cba.insert().values(
            project_id=project_id,
            discount_rate=record.discount_rate,
            currency=record.currency,
            updated_at=record.updated_at,
            updated_by=record.updated_by,
        )
    )
    if record.years:
        conn.execute(
            cba_years.insert(),
            [
                {"project_id": project_id, "year": y.year, "cost": y.cost, "benefit": y.benefit}
                for y in record.years
            ],
        )
