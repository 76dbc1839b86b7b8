"""The council's forecast: municipal co-financing and expected EU and state reimbursements
per year and per quarter over the projects a person may see, by funding instrument and by
unit, and the cash-flow gap the municipality pre-finances.

Pure computation over the financing plans (storage/financing.py reads them in three
statements). Every amount is in euro: a plan in lats is converted at the fixed rate
quarter by quarter. How a quarter's money divides:

- an *expenditure* row is shared among the plan's sources in proportion to their amounts;
  the own sources (municipality, partners, loan) are rounded to the cent and the rest is
  the part the EU fund and the state budget will reimburse (the *reimbursable* part);
- a *reimbursement* row is money expected back, divided between the EU fund and the state
  budget in proportion to their amounts (the EU part rounded, the state part the rest).

So ``by_year``/``by_quarter`` carry, per source, what the own sources pay when money is
spent and what the EU and the state pay back when it is reimbursed; ``gap`` is the
reimbursable part spent so far less what was reimbursed so far.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from engine.report import _visible, _within
from engine.service import Engine
from engine.views import View
from engine.work import person as person_of
from storage import financing as stored
from workflow import instruments as catalogue
from workflow.labels import text
from workflow.money import Money, cents

SOURCES = ("eu_fund", "state_budget", "municipality", "partners", "loan")
"""The financing sources a plan may name, in the order a plan lists them."""
REIMBURSED = ("eu_fund", "state_budget")
OWN = ("municipality", "partners", "loan")
EXPENDITURE, REIMBURSEMENT = "expenditure", "reimbursement"
NONE_KEY = "-"
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class MoneyRow(View):
    """What one source pays in a year (`quarter` None) or a quarter."""

    year: int
    quarter: int | None
    source: str
    amount: Decimal


@dataclass(frozen=True)
class GroupRow(View):
    """One instrument's or unit's year: municipal co-financing and EU+state reimbursement."""

    key: str
    name: str
    year: int
    municipality: Decimal
    reimbursement: Decimal


@dataclass(frozen=True)
class GapRow(View):
    """A quarter's cumulative reimbursable spending, reimbursements and their difference."""

    year: int
    quarter: int
    spent: Decimal
    reimbursed: Decimal
    gap: Decimal


@dataclass(frozen=True)
class Forecast(View):
    """The forecast over a portfolio; every list sorted, every amount in euro."""

    years: list[int]
    by_year: list[MoneyRow]
    by_quarter: list[MoneyRow]
    by_instrument: list[GroupRow]
    by_unit: list[GroupRow]
    gap: list[GapRow]
    generated_at: dt.datetime | None = None
    unit: str | None = None
    projects: int = 0
    sources: list[str] = field(default_factory=list)  # those with any figure, in SOURCES order


@dataclass(frozen=True)
class Share:
    """One piece of one plan's quarter: who pays it and where it counts."""

    year: int
    quarter: int
    source: str
    amount: Decimal
    instrument: str
    unit: str
    reimbursable: bool  # the EU+state part of an expenditure (the gap's "spent")


def _eur(amount: Decimal, currency: str) -> Decimal:
    return Money(amount, currency).to_eur().amount


def _split(
    kind: str, amount: Decimal, sources: dict[str, Decimal]
) -> list[tuple[str, Decimal, bool]]:
    """One quarter's euro amount divided among the sources: (source, part, reimbursable)."""
    total = sum(sources.values(), Decimal(0))
    if kind == EXPENDITURE:
        parts: list[tuple[str, Decimal, bool]] = []
        rest = amount
        for s in OWN:
            part = cents(amount * sources.get(s, Decimal(0)) / total) if total else ZERO
            parts.append((s, part, False))
            rest -= part
        return [*parts, ("reimbursable", rest, True)]
    public = sum((sources.get(s, Decimal(0)) for s in REIMBURSED), Decimal(0))
    eu = cents(amount * sources.get("eu_fund", Decimal(0)) / public) if public else amount
    return [("eu_fund", eu, False), ("state_budget", amount - eu, False)]


def shares(plan: stored.PlanRecord, *, instrument: str = NONE_KEY, unit: str = "") -> list[Share]:
    """The plan's quarters divided among its sources, in euro (see the module's doc)."""
    return [
        Share(q.year, q.quarter, source, part, instrument, unit, reimbursable)
        for q in plan.quarters
        for source, part, reimbursable in _split(
            q.kind, _eur(q.amount, plan.currency), plan.sources
        )
    ]


