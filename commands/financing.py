"""`shema project financing show|set`, `shema project payment-request add` and
`shema report forecast`.

Importing this module adds the groups under `project`, and makes `report` a group whose
bare call is still the portfolio report (cli.py imports it before it registers `report`).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import click

from commands import portfolio
from commands.base import (
    Settings,
    ShemaGroup,
    csv_delimiter,
    echo_json,
    emit,
    expect_option,
    json_option,
    now,
    pass_settings,
    table,
    write_file,
)
from commands.projects import project
from workflow import domains


def _money(name: str, value: str | None) -> Decimal | None:
    return None if value is None else domains.money(name, value.replace(" ", "").replace(",", "."))


def _day(value: dt.datetime | None) -> dt.date | None:
    return None if value is None else value.date()


@project.group("financing", cls=ShemaGroup)
def financing() -> None:
    """A project's financing plan: costs, sources, quarterly payments."""


@financing.command("show")
@click.argument("code")
@json_option
@pass_settings
def financing_show(s: Settings, code: str, as_json: bool) -> None:
    """The plan, its aid intensity, its quarters and its payment requests."""
    from engine.financing import show
    from render import formats
    from render.catalogue import words

    view = show(s.engine(), code, actor=s.who())
    if as_json:
        echo_json(view.to_json())
        return
    w, lang = words(s.lang), s.lang

    def m(amount: Decimal | None) -> str:
        return formats.money(amount, view.currency, lang)

    click.echo(f"{view.code}: {w['fin_title']}")
    if not view.has_plan:
        click.echo(w["fin_no_plan"])
    else:
        click.echo(f"{w['fin_eligible']}: {m(view.eligible)}")
        click.echo(f"{w['fin_ineligible']}: {m(view.ineligible)}")
        click.echo(f"{w['fin_total']}: {m(view.total)}")
        if view.total_eur is not None:
            click.echo(w["fin_lvl_note"].format(amount=formats.money(view.total_eur, "EUR", lang)))
        intensity = "—" if view.intensity is None else f"{formats.number(view.intensity, lang)} %"
        click.echo(f"{w['fin_intensity']}: {intensity}")
        if view.max_intensity is not None:
            click.echo(w["fin_intensity_max"].format(maximum=view.max_intensity))
        named = [[w.get(f"fin_source_{x.source}", x.source), m(x.amount)] for x in view.sources]
        table(named, [w["fin_source"], w["fin_amount"]])
        if view.quarters:
            click.echo("")
            table(
                [[q.year, q.quarter, m(q.expenditure), m(q.reimbursement)] for q in view.quarters],
                [w["fin_year"], w["fin_quarter"], w["fin_expenditure"], w["fin_reimbursement"]],
            )
    click.echo("")
    if not view.requests:
        click.echo(w["fin_no_requests"])
        return
    rows: list[list[Any]] = [
        [r.number, m(r.submitted_amount), r.submitted_on, m(r.approved_amount), r.approved_on]
        for r in view.requests
    ]
    for row, r in zip(rows, view.requests, strict=True):
        row.extend([m(r.received_amount), r.received_on or ""])
    keys = ("number", "submitted", "submitted_on", "approved", "approved_on", "received")
    table(rows, [w[f"fin_{k}"] for k in (*keys, "received_on")])


@financing.command("set")
@click.argument("code")
@click.option("--eligible", default=None, help="Eligible costs, e.g. 1000000.00.")
@click.option("--ineligible", default=None, help="Ineligible costs.")
@click.option("--currency", default=None, help="EUR, or LVL for a historical plan.")
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="SOURCE=AMOUNT",
    help="eu_fund, state_budget, municipality, partners or loan; repeatable; replaces "
    "every source. They must add up to eligible + ineligible.",
)
@click.option(
    "--quarter",
    "quarters",
    multiple=True,
    metavar="YEARQN:KIND=AMOUNT",
    help="A planned payment, e.g. 2026Q1:expenditure=120000 or 2026Q3:reimbursement=90000; "
    "repeatable; replaces the whole schedule.",
)
@click.option("--no-quarters", is_flag=True, help="Remove every planned payment.")
@expect_option
@json_option
@pass_settings
def financing_set(
    s: Settings,
    code: str,
    eligible: str | None,
    ineligible: str | None,
    currency: str | None,
    sources: tuple[str, ...],
    quarters: tuple[str, ...],
    no_quarters: bool,
    expect_version: int | None,
    as_json: bool,
) -> None:
    """Change the financing plan: what is given replaces, the rest is kept.

    \b
    Example:
      shema project financing set OGRE-2026-0001 --eligible 1000000 --ineligible 20000 \\
        --source eu_fund=850000 --source state_budget=45000 --source municipality=125000 \\
        --quarter 2026Q2:expenditure=400000 --quarter 2026Q4:reimbursement=340000
    """
    from engine.financing import set_plan
    from workflow.financing import parse_quarter, parse_source

    if quarters and no_quarters:
        raise click.UsageError("give --quarter or --no-quarters, not both")
    parsed_sources = dict(parse_source(x) for x in sources) if sources else None
    schedule = [parse_quarter(x) for x in quarters] if quarters or no_quarters else None
    out = set_plan(
        s.engine(),
        code,
        actor=s.who(),
        now=now(),
        eligible=_money("eligible costs", eligible),
        ineligible=_money("ineligible costs", ineligible),
        currency=None if currency is None else currency.strip().upper(),
        sources=parsed_sources,
        quarters=schedule,
        expect_version=expect_version,
    )
    if as_json:
        echo_json(out.to_json())
        return
    intensity = out.data.get("intensity")
    click.echo(
        f"{out.code}: financing plan set (aid intensity {intensity} %); version {out.version}"
    )


