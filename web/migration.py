"""The coordinator's page for moving running projects to another scheme version: GET
/coordinator/migrate previews what `engine.migration.plan` says per project, POST
applies it (`engine.migration.apply`) and says the counts. The engine refuses anyone
but a coordinator whatever this page shows; to others the page does not exist."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engine import migration
from engine.migration import ProjectPlan
from render import formats
from render.catalogue import Words
from render.refusals import render as refusal
from web.base import Ctx, Web
from web.i18n import words
from workflow.errors import UsageError

MAP_LINES = 100  # stage map entries a form may give


def _number(raw: str, what: str) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6):
        raise UsageError(f"{what}: not a version number", code="migration.no_version_number")
    return int(raw)


def _stage_map(raw: str) -> dict[str, str]:
    """The form's `old=new` lines as a stage map (blank lines skipped)."""
    out: dict[str, str] = {}
    for line in [ln.strip() for ln in raw.splitlines() if ln.strip()][:MAP_LINES]:
        old, sep, new = line.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise UsageError(
                f"stage map entry {line[:60]!r}: expected OLD=NEW",
                code="migration.bad_map_entry",
                entry=line[:60],
            )
        out[old.strip()] = new.strip()
    return out


def _names(w: Words) -> dict[str, str]:
    return {
        "stage": w["migrate_kind_stage"],
        "duty": w["migrate_kind_duty"],
        "handoff": w["migrate_kind_handoff"],
        "external": w["clk_kind_external"],
        "kept": w["migrate_mode_kept"],
        "recomputed": w["migrate_mode_recomputed"],
        "opened": w["migrate_mode_opened"],
        "closed": w["migrate_mode_closed"],
        "reminder": w["migrate_step_reminder"],
        "overdue": w["migrate_step_overdue"],
        "escalation": w["migrate_step_escalation"],
        "risk_register": w["migrate_gate_risk_register"],
        "cost_benefit": w["migrate_gate_cost_benefit"],
        "migrate": w["migrate_will"],
        "refused": w["migrate_refused"],
        "current": w["migrate_current"],
    }


def _step(names: dict[str, str], step: str) -> str:
    for prefix in ("reminder", "escalation"):
        if step.startswith(prefix):
            return f"{names[prefix]} {int(step.removeprefix(prefix)) + 1}"
    return names["overdue"]


def row(p: ProjectPlan, lang: str) -> dict[str, Any]:
    """One project's plan as the table's cells, each a list of lines."""
    w = words(lang)
    names, none = _names(w), w["migrate_none"]
    done = w["migrate_done"] if p.applied else names[p.status]
    cells: dict[str, Any] = {"code": p.code, "status": p.status, "result": [done]}
    if p.error is not None:
        cells["result"].append(refusal(p.error, lang))
    cells["stage"] = [f"{p.stage_before or ''} → {p.stage_after or none}"]
    cells["checklist"] = [
        w[key].format(items=", ".join(items))
        for key, items in (
            ("migrate_ticks_kept", p.ticks_kept),
            ("migrate_ticks_dropped", p.ticks_dropped),
            ("migrate_items_added", p.items_added),
        )
        if items
    ]
    cells["deadlines"] = [
        w["migrate_clock"].format(
            kind=names[c.kind],
            before=formats.day(c.before, lang) or none,
            after=formats.day(c.after, lang) or none,
            mode=names[c.mode],
        )
        for c in p.clocks
    ]
    cells["timers"] = [
        w["migrate_timer"].format(
            step=_step(names, t.step),
            before=formats.day(t.before, lang) or none,
            after=formats.day(t.after, lang) or none,
        )
        for t in p.timers
    ]
    other = []
    if p.handoff is not None:
        key = "migrate_handoff_survives" if p.handoff.survives else "migrate_handoff_lost"
        other.append(w[key].format(before=p.handoff.from_level, after=p.handoff.to_level))
    other += [w["migrate_gate"].format(action=a, gate=names[g]) for a, g in p.gates_unmet]
    if p.responsible_dropped:
        other.append(w["migrate_responsible_dropped"].format(person=p.responsible_dropped))
    cells["other"] = other
    return cells


def _counts(plans: list[ProjectPlan]) -> dict[str, int]:
    counts = {"migrated": 0, "refused": 0, "current": 0}
    for p in plans:
        counts["migrated" if p.status == "migrate" else p.status] += 1
    return counts


def _form(values: Any) -> dict[str, Any]:
    """The chosen scheme, versions, stage map and recompute flag of a query or form."""
    return {
        "scheme": (values.get("scheme") or "").strip(),
        "from": _number(values.get("from") or "", "from"),
        "to": _number(values.get("to") or "", "to"),
        "map": values.get("map") or "",
        "recompute": values.get("recompute") == "1",
    }


def _run(web: Web, ctx: Ctx, chosen: dict[str, Any], write: bool) -> list[ProjectPlan]:
    how = migration.apply if write else migration.plan
    return how(
        web.engine,
        from_version=chosen["from"],
        to_version=chosen["to"],
        stage_map=_stage_map(chosen["map"]),
        recompute_deadlines=chosen["recompute"],
        actor=ctx.person,
        now=web.now(),
        scheme=chosen["scheme"] or None,
    )


async def migrate_page(web: Web, request: Request, ctx: Ctx) -> Response:
    chosen = _form(request.query_params)
    versions = await web.run(migration.stored_versions, web.engine)
    rows = None
    if chosen["from"] is not None and chosen["to"] is not None:
        plans = await web.run(_run, web, ctx, chosen, False)
        rows = [row(p, ctx.lang) for p in plans]
    context = {"versions": versions, "chosen": chosen, "rows": rows}
    return web.render(request, "migrate.html", context, ctx=ctx)


async def migrate_post(web: Web, request: Request, ctx: Ctx) -> Response:
    chosen = _form(ctx.form or {})
    query = {k: chosen[k] for k in ("scheme", "from", "to", "map") if chosen[k]}
    if chosen["recompute"]:
        query["recompute"] = "1"
    ctx.back = "/coordinator/migrate?" + urlencode(query)
    if chosen["from"] is None or chosen["to"] is None:
        raise UsageError("choose both versions", code="migration.choose_projects")
    plans = await web.run(_run, web, ctx, chosen, True)
    counts = _counts(plans)
    kind = "error" if counts["refused"] else "ok"
    web.flash(request, kind, words(ctx.lang)["migrate_summary"].format(**counts))
    return web.redirect(ctx.back)


def routes(web: Web) -> list[Route]:
    return [
        Route(
            "/coordinator/migrate",
            web.guard(migrate_page, coordinators_only=True),
            methods=["GET"],
        ),
        Route(
            "/coordinator/migrate",
            web.guard(migrate_post, coordinators_only=True),
            methods=["POST"],
        ),
    ]
