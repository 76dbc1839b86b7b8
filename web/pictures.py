"""The portfolio in pictures (GET /report/pictures) and the printable report
(GET /report.pdf; `shema report pdf` prints the same through `printable`).

The charts are SVG drawn on the server by render/charts.py, every text in them escaped
there, so the page puts them inline; each has a table of its figures below it. Money per
year comes from the financing forecast (engine/forecast.py) when it is there; without it
the page says so. The PDF is the portfolio's tables, the ideas notebook and the charts,
laid out by WeasyPrint from web/templates/report_print.html.
"""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal
from typing import Any

from jinja2 import Environment
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engine import ideas
from engine.portfolio import Pictures, pictures
from engine.service import Engine
from engine.views import View
from render import charts
from render.charts import MoneyRow
from web.base import Ctx, Web
from web.i18n import words

PRINTED_LANES = 35  # the timeline in the PDF fits one page
PRINTED_IDEAS = 300  # the notebook in the PDF stops here and says how many are left out


def money_rows(
    engine: Engine, *, actor: str | None, now: dt.datetime, lang: str
) -> list[MoneyRow] | None:
    """The forecast's money per year and source (the source by its title), or None while
    there is no forecast module (engine/forecast.py is another part of the system)."""
    try:
        module: Any = importlib.import_module("engine.forecast")
    except ModuleNotFoundError as exc:
        if exc.name != "engine.forecast":
            raise
        return None
    found = module.forecast(engine, actor=actor, now=now, lang=lang)
    w = words(lang)
    return [
        (int(r.year), w.get(f"fin_source_{r.source}", str(r.source)), Decimal(r.amount))
        for r in found.by_year
    ]


def drawn(data: Pictures, money: list[MoneyRow] | None, lang: str) -> dict[str, Any]:
    """The four charts as markup, with what their tables show."""
    table = charts.money_table(money or [])
    return {
        "p": data,
        "timeline_svg": Markup(
            charts.timeline(data.lanes, data.generated_at, lang, running=data.running)
        ),
        "stages_svg": Markup(charts.stages(data.stages, lang)),
        "times_svg": Markup(
            charts.times(data.stages, data.handoffs, lang, sampled=len(data.lanes))
        ),
        "money_svg": Markup(charts.money(money, lang)) if money is not None else None,
        "money_years": table[0],
        "money_sources": table[1],
        "money_sums": table[2],
    }


async def pictures_page(web: Web, request: Request, ctx: Ctx) -> Response:
    now = web.now()
    data = await web.run(pictures, web.engine, actor=ctx.person, now=now, lang=ctx.lang)
    money = await web.run(money_rows, web.engine, actor=ctx.person, now=now, lang=ctx.lang)
    return web.render(request, "pictures.html", drawn(data, money, ctx.lang), ctx=ctx)


def printable(
    engine: Engine, env: Environment, *, actor: str | None, now: dt.datetime, lang: str
) -> bytes:
    """The printable report as PDF bytes."""
    return to_pdf(print_html(engine, env, actor=actor, now=now, lang=lang))


def print_html(
    engine: Engine, env: Environment, *, actor: str | None, now: dt.datetime, lang: str
) -> str:
    """The printable report as one HTML document (styles inside, nothing fetched)."""
    data = pictures(engine, actor=actor, now=now, limit=PRINTED_LANES, lang=lang)
    money = money_rows(engine, actor=actor, now=now, lang=lang)
    notebook: list[View] = list(ideas.list_ideas(engine, actor=actor, lang=lang))
    context = {
        **drawn(data, money, lang),
        "printing": True,
        "w": words(lang),
        "lang": lang,
        "r": data.report,
        "ideas": notebook[:PRINTED_IDEAS],
        "ideas_left_out": max(0, len(notebook) - PRINTED_IDEAS),
    }
    return env.get_template("report_print.html").render(context)


def to_pdf(html: str) -> bytes:
    """HTML to PDF with WeasyPrint (imported here: it loads Pango, and only this needs it)."""
    weasyprint: Any = importlib.import_module("weasyprint")
    return bytes(weasyprint.HTML(string=html, url_fetcher=_fetch_nothing).write_pdf())


def _fetch_nothing(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The report is self-contained: no URL in it is fetched, whatever it names."""
    raise ValueError(f"the printable report fetches nothing ({url[:60]})")


async def report_pdf(web: Web, request: Request, ctx: Ctx) -> Response:
    body = await web.run(
        printable, web.engine, web.templates.env, actor=ctx.person, now=web.now(), lang=ctx.lang
    )
    name = "portfelis.pdf" if ctx.lang == "lv" else "portfolio.pdf"
    return Response(
        body,
        media_type="application/pdf",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


def routes(web: Web) -> list[Route]:
    return [
        Route("/report/pictures", web.guard(pictures_page), methods=["GET"]),
        Route("/report.pdf", web.guard(report_pdf), methods=["GET"]),
    ]
