"""Planning tools on a project: the risk register and the cost-benefit analysis, and the
built-in gates a scheme action may require of them.

Every change is a project event (``risk_added``, ``risk_updated``, ``cba_set``) written
through :meth:`Engine._write`, so it bumps the project's version, is hash-chained in its
history and is refused with nothing written when the rules say no. Reading needs only
that the person may see the project.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, or_, select, update

from engine.history import flows_digest
from engine.service import Change, Context, Engine, Outcome
from engine.views import _View
from storage.tables import cba, cba_years, risks
from workflow import cba as maths
from workflow import domains
from workflow.errors import NotFound, UsageError
from workflow.money import EUR, LVL, Money, cents
from workflow.risks import RiskFields, level, score, validate_risk
from workflow.scheme import Gate

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

GATE_MESSAGES: dict[str, str] = {
    "risk_register": "the risk register has no assessed risk (one with likelihood and impact "
    "rated: `shema project risk add`)",
    "cost_benefit": "no cost-benefit analysis has been computed (`shema project cba set`)",
}


def missing_gates(conn: Connection, project_id: int, gates: Sequence[Gate]) -> list[str]:
    """What the project's own data still lacks for `gates`, one message per unmet gate
    (empty when all are met). Runs in the caller's transaction."""
    out = []
    for gate in gates:
        if gate == "risk_register":
            met = conn.execute(_ASSESSED_RISKS, {"pid": project_id}).scalar_one() > 0
        else:
            met = conn.execute(_CBA_YEARS_WITH_FLOWS, {"pid": project_id}).scalar_one() > 0
        if not met:
            out.append(GATE_MESSAGES[gate])
    return out


# -- views ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskView(_View):
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
class CbaYear(_View):
    year: int
    cost: Decimal
    benefit: Decimal
    net: Decimal
    discount_factor: Decimal
    present_value: Decimal


@dataclass(frozen=True)
class CbaView(_View):
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


def _risk_view(r: Any) -> RiskView:
    s = score(r.likelihood, r.impact)
    return RiskView(
        r.number,
        r.title,
        r.likelihood,
        r.impact,
        s,
        level(s),
        r.owner_id,
        r.mitigation,
        r.status,
        r.created_at,
        r.created_by,
        r.updated_at,
        r.updated_by,
    )


def _check_owner(ctx: Context, risk: RiskFields) -> None:
    if risk.owner is not None and risk.owner not in ctx.org.org.people:
        raise NotFound(f"no person {risk.owner!r} in the organisation", actor=ctx.actor)


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
        number = int(
            conn.execute(
                select(func.coalesce(func.max(risks.c.number), 0) + 1).where(
                    risks.c.project_id == pid
                )
            ).scalar_one()
        )
        row = {
            "project_id": pid,
            "number": number,
            "title": risk.title,
            "likelihood": risk.likelihood,
            "impact": risk.impact,
            "owner_id": risk.owner,
            "mitigation": risk.mitigation,
            "status": risk.status.value,
            "created_at": now,
            "created_by": ctx.actor,
            "updated_at": now,
            "updated_by": ctx.actor,
        }
        return Change(
            "risk_added",
            {},
            from_stage=ctx.stage,
            to_stage=ctx.stage,
            data={"risk": number, **_risk_data(risk)},
            then=lambda c: c.execute(risks.insert(), row),
        )

    return engine.work.change(code, actor, now, expect_version, decide)


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
    domains.number("risk", number)
    unknown = sorted(set(changes) - set(_RISK_FIELDS))
    if unknown:
        raise UsageError(f"a risk has no field {', '.join(unknown)}")
    if not changes:
        raise UsageError("say what to change (e.g. --likelihood 3 --impact 4)")

    def decide(conn: Connection, ctx: Context) -> Change:
        ctx.require_stage_role(f"update risk R{number}")
        ctx.refuse_during_handoff(f"update risk R{number}")
        pid = ctx.row.id
        row = conn.execute(
            select(risks).where(risks.c.project_id == pid, risks.c.number == number)
        ).first()
        if row is None:
            raise NotFound(f"{ctx.code} has no risk R{number}", project=ctx.code)
        old = {
            "title": row.title,
            "likelihood": row.likelihood,
            "impact": row.impact,
            "owner": row.owner_id,
            "mitigation": row.mitigation,
            "status": row.status,
        }
        risk = validate_risk({**old, **changes})
        _check_owner(ctx, risk)
        new = _risk_data(risk)
        diff = {k: [old[k], new[k]] for k in _RISK_FIELDS if old[k] != new[k]}
        if not diff:
            raise UsageError(f"risk R{number} of {ctx.code} already is like that; nothing changed")
        values = {
            "title": risk.title,
            "likelihood": risk.likelihood,
            "impact": risk.impact,
            "owner_id": risk.owner,
            "mitigation": risk.mitigation,
            "status": risk.status.value,
            "updated_at": now,
            "updated_by": ctx.actor,
        }
        stmt = update(risks).where(risks.c.project_id == pid, risks.c.number == number)
        return Change(
            "risk_updated",
            {},
            from_stage=ctx.stage,
            to_stage=ctx.stage,
            data={"risk": number, "changes": diff, "score": new["score"]},
            then=lambda c: c.execute(stmt.values(values)),
        )

    return engine.work.change(code, actor, now, expect_version, decide)


