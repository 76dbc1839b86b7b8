"""A financing plan's rules, pure: what a plan and a payment request may say, the aid
intensity, and the short forms a person types (``eu_fund=850000``, ``2026Q1:expenditure=
120000``).

A plan's sources must add up to its total costs (eligible plus ineligible), to the cent;
its aid intensity, the EU fund and state budget share of the eligible costs, must not
exceed the funding instrument's maximum where the catalogue names one.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from workflow import domains
from workflow.errors import UsageError
from workflow.money import EUR, LVL

SOURCES = ("eu_fund", "state_budget", "municipality", "partners", "loan")
PUBLIC = ("eu_fund", "state_budget")  # what the aid intensity counts
KINDS = ("expenditure", "reimbursement")
CURRENCIES = (EUR, LVL)
MAX_QUARTERS = 400  # 50 years of both kinds: more is a typing error
HUNDRED = Decimal(100)
_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]\s*([1-4])\s*$")


@dataclass(frozen=True)
class Quarter:
    """A planned payment: `amount` spent or reimbursed in quarter `quarter` of `year`."""

    year: int
    quarter: int
    kind: str
    amount: Decimal


@dataclass(frozen=True)
class Plan:
    """A project's financing plan in its currency."""

    eligible: Decimal
    ineligible: Decimal
    sources: dict[str, Decimal]
    quarters: tuple[Quarter, ...] = ()
    currency: str = EUR

    @property
    def total(self) -> Decimal:
        return self.eligible + self.ineligible

    @property
    def public(self) -> Decimal:
        return sum((self.sources.get(s, Decimal(0)) for s in PUBLIC), Decimal(0))


@dataclass(frozen=True)
class Request:
    """A payment request: what was asked, approved and received, and when."""

    number: int
    submitted_amount: Decimal
    submitted_on: dt.date
    approved_amount: Decimal | None = None
    approved_on: dt.date | None = None
    received_amount: Decimal | None = None
    received_on: dt.date | None = None


def intensity(eligible: Decimal, public: Decimal) -> Decimal | None:
    """The EU+state share of eligible costs in per cent, to 0.01; None without eligible costs."""
    if eligible <= 0:
        return None
    return (public * HUNDRED / eligible).quantize(Decimal("0.01"))


def _amount(name: str, value: Decimal) -> Decimal:
    checked = domains.money(name, value)
    assert checked is not None
    return checked


def check_plan(plan: Plan) -> Plan:
    """`plan` when its amounts, sources, quarters and totals are valid; else a UsageError
    naming the first thing wrong (the intensity is checked by `check_intensity`)."""
    if plan.currency not in CURRENCIES:
        raise UsageError(
            f"a financing plan is in EUR (or historical LVL), not {plan.currency}",
            code="financing.currency",
            currency=plan.currency,
        )
    _amount("eligible costs", plan.eligible)
    _amount("ineligible costs", plan.ineligible)
    for source, amount in plan.sources.items():
        if source not in SOURCES:
            raise UsageError(
                f"{source!r} is not a financing source (one of {', '.join(SOURCES)})",
                code="financing.unknown_source",
                source=source,
                known=list(SOURCES),
            )
        _amount(f"{source} amount", amount)
    _check_quarters(plan.quarters)
    given = sum(plan.sources.values(), Decimal(0))
    if given != plan.total:
        difference = given - plan.total
        raise UsageError(
            f"the sources add up to {given:.2f} but the costs are {plan.total:.2f} "
            f"(eligible {plan.eligible:.2f} + ineligible {plan.ineligible:.2f}): "
            f"{'over' if difference > 0 else 'short'} by {abs(difference):.2f}",
            code="financing.sources_mismatch",
            sources=f"{given:.2f}",
            total=f"{plan.total:.2f}",
            difference=f"{difference:+.2f}",
        )
    return plan


