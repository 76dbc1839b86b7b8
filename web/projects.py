"""Project pages: waiting for me, the projects list, one project and its forms.

Every form posts the project version it was drawn from; the engine refuses a stale one.
No rule is decided here: buttons are drawn from `Engine.actions`, and every post calls
the service API, whose refusal becomes a flash message on the redirected page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engine import absence, planning, queue
from engine.listing import ORDERS, Filters
from engine.permissions import OrgIndex
from engine.service import Engine
from engine.verbs import VERBS, Param, perform
from engine.views import ProjectView
from engine.work import Outcome
from render.speech import Speech
from web.base import Ctx, Web, version_field
from web.diagrams import svg
from web.i18n import words
from workflow import limits
from workflow.diagram import mermaid
from workflow.errors import NotFound, UsageError
from workflow.labels import text

DUE_SOON_DAYS = 2
# The page section each form belongs to: after a post, focus returns there.
SECTIONS = {
    "check": "h-check",
    "advance": "h-actions",
    "ack": "h-actions",
    "comment": "h-history",
    "hold": "h-work",
    "resume": "h-work",
    "assign": "h-work",
}


def due_soon(p: ProjectView) -> bool:
    return not p.overdue and p.days_left is not None and p.days_left <= DUE_SOON_DAYS


def display_names(
    conn: Connection, org: OrgIndex, lang: str, now: dt.datetime | None
) -> dict[str, str]:
    """Each person's name for pages, "(prombūtnē līdz 15.07.)" added while away at `now`."""
    names = {pid: p.name or pid for pid, p in org.org.people.items()}
    if now is None:
        return names
    w = words(lang)
    for pid, until in absence.of_people(conn, org, now).items():
        if pid in names:
            away = w["absence_away_until"].format(date=f"{until:%d.%m.}")
            names[pid] = f"{names[pid]} ({away})"
    return names


