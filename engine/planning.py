"""Planning tools on a project: the risk register and the cost-benefit analysis.

Every change is a project event (``risk_added``, ``risk_updated``, ``cba_set``) written
through the unit of work (:func:`engine.work.Work.change`), so it bumps the project's
version, is hash-chained in its history and is refused with nothing written when the
rules say no. Reading needs only that the person may see the project. The gates a scheme
action may require of this data are checked in :mod:`engine.gates`; the rows are read
and written by :mod:`storage.planning`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import Connection

from engine.history import flows_digest
from engine.views import View
from engine.work import Change, Context, Outcome, Work
from storage import planning as stored
from storage.database import Database
from workflow import cba as maths
from workflow import domains
from workflow.errors import NotAllowed, NotFound, UsageError
from workflow.money import EUR, LVL, Money, cents
from workflow.risks import RiskFields, level, score, validate_risk


class Engine(Protocol):
    """What the planning tools need of the service (`engine.service.Engine` is one): its
    database for reads and its unit of work for changes."""

    @property
    def db(self) -> Database: ...

    @property
    def work(self) -> Work: ...


# -- views ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskView(View):
    """One risk of a project's register."""

    number: int
    title: str
    likelihood: int | None
    impact: int | None
    score: int | None
    level: str | None
    owner: str | None
    mitigation: str
    status: str
    created_at: dt.datetime
    created_by: str | None
    updated_at: dt.datetime
    updated_by: str | None

    @property
    def ref(self) -> str:
        return f"R{self.number}"


@dataclass(frozen=True)
class CbaYear(View):
    year: int
    cost: Decimal
    benefit: Decimal
    net: Decimal
    discount_factor: Decimal
    present_value: Decimal


@dataclass(frozen=True)
class CbaView(View):
    """A project's cost-benefit analysis and its figures, amounts rounded to the cent."""

    code: str
    currency: str
    discount_rate: Decimal
    years: list[CbaYear]
    total_costs: Decimal
    total_benefits: Decimal
    pv_costs: Decimal
    pv_benefits: Decimal
    npv: Decimal
    bcr: Decimal | None
    irr: Decimal | None
    irr_reason: str | None
    updated_at: dt.datetime
    updated_by: str | None
    npv_eur: Decimal | None = None  # for a historical analysis in LVL
    notes: list[str] = field(default_factory=list)


# -- risks ------------------------------------------------------------------------------

_RISK_FIELDS = ("title", "likelihood", "impact", "owner", "mitigation", "status")


def _risk_view(r: stored.RiskRecord) -> RiskView:
    s = score(r.likelihood, r.impact)
    return RiskView(
        r.number,
        r.title,
        r.likelihood,
        r.impact,
        s,
        level(s),
        r.owner,
        r.mitigation,
        r.status,
        r.created_at,
        r.created_by,
        r.updated_at,
        r.updated_by,
    )


def _check_owner(ctx: Context, risk: RiskFields) -> None:
    """A risk's owner is a person who may see the project (their roles cover its unit)."""
    if risk.owner is None:
        return
    if risk.owner not in ctx.org.org.people:
        raise NotFound(
            f"no person {risk.owner!r} in the organisation",
            code="risk.owner_unknown",
            owner=risk.owner,
            actor=ctx.actor,
            project=ctx.code,
        )
    scheme = ctx.scheme
    if not ctx.org.acting_roles(risk.owner, ctx.row.unit_id, scheme.levels, scheme.version_id):
        raise NotAllowed(
            f"{risk.owner} cannot own a risk of {ctx.code}: none of their roles covers unit "
            f"{ctx.row.unit_id}",
            code="risk.owner_not_eligible",
            owner=risk.owner,
            actor=ctx.actor,
            project=ctx.code,
            unit=ctx.row.unit_id,
        )


def _risk_data(risk: RiskFields) -> dict[str, Any]:
    return {
        "title": risk.title,
        "likelihood": risk.likelihood,
        "impact": risk.impact,
        "score": score(risk.likelihood, risk.impact),
        "owner": risk.owner,
        "mitigation": risk.mitigation,
        "status": risk.status.value,
    }


def _record(
    number: int,
    risk: RiskFields,
    created: tuple[dt.datetime, str | None],
    now: dt.datetime,
    by: str,
) -> stored.RiskRecord:
    return stored.RiskRecord(
        number,
        risk.title,
        risk.likelihood,
        risk.impact,
        risk.owner,
        risk.mitigation,
        risk.status.value,
        created[0],
        created[1],
        now,
        by,
    )


