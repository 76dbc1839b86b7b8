"""A project's financing plan and its payment requests.

Every change is a project event (``financing_set``, ``payment_request_recorded``) written
through the unit of work (:func:`engine.work.Work.change`): it bumps the project's
version, is hash-chained in its history and is refused with nothing written when the
rules (workflow/financing.py) say no. Those who work on the current stage and
coordinators may change the plan; whoever may see the project may read it. The rows are
read and written by :mod:`storage.financing`; the portfolio's forecast is
:mod:`engine.forecast`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import Connection

from engine.views import View
from engine.work import Change, Context, Outcome, Work
from storage import financing as stored
from storage.database import Database
from workflow import financing as rules
from workflow import instruments
from workflow.errors import UsageError
from workflow.money import LVL, Money

SOURCES = rules.SOURCES
KINDS = rules.KINDS


class Engine(Protocol):
    """What financing needs of the service: its database and its unit of work."""

    @property
    def db(self) -> Database: ...

    @property
    def work(self) -> Work: ...


# -- views ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceView(View):
    source: str
    amount: Decimal
    share: Decimal | None  # per cent of the total costs


@dataclass(frozen=True)
class QuarterView(View):
    year: int
    quarter: int
    expenditure: Decimal
    reimbursement: Decimal


@dataclass(frozen=True)
class RequestView(View):
    number: int
    submitted_amount: Decimal
    submitted_on: dt.date
    approved_amount: Decimal | None
    approved_on: dt.date | None
    received_amount: Decimal | None
    received_on: dt.date | None
    updated_at: dt.datetime
    updated_by: str | None


@dataclass(frozen=True)
class FinancingView(View):
    """A project's financing: its plan (None until set) and its payment requests."""

    code: str
    version: int
    instrument: str | None
    max_intensity: Decimal | None
    has_plan: bool
    currency: str = "EUR"
    eligible: Decimal = Decimal("0.00")
    ineligible: Decimal = Decimal("0.00")
    total: Decimal = Decimal("0.00")
    intensity: Decimal | None = None
    sources: list[SourceView] = field(default_factory=list)
    quarters: list[QuarterView] = field(default_factory=list)
    requests: list[RequestView] = field(default_factory=list)
    total_eur: Decimal | None = None  # for a historical plan in LVL
    updated_at: dt.datetime | None = None
    updated_by: str | None = None


def _share(amount: Decimal, total: Decimal) -> Decimal | None:
    return None if total <= 0 else (amount * 100 / total).quantize(Decimal("0.01"))


def _quarters(records: Iterable[stored.QuarterRecord]) -> list[QuarterView]:
    table: dict[tuple[int, int], dict[str, Decimal]] = {}
    for q in records:
        table.setdefault((q.year, q.quarter), {})[q.kind] = q.amount
    zero = Decimal("0.00")
    return [
        QuarterView(y, n, v.get("expenditure", zero), v.get("reimbursement", zero))
        for (y, n), v in sorted(table.items())
    ]


def _request_view(r: stored.PaymentRequestRecord) -> RequestView:
    return RequestView(
        r.number,
        r.submitted_amount,
        r.submitted_on,
        r.approved_amount,
        r.approved_on,
        r.received_amount,
        r.received_on,
        r.updated_at,
        r.updated_by,
    )


def show(engine: Engine, code: str, *, actor: str | None) -> FinancingView:
    """The project's financing plan and payment requests as `actor` may see them."""
    with engine.db.read() as conn:
        ctx = engine.work.context(conn, engine.work.load(conn, code), actor)
        plan = stored.plan_of(conn, ctx.row.id)
        requests = stored.requests_of(conn, ctx.row.id)
    instrument = ctx.row.funding_instrument
    base: dict[str, Any] = {
        "code": ctx.code,
        "version": ctx.row.version,
        "instrument": instrument,
        "max_intensity": instruments.max_intensity(instrument),
        "requests": [_request_view(r) for r in requests],
    }
    if plan is None:
        return FinancingView(has_plan=False, **base)
    total = plan.eligible + plan.ineligible
    public = sum((plan.sources.get(s, Decimal(0)) for s in rules.PUBLIC), Decimal(0))
    ordered = sorted(plan.sources.items(), key=lambda kv: SOURCES.index(kv[0]))
    return FinancingView(
        has_plan=True,
        currency=plan.currency,
        eligible=plan.eligible,
        ineligible=plan.ineligible,
        total=total,
        intensity=rules.intensity(plan.eligible, public),
        sources=[SourceView(s, a, _share(a, total)) for s, a in ordered],
        quarters=_quarters(plan.quarters),
        total_eur=Money(total, LVL).to_eur().amount if plan.currency == LVL else None,
        updated_at=plan.updated_at,
        updated_by=plan.updated_by,
        **base,
    )


# -- changes ----------------------------------------------------------------------------


