"""A project's financing plan (costs, sources, quarterly payments) and its payment requests.

Functions run in the caller's transaction; none commits. Writers run inside the unit of
work, which holds the project's row lock, so replacing a plan or numbering a payment
request is not raced.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, delete, func, select, true, update

from storage.tables import financing, financing_quarters, financing_sources, payment_requests
from storage.tables import projects as project_rows

# -- records ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuarterRecord:
    """A planned payment of one quarter: money spent, or a reimbursement expected."""

    year: int
    quarter: int  # 1–4
    kind: str  # expenditure | reimbursement
    amount: Decimal


@dataclass(frozen=True, slots=True)
class PlanRecord:
    """A project's financing plan, amounts in its currency."""

    currency: str
    eligible: Decimal
    ineligible: Decimal
    sources: dict[str, Decimal]
    quarters: tuple[QuarterRecord, ...]  # by year, quarter, kind
    updated_at: dt.datetime
    updated_by: str | None


@dataclass(frozen=True, slots=True)
class PaymentRequestRecord:
    """One payment request to the managing authority, by number (1, 2 …)."""

    number: int
    submitted_amount: Decimal
    submitted_on: dt.date
    approved_amount: Decimal | None
    approved_on: dt.date | None
    received_amount: Decimal | None
    received_on: dt.date | None
    updated_at: dt.datetime
    updated_by: str | None


@dataclass(frozen=True, slots=True)
class PortfolioPlan:
    """A plan with what the forecast groups it by: its project's unit and instrument."""

    project_id: int
    unit_id: str
    funding_instrument: str | None
    plan: PlanRecord


# -- reading ----------------------------------------------------------------------------

_HEAD = select(financing).where(financing.c.project_id == bindparam("pid"))
_SOURCES = select(financing_sources).where(financing_sources.c.project_id == bindparam("pid"))
_QUARTERS = select(financing_quarters).where(financing_quarters.c.project_id == bindparam("pid"))
_ORDER = (financing_quarters.c.year, financing_quarters.c.quarter, financing_quarters.c.kind)


def _quarter(r: Row[Any]) -> QuarterRecord:
    return QuarterRecord(r.year, r.quarter, r.kind, Decimal(r.amount))


def _plan(
    head: Row[Any], sources: dict[str, Decimal], quarters: Sequence[QuarterRecord]
) -> PlanRecord:
    return PlanRecord(
        head.currency,
        Decimal(head.eligible),
        Decimal(head.ineligible),
        sources,
        tuple(quarters),
        head.updated_at,
        head.updated_by,
    )


def plan_of(conn: Connection, project_id: int) -> PlanRecord | None:
    """The project's financing plan; None if it has none."""
    head = conn.execute(_HEAD, {"pid": project_id}).first()
    if head is None:
        return None
    sources = {r.source: Decimal(r.amount) for r in conn.execute(_SOURCES, {"pid": project_id})}
    quarters = [_quarter(r) for r in conn.execute(_QUARTERS.order_by(*_ORDER), {"pid": project_id})]
    return _plan(head, dict(sorted(sources.items())), quarters)


def portfolio_plans(
    conn: Connection, visible: Sequence[str] | None, within: Sequence[str] | None
) -> list[PortfolioPlan]:
    """Every plan of a project whose unit is among `visible` and `within` (None: any unit),
    by project id; three statements, however many projects there are."""
    where = []
    if visible is not None:
        where.append(project_rows.c.unit_id.in_(list(visible)))
    if within is not None:
        where.append(project_rows.c.unit_id.in_(list(within)))
    heads = conn.execute(
        select(financing, project_rows.c.unit_id, project_rows.c.funding_instrument)
        .join(project_rows, project_rows.c.id == financing.c.project_id)
        .where(and_(*where) if where else true())
        .order_by(financing.c.project_id)
    ).all()
    ids = [h.project_id for h in heads]
    if not ids:
        return []
    sources: dict[int, dict[str, Decimal]] = {i: {} for i in ids}
    quarters: dict[int, list[QuarterRecord]] = {i: [] for i in ids}
    for r in conn.execute(select(financing_sources).where(financing_sources.c.project_id.in_(ids))):
        sources[r.project_id][r.source] = Decimal(r.amount)
    stmt = select(financing_quarters).where(financing_quarters.c.project_id.in_(ids))
    for r in conn.execute(stmt.order_by(*_ORDER)):
        quarters[r.project_id].append(_quarter(r))
    return [
        PortfolioPlan(
            h.project_id,
            h.unit_id,
            h.funding_instrument,
            _plan(h, dict(sorted(sources[h.project_id].items())), quarters[h.project_id]),
        )
        for h in heads
    ]


