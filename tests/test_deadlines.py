"""Deadline rows as the engine keeps them: opened when a stage is entered, closed when it is
left, a handoff's own deadline closed by the acknowledgement, paused by a hold and restarted
by a resume with the working days that were left, recurring duties renewed on their
schedule by their self-loop action, and which projects count as overdue at a given instant.

Every test runs on SQLite and PostgreSQL (the `engine` fixture); time is a parameter."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from conftest import COORDINATOR, T0, keep_up, shipped_text
from sqlalchemy import select

from engine.loading import load_org
from engine.notify.sweep import sweep
from engine.service import Engine
from storage.tables import deadlines, outbox, projects, timers
from workflow.errors import NotAllowed

LIGA = "liga.ozolina"  # parish_specialist, Krapes pagasts
JANIS = "janis.ozols"  # project_manager
UNIT = "krapes_pagasts"
HOUR = dt.timedelta(hours=1)


def utc(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso).replace(tzinfo=dt.UTC)


# -- helpers ------------------------------------------------------------------------------


def deadline_rows(engine: Engine, code: str) -> list[Any]:
    """The project's deadline rows, oldest first."""
    with engine.db.read() as conn:
        return list(
            conn.execute(
                select(deadlines)
                .join(projects, projects.c.id == deadlines.c.project_id)
                .where(projects.c.code == code)
                .order_by(deadlines.c.id)
            )
        )


def open_deadlines(engine: Engine, code: str) -> dict[tuple[str, str | None], Any]:
    """Open deadlines by (kind, action)."""
    return {(r.kind, r.action): r for r in deadline_rows(engine, code) if r.closed_at is None}


def timer_rows(engine: Engine, deadline_id: int) -> dict[str, Any]:
    """A deadline's timers by step."""
    with engine.db.read() as conn:
        rows = conn.execute(select(timers).where(timers.c.deadline_id == deadline_id))
        return {r.step: r for r in rows}


def new_idea(engine: Engine, now: dt.datetime = T0, **extra: Any) -> str:
    return engine.create_project(title="Jumts", unit=UNIT, actor=LIGA, now=now, **extra).code


def submit(engine: Engine, code: str, now: dt.datetime) -> None:
    """Tick what the idea needs and submit it at `now` (the ticks just before)."""
    for n, item in enumerate(("problem_statement", "estimated_cost")):
        engine.check(code, item, actor=LIGA, now=now - (2 - n) * dt.timedelta(minutes=1))
    engine.advance(code, "submit_idea", actor=LIGA, now=now)


def in_implementation(engine: Engine) -> str:
    """A project forced into implementation at T0+1h and acknowledged by the project
    manager at T0+2h; implementation ends on Wednesday 30 December 2026."""
    code = new_idea(engine, dates={"implementation_end": dt.date(2026, 12, 30)})
    engine.force(code, "implementation", reason="ongoing project", actor=COORDINATOR, now=T0 + HOUR)
    engine.acknowledge(code, actor=JANIS, now=T0 + 2 * HOUR)
    return code


def overdue_codes(engine: Engine, at: dt.datetime) -> list[str]:
    return [p.code for p in engine.list_projects(actor=COORDINATOR, overdue_at=at)]


# -- opening ------------------------------------------------------------------------------


def test_creating_a_project_opens_the_idea_deadline_at_the_end_of_the_fifth_working_day(
    engine: Engine,
) -> None:
    code = new_idea(engine)
    [row] = deadline_rows(engine, code)
    assert (row.kind, row.stage, row.action) == ("stage", "idea", None)
    assert row.opened_at == T0
    assert row.due_at == utc("2026-02-09T21:59:59")  # Monday 23:59:59 in Riga
    assert row.closed_at is None and row.paused_at is None


def test_the_idea_deadline_reminds_warns_and_escalates_to_parish_then_development_head(
    engine: Engine,
) -> None:
    [row] = deadline_rows(engine, new_idea(engine))
    steps = {
        step: (t.role, t.fire_at, t.fired_at) for step, t in timer_rows(engine, row.id).items()
    }
    assert steps == {
        # to the responsible person at 08:00 in Riga, one working day before (Friday)
        "reminder0": (None, utc("2026-02-06T06:00:00"), None),
        "overdue": (None, row.due_at, None),
        # one and five working days after the due day, at the end of the day
        "escalation0": ("parish_head", utc("2026-02-10T21:59:59"), None),
        "escalation1": ("development_head", utc("2026-02-16T21:59:59"), None),
    }


