"""Moving running projects to another stored version of their scheme.

A loaded version reaches new projects only; `plan` says, per project, what moving it to
version `to_version` of the same scheme would change, and `apply` does it, each project
in its own transaction through `Work.change` (compare-and-set, a hash-chained
`migrated` event). The project keeps its stage (by name, or through `stage_map` for a
renamed or removed one) and the time it entered it; its checklist keeps the ticks of
items the new stage still has; its open deadlines keep their due dates (or, with
`recompute_deadlines`, the stage's is counted again from the entry time under the new
rule), and every clock is rebuilt from the new version's stage spec with the functions
entering a stage uses (engine/deadlines.py, engine/timekeeping.py), so reminders and
escalations follow the new ladder. A pending handoff survives only into a stage on the
side it was sent to. After the move the project row names the new version, so its
permissions, participants, next advance and timers all follow it.

A project is refused, and nothing of it changes, when its stage maps nowhere, maps to a
terminal stage, or its handoff would change sides; one already on the target version is
reported and left alone, so running a migration again is harmless. Only coordinators
migrate.

This module holds the API (`plan`, `apply`, `count`, `iter_plans`, `iter_applied`,
`stored_versions`), choosing the projects, one project's survey and the write; the plan's
values are in engine/migration_plan.py (re-exported here) and the rebuilding of its
clocks in engine/migration_clocks.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection

from engine import timekeeping
from engine.gates import unmet_gates
from engine.machines import CompiledScheme
from engine.migration_clocks import clocks
from engine.migration_plan import (
    CURRENT,
    MIGRATE,
    REFUSED,
    ClockChange,
    Draft,
    HandoffPlan,
    ProjectPlan,
    Request,
    TimerChange,
)
from engine.work import Change, Context, Work, aware
from storage import deadlines as stored_deadlines
from storage import migration as stored
from storage import projects as stored_projects
from workflow.errors import NotAllowed, NotFound, ShemaError, UsageError
from workflow.scheme import COORDINATOR

__all__ = [
    "BATCH",
    "CURRENT",
    "MIGRATE",
    "REFUSED",
    "ClockChange",
    "Draft",
    "HandoffPlan",
    "ProjectPlan",
    "Request",
    "TimerChange",
    "apply",
    "check_map",
    "count",
    "iter_applied",
    "iter_plans",
    "plan",
    "stored_versions",
    "survey",
]

BATCH = 200  # projects planned in one read transaction


# -- the API ------------------------------------------------------------------------------


def plan(
    engine: Any,
    *,
    codes: Sequence[str] | None = None,
    from_version: int | None = None,
    to_version: int,
    stage_map: Mapping[str, str] | None = None,
    recompute_deadlines: bool = False,
    actor: str | None,
    now: dt.datetime,
    scheme: str | None = None,
    each: Callable[[ProjectPlan], None] | None = None,
) -> list[ProjectPlan]:
    """What migrating each project would do, writing nothing. Projects are the `codes`
    given, or every project on version `from_version`; versions are numbers of the scheme
    the projects follow (`scheme`, else the only loaded one). `each` sees every plan as
    it is made (a progress bar)."""
    req = Request(to_version, dict(stage_map or {}), recompute_deadlines, actor, aware(now))
    found = iter_plans(engine, req, codes=codes, from_version=from_version, scheme=scheme)
    return _collect(found, each)


def apply(
    engine: Any,
    *,
    codes: Sequence[str] | None = None,
    from_version: int | None = None,
    to_version: int,
    stage_map: Mapping[str, str] | None = None,
    recompute_deadlines: bool = False,
    actor: str | None,
    now: dt.datetime,
    scheme: str | None = None,
    each: Callable[[ProjectPlan], None] | None = None,
) -> list[ProjectPlan]:
    """Migrate each project (as `plan` selects them) in a transaction of its own; the
    answer is each project's plan as written (`applied`) or refused."""
    req = Request(to_version, dict(stage_map or {}), recompute_deadlines, actor, aware(now))
    found = iter_applied(engine, req, codes=codes, from_version=from_version, scheme=scheme)
    return _collect(found, each)


def _collect(
    found: Iterator[ProjectPlan], each: Callable[[ProjectPlan], None] | None
) -> list[ProjectPlan]:
    out = []
    for p in found:
        if each is not None:
            each(p)
        out.append(p)
    return out


