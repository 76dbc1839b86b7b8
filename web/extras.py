"""The ideas notebook, the portfolio report with its downloads, and the coordinator's
page: uploading scheme and organisation files, and comparing two stored scheme versions.
Each calls the engine; loading a file is refused by the engine unless the person is a
coordinator, whatever this page shows."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engine import ical, ideas, report
from engine.loading import load_org, load_scheme
from engine.service import Engine
from engine.views import Loaded
from render.ical import to_ics
from render.portfolio import csv_header, csv_rows
from render.tables import spreadsheet_csv
from web.base import Ctx, Web, version_field
from web.i18n import words
from workflow.errors import InputError, NotFound, Problem, UsageError
from workflow.ideas import PRIORITY_TITLES, PROMOTABLE, STATUS_TITLES, IdeaStatus, Priority
from workflow.labels import text
from workflow.loader import load_org_text, load_scheme_text

# -- ideas notebook -----------------------------------------------------------------------


async def idea_list(web: Web, request: Request, ctx: Ctx) -> Response:
    q = request.query_params
    search, status = q.get("q") or None, q.get("status") or None
    rows = await web.run(
        ideas.list_ideas,
        web.engine,
        actor=ctx.person,
        search=search,
        status=[status] if status else (),
        lang=ctx.lang,
    )
    units = await web.run(_my_units, web.engine, ctx.person, ctx.lang)
    schemes = await web.run(_schemes, web.engine, ctx.lang)
    return web.render(
        request,
        "ideas.html",
        {
            "rows": rows,
            "search": search or "",
            "status": status or "",
            "statuses": [(s.value, STATUS_TITLES[s].get(ctx.lang, s.value)) for s in IdeaStatus],
            "priorities": [(p.value, PRIORITY_TITLES[p].get(ctx.lang, p.value)) for p in Priority],
            "my_units": units,
            "writable": {u for u, _ in units},  # edit and promote only there
            "promotable": {s.value for s in PROMOTABLE},
            "schemes": schemes,
        },
        ctx=ctx,
    )


def _schemes(engine: Engine, lang: str) -> list[tuple[str, str]]:
    with engine.db.read() as conn:
        return [
            (cs.name, text(cs.scheme.title, lang, cs.name)) for cs in engine.loaded_schemes(conn)
        ]


def _my_units(engine: Engine, person: str, lang: str) -> list[tuple[str, str]]:
    with engine.db.read() as conn:
        org = engine.org_index(conn)
        key, levels = engine.role_levels(conn)
    return [
        (u, text(spec.name, lang, u))
        for u, spec in org.org.units.items()
        if org.acting_roles(person, u, levels, key)
    ]


def _cost(raw: str) -> Decimal | None:
    raw = raw.strip().replace(" ", "").replace(",", ".")
    if not raw:
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise UsageError(f"not an amount: {raw!r}") from None


async def idea_new(web: Web, request: Request, ctx: Ctx) -> Response:
    ctx.back = "/ideas"
    made = await web.run(
        ideas.create_idea,
        web.engine,
        title=ctx.field("title"),
        unit=ctx.field("unit"),
        actor=ctx.person,
        now=web.now(),
        description=ctx.field("description"),
        cost=_cost(ctx.field("cost")),
        priority=ctx.field("priority") or Priority.medium.value,
        lang=ctx.lang,
    )
    web.flash(request, "ok", f"#{made.id}: {words(ctx.lang)['done']}")
    return web.redirect("/ideas")


async def idea_promote(web: Web, request: Request, ctx: Ctx) -> Response:
    ctx.back = "/ideas"
    done = await web.run(
        ideas.promote_idea,
        web.engine,
        request.path_params["idea"],
        actor=ctx.person,
        now=web.now(),
        scheme=ctx.field("scheme") or None,
        expect_version=version_field(ctx),
        lang=ctx.lang,
    )
    web.flash(request, "ok", f"{done.project}: {words(ctx.lang)['done']}")
    return web.redirect(f"/projects/{done.project}")


# -- portfolio ------------------------------------------------------------------------------


async def report_page(web: Web, request: Request, ctx: Ctx) -> Response:
    data = await web.run(
        report.portfolio, web.engine, actor=ctx.person, now=web.now(), lang=ctx.lang
    )
    return web.render(request, "report.html", {"r": data}, ctx=ctx)


async def report_csv(web: Web, request: Request, ctx: Ctx) -> Response:
    delimiter = ";" if request.query_params.get("delimiter") == ";" else ","
    data = await web.run(
        report.portfolio, web.engine, actor=ctx.person, now=web.now(), lang=ctx.lang
    )
    body = spreadsheet_csv(csv_header(ctx.lang), csv_rows(data), delimiter)
    return Response(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="portfelis.csv"'},
    )


async def calendar_ics(web: Web, request: Request, ctx: Ctx) -> Response:
    events = await web.run(
        ical.upcoming, web.engine, actor=ctx.person, person=ctx.person, lang=ctx.lang
    )
    body = to_ics(events, now=web.now(), name=f"Shēma: {ctx.name}")
    return Response(
        body.encode("utf-8"),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="termini.ics"'},
    )


# -- coordinator ------------------------------------------------------------------------------


def _failed_messages(engine: Engine) -> list[dict[str, Any]]:
    from engine.status import failed_messages

    with engine.db.read() as conn:
        return failed_messages(conn)


def _chosen(raw: str | None) -> int | None:
    """A version id from the comparison form; None when none (or no number) was chosen."""
    return int(raw) if raw and raw.isdigit() and len(raw) <= 9 else None


def _comparison(engine: Engine, lang: str, first: int | None, second: int | None) -> dict[str, Any]:
    """The comparison form's choices (every stored scheme version, oldest first) and, when
    two are chosen, their differences in words (render/diff.py)."""
    from engine.listing import schemes
    from render.diff import groups
    from workflow.diff import diff

    w = words(lang)
    with engine.db.read() as conn:
        stored = schemes(engine.versions, conn)
    by_id = {cs.version_id: cs for cs in stored}
    options = [
        (cs.version_id, w["diff_version_option"].format(name=cs.name, n=cs.version))
        for cs in stored
    ]
    context: dict[str, Any] = {"versions": options, "diff_a": first, "diff_b": second}
    if first is None or second is None:
        # Preselect the two newest versions, so one press compares the last change.
        context["diff_a"] = stored[-2].version_id if len(stored) > 1 else None
        context["diff_b"] = stored[-1].version_id if stored else None
        return context
    for chosen in (first, second):
        if chosen not in by_id:
            raise NotFound(
                f"no stored scheme version {chosen}", code="scheme.no_version", version=chosen
            )
    a, b = by_id[first], by_id[second]
    context["diff"] = groups(diff(a.scheme, b.scheme), lang)
    context["diff_title"] = w["diff_title"].format(a=dict(options)[first], b=dict(options)[second])
    return context


async def upload_page(web: Web, request: Request, ctx: Ctx) -> Response:
    failed = await web.run(_failed_messages, web.engine)
    q = request.query_params
    compared = await web.run(
        _comparison, web.engine, ctx.lang, _chosen(q.get("a")), _chosen(q.get("b"))
    )
    context = {"kind": "scheme", "failed": failed, **compared}
    return web.render(request, "coordinator.html", context, ctx=ctx)


def _annotated(source: str, problems: list[Problem]) -> list[dict[str, Any]]:
    """The file's lines, each with the problems located on it."""
    by_line: dict[int, list[Problem]] = {}
    for p in problems:
        by_line.setdefault(p.line, []).append(p)
    return [
        {"n": n, "text": line, "problems": by_line.get(n, [])}
        for n, line in enumerate(source.splitlines(), start=1)
    ]


