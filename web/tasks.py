"""The daily tasks that were only in the CLI: a project's details, its risk register and
cost-benefit analysis, editing an idea, and changing one's own password.

Every page calls the same engine function as the CLI; no rule is decided here. Every
project or idea form carries the version it was drawn from (a stale one is refused and
writes nothing), and every post redirects back with a message in the person's language
saying what was done (or, from `Web.guard`, why nothing was).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engine import accounts, details, ideas, planning, sessions
from engine.planning import MAX_YEARS
from web.auth import client_address
from web.base import Ctx, Web, version_field
from web.i18n import words
from web.sessions import COOKIE
from workflow import domains, limits
from workflow.cba import DEFAULT_DISCOUNT_RATE, YearFlow
from workflow.errors import NotAllowed, UsageError
from workflow.ideas import PRIORITY_TITLES, STATUS_TITLES, IdeaStatus, Priority
from workflow.labels import text
from workflow.money import EUR, LVL, Money
from workflow.risks import RiskStatus

CURRENCIES = (EUR, LVL)
EMPTY_ROWS = 3  # empty year rows under an analysis, for the next years
# The event's column names → the catalogue key that names them.
_COLUMN_WORDS = {
    "title": "title",
    "budget_amount": "budget",
    "budget_currency": "task_currency",
    "funding_instrument": "task_instrument",
    "partners": "partners",
    "dates": "task_dates",
}


def _lines(raw: str) -> list[str]:
    """One item per non-empty line of a text area."""
    return [line.strip() for line in raw.splitlines() if line.strip()]


def _flash_ok(web: Web, request: Request, message: str, back: str) -> Response:
    web.flash(request, "ok", message)
    return web.redirect(back)


# -- project details ----------------------------------------------------------------------


def _details_data(web: Web, code: str, ctx: Ctx) -> dict[str, Any]:
    eng = web.engine
    view = eng.project(code, actor=ctx.person, lang=ctx.lang, now=web.now())  # refuses first
    return {
        "p": view,
        "dates": details.project_dates(eng, code, actor=ctx.person, lang=ctx.lang),
        "instruments": details.instruments(eng, lang=ctx.lang),
        "currencies": CURRENCIES,
    }


async def details_page(web: Web, request: Request, ctx: Ctx) -> Response:
    data = await web.run(_details_data, web, request.path_params["code"], ctx)
    return web.render(request, "details.html", data, ctx=ctx)


async def details_post(web: Web, request: Request, ctx: Ctx) -> Response:
    code = request.path_params["code"]
    ctx.back = f"/projects/{code}/details"
    version = version_field(ctx)
    form = ctx.form.multi_items() if ctx.form is not None else []
    changes = {
        "title": ctx.field("title"),
        "budget": ctx.field("budget"),
        "currency": ctx.field("currency", EUR),
        "funding_instrument": ctx.field("funding_instrument").strip() or None,
        "partners": _lines(ctx.field("partners")),
        "dates": {k[5:]: v for k, v in form if k.startswith("date_") and isinstance(v, str)},
    }
    out = await web.run(
        details.edit_details,
        web.engine,
        code,
        changes,
        actor=ctx.person,
        now=web.now(),
        expect_version=version,
    )
    w = words(ctx.lang)
    named = (w[_COLUMN_WORDS[c]] for c in out.data["changes"])
    what = ", ".join(n[:1].lower() + n[1:] for n in named)  # labels, mid-sentence
    return _flash_ok(web, request, w["task_details_saved"].format(fields=what), ctx.back)


# -- risks --------------------------------------------------------------------------------


def _risks_data(web: Web, code: str, ctx: Ctx) -> dict[str, Any]:
    eng = web.engine
    view = eng.project(code, actor=ctx.person, lang=ctx.lang, now=web.now())  # refuses first
    people = details.people_who_see(eng, code, actor=ctx.person)
    return {
        "p": view,
        "risks": planning.list_risks(eng, code, actor=ctx.person),
        "people": people,
        "names": {p.id: p.name for p in people},
        "statuses": [s.value for s in RiskStatus],
        "ratings": range(1, 6),
    }


async def risks_page(web: Web, request: Request, ctx: Ctx) -> Response:
    data = await web.run(_risks_data, web, request.path_params["code"], ctx)
    return web.render(request, "risks.html", data, ctx=ctx)


def _rating(ctx: Ctx, name: str) -> int | None:
    """A 1–5 rating from a select ("" is not rated)."""
    raw = ctx.field(name).strip()
    if not raw:
        return None
    if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 5:
        return int(raw)
    raise UsageError(
        f"the {name} {raw[:10]!r} is not 1 to 5", code="risk.bad_rating", field=name, value=raw[:10]
    )


def _risk_fields(ctx: Ctx) -> dict[str, Any]:
    return {
        "likelihood": _rating(ctx, "likelihood"),
        "impact": _rating(ctx, "impact"),
        "owner": ctx.field("owner").strip() or None,
        "mitigation": ctx.field("mitigation"),
        "status": ctx.field("status", RiskStatus.open.value),
    }


async def risk_add(web: Web, request: Request, ctx: Ctx) -> Response:
    code = request.path_params["code"]
    ctx.back = f"/projects/{code}/risks"
    version = version_field(ctx)
    out = await web.run(
        planning.add_risk,
        web.engine,
        code,
        title=ctx.field("title"),
        actor=ctx.person,
        now=web.now(),
        expect_version=version,
        **_risk_fields(ctx),
    )
    said = words(ctx.lang)["task_risk_added"].format(ref=f"R{out.data['risk']}")
    return _flash_ok(web, request, said, ctx.back)


def _risk_number(ref: str) -> int:
    raw = ref.strip().upper().removeprefix("R")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise UsageError(
            f"{ref[:40]!r} is not a risk number", code="risk.bad_number", value=ref[:40]
        )
    return int(raw)


async def risk_update(web: Web, request: Request, ctx: Ctx) -> Response:
    code = request.path_params["code"]
    ctx.back = f"/projects/{code}/risks"
    version = version_field(ctx)
    number = _risk_number(request.path_params["ref"])
    out = await web.run(
        planning.update_risk,
        web.engine,
        code,
        number,
        _risk_fields(ctx),
        actor=ctx.person,
        now=web.now(),
        expect_version=version,
    )
    said = words(ctx.lang)["task_risk_saved"].format(ref=f"R{out.data['risk']}")
    return _flash_ok(web, request, said, ctx.back)


# -- cost-benefit analysis ------------------------------------------------------------------


def _percent(fraction: Decimal) -> str:
    """A fraction as the percentage a person types: 0.04 → "4", 0.035 → "3.5"."""
    shown = f"{fraction * 100:.4f}".rstrip("0").rstrip(".")
    return shown or "0"


def _cba_data(
    web: Web, code: str, ctx: Ctx, rows: list[tuple[str, str, str]] | None, extra: int
) -> dict[str, Any]:
    eng = web.engine
    view = eng.project(code, actor=ctx.person, lang=ctx.lang, now=web.now())  # refuses first
    cba = planning.show_cba(eng, code, actor=ctx.person)
    if rows is None:
        rows = [(str(y.year), str(y.cost), str(y.benefit)) for y in cba.years] if cba else []
    rows = rows + [("", "", "")] * max(0, min(extra, MAX_YEARS - len(rows)))
    rate = cba.discount_rate if cba else DEFAULT_DISCOUNT_RATE
    return {
        "p": view,
        "cba": cba,
        "rows": rows,
        "rate": _percent(rate),
        "currency": cba.currency if cba else EUR,
        "currencies": CURRENCIES,
        "max_rows": MAX_YEARS,
    }


def _extra(raw: str | None) -> int:
    """How many empty rows to add (the "more rows" number), within the analysis' bound."""
    raw = (raw or "").strip()
    return min(int(raw), MAX_YEARS) if raw.isascii() and raw.isdigit() else EMPTY_ROWS