# -- writing ----------------------------------------------------------------------------


def replace_plan(conn: Connection, project_id: int, record: PlanRecord) -> None:
    """Make `record` the project's financing plan, dropping any earlier one with its
    sources and quarters; atomic within the caller's transaction."""
    for table in (financing_quarters, financing_sources, financing):
        conn.execute(delete(table).where(table.c.project_id == project_id))
    conn.execute(
        financing.insert().values(
            project_id=project_id,
            currency=record.currency,
            eligible=record.eligible,
            ineligible=record.ineligible,
            updated_at=record.updated_at,
            updated_by=record.updated_by,
        )
    )
    if record.sources:
        conn.execute(
            financing_sources.insert(),
            [
                {"project_id": project_id, "source": s, "amount": a}
                for s, a in record.sources.items()
            ],
        )
    if record.quarters:
        conn.execute(
            financing_quarters.insert(),
            [
                {
                    "project_id": project_id,
                    "year": q.year,
                    "quarter": q.quarter,
                    "kind": q.kind,
                    "amount": q.amount,
                }
                for q in record.quarters
            ],
        )


# -- payment requests -------------------------------------------------------------------

_REQUESTS = (
    select(payment_requests)
    .where(payment_requests.c.project_id == bindparam("pid"))
    .order_by(payment_requests.c.number)
)
_NEXT_REQUEST = select(func.coalesce(func.max(payment_requests.c.number), 0) + 1).where(
    payment_requests.c.project_id == bindparam("pid")
)


def _request(r: Row[Any]) -> PaymentRequestRecord:
    def amount(value: Any) -> Decimal | None:
        return None if value is None else Decimal(value)

    return PaymentRequestRecord(
        r.number,
        Decimal(r.submitted_amount),
        r.submitted_on,
        amount(r.approved_amount),
        r.approved_on,
        amount(r.received_amount),
        r.received_on,
        r.updated_at,
        r.updated_by,
    )


def requests_of(conn: Connection, project_id: int) -> list[PaymentRequestRecord]:
    """The project's payment requests by number (empty when it has none)."""
    return [_request(r) for r in conn.execute(_REQUESTS, {"pid": project_id})]


def next_request_number(conn: Connection, project_id: int) -> int:
    """One past the project's highest payment request number (1 for the first). Safe only
    while the caller holds the project's row lock."""
    return int(conn.execute(_NEXT_REQUEST, {"pid": project_id}).scalar_one())


def _request_values(record: PaymentRequestRecord) -> dict[str, Any]:
    return {
        "submitted_amount": record.submitted_amount,
        "submitted_on": record.submitted_on,
        "approved_amount": record.approved_amount,
        "approved_on": record.approved_on,
        "received_amount": record.received_amount,
        "received_on": record.received_on,
        "updated_at": record.updated_at,
        "updated_by": record.updated_by,
    }


def save_request(conn: Connection, project_id: int, record: PaymentRequestRecord) -> None:
    """Write payment request `record.number`: overwrite it if the project has it, else add
    it (the caller holds the project's row lock, so the two cannot race)."""
    result = conn.execute(
        update(payment_requests)
        .where(
            payment_requests.c.project_id == project_id,
            payment_requests.c.number == record.number,
        )
        .values(_request_values(record))
    )
    if result.rowcount == 0:
        conn.execute(
            payment_requests.insert(),
            {"project_id": project_id, "number": record.number, **_request_values(record)},
        )