def _check_quarters(quarters: tuple[Quarter, ...]) -> None:
    if len(quarters) > MAX_QUARTERS:
        raise UsageError(
            f"a plan has at most {MAX_QUARTERS} quarterly payments",
            code="financing.too_many_quarters",
            limit=MAX_QUARTERS,
        )
    seen: set[tuple[int, int, str]] = set()
    for q in quarters:
        domains.year("year", q.year)
        if not 1 <= q.quarter <= 4:
            raise UsageError(
                f"quarter {q.quarter} of {q.year} is not 1 to 4",
                code="financing.bad_quarter",
                year=q.year,
                quarter=q.quarter,
            )
        if q.kind not in KINDS:
            raise UsageError(
                f"{q.kind!r} is not expenditure or reimbursement",
                code="financing.bad_kind",
                kind=q.kind,
            )
        _amount(f"{q.year} Q{q.quarter} {q.kind}", q.amount)
        key = (q.year, q.quarter, q.kind)
        if key in seen:
            raise UsageError(
                f"{q.year} Q{q.quarter} has two {q.kind} amounts",
                code="financing.duplicate_quarter",
                year=q.year,
                quarter=q.quarter,
                kind=q.kind,
            )
        seen.add(key)


def check_intensity(plan: Plan, instrument: str | None, maximum: Decimal | None) -> None:
    """Refuse a plan whose aid intensity exceeds `maximum` (per cent; None: no maximum)."""
    if maximum is None or plan.public == 0:
        return
    share = intensity(plan.eligible, plan.public)
    if share is None or share > maximum:
        raise UsageError(
            f"the EU and state share of the eligible costs is "
            f"{'undefined (no eligible costs)' if share is None else f'{share} %'}; "
            f"{instrument} allows at most {maximum} %",
            code="financing.intensity_exceeded",
            intensity="∞" if share is None else str(share),
            maximum=str(maximum),
            instrument=instrument or "",
        )


def check_request(r: Request) -> Request:
    """`r` when its amounts pair with dates, each step follows the one before it, and no
    step exceeds the one before it; else a UsageError."""
    domains.number("payment request", r.number)
    _amount("submitted amount", r.submitted_amount)
    domains.date("submitted on", r.submitted_on)
    before: tuple[str, Decimal, dt.date] = ("submitted", r.submitted_amount, r.submitted_on)
    for step, amount, day in (
        ("approved", r.approved_amount, r.approved_on),
        ("received", r.received_amount, r.received_on),
    ):
        if (amount is None) != (day is None):
            raise UsageError(
                f"payment request {r.number}: the {step} amount and date go together",
                code="financing.request_pair",
                number=r.number,
                step=step,
            )
        if amount is None or day is None:
            continue
        _amount(f"{step} amount", amount)
        domains.date(f"{step} on", day)
        if amount > before[1]:
            raise UsageError(
                f"payment request {r.number}: {step} {amount:.2f} exceeds {before[0]} "
                f"{before[1]:.2f}",
                code="financing.request_exceeds",
                number=r.number,
                step=step,
                amount=f"{amount:.2f}",
                before=before[0],
                limit=f"{before[1]:.2f}",
            )
        if day < before[2]:
            raise UsageError(
                f"payment request {r.number}: {step} on {day} is before {before[0]} on {before[2]}",
                code="financing.request_order",
                number=r.number,
                step=step,
                day=day,
                before=before[0],
            )
        before = (step, amount, day)
    return r


# -- what a person types ----------------------------------------------------------------


def parse_source(spec: str) -> tuple[str, Decimal]:
    """``eu_fund=850000`` as (source, amount)."""
    name, sep, value = spec.partition("=")
    amount = domains.money("source amount", value) if sep and value.strip() else None
    if amount is None or not name.strip():
        raise UsageError(
            f"{spec!r} is not SOURCE=AMOUNT (e.g. eu_fund=850000)",
            code="financing.bad_source_spec",
            spec=spec[:80],
        )
    return name.strip(), amount


def parse_quarter(spec: str) -> Quarter:
    """``2026Q1:expenditure=120000`` (or ``2026-Q1:reimbursement=…``) as a Quarter."""
    when, _, rest = spec.partition(":")
    kind, sep, value = rest.partition("=")
    found = _QUARTER.match(when)
    amount = domains.money("quarter amount", value) if sep and value.strip() else None
    if found is None or amount is None:
        raise UsageError(
            f"{spec!r} is not YEARQN:KIND=AMOUNT (e.g. 2026Q1:expenditure=120000)",
            code="financing.bad_quarter_spec",
            spec=spec[:80],
        )
    return Quarter(int(found[1]), int(found[2]), kind.strip(), amount)