async def cba_page(web: Web, request: Request, ctx: Ctx) -> Response:
    extra = _extra(request.query_params.get("rows"))
    data = await web.run(_cba_data, web, request.path_params["code"], ctx, None, extra)
    return web.render(request, "cba.html", data, ctx=ctx)


def _posted_rows(ctx: Ctx) -> list[tuple[str, str, str]]:
    """The year table as typed, rows left wholly empty dropped."""
    form = ctx.form
    if form is None:
        return []
    years, costs, benefits = (
        [str(v) for v in form.getlist(name)] for name in ("year", "cost", "benefit")
    )
    rows = zip(years, costs, benefits, strict=False)
    return [(y.strip(), c.strip(), b.strip()) for y, c, b in rows if (y + c + b).strip()]


def _flows(rows: list[tuple[str, str, str]]) -> list[YearFlow]:
    flows = []
    for year, cost, benefit in rows[: MAX_YEARS + 1]:  # one more: the engine names the bound
        try:
            amounts = [Money.parse(v or "0").amount for v in (cost, benefit)]
            flows.append(YearFlow(int(year), amounts[0], amounts[1]))
        except ValueError:
            raise UsageError(
                f"{year} {cost} {benefit}: expected a year, a cost and a benefit",
                code="cba.bad_year_flow",
                year=year[:10],
                cost=cost[:20],
                benefit=benefit[:20],
            ) from None
    if not flows:
        raise UsageError("give the yearly flows", code="cba.no_flows")
    return flows