def test_a_deadline_after_the_march_clock_change_falls_at_midnight_riga_summer_time(
    engine: Engine,
) -> None:
    code = new_idea(engine, now=utc("2026-03-23T08:00:00"))  # Monday 10:00, winter time
    [row] = deadline_rows(engine, code)
    assert row.due_at == utc("2026-03-30T20:59:59")  # Monday 23:59:59 EEST
    steps = timer_rows(engine, row.id)
    assert steps["reminder0"].fire_at == utc("2026-03-27T06:00:00")  # Friday 08:00 EET
    assert steps["escalation0"].fire_at == utc("2026-03-31T20:59:59")


# -- advancing ----------------------------------------------------------------------------


def test_advancing_closes_the_idea_deadline_so_its_timers_never_fire(engine: Engine) -> None:
    code = new_idea(engine)
    submit(engine, code, T0 + HOUR)
    idea = next(r for r in deadline_rows(engine, code) if r.stage == "idea")
    assert idea.closed_at == T0 + HOUR
    sweep(engine, utc("2026-03-31T08:00:00"))  # long after every idea timer fell due
    # The sweep fired none of them and pruned them away.
    assert timer_rows(engine, idea.id) == {}


def test_advancing_opens_the_pre_assessment_deadline_ten_working_days_on(engine: Engine) -> None:
    code = new_idea(engine)
    submit(engine, code, T0 + HOUR)
    stage = open_deadlines(engine, code)[("stage", None)]
    assert (stage.stage, stage.opened_at) == ("pre_assessment", T0 + HOUR)
    assert stage.due_at == utc("2026-02-16T21:59:59")
    steps = timer_rows(engine, stage.id)
    assert steps["escalation0"].role == "development_head"
    assert steps["escalation0"].fire_at == utc("2026-02-17T21:59:59")


def test_a_timer_that_fired_stays_on_the_closed_deadline(engine: Engine) -> None:
    code = new_idea(engine)
    sweep(engine, utc("2026-02-06T07:00:00"))  # the reminder fires
    submit(engine, code, utc("2026-02-06T08:00:00"))
    sweep(engine, utc("2026-03-31T08:00:00"))  # prunes the ones that never fired
    idea = next(r for r in deadline_rows(engine, code) if r.stage == "idea")
    left = timer_rows(engine, idea.id)
    assert set(left) == {"reminder0"}
    assert left["reminder0"].fired_at == utc("2026-02-06T07:00:00")


def test_a_handoff_opens_a_handoff_deadline_for_the_receiving_role(engine: Engine) -> None:
    code = new_idea(engine)
    submit(engine, code, T0 + HOUR)
    handoff = open_deadlines(engine, code)[("handoff", None)]
    assert handoff.stage == "pre_assessment"
    assert handoff.due_at == utc("2026-02-04T21:59:59")  # two working days
    steps = timer_rows(engine, handoff.id)
    assert steps["overdue"].role == "project_manager"
    assert steps["overdue"].fire_at == handoff.due_at


def test_acknowledging_the_handoff_closes_its_deadline_and_keeps_the_stage_deadline(
    engine: Engine,
) -> None:
    code = new_idea(engine)
    submit(engine, code, T0 + HOUR)
    before = open_deadlines(engine, code)[("stage", None)]
    engine.acknowledge(code, actor=JANIS, now=T0 + 2 * HOUR)
    handoff = next(r for r in deadline_rows(engine, code) if r.kind == "handoff")
    assert handoff.closed_at == T0 + 2 * HOUR
    assert timer_rows(engine, handoff.id) == {}
    assert open_deadlines(engine, code) == {("stage", None): before}


# -- hold and resume ----------------------------------------------------------------------

HOLD_AT = utc("2026-02-04T08:00:00")  # Wednesday 10:00; Thu, Fri, Mon are left
RESUME_AT = utc("2026-03-02T08:00:00")  # Monday 10:00


def test_a_hold_pauses_the_deadline_remembering_the_working_days_left(engine: Engine) -> None:
    code = new_idea(engine)
    engine.hold(code, reason="waiting for the land registry", actor=LIGA, now=HOLD_AT)
    [row] = deadline_rows(engine, code)
    assert (row.paused_at, row.remaining_days, row.closed_at) == (HOLD_AT, 3, None)


