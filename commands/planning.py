"""`shema` commands: A project's risk register and cost-benefit analysis."""

from __future__ import annotations

from typing import Any

import click

from commands.base import (
    Settings,
    ShemaGroup,
    echo_json,
    expect_option,
    json_option,
    now,
    pass_settings,
    print_outcome,
    table,
)
from commands.projects import project

# -- planning tools: risks and cost-benefit analysis ---------------------------------


@project.group("risk", cls=ShemaGroup)
def project_risk() -> None:
    """The project's risk register (likelihood and impact 1-5, score = their product)."""


_rating = click.IntRange(1, 5)
_risk_status = click.Choice(["open", "mitigating", "closed"])


def _risk_number(value: str) -> int:
    from workflow.errors import UsageError

    raw = value.strip().upper().removeprefix("R")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise UsageError(
            f"{value[:40]!r} is not a risk number (e.g. R2 or 2)",
            code="risk.bad_number",
            value=value[:40],
        )
    return int(raw)


@project_risk.command("add")
@click.argument("code")
@click.option("--title", required=True, help="The risk, e.g. 'Būvdarbu izmaksas pārsniedz tāmi'.")
@click.option("--likelihood", type=_rating, default=None, help="1 (rare) to 5 (almost certain).")
@click.option("--impact", type=_rating, default=None, help="1 (minor) to 5 (severe).")
@click.option("--owner", default=None, help="The person who watches the risk.")
@click.option("--mitigation", default="", help="What is done to reduce it.")
@click.option("--status", type=_risk_status, default="open", show_default=True)
@expect_option
@json_option
@pass_settings
def project_risk_add(
    s: Settings,
    code: str,
    title: str,
    likelihood: int | None,
    impact: int | None,
    owner: str | None,
    mitigation: str,
    status: str,
    expect_version: int | None,
    as_json: bool,
) -> None:
    """Add a risk to the register (a project event)."""
    from engine.planning import add_risk

    out = add_risk(
        s.engine(),
        code,
        title=title,
        likelihood=likelihood,
        impact=impact,
        owner=owner,
        mitigation=mitigation,
        status=status,
        actor=s.who(),
        now=now(),
        expect_version=expect_version,
    )
    print_outcome(
        out, as_json, f"{out.code}: risk R{out.data['risk']} added; version {out.version}"
    )


@project_risk.command("list")
@click.argument("code")
@json_option
@pass_settings
def project_risk_list(s: Settings, code: str, as_json: bool) -> None:
    """The risk register, highest score first."""
    from engine.planning import list_risks

    rows = list_risks(s.engine(), code, actor=s.who())
    if as_json:
        echo_json([r.to_json() for r in rows])
        return
    table(
        [
            (r.ref, r.likelihood, r.impact, r.score, r.level, r.status, r.owner, r.title,
             r.mitigation)
            for r in rows
        ],
        ["risk", "L", "I", "score", "level", "status", "owner", "risk", "mitigation"],
    )  # fmt: skip


@project_risk.command("update")
@click.argument("code")
@click.argument("risk")
@click.option("--title", default=None)
@click.option("--likelihood", type=_rating, default=None)
@click.option("--impact", type=_rating, default=None)
@click.option("--owner", default=None)
@click.option("--mitigation", default=None)
@click.option("--status", type=_risk_status, default=None)
@expect_option
@json_option
@pass_settings
def project_risk_update(
    s: Settings, /, code: str, risk: str, expect_version: int | None, as_json: bool, **fields: Any
) -> None:
    """Change a risk (RISK is R2 or 2); a risk is closed, never deleted."""
    from engine.planning import update_risk

    changes = {k: v for k, v in fields.items() if v is not None}
    out = update_risk(
        s.engine(),
        code,
        _risk_number(risk),
        changes,
        actor=s.who(),
        now=now(),
        expect_version=expect_version,
    )
    print_outcome(
        out, as_json, f"{out.code}: risk R{out.data['risk']} updated; version {out.version}"
    )


@project.group("cba", cls=ShemaGroup)
def project_cba() -> None:
    """The project's cost-benefit analysis: NPV, benefit-cost ratio, IRR."""