def _rate(raw: str) -> Decimal:
    try:
        return Decimal(raw.strip().rstrip("%").strip().replace(",", ".")) / 100
    except InvalidOperation:
        raise UsageError(
            f"{raw[:20]!r} is not a percentage", code="cba.bad_rate", value=raw[:20]
        ) from None


async def cba_post(web: Web, request: Request, ctx: Ctx) -> Response:
    code = request.path_params["code"]
    ctx.back = f"/projects/{code}/cba"
    rows = _posted_rows(ctx)
    if ctx.field("more"):  # more empty rows, keeping what was typed; nothing is saved
        extra = _extra(ctx.field("rows"))
        data = await web.run(_cba_data, web, code, ctx, rows, extra)
        data.update(rate=ctx.field("rate"), currency=ctx.field("currency", EUR))
        return web.render(request, "cba.html", data, ctx=ctx)
    version = version_field(ctx)
    out = await web.run(
        planning.set_cba,
        web.engine,
        code,
        _flows(rows),
        actor=ctx.person,
        now=web.now(),
        discount_rate=_rate(ctx.field("rate")),
        currency=ctx.field("currency", EUR),
        expect_version=version,
    )
    said = words(ctx.lang)["task_cba_saved"].format(version=out.version)
    return _flash_ok(web, request, said, ctx.back)


# -- ideas ----------------------------------------------------------------------------------


def _idea_data(web: Web, ref: str, ctx: Ctx) -> dict[str, Any]:
    eng = web.engine
    idea = ideas.get_idea(eng, ref, actor=ctx.person, lang=ctx.lang)
    with eng.db.read() as conn:
        org = eng.org_index(conn)
        key, levels = eng.role_levels(conn)
    units = [
        (u, text(spec.name, ctx.lang, u))
        for u, spec in org.org.units.items()
        if u == idea.unit or org.acting_roles(ctx.person, u, levels, key)
    ]
    statuses = [s for s in IdeaStatus if s != IdeaStatus.promoted or idea.status == s.value]
    return {
        "i": idea,
        "units": units,
        "instruments": details.instruments(eng, lang=ctx.lang),
        "statuses": [(s.value, STATUS_TITLES[s][ctx.lang]) for s in statuses],
        "priorities": [(p.value, PRIORITY_TITLES[p][ctx.lang]) for p in Priority],
        "currencies": CURRENCIES,
    }


async def idea_edit_page(web: Web, request: Request, ctx: Ctx) -> Response:
    data = await web.run(_idea_data, web, request.path_params["ref"], ctx)
    return web.render(request, "idea_edit.html", data, ctx=ctx)