def list_risks(engine: Engine, code: str, *, actor: str | None) -> list[RiskView]:
    """The project's risks, highest score first (unassessed last), then by number."""
    with engine.db.read() as conn:
        ctx = engine.work.context(conn, engine.work.load(conn, code), actor)
        rows = conn.execute(select(risks).where(risks.c.project_id == ctx.row.id)).all()
    views = [_risk_view(r) for r in rows]
    return sorted(views, key=lambda v: (v.score is None, -(v.score or 0), v.number))


# -- cost-benefit analysis ---------------------------------------------------------------


_MAX_AMOUNT = Decimal(10) ** 12  # Numeric(14, 2)
MAX_YEARS = 60  # an analysis period: a building's life, at most


def _amount(value: Decimal, what: str) -> Decimal:
    if not value.is_finite() or value != cents(value):
        raise UsageError(f"{what}: {value} is not an amount in whole cents")
    if abs(value) >= _MAX_AMOUNT:
        raise UsageError(f"{what}: {value} is too large (under a trillion)")
    return value


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
    if len(flows) > MAX_YEARS:
        raise UsageError(f"a cost-benefit analysis covers at most {MAX_YEARS} years")
    for f in flows:
        domains.year("year", f.year)
        _amount(f.cost, f"year {f.year} cost")
        _amount(f.benefit, f"year {f.year} benefit")
    domains.rate("discount rate", discount_rate, low=Decimal(0), high=Decimal(1))
    try:
        Money(Decimal(0), currency)
        if discount_rate != discount_rate.quantize(Decimal("0.000001")):
            raise ValueError("a discount rate has at most four decimals in per cent")
        result = maths.analyse(flows, discount_rate)
    except ValueError as exc:
        raise UsageError(f"invalid cost-benefit analysis: {exc}") from None

    def decide(conn: Connection, ctx: Context) -> Change:
        ctx.require_stage_role("set the cost-benefit analysis")
        ctx.refuse_during_handoff("set the cost-benefit analysis")
        pid = ctx.row.id
        years = [
            {"project_id": pid, "year": f.year, "cost": f.cost, "benefit": f.benefit}
            for f in sorted(flows, key=lambda f: f.year)
        ]

        def then(c: Connection) -> None:
            c.execute(delete(cba_years).where(cba_years.c.project_id == pid))
            c.execute(delete(cba).where(cba.c.project_id == pid))
            c.execute(
                cba.insert().values(
                    project_id=pid,
                    discount_rate=discount_rate,
                    currency=currency,
                    updated_at=now,
                    updated_by=ctx.actor,
                )
            )
            c.execute(cba_years.insert(), years)

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
            then=then,
        )

    return engine.work.change(code, actor, now, expect_version, decide)


def show_cba(engine: Engine, code: str, *, actor: str | None) -> CbaView | None:
    """The project's cost-benefit analysis with its figures; None if it has none."""
    with engine.db.read() as conn:
        ctx = engine.work.context(conn, engine.work.load(conn, code), actor)
        head = conn.execute(select(cba).where(cba.c.project_id == ctx.row.id)).first()
        if head is None:
            return None
        rows = conn.execute(
            select(cba_years).where(cba_years.c.project_id == ctx.row.id).order_by(cba_years.c.year)
        ).all()
    return cba_view(
        ctx.code,
        [maths.YearFlow(r.year, Decimal(r.cost), Decimal(r.benefit)) for r in rows],
        Decimal(head.discount_rate),
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


def parse_flows_csv(text: str) -> list[maths.YearFlow]:
    """Yearly flows from spreadsheet text: a header with year, cost and benefit (Latvian
    gads, izmaksas, ieguvumi also work), comma, semicolon or tab separated, amounts with a
    decimal point or comma. UsageError names the first bad line."""
    import csv
    import io

    text = text.lstrip("\ufeff")
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise UsageError("the cost-benefit file is empty")
    try:
        dialect: Any = csv.Sniffer().sniff(lines[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO("\n".join(lines)), dialect)
    header = [h.strip().lower() for h in next(reader)]
    names = {
        "year": ("year", "gads"),
        "cost": ("cost", "costs", "izmaksas"),
        "benefit": ("benefit", "benefits", "ieguvumi"),
    }
    index: dict[str, int] = {}
    for key, spellings in names.items():
        found = [i for i, h in enumerate(header) if h in spellings]
        if not found:
            raise UsageError(
                f"the cost-benefit file needs a header with year, cost and benefit "
                f"(got {', '.join(header)})"
            )
        index[key] = found[0]
    out = []
    for n, row in enumerate(reader, start=2):
        try:
            year = int(row[index["year"]].strip())
            cost = Money.parse(row[index["cost"]] or "0").amount
            benefit = Money.parse(row[index["benefit"]] or "0").amount
        except (ValueError, IndexError):
            raise UsageError(
                f"line {n} of the cost-benefit file: {row!r} is not a year, a cost and a benefit"
            ) from None
        out.append(maths.YearFlow(year, cost, benefit))
    return out