@project.group("payment-request", cls=ShemaGroup)
def payment_request() -> None:
    """A project's payment requests to the managing authority."""


@payment_request.command("add")
@click.argument("code")
@click.option("--number", type=int, default=None, help="Correct this request (default: a new one).")
@click.option("--submitted", required=True, help="The amount asked for.")
@click.option("--submitted-on", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--approved", default=None, help="The amount approved (with --approved-on).")
@click.option("--approved-on", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--received", default=None, help="The amount received (with --received-on).")
@click.option("--received-on", type=click.DateTime(["%Y-%m-%d"]), default=None)
@expect_option
@json_option
@pass_settings
def payment_request_add(
    s: Settings,
    code: str,
    number: int | None,
    submitted: str,
    submitted_on: dt.datetime,
    approved: str | None,
    approved_on: dt.datetime | None,
    received: str | None,
    received_on: dt.datetime | None,
    expect_version: int | None,
    as_json: bool,
) -> None:
    """Record a payment request: what was submitted, approved and received, and when."""
    from engine.financing import record_request

    amount = _money("submitted amount", submitted)
    assert amount is not None
    out = record_request(
        s.engine(),
        code,
        actor=s.who(),
        now=now(),
        number=number,
        submitted_amount=amount,
        submitted_on=submitted_on.date(),
        approved_amount=_money("approved amount", approved),
        approved_on=_day(approved_on),
        received_amount=_money("received amount", received),
        received_on=_day(received_on),
        expect_version=expect_version,
    )
    if as_json:
        echo_json(out.to_json())
        return
    click.echo(f"{out.code}: payment request {out.data['request']} recorded; version {out.version}")


# -- the forecast ---------------------------------------------------------------------


_PORTFOLIO = portfolio.report  # the bare `shema report`, kept before it is replaced below


@click.pass_context
def _report(ctx: click.Context, /, **options: Any) -> None:
    """The portfolio report, unless a subcommand (`forecast`) was asked for."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(_PORTFOLIO.callback, **options)  # type: ignore[arg-type]


report = ShemaGroup(
    "report",
    params=list(_PORTFOLIO.params),
    callback=_report,
    invoke_without_command=True,
    help=_PORTFOLIO.help,
)


@report.command("forecast")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "xlsx", "json"]), default="table",
    show_default=True,
)  # fmt: skip
@click.option("--unit", default=None, help="Only this unit and the units below it.")
@click.option("--delimiter", default=",", show_default=True, help="CSV: ',' or ';' (or 'tab').")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None)
@pass_settings
def forecast_command(
    s: Settings, fmt: str, unit: str | None, delimiter: str, output: str | None
) -> None:
    """Municipal co-financing and expected EU and state reimbursements per year and quarter,
    by funding instrument and by unit, and the cash-flow gap (xlsx needs -o FILE)."""
    from engine.forecast import forecast
    from render.forecast import format_csv, format_text, workbook

    data = forecast(s.engine(), actor=s.who(), now=now(), unit=unit, lang=s.lang)
    if fmt == "xlsx":
        if not output or output == "-":
            raise click.UsageError("--format xlsx writes a file: give -o FILE.xlsx")
        write_file(output, workbook(data, s.lang))
        click.echo(f"wrote {output}")
        return
    if fmt == "json":
        out = json.dumps(data.to_json(), ensure_ascii=False, indent=2, default=str) + "\n"
    elif fmt == "csv":
        out = format_csv(data, s.lang, csv_delimiter(delimiter))
    else:
        out = format_text(data, s.lang)
    emit(out, output)


portfolio.report = report  # `shema report` stays the portfolio; `report forecast` is new