def _merged(
    old: stored.PlanRecord | None,
    eligible: Decimal | None,
    ineligible: Decimal | None,
    currency: str | None,
    sources: Mapping[str, Decimal] | None,
    quarters: Iterable[rules.Quarter] | None,
) -> rules.Plan:
    """The plan after the change: what is given replaces, what is not is kept."""
    zero = Decimal("0.00")
    return rules.Plan(
        eligible=eligible if eligible is not None else (old.eligible if old else zero),
        ineligible=ineligible if ineligible is not None else (old.ineligible if old else zero),
        sources=dict(sources) if sources is not None else (dict(old.sources) if old else {}),
        quarters=tuple(quarters)
        if quarters is not None
        else tuple(
            rules.Quarter(q.year, q.quarter, q.kind, q.amount)
            for q in (old.quarters if old else ())
        ),
        currency=currency or (old.currency if old else "EUR"),
    )


def _record(plan: rules.Plan, now: dt.datetime, by: str) -> stored.PlanRecord:
    order = {k: i for i, k in enumerate(KINDS)}
    quarters = sorted(plan.quarters, key=lambda q: (q.year, q.quarter, order.get(q.kind, 9)))
    return stored.PlanRecord(
        plan.currency,
        plan.eligible,
        plan.ineligible,
        {s: a for s, a in plan.sources.items() if a},
        tuple(stored.QuarterRecord(q.year, q.quarter, q.kind, q.amount) for q in quarters),
        now,
        by,
    )


def set_plan(
    engine: Engine,
    code: str,
    *,
    actor: str | None,
    now: dt.datetime,
    eligible: Decimal | None = None,
    ineligible: Decimal | None = None,
    currency: str | None = None,
    sources: Mapping[str, Decimal] | None = None,
    quarters: Iterable[rules.Quarter] | None = None,
    expect_version: int | None = None,
) -> Outcome:
    """Change the project's financing plan: the costs, the sources (all of them at once)
    and the quarterly payments (all of them at once) given replace the plan's; the rest
    is kept. The result must add up and respect the instrument's aid intensity."""
    given = list(quarters) if quarters is not None else None
    if all(v is None for v in (eligible, ineligible, currency, sources, given)):
        raise UsageError("say what to change in the financing plan", code="financing.nothing")

    def decide(conn: Connection, ctx: Context) -> Change:
        ctx.require_stage_role("change the financing plan")
        ctx.refuse_during_handoff("change the financing plan")
        pid = ctx.row.id
        plan = rules.check_plan(
            _merged(stored.plan_of(conn, pid), eligible, ineligible, currency, sources, given)
        )
        instrument = ctx.row.funding_instrument
        rules.check_intensity(plan, instrument, instruments.max_intensity(instrument))
        record = _record(plan, now, ctx.actor)
        share = rules.intensity(plan.eligible, plan.public)
        return Change(
            "financing_set",
            {},
            from_stage=ctx.stage,
            to_stage=ctx.stage,
            data={
                "currency": plan.currency,
                "eligible": str(plan.eligible),
                "ineligible": str(plan.ineligible),
                "sources": {s: str(a) for s, a in record.sources.items()},
                "intensity": None if share is None else str(share),
                "quarters": [[q.year, q.quarter, q.kind, str(q.amount)] for q in record.quarters],
            },
            then=lambda c: stored.replace_plan(c, pid, record),
        )

    return engine.work.change(code, actor, now, expect_version, decide)


def record_request(
    engine: Engine,
    code: str,
    *,
    actor: str | None,
    now: dt.datetime,
    submitted_amount: Decimal,
    submitted_on: dt.date,
    number: int | None = None,
    approved_amount: Decimal | None = None,
    approved_on: dt.date | None = None,
    received_amount: Decimal | None = None,
    received_on: dt.date | None = None,
    expect_version: int | None = None,
) -> Outcome:
    """Record payment request `number` (a new one, the next number, when None): what was
    submitted, and what was approved and received so far; recording a number again
    replaces what it said."""
    if number is not None:
        rules.check_request(rules.Request(number, submitted_amount, submitted_on))

    def decide(conn: Connection, ctx: Context) -> Change:
        ctx.require_stage_role("record a payment request")
        pid = ctx.row.id
        n = number if number is not None else stored.next_request_number(conn, pid)
        r = rules.check_request(
            rules.Request(
                n,
                submitted_amount,
                submitted_on,
                approved_amount,
                approved_on,
                received_amount,
                received_on,
            )
        )
        record = stored.PaymentRequestRecord(
            n,
            r.submitted_amount,
            r.submitted_on,
            r.approved_amount,
            r.approved_on,
            r.received_amount,
            r.received_on,
            now,
            ctx.actor,
        )

        def text(value: object) -> str | None:
            return None if value is None else str(value)

        return Change(
            "payment_request_recorded",
            {},
            from_stage=ctx.stage,
            to_stage=ctx.stage,
            data={
                "request": n,
                "submitted": [str(r.submitted_amount), r.submitted_on.isoformat()],
                "approved": [text(r.approved_amount), text(r.approved_on)],
                "received": [text(r.received_amount), text(r.received_on)],
            },
            then=lambda c: stored.save_request(c, pid, record),
        )

    return engine.work.change(code, actor, now, expect_version, decide)