def add_risk(
    engine: Engine,
    code: str,
    *,
    title: str,
    actor: str | None,
    now: dt.datetime,
    likelihood: int | None = None,
    impact: int | None = None,
    owner: str | None = None,
    mitigation: str = "",
    status: str = "open",
    expect_version: int | None = None,
) -> Outcome:
    """Add a risk to the project's register as the next number (R1, R2 …); the stage's
    owner and participants, the responsible person and coordinators may."""
    risk = validate_risk(
        {
            "title": title,
            "likelihood": likelihood,
            "impact": impact,
            "owner": owner,
            "mitigation": mitigation,
            "status": status,
        }
    )

    def decide(conn: Connection, ctx: Context) -> Change:
        ctx.require_stage_role("add a risk")
        ctx.refuse_during_handoff("add a risk")
        _check_owner(ctx, risk)
        pid = ctx.row.id
        number = stored.next_risk_number(conn, pid)
        record = _record(number, risk, (now, ctx.actor), now, ctx.actor)
        return Change(
            "risk_added",
            {},
            from_stage=ctx.stage,
            to_stage=ctx.stage,
            data={"risk": number, **_risk_data(risk)},
            then=lambda c: stored.insert_risk(c, pid, record),
        )

    return engine.work.change(code, actor, now, expect_version, decide)


def _risk_changes(number: int, changes: dict[str, Any]) -> None:
    domains.number("risk", number)
    unknown = sorted(set(changes) - set(_RISK_FIELDS))
    if unknown:
        raise UsageError(
            f"a risk has no field {', '.join(unknown)}", code="risk.unknown_field", fields=unknown
        )
    if not changes:
        raise UsageError("say what to change", code="risk.nothing_to_change", number=number)


def update_risk(
    engine: Engine,
    code: str,
    number: int,
    changes: dict[str, Any],
    *,
    actor: str | None,
    now: dt.datetime,
    expect_version: int | None = None,
) -> Outcome:
    """Change some fields of risk R`number` (title, likelihood, impact, owner, mitigation,
    status); a risk is never deleted, it is closed."""
    _risk_changes(number, changes)

    def decide(conn: Connection, ctx: Context) -> Change:
        ctx.require_stage_role(f"update risk R{number}")
        ctx.refuse_during_handoff(f"update risk R{number}")
        pid = ctx.row.id
        row = stored.risk(conn, pid, number)
        if row is None:
            raise NotFound(
                f"{ctx.code} has no risk R{number}",
                code="risk.unknown",
                project=ctx.code,
                number=number,
            )
        old = {k: getattr(row, k) for k in _RISK_FIELDS}
        risk = validate_risk({**old, **changes})
        _check_owner(ctx, risk)
        new = _risk_data(risk)
        diff = {k: [old[k], new[k]] for k in _RISK_FIELDS if old[k] != new[k]}
        if not diff:
            raise UsageError(
                f"risk R{number} of {ctx.code} already is like that; nothing changed",
                code="risk.unchanged",
                project=ctx.code,
                number=number,
            )
        record = _record(number, risk, (row.created_at, row.created_by), now, ctx.actor)
        return Change(
            "risk_updated",
            {},
            from_stage=ctx.stage,
            to_stage=ctx.stage,
            data={"risk": number, "changes": diff, "score": new["score"]},
            then=lambda c: stored.update_risk(c, pid, record),
        )

    return engine.work.change(code, actor, now, expect_version, decide)


def list_risks(engine: Engine, code: str, *, actor: str | None) -> list[RiskView]:
    """The project's risks, highest score first (unassessed last), then by number."""
    with engine.db.read() as conn:
        ctx = engine.work.context(conn, engine.work.load(conn, code), actor)
        rows = stored.risks_of(conn, ctx.row.id)
    views = [_risk_view(r) for r in rows]
    return sorted(views, key=lambda v: (v.score is None, -(v.score or 0), v.number))


# -- cost-benefit analysis ---------------------------------------------------------------


_MAX_AMOUNT = Decimal(10) ** 12  # Numeric(14, 2)
MAX_YEARS = 60  # an analysis period: a building's life, at most


def _amount(value: Decimal, year: int, side: str) -> Decimal:
    if not value.is_finite() or value != cents(value):
        raise UsageError(
            f"year {year} {side}: {value} is not an amount in whole cents",
            code="cba.amount_not_cents",
            year=year,
            field=side,
            value=value,
        )
    if abs(value) >= _MAX_AMOUNT:
        raise UsageError(
            f"year {year} {side}: {value} is too large (under a trillion)",
            code="cba.amount_too_large",
            year=year,
            field=side,
            value=value,
        )
    return value


