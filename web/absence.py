"""The absence page (/account/absence): a person's own current and future absences, and
for heads of a unit and coordinators those of the people they may set them for. The
engine (engine/absence.py) decides who may set what; this page only asks it. No reason
is asked: an absence says when, never why."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engine import absence
from web.base import Ctx, Web
from web.i18n import words
from workflow.errors import UsageError

BACK = "/account/absence"


def _date(raw: Any, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(raw or "").strip()[:10])
    except ValueError:
        raise UsageError(f"{field}: not a date (YYYY-MM-DD)", code="absence.bad_date") from None


def _people(web: Web, person: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Whom `person` may set absences for (themselves first), and who may be a deputy
    (everyone else), as (id, name)."""
    with web.engine.db.read() as conn:
        org = web.engine.org_index(conn)
    people = org.org.people
    chosen = [p for p in people if p != person and absence.may_set(org, person, p)]
    everyone = sorted((p for p in people if p != person), key=lambda p: people[p].name)
    return (
        [(p, people[p].name) for p in [person, *sorted(chosen)]],
        [(p, people[p].name) for p in everyone],
    )


async def absence_page(web: Web, request: Request, ctx: Ctx) -> Response:
    listed = await web.run(absence.listed, web.engine, actor=ctx.person, now=web.now())
    people, everyone = await web.run(_people, web, ctx.person)
    context = {
        "mine": [v for v in listed if v.person == ctx.person],
        "others": [v for v in listed if v.person != ctx.person],
        "people": people,
        "everyone": everyone,
    }
    return web.render(request, "absence.html", context, ctx=ctx)


async def absence_post(web: Web, request: Request, ctx: Ctx) -> Response:
    form: dict[str, Any] = dict(ctx.form or {})
    ctx.back = BACK
    w = words(ctx.lang)
    if form.get("end"):
        raw = str(form.get("end"))
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 12):
            raise UsageError("not an absence number", code="absence.unknown", absence=raw[:12])
        await web.run(absence.end, web.engine, actor=ctx.person, absence_id=int(raw), now=web.now())
        web.flash(request, "ok", w["absence_saved"])
        return web.redirect(BACK)
    view = await web.run(
        absence.add,
        web.engine,
        actor=ctx.person,
        person=str(form.get("person") or ctx.person),
        starts_on=_date(form.get("from"), "from"),
        ends_on=_date(form.get("to"), "to"),
        deputy=str(form.get("deputy") or "").strip() or None,
        now=web.now(),
    )
    notes = [w[n.replace(".", "_", 1)] for n in view.notes]
    web.flash(request, "ok", " ".join([w["absence_saved"], *notes]))
    return web.redirect(BACK)


def routes(web: Web) -> list[Route]:
    return [
        Route(BACK, web.guard(absence_page), methods=["GET"]),
        Route(BACK, web.guard(absence_post), methods=["POST"]),
    ]