def count(
    engine: Any,
    *,
    codes: Sequence[str] | None = None,
    from_version: int | None = None,
    scheme: str | None = None,
) -> int:
    """How many projects a migration with these arguments looks at."""
    return sum(len(chunk) for chunk in _chunks(engine, codes, from_version, scheme, None))


def iter_plans(
    engine: Any,
    req: Request,
    *,
    codes: Sequence[str] | None = None,
    from_version: int | None = None,
    scheme: str | None = None,
) -> Iterator[ProjectPlan]:
    """The plans one at a time, a batch of projects per read transaction (memory stays
    bounded whatever the number of projects)."""
    _require_coordinator(engine, req.actor)
    for chunk in _chunks(engine, codes, from_version, scheme, req):
        with engine.db.read() as conn:
            for code in chunk:
                yield _survey_code(engine, conn, code, req).plan


def iter_applied(
    engine: Any,
    req: Request,
    *,
    codes: Sequence[str] | None = None,
    from_version: int | None = None,
    scheme: str | None = None,
) -> Iterator[ProjectPlan]:
    """Migrate the projects one at a time, each in its own transaction."""
    _require_coordinator(engine, req.actor)
    for chunk in _chunks(engine, codes, from_version, scheme, req):
        for code in chunk:
            yield _apply_one(engine, code, req)


def stored_versions(engine: Any) -> dict[str, list[int]]:
    """Every stored version number of every scheme, by name (what a migration chooses
    from)."""
    with engine.db.read() as conn:
        return stored.versions_by_scheme(conn)


# -- choosing the projects ----------------------------------------------------------------


def _require_coordinator(engine: Any, actor: str | None) -> None:
    with engine.db.read() as conn:
        org = engine.org_index(conn)
    if actor is None or not org.is_coordinator(actor):
        raise NotAllowed(
            f"{actor} may not migrate projects: only coordinators may",
            code="migration.not_coordinator",
            actor=actor or "?",
        )


def _chunks(
    engine: Any,
    codes: Sequence[str] | None,
    from_version: int | None,
    scheme: str | None,
    req: Request | None,
) -> Iterator[list[str]]:
    """The codes to look at, a batch at a time: those given (once each, in order), or
    every project on version `from_version`, by id."""
    if (codes is None) == (from_version is None):
        raise UsageError(
            "give either project codes or the version to migrate from, not both or neither",
            code="migration.choose_projects",
        )
    if codes is not None:
        unique = list(dict.fromkeys(codes))
        for start in range(0, len(unique), BATCH):
            yield unique[start : start + BATCH]
        return
    assert from_version is not None
    with engine.db.read() as conn:
        name = scheme or engine.scheme_for_new(conn, None).name
        source = _version_id(conn, name, from_version)
        if req is not None:
            check_map(engine.compiled(conn, _version_id(conn, name, req.to_version)), req.stage_map)
    after = 0
    while True:
        with engine.db.read() as conn:
            page = stored.codes_on_version(conn, source, after_id=after, limit=BATCH)
        if not page:
            return
        after = page[-1][0]
        yield [code for _, code in page]


def _version_id(conn: Connection, name: str, number: int) -> int:
    found = stored.version_id(conn, name, number)
    if found is None:
        raise NotFound(
            f"scheme {name} has no version {number}",
            code="migration.no_version",
            scheme=name,
            version=number,
        )
    return found


# -- one project ----------------------------------------------------------------------------


def _survey_code(engine: Any, conn: Connection, code: str, req: Request) -> Draft:
    """The plan of project `code` read in `conn`; a refusal of any kind becomes a refused
    plan."""
    try:
        ctx = engine.work.context(conn, engine.work.load(conn, code), req.actor)
        return survey(engine, conn, ctx, req)
    except ShemaError as exc:
        return Draft(ProjectPlan(code, REFUSED, error=exc))


def _apply_one(engine: Any, code: str, req: Request) -> ProjectPlan:
    """Migrate one project in its own transaction, planned again under its lock."""
    drafts: list[Draft] = []

    def decide(conn: Connection, ctx: Context) -> Change:
        draft = survey(engine, conn, ctx, req)
        drafts.append(draft)
        if draft.plan.error is not None:
            raise draft.plan.error
        return _change(conn, ctx, draft, req)

    work: Work = engine.work
    try:
        out = work.change(code, req.actor, req.now, None, decide)
    except ShemaError as exc:
        if drafts and drafts[-1].plan.error is exc:
            return drafts[-1].plan
        return ProjectPlan(code, REFUSED, error=exc)
    done = drafts[-1].plan
    done.applied, done.version = True, out.version
    return done