def test_a_sweep_long_after_the_due_time_fires_nothing_while_the_project_is_on_hold(
    engine: Engine,
) -> None:
    code = new_idea(engine)
    engine.hold(code, reason="waiting for the land registry", actor=LIGA, now=HOLD_AT)
    report = sweep(engine, utc("2026-06-01T08:00:00"))
    assert (report.fired, report.messages, report.escalations) == (0, 0, 0)
    with engine.db.read() as conn:
        assert conn.execute(select(outbox)).first() is None
    assert engine.project(code, actor=COORDINATOR).version == 2  # created, held


def test_resuming_restarts_the_deadline_with_the_working_days_that_were_left(
    engine: Engine,
) -> None:
    code = new_idea(engine)
    engine.hold(code, reason="waiting for the land registry", actor=LIGA, now=HOLD_AT)
    engine.resume(code, actor=LIGA, now=RESUME_AT)
    old, new = deadline_rows(engine, code)
    assert old.closed_at == RESUME_AT
    assert (new.kind, new.stage, new.opened_at) == ("stage", "idea", RESUME_AT)
    assert new.paused_at is None
    assert new.due_at == utc("2026-03-05T21:59:59")  # Monday + 3 working days


def test_the_restarted_deadline_has_its_reminder_and_escalations_afresh(engine: Engine) -> None:
    code = new_idea(engine)
    engine.hold(code, reason="waiting for the land registry", actor=LIGA, now=HOLD_AT)
    engine.resume(code, actor=LIGA, now=RESUME_AT)
    new = deadline_rows(engine, code)[-1]
    steps = {step: (t.role, t.fire_at) for step, t in timer_rows(engine, new.id).items()}
    assert steps == {
        "reminder0": (None, utc("2026-03-04T06:00:00")),
        "overdue": (None, utc("2026-03-05T21:59:59")),
        "escalation0": ("parish_head", utc("2026-03-06T21:59:59")),
        "escalation1": ("development_head", utc("2026-03-12T21:59:59")),
    }


def test_after_resuming_the_sweep_fires_the_restarted_deadline(engine: Engine) -> None:
    code = new_idea(engine)
    engine.hold(code, reason="waiting for the land registry", actor=LIGA, now=HOLD_AT)
    engine.resume(code, actor=LIGA, now=RESUME_AT)
    report = keep_up(engine, utc("2026-03-06T08:00:00"))  # after the new due time
    assert (report.fired, report.escalations) == (2, 0)  # reminder and overdue notice
    assert engine.project(code, actor=COORDINATOR).version == 3  # no escalation yet


# -- periodic duties ----------------------------------------------------------------------


def test_entering_implementation_opens_the_monthly_report_duty_beside_the_stage_deadline(
    engine: Engine,
) -> None:
    code = in_implementation(engine)
    found = open_deadlines(engine, code)
    assert set(found) == {("stage", None), ("duty", "report_progress")}
    assert found[("stage", None)].due_at == utc("2026-12-30T21:59:59")  # implementation end
    # the 5th working day of February (entered on Monday 2 February)
    assert found[("duty", "report_progress")].due_at == utc("2026-02-06T21:59:59")


def test_reporting_progress_renews_the_duty_on_its_schedule(engine: Engine) -> None:
    code = in_implementation(engine)
    first = open_deadlines(engine, code)[("duty", "report_progress")]
    reported = utc("2026-02-16T08:00:00")
    engine.advance(code, "report_progress", actor=JANIS, now=reported)
    renewed = open_deadlines(engine, code)[("duty", "report_progress")]
    assert renewed.id != first.id
    assert renewed.due_at == utc("2026-03-06T21:59:59")  # March's 5th working day
    assert next(r for r in deadline_rows(engine, code) if r.id == first.id).closed_at == reported
    assert timer_rows(engine, first.id) == {}


def test_reporting_progress_leaves_the_stage_deadline_alone(engine: Engine) -> None:
    code = in_implementation(engine)
    stage = open_deadlines(engine, code)[("stage", None)]
    engine.advance(code, "report_progress", actor=JANIS, now=utc("2026-02-16T08:00:00"))
    assert open_deadlines(engine, code)[("stage", None)] == stage
    assert set(timer_rows(engine, stage.id)) == {"reminder0", "reminder1", "overdue", "escalation0"}