def _idea_cost(raw: str, currency: str) -> tuple[Decimal | None, str]:
    """(amount, currency) from the cost field ("" clears it; "21828 LVL" names its own)."""
    if not raw.strip():
        return None, currency
    try:
        money = Money.parse(raw, currency)
    except ValueError:
        return domains.money("cost", raw), currency  # refused (domain.money), naming the field
    return money.amount, money.currency


async def idea_edit_post(web: Web, request: Request, ctx: Ctx) -> Response:
    ref = request.path_params["ref"]
    ctx.back = f"/ideas/{ideas.parse_ref(ref)}/edit"
    version = version_field(ctx)
    cost, currency = _idea_cost(ctx.field("cost"), ctx.field("currency", EUR))
    form = ctx.form
    changes = {
        "title": ctx.field("title"),
        "description": ctx.field("description"),
        "unit": ctx.field("unit"),
        "municipalities": _lines(ctx.field("municipalities")),
        "organisations": _lines(ctx.field("organisations")),
        "instruments": [str(v) for v in form.getlist("instruments")] if form else [],
        "cost": cost,
        "currency": currency,
        "priority": ctx.field("priority", Priority.medium.value),
        "tags": ctx.field("tags").replace(",", " ").split(),
    }
    if ctx.field("status"):
        changes["status"] = ctx.field("status")
    idea = await web.run(
        ideas.edit_idea,
        web.engine,
        ref,
        changes,
        actor=ctx.person,
        now=web.now(),
        expect_version=version,
        lang=ctx.lang,
    )
    said = words(ctx.lang)["task_idea_saved"].format(idea=idea.id)
    return _flash_ok(web, request, said, ctx.back)


# -- account --------------------------------------------------------------------------------


async def account_page(web: Web, request: Request, ctx: Ctx) -> Response:
    return web.render(request, "account.html", {"minimum": accounts.MIN_LENGTH}, ctx=ctx)


async def account_post(web: Web, request: Request, ctx: Ctx) -> Response:
    """Change one's own password: the current one is checked (a wrong one counts as a
    failed sign-in, so this form cannot be used to guess it), the new one typed twice;
    every other session of the person ends."""
    ctx.back = "/account"
    w = words(ctx.lang)
    current, new, again = (ctx.field(n) for n in ("current", "new", "again"))
    address, now, db = client_address(request), web.now(), web.engine.db
    if await web.run(sessions.blocked, db, ctx.person, address, now):
        web.flash(request, "error", w["throttled"])
        return web.redirect(ctx.back)
    if len(current) > limits.TEXT["password"] or not await web.run(
        accounts.check_password, web.engine, ctx.person, current
    ):
        await web.run(sessions.failed, db, ctx.person, address, now)
        raise NotAllowed("the current password is not right", code="account.wrong_password")
    await web.run(sessions.succeeded, db, ctx.person)
    if new != again:
        raise UsageError("the two new passwords differ", code="account.mismatch")
    token = request.cookies.get(COOKIE, "")
    await web.run(
        accounts.set_password, web.engine, ctx.person, new, actor=ctx.person, keep_session=token
    )
    return _flash_ok(web, request, w["task_password_changed"], ctx.back)


def routes(web: Web) -> list[Route]:
    """The task pages. They must come before `web.projects`' catch-all
    ``/projects/{code}/{verb}`` form route, which would otherwise take their posts."""
    g = web.guard
    return [
        Route("/projects/{code}/details", g(details_page), methods=["GET"]),
        Route("/projects/{code}/details", g(details_post), methods=["POST"]),
        Route("/projects/{code}/risks", g(risks_page), methods=["GET"]),
        Route("/projects/{code}/risks", g(risk_add), methods=["POST"]),
        Route("/projects/{code}/risks/{ref}", g(risk_update), methods=["POST"]),
        Route("/projects/{code}/cba", g(cba_page), methods=["GET"]),
        Route("/projects/{code}/cba", g(cba_post), methods=["POST"]),
        Route("/ideas/{ref}/edit", g(idea_edit_page), methods=["GET"]),
        Route("/ideas/{ref}/edit", g(idea_edit_post), methods=["POST"]),
        Route("/account", g(account_page), methods=["GET"]),
        Route("/account", g(account_post), methods=["POST"]),
    ]