def _validate_or_load(
    web: Web, kind: str, source: str, name: str, load: bool, person: str
) -> Loaded | None:
    if load:
        loader = load_scheme if kind == "scheme" else load_org
        return loader(web.engine, source, name, actor=person, now=web.now())
    if kind == "scheme":
        load_scheme_text(source, name)
    else:
        load_org_text(source, name)
    return None


async def upload_post(web: Web, request: Request, ctx: Ctx) -> Response:
    ctx.back = "/coordinator"
    w = words(ctx.lang)
    kind = "org" if ctx.field("kind") == "org" else "scheme"
    upload = ctx.form.get("file") if ctx.form is not None else None
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise UsageError("choose a file to upload", code="web.no_file")
    name = upload.filename.replace("\\", "/").rsplit("/", 1)[-1]
    try:
        source = (await upload.read()).decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{name} is not UTF-8 text", code="web.not_utf8", file=name) from None
    load = ctx.field("mode") == "load"
    try:
        loaded = await web.run(_validate_or_load, web, kind, source, name, load, ctx.person)
    except InputError as exc:
        context = {"kind": kind, "name": name, "problems": exc.problems}
        context["lines"] = _annotated(source, exc.problems)
        context |= await web.run(_comparison, web.engine, ctx.lang, None, None)
        return web.render(request, "coordinator.html", context, status=422, ctx=ctx)
    if loaded is None:
        web.flash(request, "ok", f"{name}: {w['valid']}")
    else:
        state = f"{w['loaded']}" if loaded.created else w["unchanged"]
        web.flash(request, "ok", f"{loaded.kind} {loaded.name}: {state} (v{loaded.version})")
    return web.redirect("/coordinator")


def routes(web: Web) -> list[Route]:
    return [
        Route("/ideas", web.guard(idea_list), methods=["GET"]),
        Route("/ideas", web.guard(idea_new), methods=["POST"]),
        Route("/ideas/{idea:int}/promote", web.guard(idea_promote), methods=["POST"]),
        Route("/report", web.guard(report_page), methods=["GET"]),
        Route("/report.csv", web.guard(report_csv), methods=["GET"]),
        Route("/calendar.ics", web.guard(calendar_ics), methods=["GET"]),
        Route("/coordinator", web.guard(upload_page, coordinators_only=True), methods=["GET"]),
        Route("/coordinator", web.guard(upload_post, coordinators_only=True), methods=["POST"]),
    ]