def test_a_periodic_duty_done_while_the_project_is_on_hold_starts_no_running_clock(
    engine: Engine,
) -> None:
    code = in_implementation(engine)
    engine.hold(code, reason="waiting for CFLA", actor=JANIS, now=utc("2026-02-16T08:00:00"))
    with contextlib.suppress(NotAllowed):  # refusing the report would be a fix too
        engine.advance(code, "report_progress", actor=JANIS, now=utc("2026-02-17T08:00:00"))
    assert sweep(engine, utc("2026-06-01T08:00:00")).fired == 0
    assert code not in overdue_codes(engine, utc("2026-06-01T08:00:00"))


# -- duties done on request (`opened_by`) ------------------------------------------------

ASKED = utc("2026-02-10T08:00:00")  # a Tuesday: CFLA asks for clarification
DAY = dt.timedelta(days=1)


def in_evaluation(engine: Engine) -> str:
    """A project forced into external evaluation and acknowledged by its project manager;
    the call closed on Friday 30 January 2026, so CFLA's clock runs to 30 April."""
    code = new_idea(engine, dates={"call_deadline": dt.date(2026, 1, 30)})
    engine.force(code, "evaluation", reason="submitted on paper", actor=COORDINATOR, now=T0 + HOUR)
    engine.acknowledge(code, actor=JANIS, now=T0 + 2 * HOUR)
    return code


def outbox_of(engine: Engine, code: str) -> list[Any]:
    with engine.db.read() as conn:
        return list(
            conn.execute(
                select(outbox)
                .join(projects, projects.c.id == outbox.c.project_id)
                .where(projects.c.code == code)
                .order_by(outbox.c.id)
            )
        )


def test_entering_evaluation_opens_no_clarification_clock_until_a_request_is_recorded(
    engine: Engine,
) -> None:
    code = in_evaluation(engine)
    assert set(open_deadlines(engine, code)) == {("external", None)}


def test_a_week_in_evaluation_without_a_request_sends_no_notice_and_no_escalation(
    engine: Engine,
) -> None:
    code = in_evaluation(engine)
    before = len(outbox_of(engine, code))
    report = sweep(engine, T0 + 7 * DAY)
    assert (report.fired, report.escalations) == (0, 0)
    assert len(outbox_of(engine, code)) == before
    assert code not in overdue_codes(engine, T0 + 7 * DAY)


def test_recording_a_request_starts_the_five_working_day_answer_clock(engine: Engine) -> None:
    code = in_evaluation(engine)
    engine.advance(code, "request_clarifications", actor=JANIS, now=ASKED)
    found = open_deadlines(engine, code)
    assert set(found) == {("external", None), ("duty", "answer_clarifications")}
    assert found[("duty", "answer_clarifications")].due_at == utc("2026-02-17T21:59:59")


def test_a_second_request_while_one_is_open_keeps_the_earlier_clock(engine: Engine) -> None:
    code = in_evaluation(engine)
    engine.advance(code, "request_clarifications", actor=JANIS, now=ASKED)
    first = open_deadlines(engine, code)[("duty", "answer_clarifications")]
    engine.advance(code, "request_clarifications", actor=JANIS, now=ASKED + 2 * DAY)
    duties = [r for r in deadline_rows(engine, code) if r.kind == "duty"]
    assert [(r.id, r.closed_at) for r in duties] == [(first.id, None)]


def test_answering_closes_the_clock_and_the_next_one_waits_for_the_next_request(
    engine: Engine,
) -> None:
    code = in_evaluation(engine)
    engine.advance(code, "request_clarifications", actor=JANIS, now=ASKED)
    engine.advance(code, "answer_clarifications", actor=JANIS, now=ASKED + 2 * DAY)
    assert set(open_deadlines(engine, code)) == {("external", None)}
    engine.advance(code, "request_clarifications", actor=JANIS, now=ASKED + 9 * DAY)
    assert ("duty", "answer_clarifications") in open_deadlines(engine, code)


def test_an_unanswered_request_is_reported_as_the_duty_with_the_duty_as_next_step(
    engine: Engine,
) -> None:
    code = in_evaluation(engine)
    engine.advance(code, "request_clarifications", actor=JANIS, now=ASKED)
    sweep(engine, utc("2026-02-18T08:00:00"))
    [notice] = [r for r in outbox_of(engine, code) if r.kind == "overdue"]
    assert notice.recipient_id == JANIS
    assert "Atbildēt uz precizējumu pieprasījumu" in notice.subject
    assert "Ārējā vērtēšana" not in notice.subject
    assert "Pienākums:  Atbildēt uz precizējumu pieprasījumu" in notice.body
    assert "Gaidāmā darbība: Atbildēt uz precizējumu pieprasījumu." in notice.body