def _choices(
    engine: Engine, person: str, lang: str, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Units (all, and those `person` acts for), the loaded schemes and their stages, for
    forms (a stage is named with its scheme when several are loaded)."""
    with engine.db.read() as conn:
        org = engine.org_index(conn)
        key, levels = engine.role_levels(conn)
        schemes = engine.loaded_schemes(conn)
        names = display_names(conn, org, lang, now)
    units = [(u, text(spec.name, lang, u)) for u, spec in org.org.units.items()]
    mine = [(u, n) for u, n in units if org.acting_roles(person, u, levels, key)]
    several = len(schemes) > 1
    stages: dict[str, str] = {}
    for cs in schemes:
        prefix = f"{text(cs.scheme.title, lang, cs.name)}: " if several else ""
        for s in cs.scheme.stages:
            stages.setdefault(s, prefix + cs.scheme.stage_title(s, lang))
    return {
        "units": units,
        "my_units": mine,
        "stages": list(stages.items()),
        "schemes": [(cs.name, text(cs.scheme.title, lang, cs.name)) for cs in schemes],
        "names": names,
    }


async def mine(web: Web, request: Request, ctx: Ctx) -> Response:
    """What asks something of the person now, grouped by what is asked, most urgent
    first within each group."""
    rows = await web.run(
        web.engine.list_projects, actor=ctx.person, mine=True, lang=ctx.lang, now=web.now()
    )
    ctx.waiting = len(rows)
    speech, names = await web.run(_speech, web.engine, ctx.lang, web.now())
    groups: dict[str, list[ProjectView]] = {kind: [] for kind in queue.KINDS}
    for row in rows:
        groups[row.asks[0].kind].append(row)
    return web.render(
        request,
        "mine.html",
        {
            "groups": [(kind, found) for kind, found in groups.items() if found],
            "names": names,
            "asked": speech.asks,
            "soon": due_soon,
        },
        ctx=ctx,
    )


def _speech(eng: Engine, lang: str, now: dt.datetime) -> tuple[Speech, dict[str, str]]:
    with eng.db.read() as conn:
        org = eng.org_index(conn)
        return Speech(lang, org), display_names(conn, org, lang, now)


async def project_list(web: Web, request: Request, ctx: Ctx) -> Response:
    """The projects the person may see: searched, filtered, sorted and counted in the
    database, a page at a time; running ones unless finished ones are asked for."""
    q = request.query_params
    unit, stage = q.get("unit") or None, q.get("stage") or None
    overdue, finished = bool(q.get("overdue")), bool(q.get("finished"))
    search = (q.get("q") or "").strip()[: limits.TEXT["title"]]
    sort = q.get("sort") or "code"
    if sort not in ORDERS:
        sort = "code"
    raw_page = q.get("page") or "1"
    page = int(raw_page) if raw_page.isascii() and raw_page.isdigit() and len(raw_page) < 7 else 1
    now = web.now()
    filters = Filters(
        unit=unit,
        stage=stage,
        overdue_at=now if overdue else None,
        search=search or None,
        finished=finished,
    )
    listed = await web.run(
        web.engine.page_of_projects,
        actor=ctx.person,
        filters=filters,
        sort=sort,
        page=page,
        lang=ctx.lang,
        now=now,
    )
    choices = await web.run(_choices, web.engine, ctx.person, ctx.lang, now)
    asked = [(k, v) for k, v in q.multi_items() if k != "page" and v]
    return web.render(
        request,
        "projects.html",
        {
            "rows": listed.rows,
            "listed": listed,
            "page_url": lambda n: "/projects?" + urlencode([*asked, ("page", str(n))]),
            "soon": due_soon,
            "unit": unit,
            "stage": stage,
            "overdue": overdue,
            "finished": finished,
            "q": search,
            "sort": sort,
            **choices,
        },
        ctx=ctx,
    )


async def project_new(web: Web, request: Request, ctx: Ctx) -> Response:
    ctx.back = "/projects"
    out = await web.run(
        web.engine.create_project,
        title=ctx.field("title"),
        unit=ctx.field("unit"),
        scheme=ctx.field("scheme") or None,
        actor=ctx.person,
        now=web.now(),
    )
    web.flash(request, "ok", f"{out.code}: {words(ctx.lang)['done']}")
    return web.redirect(f"/projects/{out.code}")


def _project_data(web: Web, code: str, ctx: Ctx) -> dict[str, Any]:
    eng, lang, person, now = web.engine, ctx.lang, ctx.person, web.now()
    view = eng.project(code, actor=person, lang=lang, now=now)  # refuses first
    actions = eng.actions(code, actor=person, lang=lang, now=now)
    can = eng.controls(code, actor=person, now=now)
    events = eng.history(code, actor=person, now=now)
    risks = planning.list_risks(eng, code, actor=person)
    cba = planning.show_cba(eng, code, actor=person)
    with eng.db.read() as conn:
        cs = eng.compiled(conn, eng.work.load(conn, code).scheme_version_id)
        org = eng.org_index(conn)
        speech = Speech(lang, org, cs.scheme)
        names = display_names(conn, org, lang, now)
    scheme = cs.scheme
    stage = scheme.stages[view.stage]
    return {
        "p": view,
        "actions": actions,
        "can": can,
        "refused": {verb: speech.refusal(exc) for verb, exc in can.refused.items()},
        "blocked": lambda a: [speech.blocked(why, view.stage) for why in a.why],
        "said": speech.event,
        "events": events,
        "risks": risks,
        "cba": cba,
        "names": names,
        "stage_about": text(stage.description, lang, ""),
        "date_title": lambda d: text(scheme.dates[d].title if d in scheme.dates else None, lang, d),
        "stage_title": lambda s: scheme.stage_title(s, lang) if s else "",
        "action_title": lambda a: scheme.action_title(a, lang) if a else "",
        "item_title": lambda i: speech.item(i, view.stage),
        "diagram": mermaid(scheme, lang, highlight=view.stage),
        "diagram_svg": svg(scheme, cs.version_id, view.stage, lang),
        "soon": due_soon(view),
    }


async def project_page(web: Web, request: Request, ctx: Ctx) -> Response:
    code = request.path_params["code"]
    data = await web.run(_project_data, web, code, ctx)
    return web.render(request, "project.html", data, ctx=ctx)


async def project_diagram(web: Web, request: Request, ctx: Ctx) -> Response:
    """The project's scheme diagram alone, full size (opened from the project page)."""
    code = request.path_params["code"]

    def draw() -> str:
        view = web.engine.project(code, actor=ctx.person, lang=ctx.lang)
        with web.engine.db.read() as conn:
            cs = web.engine.compiled(conn, web.engine.work.load(conn, code).scheme_version_id)
        return svg(cs.scheme, cs.version_id, view.stage, ctx.lang) or ""

    drawn = await web.run(draw)
    if not drawn:
        raise NotFound("no diagram", code="web.no_diagram")
    return Response(drawn, media_type="image/svg+xml")


async def project_post(web: Web, request: Request, ctx: Ctx) -> Response:
    """One endpoint per verb: check, advance, ack, comment, hold, resume, assign; all carry
    `version`, and every rule is the engine's."""
    code, verb = request.path_params["code"], request.path_params["verb"]
    ctx.back = f"/projects/{code}"
    version = version_field(ctx)
    verb_spec = VERBS.get(verb)
    if verb_spec is None or not verb_spec.web:
        raise UsageError(f"no such form {verb[:40]!r}", code="web.no_form", form=verb[:40])
    values = {p.name: _form_value(ctx, p) for p in verb_spec.params}
    before = await web.run(_stage_of, web.engine, code)
    out = await web.run(
        perform,
        web.engine,
        verb,
        code,
        values,
        actor=ctx.person,
        now=web.now(),
        expect_version=version,
    )
    said = await web.run(_said, web.engine, out, values, before, ctx.lang)
    web.flash(request, "ok", said)
    moved = out.kind == "advanced" and out.stage != before
    return web.redirect(ctx.back if moved else f"{ctx.back}#{SECTIONS.get(verb, 'main')}")


def _stage_of(eng: Engine, code: str) -> str:
    with eng.db.read() as conn:
        return eng.work.load(conn, code).stage


def _said(eng: Engine, out: Outcome, values: dict[str, Any], before: str, lang: str) -> str:
    """What the person just did, in their words: the item ticked, the stage reached."""
    w = words(lang)
    with eng.db.read() as conn:
        row = eng.work.load(conn, out.code)
        scheme = eng.compiled(conn, row.scheme_version_id).scheme
        people = eng.org_index(conn).org.people
    if out.kind in ("checked", "unchecked"):
        stage = scheme.stages[row.stage]
        item = values.get("item", "")
        title = text(stage.checklist.get(item), lang, item)
        return w[f"said_{out.kind}"].format(item=title)
    if out.kind == "advanced" and out.stage == before:  # a duty done: no move
        action = str(values.get("action", ""))
        return w["said_recorded"].format(action=scheme.action_title(action, lang))
    if out.kind == "advanced":
        return w["said_moved"].format(stage=scheme.stage_title(out.stage, lang))
    if out.kind == "assigned":
        person = str(values.get("person", ""))
        found = people.get(person)
        return w["said_assigned"].format(person=(found.name if found else None) or person)
    return w.get(f"said_{out.kind}", w["done"])


def _form_value(ctx: Ctx, param: Param) -> Any:
    """A verb's parameter from the form: texts as typed (an empty optional one is None,
    a person id without spaces), a flag unless "0"; the web has no repeatable fields."""
    if param.kind == "flag":
        return ctx.field(param.name) != "0"
    if param.kind == "many":
        return ()
    raw = ctx.field(param.name)
    if param.kind == "optional":
        return raw.strip() or None
    return raw.strip() if param.name == "person" else raw


def routes(web: Web) -> list[Route]:
    return [
        Route("/", web.guard(mine), methods=["GET"]),
        Route("/projects", web.guard(project_list), methods=["GET"]),
        Route("/projects", web.guard(project_new), methods=["POST"]),
        Route("/projects/{code}", web.guard(project_page), methods=["GET"]),
        Route("/projects/{code}/diagram.svg", web.guard(project_diagram), methods=["GET"]),
        Route("/projects/{code}/{verb}", web.guard(project_post), methods=["POST"]),
    ]
