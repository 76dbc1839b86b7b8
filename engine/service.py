"""The service API: every front end (CLI, web, jobs) changes projects only through here.

Each write is one transaction: read the project row, check the rules, compare-and-set
the row on its version, append the hash-chained history event (and handoff rows).
Refusals raise before anything is written. Time is a parameter: pass `now`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Row

from engine import timekeeping
from engine.deadlines import plan_duty, plan_entry, plan_handoff, plan_opened
from engine.failpoints import failpoint
from engine.history import GENESIS, dumps, event_hash
from engine.notices import enqueue, message_rows, project_context
from engine.reading import Context, Reader, identify, resolve_actor
from storage import queries as q
from workflow import domains, limits
from workflow import instruments as catalogue
from workflow.calendar import WorkingCalendar
from workflow.errors import Conflict, NotAllowed, NotFound, UsageError
from workflow.money import EUR, LVL
from workflow.scheme import COORDINATOR, Level

RIGA = ZoneInfo("Europe/Riga")


@dataclass(frozen=True)
class Outcome:
    """What a write left behind: enough for a script to chain the next call."""

    code: str
    version: int
    stage: str
    seq: int
    kind: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "version": self.version,
            "stage": self.stage,
            "event": self.seq,
            "kind": self.kind,
            **self.data,
        }


@dataclass
class Change:
    kind: str
    values: dict[str, Any] = field(default_factory=dict)
    action: str | None = None
    from_stage: str | None = None
    to_stage: str | None = None
    comment: str | None = None
    refs: Sequence[str] = ()
    data: dict[str, Any] = field(default_factory=dict)
    then: Callable[[Connection], object] | None = None
    # Recorded in the event beside `data` but not returned in the Outcome: the state after
    # the change that `audit verify` replays and compares with the rows (engine/audit/).
    audit: dict[str, Any] = field(default_factory=dict)


def _aware(now: dt.datetime) -> dt.datetime:
    if now.tzinfo is None:
        raise ValueError("`now` must be timezone-aware")
    return now


class Engine(Reader):
    """The service API over one database: every write, on top of the Reader's reads."""

    # -- writing --------------------------------------------------------------------

    def _write(
        self,
        code: str,
        actor: str | None,
        now: dt.datetime,
        expect_version: int | None,
        decide: Callable[[Connection, Context], Change],
    ) -> Outcome:
        now = _aware(now)
        with self.db.write() as conn:
            ctx = self._ctx(conn, self._row(conn, code, lock=True), actor)
            row = ctx.row
            if expect_version is not None and expect_version != row.version:
                raise Conflict(
                    f"project {row.code} changed since you looked: it is at version "
                    f"{row.version}, you expected {expect_version}",
                    project=row.code,
                    actor=ctx.actor,
                )
            change = decide(conn, ctx)
            return self.append(conn, row, change, now, ctx.actor)

    def append(
        self,
        conn: Connection,
        row: Row[Any],
        change: Change,
        now: dt.datetime,
        actor: str | None,
    ) -> Outcome:
        """Apply `change` to the project `row` inside the caller's transaction: compare-and-set
        the row on its version, append the chained history event, run the change's extra
        statements. Raises Conflict if the row moved on since it was read, LimitExceeded
        if the comment or a document reference is longer than its bound."""
        limits.text("comment", change.comment)
        limits.texts("reference", tuple(change.refs))
        seq = row.head_seq + 1
        event = {
            "project_id": row.id,
            "seq": seq,
            "at": now,
            "actor_id": actor,
            "kind": change.kind,
            "action": change.action,
            "from_stage": change.from_stage,
            "to_stage": change.to_stage,
            "comment": change.comment,
            "refs": dumps(list(change.refs)),
            "data": dumps({**change.data, **change.audit} if change.audit else change.data),
            "prev_hash": row.head_hash,
        }
        event["hash"] = event_hash(event)
        params = {
            **change.values,
            "version": row.version + 1,
            "head_seq": seq,
            "head_hash": event["hash"],
            "pid": row.id,
            "old_version": row.version,
        }
        if conn.execute(q.CAS_PROJECT, params).rowcount != 1:
            raise Conflict(
                f"project {row.code} was changed by someone else meanwhile; look again and retry",
                project=row.code,
                actor=actor,
            )
        conn.execute(q.INSERT_HISTORY, event)
        failpoint("advance.after_history")
        if change.then is not None:
            change.then(conn)
        failpoint("advance.after_outbox")
        stage = change.values.get("stage", row.stage)
        return Outcome(row.code, row.version + 1, stage, seq, change.kind, change.data)

    @staticmethod
    def _refuse_during_handoff(ctx: Context, what: str) -> None:
        if ctx.row.handoff_since is not None:
            owner = ctx.scheme.scheme.stages[ctx.stage].owner
            raise NotAllowed(
                f"{ctx.actor} may not {what} on {ctx.code}: the handoff to {owner} is not "
                "acknowledged yet (`shema project ack`)",
                actor=ctx.actor,
                project=ctx.code,
            )

    @staticmethod
    def _require_stage_role(ctx: Context, what: str) -> None:
        stage = ctx.scheme.scheme.stages[ctx.stage]
        allowed = {stage.owner, *stage.participants, COORDINATOR}
        if ctx.row.responsible_id == ctx.actor or ctx.roles & allowed:
            return
        need = ", ".join(r for r in [stage.owner, *stage.participants] if r)
        raise NotAllowed(
            f"{ctx.actor} may not {what} on {ctx.code}: stage {ctx.stage} is worked on by "
            f"{need or 'nobody'}; {ctx.actor} acts there as {', '.join(sorted(ctx.roles))}",
            actor=ctx.actor,
            project=ctx.code,
        )

    def advance(
        self,
        code: str,
        action: str,
        *,
        actor: str | None,
        now: dt.datetime,
        comment: str | None = None,
        refs: Sequence[str] = (),
        expect_version: int | None = None,
    ) -> Outcome:
        """Move the project by `action`; refused unless the action leaves the current stage,
        the actor holds an allowed role for the project's unit, no handoff is pending,
        required checklist items are ticked and a required comment is given."""

        def decide(conn: Connection, ctx: Context) -> Change:
            target = ctx.scheme.target(ctx.stage, action)
            scheme = ctx.scheme.scheme
            if target is None:
                known = ", ".join(ctx.scheme.actions_from[ctx.stage]) or "none"
                what = (
                    "is not an action of this scheme"
                    if action not in scheme.actions
                    else f"does not leave stage {ctx.stage}"
                )
                raise NotAllowed(
                    f"{ctx.actor} may not take {action!r} on {ctx.code}: it {what}"
                    f" (actions here: {known})",
                    actor=ctx.actor,
                    project=ctx.code,
                    action=action,
                )
            spec = scheme.actions[action]
            if not ctx.roles.intersection(spec.by):
                raise NotAllowed(
                    f"{ctx.actor} may not take {action!r} on {ctx.code}: it needs "
                    f"{' or '.join(spec.by)} for unit {ctx.row.unit_id}; {ctx.actor} acts "
                    f"there as {', '.join(sorted(ctx.roles))}",
                    actor=ctx.actor,
                    project=ctx.code,
                    action=action,
                )
            self._refuse_during_handoff(ctx, f"take {action!r}")
            if ctx.row.hold_since is not None and target != ctx.stage:
                # Leaving the stage would end the hold unrecorded: resuming is its own event.
                raise NotAllowed(
                    f"{ctx.actor} may not take {action!r} on {ctx.code}: it is on hold since "
                    f"{ctx.row.hold_since:%Y-%m-%d} ({ctx.row.hold_reason}); resume it first",
                    actor=ctx.actor,
                    project=ctx.code,
                    action=action,
                )
            if spec.requires:
                checked = set(conn.execute(q.SELECT_CHECKED, {"pid": ctx.row.id}).scalars())
                missing = [i for i in spec.requires if i not in checked]
                if missing:
                    raise NotAllowed(
                        f"{ctx.actor} may not take {action!r} on {ctx.code}: checklist items "
                        f"not ticked: {', '.join(missing)}",
                        actor=ctx.actor,
                        project=ctx.code,
                        action=action,
                    )
            if spec.gates:
                from engine.planning import missing_gates  # planning imports this module

                unmet = missing_gates(conn, ctx.row.id, spec.gates)
                if unmet:
                    raise NotAllowed(
                        f"{ctx.actor} may not take {action!r} on {ctx.code}: {'; '.join(unmet)}",
                        actor=ctx.actor,
                        project=ctx.code,
                        action=action,
                    )
            if spec.comment == "required" and not (comment and comment.strip()):
                raise NotAllowed(
                    f"{ctx.actor} may not take {action!r} on {ctx.code} without a "
                    "comment (--comment TEXT)",
                    actor=ctx.actor,
                    project=ctx.code,
                    action=action,
                )
            return self._move(
                ctx, now, "advanced", target, action=action, comment=comment, refs=refs
            )

        return self._write(code, actor, now, expect_version, decide)

    def _move(
        self,
        ctx: Context,
        now: dt.datetime,
        kind: str,
        target: str,
        *,
        action: str | None,
        comment: str | None,
        refs: Sequence[str],
        data: dict[str, Any] | None = None,
    ) -> Change:
        """The change for entering `target` (a self-loop re-enters it)."""
        row, scheme = ctx.row, ctx.scheme.scheme
        values: dict[str, Any] = {"stage": target}
        if target != ctx.stage:
            values.update(stage_entered_at=now, hold_since=None, hold_reason=None)
        src_level, dst_level = scheme.level_of_stage(ctx.stage), scheme.level_of_stage(target)
        crosses = src_level is not None and dst_level is not None and src_level != dst_level
        data = dict(data or {})
        new_stage = scheme.stages[target]
        if row.responsible_id is not None and target != ctx.stage:
            keep = {new_stage.owner, *new_stage.participants}
            their = ctx.org.acting_roles(
                row.responsible_id, row.unit_id, ctx.scheme.levels, ctx.scheme.version_id
            )
            if not their & keep:
                values["responsible_id"] = None
        steps: list[Callable[[Connection], object]] = []
        pid, seq = row.id, row.head_seq + 1
        if target != ctx.stage and new_stage.checklist:
            # Entering a stage anew (a later payment request, a revision) starts its
            # checklist afresh: old ticks must not pass for new work.
            items = list(new_stage.checklist)
            steps.append(lambda c: c.execute(q.CLEAR_CHECKS, {"pid": pid, "items": items}))
        cal = self.calendar(ctx.org)
        dates = {k: dt.date.fromisoformat(v) for k, v in json.loads(row.dates).items()}
        if target != ctx.stage:
            plans = plan_entry(scheme, target, now, cal, dates, via=action)
            steps.append(lambda c: timekeeping.close(c, pid, now))
        else:
            plans = []
            spec = scheme.actions[action] if action is not None else None
            if spec is not None and spec.deadline is not None:
                # A periodic duty done starts its next occurrence; one done on request
                # waits for the next request.
                if spec.opened_by is None:
                    plans = plan_duty(scheme, action or "", now, cal, dates)
                steps.append(
                    lambda c: timekeeping.close(c, pid, now, kinds=("duty",), action=action)
                )
            if action is not None and (requested := plan_opened(scheme, action, now, cal, dates)):
                # A second request while the first is open keeps the earlier clock.
                steps.append(lambda c: timekeeping.open_plans(c, pid, requested, now, fresh=True))
        notices: list[dict[str, Any]] = []
        handoff_notices: list[dict[str, Any]] = []
        if crosses:
            assert src_level is not None and dst_level is not None
            values["handoff_since"] = now
            receivers, why = ctx.org.recipients(
                new_stage.owner or COORDINATOR, row.unit_id, ctx.scheme.levels
            )
            handoff_plan = plan_handoff(scheme, target, now, cal)
            plans.append(handoff_plan)
            data["handoff"] = {
                "from": src_level.value,
                "to": dst_level.value,
                "receivers": receivers,
                "why": why,
            }
            handoff = {
                "project_id": row.id,
                "action": action or kind,
                "from_stage": ctx.stage,
                "to_stage": target,
                "from_level": src_level.value,
                "to_level": dst_level.value,
                "sent_at": now,
                "sent_by": ctx.actor,
            }
            steps.append(lambda c: c.execute(q.INSERT_HANDOFF, handoff))
            handoff_notices = self._notices(
                ctx,
                "handoff",
                f"handoff:{pid}:{seq}",
                receivers,
                now,
                stage=target,
                due_at=handoff_plan.due_at,
                cal=cal,
            )
            notices += handoff_notices
        if action is not None:
            for role in scheme.actions[action].notify:
                people, _ = ctx.org.recipients(role, row.unit_id, ctx.scheme.levels)
                notices += self._notices(
                    ctx,
                    "notify",
                    f"notify:{pid}:{seq}:{role}",
                    people,
                    now,
                    stage=target,
                    due_at=None,
                    cal=cal,
                    extra={"action": scheme.action_title(action)},
                    comment=comment,
                )
        if plans:

            def open_deadlines(c: Connection) -> None:
                ids = timekeeping.open_plans(c, pid, plans, now)
                if crosses:  # the handoff notices live only as long as its deadline
                    for notice in handoff_notices:
                        notice["deadline_id"] = ids[plans.index(handoff_plan)]

            steps.append(open_deadlines)
        if steps and row.hold_since is not None and target == ctx.stage:
            # A duty done while on hold: its next occurrence waits for the resume too.
            steps.append(lambda c: timekeeping.pause(c, pid, now, cal))
        if notices:
            steps.append(lambda c: enqueue(c, notices))

        def then(conn: Connection) -> None:
            for step in steps:
                step(conn)

        return Change(
            kind,
            values,
            action=action,
            from_stage=ctx.stage,
            to_stage=target,
            comment=comment,
            refs=refs,
            data=data,
            then=then if steps else None,
            # Entering another stage may drop the responsible person: say who it is now.
            audit=(
                {"responsible": values.get("responsible_id", row.responsible_id)}
                if target != ctx.stage
                else {}
            ),
        )

    def _notices(
        self,
        ctx: Context,
        kind: str,
        key: str,
        recipients: Sequence[str],
        now: dt.datetime,
        *,
        stage: str,
        due_at: dt.datetime | None,
        cal: WorkingCalendar,
        extra: dict[str, Any] | None = None,
        comment: str | None = None,
    ) -> list[dict[str, Any]]:
        """Outbox rows announcing something about the project to `recipients`."""
        scheme, org = ctx.scheme.scheme, ctx.org
        actor = org.org.people.get(ctx.actor)

        def context(lang: str) -> dict[str, Any]:
            base = project_context(
                scheme,
                org,
                ctx.row,
                lang,
                stage=stage,
                due_at=due_at,
                now=now,
                cal=cal,
                web_url=self.web_url,
            )
            local = now.astimezone(cal.zone).date().isoformat()
            return {
                **base,
                "actor": actor.name if actor else None,
                "sent_date": local,
                "comment": comment,
                "action": "",
                **(extra or {}),
            }

        return message_rows(
            org, recipients, kind=kind, key=key, project_id=ctx.row.id, now=now, context_for=context
        )

    def acknowledge(
        self, code: str, *, actor: str | None, now: dt.datetime, expect_version: int | None = None
    ) -> Outcome:
        """The receiving side takes over a handed-off project; the acknowledger becomes
        responsible unless someone already is."""

        def decide(conn: Connection, ctx: Context) -> Change:
            if ctx.row.handoff_since is None:
                raise NotAllowed(
                    f"{ctx.actor} may not acknowledge {ctx.code}: no handoff is waiting",
                    actor=ctx.actor,
                    project=ctx.code,
                )
            owner = ctx.scheme.scheme.stages[ctx.stage].owner
            receivers, _ = ctx.org.recipients(
                owner or COORDINATOR, ctx.row.unit_id, ctx.scheme.levels
            )
            if owner not in ctx.roles and ctx.actor not in receivers:
                raise NotAllowed(
                    f"{ctx.actor} may not acknowledge {ctx.code}: the handoff goes to {owner} "
                    f"for unit {ctx.row.unit_id}",
                    actor=ctx.actor,
                    project=ctx.code,
                )
            values: dict[str, Any] = {"handoff_since": None}
            if ctx.row.responsible_id is None:
                values["responsible_id"] = ctx.actor
            pid = ctx.row.id
            return Change(
                "acknowledged",
                values,
                from_stage=ctx.stage,
                to_stage=ctx.stage,
                data={"waited_seconds": int((now - ctx.row.handoff_since).total_seconds())},
                audit={"responsible": values.get("responsible_id", ctx.row.responsible_id)},
                then=lambda c: (
                    timekeeping.close(c, pid, now, kinds=("handoff",)),
                    c.execute(q.ACK_HANDOFF, {"pid": pid, "at": now, "by": ctx.actor}),
                ),
            )

        return self._write(code, actor, now, expect_version, decide)

    def check(
        self,
        code: str,
        item: str,
        *,
        actor: str | None,
        now: dt.datetime,
        checked: bool = True,
        expect_version: int | None = None,
    ) -> Outcome:
        """Tick (or untick) a checklist item of the current stage."""

        def decide(conn: Connection, ctx: Context) -> Change:
            stage = ctx.scheme.scheme.stages[ctx.stage]
            verb = "tick" if checked else "untick"
            if item not in stage.checklist:
                raise NotFound(
                    f"{ctx.actor} may not {verb} {item!r} on {ctx.code}: stage {ctx.stage} has "
                    f"no such checklist item (items: {', '.join(stage.checklist) or 'none'})",
                    actor=ctx.actor,
                    project=ctx.code,
                )
            self._require_stage_role(ctx, f"{verb} {item!r}")
            self._refuse_during_handoff(ctx, f"{verb} {item!r}")
            done = set(conn.execute(q.SELECT_CHECKED, {"pid": ctx.row.id}).scalars())
            if (item in done) == checked:
                raise NotAllowed(
                    f"{ctx.actor} may not {verb} {item!r} on {ctx.code}: it is already "
                    f"{'ticked' if checked else 'not ticked'}",
                    actor=ctx.actor,
                    project=ctx.code,
                )
            pid = ctx.row.id

            def then(c: Connection) -> None:
                if checked:
                    c.execute(
                        q.INSERT_CHECK,
                        {
                            "project_id": pid,
                            "item": item,
                            "checked_at": now,
                            "checked_by": ctx.actor,
                        },
                    )
                else:
                    c.execute(q.DELETE_CHECK, {"pid": pid, "item_name": item})

            return Change(
                "checked" if checked else "unchecked",
                {},
                from_stage=ctx.stage,
                to_stage=ctx.stage,
                data={"item": item},
                then=then,
            )

        return self._write(code, actor, now, expect_version, decide)

    def assign(
        self,
        code: str,
        person: str,
        *,
        actor: str | None,
        now: dt.datetime,
        expect_version: int | None = None,
    ) -> Outcome:
        """Make `person` responsible for the project; they must be able to work on its
        current stage for the project's unit."""

        def decide(conn: Connection, ctx: Context) -> Change:
            self._require_stage_role(ctx, "assign a responsible person")
            self._refuse_during_handoff(ctx, "assign a responsible person")
            if person not in ctx.org.org.people:
                raise NotFound(f"no person {person!r} in the organisation", actor=ctx.actor)
            stage = ctx.scheme.scheme.stages[ctx.stage]
            theirs = ctx.org.acting_roles(
                person, ctx.row.unit_id, ctx.scheme.levels, ctx.scheme.version_id
            )
            if not theirs & {stage.owner, *stage.participants}:
                raise NotAllowed(
                    f"{ctx.actor} may not assign {person} to {ctx.code}: {person} does not work "
                    f"on stage {ctx.stage} for unit {ctx.row.unit_id}",
                    actor=ctx.actor,
                    project=ctx.code,
                )
            return Change(
                "assigned",
                {"responsible_id": person},
                from_stage=ctx.stage,
                to_stage=ctx.stage,
                data={"person": person, "previous": ctx.row.responsible_id},
            )

        return self._write(code, actor, now, expect_version, decide)

    def comment(
        self,
        code: str,
        body: str,
        *,
        actor: str | None,
        now: dt.datetime,
        refs: Sequence[str] = (),
        expect_version: int | None = None,
    ) -> Outcome:
        """Add a comment (with optional document references); anyone who sees it may."""
        if not body.strip():
            raise UsageError("a comment needs text")
        limits.text("comment", body)

        def decide(conn: Connection, ctx: Context) -> Change:
            return Change(
                "commented", {}, from_stage=ctx.stage, to_stage=ctx.stage, comment=body, refs=refs
            )

        return self._write(code, actor, now, expect_version, decide)

    def hold(
        self,
        code: str,
        *,
        reason: str,
        actor: str | None,
        now: dt.datetime,
        expect_version: int | None = None,
    ) -> Outcome:
        """Pause the project (waiting for an external body)."""
        if not reason.strip():
            raise UsageError("a hold needs a reason (--reason TEXT)")
        limits.text("reason", reason)

        def decide(conn: Connection, ctx: Context) -> Change:
            self._require_stage_role(ctx, "put on hold")
            self._refuse_during_handoff(ctx, "put on hold")
            if ctx.row.hold_since is not None:
                raise NotAllowed(
                    f"{ctx.actor} may not put {ctx.code} on hold: it is already on hold since "
                    f"{ctx.row.hold_since:%Y-%m-%d}",
                    actor=ctx.actor,
                    project=ctx.code,
                )
            pid, cal = ctx.row.id, self.calendar(ctx.org)
            return Change(
                "held",
                {"hold_since": now, "hold_reason": reason},
                from_stage=ctx.stage,
                to_stage=ctx.stage,
                comment=reason,
                then=lambda c: timekeeping.pause(c, pid, now, cal),
            )

        return self._write(code, actor, now, expect_version, decide)

    def resume(
        self, code: str, *, actor: str | None, now: dt.datetime, expect_version: int | None = None
    ) -> Outcome:
        """End a hold."""

        def decide(conn: Connection, ctx: Context) -> Change:
            self._require_stage_role(ctx, "resume")
            self._refuse_during_handoff(ctx, "resume")
            if ctx.row.hold_since is None:
                raise NotAllowed(
                    f"{ctx.actor} may not resume {ctx.code}: it is not on hold",
                    actor=ctx.actor,
                    project=ctx.code,
                )
            pid, cal, scheme = ctx.row.id, self.calendar(ctx.org), ctx.scheme.scheme
            return Change(
                "resumed",
                {"hold_since": None, "hold_reason": None},
                from_stage=ctx.stage,
                to_stage=ctx.stage,
                data={"held_seconds": int((now - ctx.row.hold_since).total_seconds())},
                then=lambda c: timekeeping.resume(c, pid, scheme, now, cal),
            )

        return self._write(code, actor, now, expect_version, decide)

    def force(
        self,
        code: str,
        stage: str,
        *,
        reason: str,
        actor: str | None,
        now: dt.datetime,
        expect_version: int | None = None,
    ) -> Outcome:
        """A coordinator moves the project to any stage, with a recorded reason."""
        if not reason.strip():
            raise UsageError("forcing a project needs a reason (--reason TEXT)")
        limits.text("reason", reason)

        def decide(conn: Connection, ctx: Context) -> Change:
            if COORDINATOR not in ctx.roles:
                raise NotAllowed(
                    f"{ctx.actor} may not force {ctx.code}: only coordinators may",
                    actor=ctx.actor,
                    project=ctx.code,
                )
            if stage not in ctx.scheme.scheme.stages:
                raise NotFound(
                    f"{ctx.actor} may not force {ctx.code} to {stage!r}: scheme "
                    f"{ctx.scheme.name} v{ctx.scheme.version} has no such stage",
                    actor=ctx.actor,
                    project=ctx.code,
                )
            if stage == ctx.stage:
                raise NotAllowed(
                    f"{ctx.actor} may not force {ctx.code} to {stage}: it is already there",
                    actor=ctx.actor,
                    project=ctx.code,
                )
            change = self._move(
                ctx,
                now,
                "forced",
                stage,
                action=None,
                comment=reason,
                refs=(),
                data={
                    "pending_handoff_closed": ctx.row.handoff_since is not None,
                    "hold_lifted": ctx.row.hold_since is not None,
                },
            )
            if ctx.row.handoff_since is not None:
                change.values.setdefault("handoff_since", None)
                first, pid = change.then, ctx.row.id

                def then(c: Connection) -> None:
                    c.execute(q.ACK_HANDOFF, {"pid": pid, "at": now, "by": ctx.actor})
                    if first is not None:
                        first(c)

                change.then = then
            return change

        return self._write(code, actor, now, expect_version, decide)

    def create_project(
        self,
        *,
        title: str,
        unit: str,
        actor: str | None,
        now: dt.datetime,
        scheme: str | None = None,
        budget: Decimal | None = None,
        currency: str = "EUR",
        funding_instrument: str | None = None,
        partners: Sequence[str] = (),
        dates: dict[str, dt.date] | None = None,
        responsible: str | None = None,
    ) -> Outcome:
        """A new project in the initial stage of the newest version of `scheme`, with a code
        PREFIX-YEAR-NNNN (year in Europe/Riga) from the per-year counter."""
        now = _aware(now)
        if not title.strip():
            raise UsageError("a project needs a title")
        limits.text("title", title)
        limits.texts("partner", tuple(partners))
        budget = domains.money("budget", budget)
        if currency not in (EUR, LVL):
            raise UsageError(f"the currency {currency[:10]!r} is not EUR or LVL (historical lats)")
        for name, day in (dates or {}).items():
            domains.date(f"project date {name}", day)
        with self.db.write() as conn:
            org = self.org_index(conn)
            person = self._person(org, actor)
            cs = self.scheme_for_new(conn, scheme)
            if funding_instrument is not None and catalogue.unknown([funding_instrument], org.org):
                raise UsageError(f"unknown funding instrument {funding_instrument[:63]!r}")
            if unit not in org.org.units:
                raise NotFound(f"no unit {unit!r}", unit=unit)
            roles = org.acting_roles(person, unit, cs.levels, cs.version_id)
            initial = cs.scheme.initial_stage
            first = cs.scheme.stages[initial]
            works_there = bool(roles & {first.owner, *first.participants})
            if not (works_there or any(cs.levels[r] is Level.central for r in roles)):
                raise NotAllowed(
                    f"{person} may not create a project for {unit}: that needs "
                    f"{' or '.join(r for r in [first.owner, *first.participants] if r)} there or "
                    f"a central role; {person} acts there as "
                    f"{', '.join(sorted(roles)) or 'nothing'}",
                    actor=person,
                    unit=unit,
                )
            for name in dates or {}:
                if name not in cs.scheme.dates:
                    raise UsageError(f"scheme {cs.name} has no project date {name!r}")
            year = now.astimezone(RIGA).year
            prefix = org.org.municipality.code_prefix
            number = q.next_code_number(conn, prefix, year)
            code = f"{prefix}-{year}-{number:04d}"
            values = {
                "code": code,
                "title": title.strip(),
                "unit_id": unit,
                "scheme_version_id": cs.version_id,
                "stage": initial,
                "stage_entered_at": now,
                "version": 1,
                "responsible_id": responsible or (person if works_there else None),
                "budget_amount": budget,
                "budget_currency": currency,
                "funding_instrument": funding_instrument,
                "partners": dumps(list(partners)),
                "dates": dumps({k: v.isoformat() for k, v in (dates or {}).items()}),
                "created_at": now,
                "created_by": person,
                "head_seq": 1,
                "head_hash": GENESIS,
            }
            pid = conn.execute(q.INSERT_PROJECT, values).scalar_one()
            event = {
                "project_id": pid,
                "seq": 1,
                "at": now,
                "actor_id": person,
                "kind": "created",
                "action": None,
                "from_stage": None,
                "to_stage": initial,
                "comment": None,
                "refs": "[]",
                "data": dumps(
                    {
                        "title": values["title"],
                        "unit": unit,
                        "scheme": cs.name,
                        "scheme_version": cs.version,
                        # The other initial values, for `audit verify` to replay.
                        "code": code,
                        "budget_amount": None if budget is None else str(budget),
                        "budget_currency": currency,
                        "funding_instrument": funding_instrument,
                        "partners": list(partners),
                        "dates": {k: v.isoformat() for k, v in (dates or {}).items()},
                        "responsible": values["responsible_id"],
                    }
                ),
                "prev_hash": GENESIS,
            }
            event["hash"] = event_hash(event)
            conn.execute(q.INSERT_HISTORY, event)
            conn.execute(q.SET_HEAD, {"pid": pid, "head": event["hash"]})
            plans = plan_entry(cs.scheme, initial, now, self.calendar(org), dict(dates or {}))
            timekeeping.open_plans(conn, pid, plans, now)
            return Outcome(
                code, 1, initial, 1, "created", {"unit": unit, "scheme_version": cs.version}
            )


__all__ = ["Change", "Context", "Engine", "Outcome", "Reader", "identify", "resolve_actor"]