def test_the_project_view_shows_the_stage_and_the_duty_clock_each_with_its_own_date(
    engine: Engine,
) -> None:
    code = in_evaluation(engine)
    engine.advance(code, "request_clarifications", actor=JANIS, now=ASKED)
    view = engine.project(code, actor=COORDINATOR, now=ASKED, lang="en")
    clocks = {(d.kind, d.title): d.due_at for d in view.deadlines}
    assert clocks == {
        ("duty", "Answer a request for clarification"): utc("2026-02-17T21:59:59"),
        # CFLA's clock: 3 months after the call closed on 30 January
        ("external", "External evaluation"): utc("2026-04-30T20:59:59"),
    }
    assert view.due_at == utc("2026-02-17T21:59:59")  # lists still sort by the earliest


# -- overdue ------------------------------------------------------------------------------


def test_a_project_is_overdue_only_once_its_due_time_has_passed(engine: Engine) -> None:
    code = new_idea(engine)
    assert code not in overdue_codes(engine, utc("2026-02-09T21:59:58"))
    assert overdue_codes(engine, utc("2026-02-09T22:00:00")) == [code]


def test_the_overdue_list_shows_the_due_time_and_the_overdue_mark(engine: Engine) -> None:
    code = new_idea(engine)
    [view] = engine.list_projects(actor=COORDINATOR, overdue_at=utc("2026-02-11T08:00:00"))
    assert (view.code, view.due_at, view.overdue) == (code, utc("2026-02-09T21:59:59"), True)
    assert view.days_left == -2


def test_a_project_that_moved_on_is_judged_by_its_new_deadline(engine: Engine) -> None:
    code = new_idea(engine)
    submit(engine, code, T0 + HOUR)
    engine.acknowledge(code, actor=JANIS, now=T0 + 2 * HOUR)
    assert code not in overdue_codes(engine, utc("2026-02-12T08:00:00"))  # idea was due 9 Feb
    assert code in overdue_codes(engine, utc("2026-02-17T08:00:00"))  # pre-assessment 16 Feb


def test_an_unacknowledged_handoff_makes_the_project_overdue_after_two_working_days(
    engine: Engine,
) -> None:
    code = new_idea(engine)
    submit(engine, code, T0 + HOUR)
    assert code in overdue_codes(engine, utc("2026-02-05T08:00:00"))


def test_a_project_on_hold_is_not_overdue(engine: Engine) -> None:
    held, running = new_idea(engine), new_idea(engine)
    engine.hold(held, reason="waiting for the land registry", actor=LIGA, now=HOLD_AT)
    assert overdue_codes(engine, utc("2026-03-01T08:00:00")) == [running]


def test_a_finished_project_is_never_overdue(engine: Engine) -> None:
    code = new_idea(engine)
    engine.force(code, "withdrawn", reason="duplicate", actor=COORDINATOR, now=T0 + HOUR)
    assert open_deadlines(engine, code) == {}
    assert code not in overdue_codes(engine, utc("2027-01-01T08:00:00"))


# -- a changed municipal calendar ---------------------------------------------------------


def load_org_with_day_off(engine: Engine, now: dt.datetime) -> None:
    """Reload the shipped organisation with Thursday 5 February 2026 as a municipal day off."""
    source = shipped_text("ogre.yaml")
    assert "  days_off: []\n" in source
    changed = source.replace("  days_off: []\n", "  days_off: [{date: 2026-02-05}]\n")
    assert load_org(engine, changed, "ogre.yaml", actor=COORDINATOR, now=now).created


def test_an_open_deadline_keeps_its_due_time_when_the_municipal_calendar_changes(
    engine: Engine,
) -> None:
    code = new_idea(engine)
    load_org_with_day_off(engine, T0 + HOUR)
    [row] = deadline_rows(engine, code)
    assert row.due_at == utc("2026-02-09T21:59:59")


def test_a_new_deadline_uses_the_changed_municipal_calendar(engine: Engine) -> None:
    load_org_with_day_off(engine, T0 + HOUR)
    [row] = deadline_rows(engine, new_idea(engine, now=T0 + 2 * HOUR))
    assert row.due_at == utc("2026-02-10T21:59:59")  # one day later for the day off
