"""A project's financing plan page (costs, sources with the aid intensity, the quarterly
schedule, payment requests; a form for each) and the forecast's downloads.

Every page calls the same engine function as the CLI; no rule is decided here. Every
form carries the project version it was drawn from, and every post redirects back with
a message in the person's language (or, from `Web.guard`, why nothing was done).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engine import financing
from engine.forecast import forecast
from render.forecast import format_csv, workbook
from web.base import Ctx, Web, version_field
from web.i18n import words
from workflow.errors import UsageError
from workflow.financing import SOURCES, Quarter
from workflow.money import EUR, LVL, Money

CURRENCIES = (EUR, LVL)
EMPTY_ROWS = 4  # empty quarter rows under the schedule, for the next quarters
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _data(web: Web, code: str, ctx: Ctx) -> dict[str, Any]:
    eng = web.engine
    view = eng.project(code, actor=ctx.person, lang=ctx.lang, now=web.now())  # refuses first
    plan = financing.show(eng, code, actor=ctx.person)
    amounts = {s.source: s.amount for s in plan.sources}
    rows = [
        (str(q.year), str(q.quarter), str(q.expenditure), str(q.reimbursement))
        for q in plan.quarters
    ]
    return {
        "p": view,
        "fin": plan,
        "sources": [(s, amounts.get(s)) for s in SOURCES],
        "names": {s: words(ctx.lang).get(f"fin_source_{s}", s) for s in SOURCES},
        "rows": rows + [("", "", "", "")] * EMPTY_ROWS,
        "currencies": CURRENCIES,
    }


async def page(web: Web, request: Request, ctx: Ctx) -> Response:
    data = await web.run(_data, web, request.path_params["code"], ctx)
    return web.render(request, "financing.html", data, ctx=ctx)


def _amount(name: str, raw: str, *, required: bool = False) -> Decimal | None:
    """A typed amount ("850 000,00" or "850000"); None when empty and not required."""
    raw = raw.strip()
    if not raw and not required:
        return None
    try:
        return Money.parse(raw or "").amount
    except ValueError:
        raise UsageError(
            f"{name}: {raw[:30]!r} is not an amount",
            code="financing.bad_amount",
            field=name,
            value=raw[:30],
        ) from None


def _date(name: str, raw: str) -> dt.date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise UsageError(
            f"{name}: {raw[:20]!r} is not a date", code="financing.bad_date", field=name
        ) from None


def _quarters(ctx: Ctx) -> list[Quarter]:
    """The schedule as typed: one quarter per row, rows without amounts dropped."""
    form = ctx.form
    if form is None:
        return []
    columns = [[str(v) for v in form.getlist(n)] for n in ("year", "quarter", "spend", "back")]
    out: list[Quarter] = []
    for year, quarter, spend, back in zip(*columns, strict=False):
        amounts = [(k, _amount(k, v)) for k, v in (("expenditure", spend), ("reimbursement", back))]
        given = [(k, a) for k, a in amounts if a]
        if not given:
            continue
        if not (year.strip().isdigit() and quarter.strip().isdigit()):
            raise UsageError(
                f"{year} Q{quarter}: expected a year and a quarter",
                code="financing.bad_quarter_spec",
                spec=f"{year[:6]} {quarter[:2]}",
            )
        out.extend(Quarter(int(year), int(quarter), k, a) for k, a in given)
    return out


async def post(web: Web, request: Request, ctx: Ctx) -> Response:
    code = request.path_params["code"]
    ctx.back = f"/projects/{code}/financing"
    version = version_field(ctx)
    w = words(ctx.lang)
    what = ctx.field("form")
    if what == "request":
        raw = ctx.field("number").strip()
        submitted = _amount("submitted", ctx.field("submitted"), required=True)
        on = _date("submitted_on", ctx.field("submitted_on"))
        if submitted is None or on is None:
            raise UsageError("say what was submitted and when", code="financing.request_missing")
        await web.run(
            financing.record_request,
            web.engine,
            code,
            actor=ctx.person,
            now=web.now(),
            number=int(raw) if raw.isascii() and raw.isdigit() else None,
            submitted_amount=submitted,
            submitted_on=on,
            approved_amount=_amount("approved", ctx.field("approved")),
            approved_on=_date("approved_on", ctx.field("approved_on")),
            received_amount=_amount("received", ctx.field("received")),
            received_on=_date("received_on", ctx.field("received_on")),
            expect_version=version,
        )
        said = w["fin_request_saved"]
    elif what == "quarters":
        await web.run(
            financing.set_plan,
            web.engine,
            code,
            actor=ctx.person,
            now=web.now(),
            quarters=_quarters(ctx),
            expect_version=version,
        )
        said = w["fin_saved"]
    else:
        given = {s: _amount(s, ctx.field(f"source_{s}")) for s in SOURCES}
        await web.run(
            financing.set_plan,
            web.engine,
            code,
            actor=ctx.person,
            now=web.now(),
            eligible=_amount("eligible", ctx.field("eligible"), required=True),
            ineligible=_amount("ineligible", ctx.field("ineligible")) or Decimal("0.00"),
            currency=ctx.field("currency", EUR),
            sources={s: a for s, a in given.items() if a},
            expect_version=version,
        )
        said = w["fin_saved"]
    web.flash(request, "ok", said)
    return web.redirect(ctx.back)


# -- the forecast's downloads -------------------------------------------------------------


async def forecast_csv(web: Web, request: Request, ctx: Ctx) -> Response:
    unit = request.query_params.get("unit") or None
    delimiter = ";" if request.query_params.get("delimiter") == ";" else ","
    data = await web.run(
        forecast, web.engine, actor=ctx.person, now=web.now(), unit=unit, lang=ctx.lang
    )
    return Response(
        format_csv(data, ctx.lang, delimiter).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="prognoze.csv"'},
    )


async def forecast_xlsx(web: Web, request: Request, ctx: Ctx) -> Response:
    unit = request.query_params.get("unit") or None
    data = await web.run(
        forecast, web.engine, actor=ctx.person, now=web.now(), unit=unit, lang=ctx.lang
    )
    body = await web.run(workbook, data, ctx.lang)
    return Response(
        body,
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="prognoze.xlsx"'},
    )


def routes(web: Web) -> list[Route]:
    """The financing page and the forecast downloads; before `web.projects`' catch-all
    ``/projects/{code}/{verb}`` form route, which would otherwise take the posts."""
    g = web.guard
    return [
        Route("/projects/{code}/financing", g(page), methods=["GET"]),
        Route("/projects/{code}/financing", g(post), methods=["POST"]),
        Route("/report/forecast.csv", g(forecast_csv), methods=["GET"]),
        Route("/report/forecast.xlsx", g(forecast_xlsx), methods=["GET"]),
    ]
