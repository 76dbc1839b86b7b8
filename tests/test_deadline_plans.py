"""Deadline planning is pure: the shipped scheme and a calendar in, plans out, with no
database."""

from __future__ import annotations

import datetime as dt

from conftest import shipped_text

from engine.deadlines import plan_duty, plan_entry, plan_handoff, replan
from workflow.calendar import WorkingCalendar
from workflow.loader import load_scheme_text

SCHEME = load_scheme_text(shipped_text("unified.yaml"), "unified.yaml")
CAL = WorkingCalendar()
RIGA_NOON = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)  # Tuesday, 12:00 in Riga


def local(at: dt.datetime) -> str:
    return at.astimezone(CAL.zone).strftime("%Y-%m-%d %H:%M")


def test_entering_the_idea_stage_plans_its_five_working_days_and_the_ladder() -> None:
    [plan] = plan_entry(SCHEME, "idea", RIGA_NOON, CAL, {})

    assert (plan.kind, plan.stage, plan.action) == ("stage", "idea", None)
    assert local(plan.due_at) == "2026-12-08 23:59"  # five working days after Tuesday
    steps = {s.step: (s.role, local(s.fire_at)) for s in plan.steps}
    assert steps == {
        "reminder0": (None, "2026-12-07 08:00"),  # the start of the working day before
        "overdue": (None, "2026-12-08 23:59"),
        "escalation0": ("parish_head", "2026-12-09 23:59"),
        "escalation1": ("development_head", "2026-12-15 23:59"),
    }


def test_a_stage_counted_back_from_a_project_date_waits_for_that_date() -> None:
    assert plan_entry(SCHEME, "submission", RIGA_NOON, CAL, {}) == []

    [plan] = plan_entry(
        SCHEME, "submission", RIGA_NOON, CAL, {"call_deadline": dt.date(2027, 3, 1)}
    )

    assert local(plan.due_at) == "2027-02-25 23:59"  # two working days before Monday 1 March


def test_a_reminder_already_past_at_entry_is_not_planned() -> None:
    late = dt.datetime(2027, 2, 24, 10, 0, tzinfo=dt.UTC)
    [plan] = plan_entry(SCHEME, "submission", late, CAL, {"call_deadline": dt.date(2027, 3, 1)})

    assert [s.step for s in plan.steps if s.step.startswith("reminder")] == []


def test_a_handoff_is_due_in_its_scheme_span_and_reminds_the_receiving_owner() -> None:
    plan = plan_handoff(SCHEME, "pre_assessment", RIGA_NOON, CAL)

    assert plan.kind == "handoff"
    assert {s.role for s in plan.steps if not s.step.startswith("escalation")} == {
        "project_manager"
    }
    assert plan.due_at > RIGA_NOON


def test_a_periodic_duty_is_due_its_span_after_it_was_done() -> None:
    duties = [
        name
        for name, a in SCHEME.actions.items()
        if a.deadline is not None and a.opened_by is None and a.to in a.source
    ]
    assert duties
    [plan] = plan_duty(SCHEME, duties[0], RIGA_NOON, CAL, {})

    assert (plan.kind, plan.action) == ("duty", duties[0])
    assert plan.due_at > RIGA_NOON


def test_a_resumed_deadline_keeps_the_working_days_it_had_left() -> None:
    stage = SCHEME.stages["idea"]
    plan = replan("stage", stage, "idea", None, 3, RIGA_NOON, CAL)

    assert local(plan.due_at) == "2026-12-04 23:59"  # Tuesday + 3 working days = Friday