def _years(pieces: Iterable[Share]) -> list[int]:
    found = [p.year for p in pieces]
    return list(range(min(found), max(found) + 1)) if found else []


def _money_rows(
    pieces: list[Share], years: list[int], sources: list[str]
) -> tuple[list[MoneyRow], list[MoneyRow]]:
    yearly: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    quarterly: dict[tuple[int, int, str], Decimal] = defaultdict(Decimal)
    for p in pieces:
        if p.source in sources:
            yearly[p.year, p.source] += p.amount
            quarterly[p.year, p.quarter, p.source] += p.amount
    by_year = [MoneyRow(y, None, s, cents(yearly[y, s])) for y in years for s in sorted(sources)]
    by_quarter = [
        MoneyRow(y, q, s, cents(quarterly[y, q, s]))
        for y in years
        for q in (1, 2, 3, 4)
        for s in sorted(sources)
    ]
    return by_year, by_quarter


def _groups(
    pieces: list[Share], years: list[int], key_of: str, names: dict[str, str]
) -> list[GroupRow]:
    own: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    back: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    for p in pieces:
        key = getattr(p, key_of)
        if p.source == "municipality":
            own[key, p.year] += p.amount
        elif p.source in REIMBURSED:
            back[key, p.year] += p.amount
    keys = sorted({getattr(p, key_of) for p in pieces})
    return [
        GroupRow(k, names.get(k, k), y, cents(own[k, y]), cents(back[k, y]))
        for k in keys
        for y in years
    ]


def _gap(pieces: list[Share], years: list[int]) -> list[GapRow]:
    spent: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    back: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for p in pieces:
        if p.reimbursable:
            spent[p.year, p.quarter] += p.amount
        elif p.source in REIMBURSED:
            back[p.year, p.quarter] += p.amount
    rows, paid, returned = [], Decimal(0), Decimal(0)
    for y in years:
        for q in (1, 2, 3, 4):
            paid += spent[y, q]
            returned += back[y, q]
            rows.append(GapRow(y, q, cents(paid), cents(returned), cents(paid - returned)))
    return rows


def compute(
    plans: Iterable[stored.PortfolioPlan],
    *,
    instrument_names: dict[str, str] | None = None,
    unit_names: dict[str, str] | None = None,
    now: dt.datetime | None = None,
    unit: str | None = None,
) -> Forecast:
    """The forecast of `plans` (pure: no database); names default to the keys."""
    plans = list(plans)
    pieces = [
        piece
        for p in plans
        for piece in shares(p.plan, instrument=p.funding_instrument or NONE_KEY, unit=p.unit_id)
    ]
    years = _years(pieces)
    used = {p.source for p in pieces if p.amount and p.source in SOURCES}
    sources = [s for s in SOURCES if s in used]
    by_year, by_quarter = _money_rows(pieces, years, sources)
    return Forecast(
        years=years,
        by_year=by_year,
        by_quarter=by_quarter,
        by_instrument=_groups(pieces, years, "instrument", instrument_names or {}),
        by_unit=_groups(pieces, years, "unit", unit_names or {}),
        gap=_gap(pieces, years),
        generated_at=now,
        unit=unit,
        projects=len(plans),
        sources=sources,
    )


def forecast(
    engine: Engine,
    *,
    actor: str | None,
    now: dt.datetime,
    unit: str | None = None,
    lang: str = "lv",
) -> Forecast:
    """The forecast over the projects `actor` may see (those of `unit` and below it, when
    given) that have a financing plan; names in `lang`."""
    with engine.db.read() as conn:
        org = engine.org_index(conn)
        who = person_of(org, actor)
        visible = _visible(org, who, engine.role_levels(conn)[1])
        within = _within(org, unit)
        plans = stored.portfolio_plans(conn, visible, within)
    instruments = {
        p.funding_instrument: catalogue.title(p.funding_instrument, org.org, lang)
        for p in plans
        if p.funding_instrument
    }
    units = {
        key: text(u.name, lang, key)
        for key, u in org.org.units.items()
        if any(p.unit_id == key for p in plans)
    }
    return compute(plans, instrument_names=instruments, unit_names=units, now=now, unit=unit)
