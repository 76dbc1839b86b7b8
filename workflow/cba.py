"""Cost-benefit analysis: present values, NPV, benefit-cost ratio and IRR of yearly flows.

Conventions (those of the EU's CBA guide for investment projects):

- Year ``t`` counts from the first year of the analysis, which is not discounted:
  ``NPV = Σ (benefit_t − cost_t) / (1 + r)^t``. Missing years between the first and the
  last count as zero.
- ``BCR = PV(benefits) / PV(costs)``, undefined when nothing is spent.
- ``IRR`` is the rate at which NPV is zero. It exists and is unique when the net flows
  change sign exactly once (Descartes' rule of signs on NPV as a polynomial in
  ``1/(1+r)``); it is then found by bisection. With no sign change there is none; with
  several, the rates between −99 % and 10,000 % are scanned, and a single zero is
  returned while several are reported as ambiguous.

Yearly flows can also be read from a spreadsheet saved as CSV (`parse_flows_csv`).

Precision: everything is Decimal with 34 significant digits; the IRR is bisected until
its bracket is narrower than 1e-12 and returned rounded to 10 decimal places (so to
1e-8 %). Results are exact to the cent long before that.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from itertools import pairwise
from typing import Any

from workflow.errors import UsageError
from workflow.money import Money

DEFAULT_DISCOUNT_RATE = Decimal("0.04")
MAX_YEARS = 100
_PREC = 34
_TOLERANCE = Decimal("1e-12")
_IRR_PLACES = Decimal("1e-10")
_ZERO = Decimal(0)
_ONE = Decimal(1)


@dataclass(frozen=True)
class YearFlow:
    """Costs and benefits of one calendar year (both zero or more)."""

    year: int
    cost: Decimal
    benefit: Decimal

    @property
    def net(self) -> Decimal:
        return self.benefit - self.cost


@dataclass(frozen=True)
class IrrResult:
    """The internal rate of return as a fraction, or None with the reason why not."""

    rate: Decimal | None
    reason: str | None = None


@dataclass(frozen=True)
class Analysis:
    """The figures of one cost-benefit analysis at one discount rate."""

    discount_rate: Decimal
    first_year: int
    last_year: int
    total_costs: Decimal
    total_benefits: Decimal
    pv_costs: Decimal
    pv_benefits: Decimal
    npv: Decimal
    bcr: Decimal | None
    irr: IrrResult


def check_flows(flows: Iterable[YearFlow]) -> list[YearFlow]:
    """The flows sorted by year; ValueError naming the first problem (no years, a year
    twice, a negative amount, a span over MAX_YEARS)."""
    out = sorted(flows, key=lambda f: f.year)
    if not out:
        raise ValueError("a cost-benefit analysis needs at least one year")
    seen: set[int] = set()
    for f in out:
        if f.year in seen:
            raise ValueError(f"year {f.year} is given twice")
        seen.add(f.year)
        if f.cost < 0 or f.benefit < 0:
            raise ValueError(f"year {f.year}: costs and benefits are amounts of zero or more")
        if not (f.cost.is_finite() and f.benefit.is_finite()):
            raise ValueError(f"year {f.year}: not a number")
    if out[-1].year - out[0].year >= MAX_YEARS:
        raise ValueError(f"the analysis may span at most {MAX_YEARS} years")
    return out


def check_rate(rate: Decimal) -> Decimal:
    """`rate` if it is a fraction from 0 to 1 (0–100 %); ValueError otherwise."""
    if not rate.is_finite() or not (_ZERO <= rate <= _ONE):
        raise ValueError(f"a discount rate is from 0 % to 100 %, got {rate * 100} %")
    return rate


def series(flows: Sequence[YearFlow], pick: str = "net") -> list[Decimal]:
    """One value per year from the first to the last (zero for missing years):
    `pick` is "net", "cost" or "benefit"."""
    flows = check_flows(flows)
    first = flows[0].year
    out = [_ZERO] * (flows[-1].year - first + 1)
    for f in flows:
        out[f.year - first] = f.net if pick == "net" else getattr(f, pick)
    return out


def present_value(rate: Decimal, values: Sequence[Decimal]) -> Decimal:
    """Σ values[t] / (1 + rate)^t (t = 0 undiscounted)."""
    with localcontext() as ctx:
        ctx.prec = _PREC
        factor = _ONE + rate
        if factor <= 0:
            raise ValueError("a rate must be above −100 %")
        return sum((v / factor**t for t, v in enumerate(values)), _ZERO)


def npv(rate: Decimal, nets: Sequence[Decimal]) -> Decimal:
    """Net present value of yearly net flows, the first one undiscounted."""
    return present_value(rate, nets)


def bcr(rate: Decimal, flows: Sequence[YearFlow]) -> Decimal | None:
    """PV(benefits) / PV(costs); None when the costs are zero."""
    costs = present_value(rate, series(flows, "cost"))
    if costs == 0:
        return None
    with localcontext() as ctx:
        ctx.prec = _PREC
        return present_value(rate, series(flows, "benefit")) / costs


def _sign(value: Decimal) -> int:
    return (value > 0) - (value < 0)


def _poly(nets: Sequence[Decimal], x: Decimal) -> Decimal:
    """NPV as a polynomial in x = 1/(1+r) (Horner), so any x > 0 is a valid rate."""
    acc = _ZERO
    for v in reversed(nets):
        acc = acc * x + v
    return acc


def _bisect(nets: Sequence[Decimal], lo: Decimal, hi: Decimal) -> Decimal:
    """A root of the NPV polynomial in x between lo and hi, where it changes sign; as a rate."""
    s_lo = _sign(_poly(nets, lo))
    for _ in range(400):
        mid = (lo + hi) / 2
        s_mid = _sign(_poly(nets, mid))
        if s_mid == 0:
            lo = hi = mid
            break
        if s_mid == s_lo:
            lo = mid
        else:
            hi = mid
        # r = 1/x − 1, so the bracket in r is 1/lo − 1/hi wide.
        if abs(_ONE / lo - _ONE / hi) < _TOLERANCE:
            break
    x = (lo + hi) / 2
    return (_ONE / x - _ONE).quantize(_IRR_PLACES)


def _scan_rates() -> list[Decimal]:
    rates = [Decimal(r) / 100 for r in range(-99, 100)]  # −99 % … 99 % by 1 %
    rates += [Decimal(r) / 100 for r in range(100, 1000, 5)]  # 100 % … 995 % by 5 %
    rates += [Decimal(r) for r in range(10, 101)]  # 1,000 % … 10,000 %
    return rates


def _percent(rate: Decimal) -> str:
    return f"{rate * 100:.2f} %"


def irr(nets: Sequence[Decimal]) -> IrrResult:
    """The internal rate of return of yearly net flows, or None and why it is undefined."""
    with localcontext() as ctx:
        ctx.prec = _PREC
        signs = [_sign(v) for v in nets if v != 0]
        if not signs:
            return IrrResult(None, "IRR is undefined: every yearly net flow is zero")
        changes = sum(1 for a, b in pairwise(signs) if a != b)
        if changes == 0:
            which = (
                "benefits exceed costs in every year, so NPV is positive at any rate"
                if signs[0] > 0
                else "costs exceed benefits in every year, so NPV is negative at any rate"
            )
            return IrrResult(None, f"IRR is undefined: {which}")
        if changes == 1:
            # Exactly one positive root in x: bracket it from x → 0+ (r → ∞) upwards.
            s_low = signs[0]  # sign of NPV for x just above 0: the first non-zero term
            lo, hi = Decimal("1e-9"), _ONE
            while _sign(_poly(nets, lo)) != s_low:
                lo /= 10
            while _sign(_poly(nets, hi)) == s_low:
                lo, hi = hi, hi * 2
            return IrrResult(_bisect(nets, lo, hi))
        roots: list[Decimal] = []
        xs = [_ONE / (_ONE + r) for r in _scan_rates()]
        values = [_poly(nets, x) for x in xs]
        for i, (x, v) in enumerate(zip(xs, values, strict=True)):
            if v == 0:
                roots.append((_ONE / x - _ONE).quantize(_IRR_PLACES))
            elif i + 1 < len(xs) and values[i + 1] != 0 and _sign(values[i + 1]) != _sign(v):
                lo, hi = sorted((x, xs[i + 1]))
                roots.append(_bisect(nets, lo, hi))
        roots = sorted(set(roots))
        if len(roots) == 1:
            return IrrResult(roots[0])
        if not roots:
            return IrrResult(
                None,
                f"IRR is undefined: the net flows change sign {changes} times and NPV is "
                "zero at no rate between -99 % and 10,000 %",
            )
        return IrrResult(
            None,
            f"IRR is ambiguous: the net flows change sign {changes} times and NPV is zero at "
            f"{len(roots)} rates ({', '.join(_percent(r) for r in roots)}); judge by NPV",
        )


def analyse(flows: Iterable[YearFlow], rate: Decimal = DEFAULT_DISCOUNT_RATE) -> Analysis:
    """NPV, BCR and IRR of `flows` at `rate` (a fraction: 0.04 is 4 %); ValueError if the
    flows or the rate are invalid."""
    checked = check_flows(flows)
    check_rate(rate)
    costs, benefits = series(checked, "cost"), series(checked, "benefit")
    pv_costs, pv_benefits = present_value(rate, costs), present_value(rate, benefits)
    with localcontext() as ctx:
        ctx.prec = _PREC
        ratio = pv_benefits / pv_costs if pv_costs else None
        net = pv_benefits - pv_costs
    return Analysis(
        discount_rate=rate,
        first_year=checked[0].year,
        last_year=checked[-1].year,
        total_costs=sum(costs, _ZERO),
        total_benefits=sum(benefits, _ZERO),
        pv_costs=pv_costs,
        pv_benefits=pv_benefits,
        npv=net,
        bcr=ratio,
        irr=irr(series(checked, "net")),
    )


# -- yearly flows from a spreadsheet ------------------------------------------------------

_COLUMNS = {
    "year": ("year", "gads"),
    "cost": ("cost", "costs", "izmaksas"),
    "benefit": ("benefit", "benefits", "ieguvumi"),
}


def parse_flows_csv(text: str) -> list[YearFlow]:
    """Yearly flows from spreadsheet text: a header with year, cost and benefit (Latvian
    gads, izmaksas, ieguvumi also work), comma, semicolon or tab separated, amounts with a
    decimal point or comma. UsageError names the first bad line. The flows are not
    checked beyond being numbers (`analyse` checks them)."""
    text = text.lstrip("\ufeff")
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise UsageError("the cost-benefit file is empty", code="cba.file_empty")
    try:
        dialect: Any = csv.Sniffer().sniff(lines[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO("\n".join(lines)), dialect)
    header = [h.strip().lower() for h in next(reader)]
    index: dict[str, int] = {}
    for key, spellings in _COLUMNS.items():
        found = [i for i, h in enumerate(header) if h in spellings]
        if not found:
            raise UsageError(
                f"the cost-benefit file needs a header with year, cost and benefit "
                f"(got {', '.join(header)})",
                code="cba.file_header",
                header=header,
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
                f"line {n} of the cost-benefit file: {row!r} is not a year, a cost and a benefit",
                code="cba.file_line",
                line=n,
                row=row,
            ) from None
        out.append(YearFlow(year, cost, benefit))
    return out