def _analysed(
    flows: Sequence[maths.YearFlow], discount_rate: Decimal, currency: str
) -> maths.Analysis:
    """The figures of `flows`, or a UsageError naming the first thing wrong with them."""
    if len(flows) > MAX_YEARS:
        raise UsageError(
            f"a cost-benefit analysis covers at most {MAX_YEARS} years",
            code="cba.too_many_years",
            limit=MAX_YEARS,
        )
    for f in flows:
        domains.year("year", f.year)
        _amount(f.cost, f.year, "cost")
        _amount(f.benefit, f.year, "benefit")
    domains.rate("discount rate", discount_rate, low=Decimal(0), high=Decimal(1))
    try:
        Money(Decimal(0), currency)
        if discount_rate != discount_rate.quantize(Decimal("0.000001")):
            raise ValueError("a discount rate has at most four decimals in per cent")
        return maths.analyse(flows, discount_rate)
    except ValueError as exc:
        raise UsageError(
            f"invalid cost-benefit analysis: {exc}", code="cba.invalid", reason=str(exc)
        ) from None


def set_cba(
    engine: Engine,
    code: str,
    flows: Iterable[maths.YearFlow],
    *,
    actor: str | None,
    now: dt.datetime,
    discount_rate: Decimal = maths.DEFAULT_DISCOUNT_RATE,
    currency: str = EUR,
    expect_version: int | None = None,
) -> Outcome:
    """Replace the project's cost-benefit analysis with yearly `flows` at `discount_rate`
    (a fraction: 0.04 is 4 %); the event records the computed NPV, BCR and IRR."""
    flows = list(flows)
    result = _analysed(flows, discount_rate, currency)
    years = tuple(
        stored.CbaYearRecord(f.year, f.cost, f.benefit) for f in sorted(flows, key=lambda f: f.year)
    )

    def decide(conn: Connection, ctx: Context) -> Change:
        ctx.require_stage_role("set the cost-benefit analysis")
        ctx.refuse_during_handoff("set the cost-benefit analysis")
        pid = ctx.row.id
        record = stored.CbaRecord(discount_rate, currency, now, ctx.actor, years)
        return Change(
            "cba_set",
            {},
            from_stage=ctx.stage,
            to_stage=ctx.stage,
            data={
                "currency": currency,
                "discount_rate": str(discount_rate),
                "years": [result.first_year, result.last_year],
                "npv": str(cents(result.npv)),
                "bcr": None if result.bcr is None else str(result.bcr.quantize(Decimal("0.01"))),
                "irr": None if result.irr.rate is None else str(result.irr.rate),
            },
            audit={"flows": flows_digest((f.year, f.cost, f.benefit) for f in flows)},
            then=lambda c: stored.replace_cba(c, pid, record),
        )

    return engine.work.change(code, actor, now, expect_version, decide)


def show_cba(engine: Engine, code: str, *, actor: str | None) -> CbaView | None:
    """The project's cost-benefit analysis with its figures; None if it has none."""
    with engine.db.read() as conn:
        ctx = engine.work.context(conn, engine.work.load(conn, code), actor)
        head = stored.cba_of(conn, ctx.row.id)
    if head is None:
        return None
    return cba_view(
        ctx.code,
        [maths.YearFlow(y.year, y.cost, y.benefit) for y in head.years],
        head.discount_rate,
        head.currency,
        head.updated_at,
        head.updated_by,
    )


def cba_view(
    code: str,
    flows: Sequence[maths.YearFlow],
    rate: Decimal,
    currency: str,
    updated_at: dt.datetime,
    updated_by: str | None,
) -> CbaView:
    """The figures of an analysis, amounts rounded half up to the cent, BCR to 0.01 and
    IRR to 0.01 %."""
    rate = rate.normalize()
    result = maths.analyse(flows, rate)
    first = result.first_year
    by_year = {f.year: f for f in flows}
    years = []
    for year in range(first, result.last_year + 1):
        f = by_year.get(year, maths.YearFlow(year, Decimal(0), Decimal(0)))
        factor = maths.present_value(rate, [Decimal(0)] * (year - first) + [Decimal(1)])
        years.append(
            CbaYear(
                year,
                f.cost,
                f.benefit,
                f.net,
                factor.quantize(Decimal("0.000001")),
                cents(f.net * factor),
            )
        )
    notes = []
    if result.bcr is None:
        notes.append("BCR is undefined: the analysis has no costs")
    npv_eur = None
    if currency == LVL:
        npv_eur = Money(cents(result.npv), LVL).to_eur().amount
        notes.append("historical lats: EUR at the fixed rate 1 EUR = 0.702804 LVL")
    return CbaView(
        code=code,
        currency=currency,
        discount_rate=rate,
        years=years,
        total_costs=cents(result.total_costs),
        total_benefits=cents(result.total_benefits),
        pv_costs=cents(result.pv_costs),
        pv_benefits=cents(result.pv_benefits),
        npv=cents(result.npv),
        bcr=None if result.bcr is None else result.bcr.quantize(Decimal("0.01")),
        irr=None if result.irr.rate is None else result.irr.rate.quantize(Decimal("0.0001")),
        irr_reason=result.irr.reason,
        updated_at=updated_at,
        updated_by=updated_by,
        npv_eur=npv_eur,
        notes=notes,
    )