@project_cba.command("set")
@click.argument("code")
@click.option(
    "--year",
    "years",
    nargs=3,
    multiple=True,
    metavar="YEAR COST BENEFIT",
    help="One year's costs and benefits, e.g. --year 2027 120000 0; repeat per year.",
)
@click.option(
    "--file",
    "flows_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="A CSV saved from a spreadsheet with columns year, cost, benefit "
    "(or gads, izmaksas, ieguvumi); comma, semicolon or tab separated.",
)
@click.option(
    "--discount-rate",
    "rate",
    default="4",
    show_default=True,
    help="Discount rate in per cent (4 or 3.5; '4%' works too).",
)
@click.option("--currency", default="EUR", show_default=True, help="EUR, or LVL for old figures.")
@expect_option
@json_option
@pass_settings
def project_cba_set(
    s: Settings,
    code: str,
    years: tuple[tuple[str, str, str], ...],
    flows_file: str | None,
    rate: str,
    currency: str,
    expect_version: int | None,
    as_json: bool,
) -> None:
    """Set (replace) the cost-benefit analysis from yearly flows."""
    from decimal import Decimal, InvalidOperation

    from engine.planning import set_cba
    from workflow.cba import YearFlow, parse_flows_csv
    from workflow.errors import UsageError
    from workflow.money import Money

    flows: list[YearFlow] = []
    if flows_file:
        from workflow.loader import read_small_text

        flows += parse_flows_csv(read_small_text(flows_file, "file of yearly flows"))
    for year, cost, benefit in years:
        try:
            flows.append(YearFlow(int(year), Money.parse(cost).amount, Money.parse(benefit).amount))
        except ValueError:
            raise UsageError(
                f"--year {year} {cost} {benefit}: expected a year, a cost and a benefit",
                code="cba.bad_year_flow",
                year=year,
                cost=cost,
                benefit=benefit,
            ) from None
    if not flows:
        raise UsageError(
            "give the yearly flows: --year YEAR COST BENEFIT (repeat) or --file",
            code="cba.no_flows",
        )
    try:
        fraction = Decimal(rate.strip().rstrip("%").strip().replace(",", ".")) / 100
    except InvalidOperation:
        raise UsageError(
            f"--discount-rate {rate!r} is not a percentage", code="cba.bad_rate", value=rate
        ) from None
    out = set_cba(
        s.engine(),
        code,
        flows,
        actor=s.who(),
        now=now(),
        discount_rate=fraction,
        currency=currency.upper(),
        expect_version=expect_version,
    )
    irr = out.data["irr"]
    print_outcome(
        out,
        as_json,
        f"{out.code}: cost-benefit analysis set; NPV {out.data['npv']} {out.data['currency']}, "
        f"BCR {out.data['bcr'] or '-'}, IRR "
        f"{'-' if irr is None else f'{Decimal(irr) * 100:.2f} %'}; version {out.version}",
    )


def _percent(fraction: Any) -> str:
    """A fraction as a percentage without trailing zeros: 0.04 → '4 %', 0.035 → '3.5 %'."""
    return f"{fraction * 100:.4f}".rstrip("0").rstrip(".") + " %"


@project_cba.command("show")
@click.argument("code")
@json_option
@pass_settings
def project_cba_show(s: Settings, code: str, as_json: bool) -> None:
    """The cost-benefit analysis: yearly flows, present values, NPV, BCR, IRR."""
    from engine.planning import show_cba
    from workflow.errors import NotFound

    view = show_cba(s.engine(), code, actor=s.who())
    if view is None:
        raise NotFound(
            f"{code} has no cost-benefit analysis: `shema project cba set {code} …`",
            code="cba.missing",
            project=code,
        )
    if as_json:
        echo_json(view.to_json())
        return
    cur = view.currency
    click.echo(f"{view.code}: cost-benefit analysis in {cur}, discount rate "
               f"{_percent(view.discount_rate)}")  # fmt: skip
    table(
        [(y.year, y.cost, y.benefit, y.net, y.discount_factor, y.present_value)
         for y in view.years],
        ["year", "cost", "benefit", "net", "factor", "present value"],
    )  # fmt: skip
    click.echo("")
    click.echo(f"  PV of costs:     {view.pv_costs} {cur}")
    click.echo(f"  PV of benefits:  {view.pv_benefits} {cur}")
    click.echo(f"  NPV:             {view.npv} {cur}"
               + (f" (= {view.npv_eur} EUR)" if view.npv_eur is not None else ""))  # fmt: skip
    click.echo(f"  BCR:             {view.bcr if view.bcr is not None else '-'}")
    if view.irr is not None:
        click.echo(f"  IRR:             {view.irr * 100:.2f} %")
    else:
        click.echo(f"  IRR:             - ({view.irr_reason})")
    for note in view.notes:
        click.echo(f"  note: {note}")