def survey(engine: Any, conn: Connection, ctx: Context, req: Request) -> Draft:
    """What migrating the project `ctx` would do (read only: the writes are the draft's)."""
    row, source = ctx.row, ctx.scheme
    p = ProjectPlan(row.code, MIGRATE, source.name, source.version, req.to_version, row.version)
    p.stage_before = row.stage
    draft = Draft(p)
    if COORDINATOR not in ctx.roles:
        return _refuse(draft, "migration.not_coordinator", "only coordinators may migrate")
    target = engine.compiled(conn, _version_id(conn, source.name, req.to_version))
    draft.target = target
    check_map(target, req.stage_map)
    if target.version_id == source.version_id:
        p.status, p.stage_after = CURRENT, row.stage
        p.error = ShemaError(
            f"{row.code} already follows version {target.version}",
            code="migration.already_current",
            project=row.code,
            version=target.version,
        )
        return draft
    if source.scheme.stages[row.stage].terminal:  # finished: its history is what it was
        p.status, p.stage_after = CURRENT, row.stage
        p.error = ShemaError(
            f"{row.code} is finished (stage {row.stage}); it stays on its version",
            code="migration.finished",
            project=row.code,
            stage=row.stage,
        )
        return draft
    new = req.stage_map.get(row.stage, row.stage)
    if new not in target.scheme.stages:
        return _refuse(draft, "migration.unmapped_stage", f"stage {row.stage} maps to no stage")
    p.stage_after = new
    if target.scheme.stages[new].terminal:
        return _refuse(draft, "migration.target_terminal", f"stage {new} is terminal")
    if not _handoff(conn, ctx, target, draft):
        return draft
    _ticks(conn, ctx, target, p)
    draft.cal = engine.versions.calendar(ctx.org, target.scheme.calendar.timezone)
    clocks(conn, ctx, target, draft, req)
    _gates(conn, ctx, target, p)
    _responsible(ctx, target, p)
    return draft


def check_map(target: CompiledScheme, stage_map: Mapping[str, str]) -> None:
    """Refuse a stage map that names a stage the target version does not have."""
    for stage in stage_map.values():
        if stage not in target.scheme.stages:
            raise UsageError(
                f"the stage map names stage {stage!r}, which version {target.version} lacks",
                code="migration.bad_map",
                stage=stage,
                version=target.version,
            )


def _refuse(draft: Draft, code: str, why: str, **more: Any) -> Draft:
    p = draft.plan
    p.status = REFUSED
    p.error = NotAllowed(
        f"{p.code} cannot move to version {p.to_version}: {why}",
        code=code,
        project=p.code,
        stage=p.stage_before,
        target=p.stage_after,
        version=p.to_version,
        **more,
    )
    return draft


def _handoff(conn: Connection, ctx: Context, target: CompiledScheme, draft: Draft) -> bool:
    """A pending handoff survives into a stage owned on the side it was sent to; else
    the project is refused (False)."""
    row, p = ctx.row, draft.plan
    if row.handoff_since is None:
        return True
    waiting = stored_projects.pending_handoff(conn, row.id)
    level = target.scheme.level_of_stage(p.stage_after or "")
    if waiting is None:
        return True
    survives = level is not None and level.value == waiting.to_level != waiting.from_level
    p.handoff = HandoffPlan(waiting.from_level, waiting.to_level, survives)
    if not survives:
        side = level.value if level else "-"
        why = f"its handoff went to the {waiting.to_level} side, stage {p.stage_after} is {side}"
        _refuse(draft, "migration.handoff_sides", why, sent_to=waiting.to_level, side=side)
    return survives


def _ticks(conn: Connection, ctx: Context, target: CompiledScheme, p: ProjectPlan) -> None:
    """The current stage's ticks the new stage keeps and those it has no item for."""
    old_items = ctx.scheme.scheme.stages[ctx.stage].checklist
    new_items = target.scheme.stages[p.stage_after or ""].checklist
    ticked = stored_projects.checked(conn, ctx.row.id)
    p.ticks_kept = [i for i in old_items if i in ticked and i in new_items]
    p.ticks_dropped = [i for i in old_items if i in ticked and i not in new_items]
    p.items_added = [i for i in new_items if i not in old_items and i not in ticked]


def _gates(conn: Connection, ctx: Context, target: CompiledScheme, p: ProjectPlan) -> None:
    """Gates of the actions leaving the new stage that the project does not meet and
    that the same action did not ask for before."""
    new, old = p.stage_after or "", ctx.scheme
    for action in target.actions_from.get(new, []):
        spec = target.scheme.actions[action]
        if not spec.gates:
            continue
        before = old.scheme.actions.get(action)
        had = set(before.gates) if before and ctx.stage in before.source else set()
        for gate in unmet_gates(conn, ctx.row.id, spec.gates):
            if gate not in had:
                p.gates_unmet.append((action, gate))


def _responsible(ctx: Context, target: CompiledScheme, p: ProjectPlan) -> None:
    """The responsible person stays only if they work on the new stage."""
    person = ctx.row.responsible_id
    if person is None:
        return
    stage = target.scheme.stages[p.stage_after or ""]
    theirs = ctx.org.acting_roles(person, ctx.row.unit_id, target.levels, target.version_id)
    if not theirs & {stage.owner, *stage.participants}:
        p.responsible_dropped = person


# -- writing --------------------------------------------------------------------------------


def _change(conn: Connection, ctx: Context, draft: Draft, req: Request) -> Change:
    """The `migrated` event and the statements that rebuild the project's clocks."""
    p, target, row, now = draft.plan, draft.target, ctx.row, req.now
    assert target is not None and draft.cal is not None and p.stage_after is not None
    values: dict[str, Any] = {"scheme_version_id": target.version_id, "stage": p.stage_after}
    responsible = row.responsible_id
    if p.responsible_dropped is not None:
        values["responsible_id"] = responsible = None
    pid, cal, plans, replaced = row.id, draft.cal, draft.plans, draft.replaced
    close, dropped, on_hold = draft.close, p.ticks_dropped, row.hold_since is not None
    renamed = p.handoff is not None and p.stage_after != row.stage

    def then(c: Connection) -> None:
        if dropped:
            stored_projects.clear_ticks(c, pid, dropped)
        stored_deadlines.close_with_timers(c, close, now)
        ids = timekeeping.open_plans(c, pid, plans, now)
        stored.repoint_messages(c, {o: n for o, n in zip(replaced, ids, strict=True) if o})
        if on_hold and plans:
            timekeeping.pause(c, pid, now, cal)
        if renamed:
            stored.rename_pending_handoff(c, pid, p.stage_after or "")

    return Change(
        "migrated",
        values,
        from_stage=row.stage,
        to_stage=p.stage_after,
        data=_event_data(draft, ctx, req),
        then=then,
        audit={
            "responsible": responsible,
            "checklist": _ticks_after(conn, pid, dropped),
        },
    )


def _ticks_after(conn: Connection, project_id: int, dropped: list[str]) -> dict[str, list[Any]]:
    """Every tick the project keeps, with when and by whom: what `audit verify` replays
    the checklist from after a migration (the old version's checklists no longer say)."""
    ticks = stored_projects.ticks(conn, project_id)
    return {
        item: [t.checked_at.isoformat(), t.checked_by]
        for item, t in sorted(ticks.items())
        if item not in dropped
    }


def _event_data(draft: Draft, ctx: Context, req: Request) -> dict[str, Any]:
    p, target = draft.plan, draft.target
    assert target is not None
    return {
        "scheme": p.scheme,
        "from": {"id": ctx.scheme.version_id, "version": ctx.scheme.version},
        "to": {"id": target.version_id, "version": target.version},
        "stage_map": dict(sorted(req.stage_map.items())),
        "ticks": {"kept": p.ticks_kept, "dropped": p.ticks_dropped},
        "deadlines": [
            {
                "kind": c.kind,
                "stage": c.stage,
                "action": c.action,
                "mode": c.mode,
                "before": c.before.isoformat() if c.before else None,
                "after": c.after.isoformat() if c.after else None,
            }
            for c in p.clocks
        ],
        **({"handoff": asdict(p.handoff)} if p.handoff else {}),
        **({"responsible_dropped": p.responsible_dropped} if p.responsible_dropped else {}),
        "recompute_deadlines": req.recompute,
    }
