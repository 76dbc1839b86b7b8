"""Recurring duties of a stage: the schedule (monthly on the Nth working day, yearly on a
date or the Nth working day of a month, every N months from a project date) on the
organisation's working days, its end, the scheme checks, and a walk through fourteen
months of implementation and five years of monitoring with one reminder per occurrence.

The walk runs on SQLite and PostgreSQL (the `engine` fixture); time is a parameter."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from conftest import COORDINATOR, T0, keep_up, shipped_text
from sqlalchemy import select

from engine import recurring
from engine.service import Engine
from storage.tables import deadlines, outbox, projects, timers
from workflow.calendar import WorkingCalendar
from workflow.errors import ShemaError
from workflow.loader import load_scheme_text
from workflow.org import CalendarOverrides
from workflow.scheme import RecurringDuty

LIGA = "liga.ozolina"  # parish_specialist, Krapes pagasts
JANIS = "janis.ozols"  # project_manager
ARNIS = "arnis.dzenis"  # asset_holder, Krapes pārvalde
UNIT = "krapes_pagasts"
HOUR = dt.timedelta(hours=1)
CAL = WorkingCalendar()
D = dt.date


def duty(**spec: object) -> RecurringDuty:
    return RecurringDuty.model_validate(spec)


# -- the schedule ---------------------------------------------------------------------------


def test_monthly_on_the_fifth_working_day_skips_the_latvian_holidays() -> None:
    monthly = duty(schedule={"monthly": {"working_day": 5}})
    found = recurring.due_days(monthly, D(2026, 1, 31), D(2026, 5, 31), CAL, {})
    # April: Good Friday 3rd and Easter Monday 6th; May: the 1st and Monday the 4th off.
    assert found == [D(2026, 2, 6), D(2026, 3, 6), D(2026, 4, 9), D(2026, 5, 11)]


def test_the_organisations_own_days_off_move_an_occurrence() -> None:
    local = WorkingCalendar(
        CalendarOverrides.model_validate({"days_off": [{"date": "2026-03-04", "title": "X"}]})
    )
    monthly = duty(schedule={"monthly": {"working_day": 5}})
    assert recurring.next_due(monthly, D(2026, 2, 28), local, {}) == D(2026, 3, 9)


def test_yearly_on_a_date_moves_off_a_weekend_and_on_a_working_day_counts() -> None:
    on_date = duty(schedule={"yearly": {"month": 3, "day": 1}})
    assert recurring.due_days(on_date, D(2026, 1, 1), D(2028, 12, 31), CAL, {}) == [
        D(2026, 3, 2),  # 1 March 2026 is a Sunday
        D(2027, 3, 1),
        D(2028, 3, 1),
    ]
    nth = duty(schedule={"yearly": {"month": 1, "working_day": 10}})
    # 1 January is a holiday and the 2nd a day off moved from Saturday 17 January
    assert recurring.next_due(nth, D(2026, 1, 1), CAL, {}) == D(2026, 1, 16)


def test_every_n_months_from_a_project_date_ends_with_its_until() -> None:
    yearly = duty(
        schedule={"every_months": 12, "from": "implementation_end"},
        until={"after": "implementation_end", "years": 5},
    )
    dates = {"implementation_end": D(2027, 3, 31)}
    assert recurring.due_days(yearly, D(2027, 1, 1), D(2040, 1, 1), CAL, dates) == [
        D(2028, 3, 31),
        D(2029, 4, 3),  # Saturday 31 March → past Easter Monday
        D(2030, 4, 1),  # Sunday 31 March → Monday
        D(2031, 3, 31),
        D(2032, 3, 31),
    ]
    assert recurring.next_due(yearly, D(2027, 1, 1), CAL, {}) is None  # the date is not set


def test_end_of_month_dates_are_kept_in_short_months() -> None:
    quarterly = duty(schedule={"every_months": 3, "from": "start"})
    found = recurring.due_days(
        quarterly, D(2026, 1, 1), D(2026, 12, 31), CAL, {"start": D(2025, 11, 30)}
    )
    assert found == [D(2026, 3, 2), D(2026, 6, 1), D(2026, 8, 31), D(2026, 11, 30)]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"schedule": {"monthly": {"working_day": 5}, "every_months": 2, "from": "x"}},
            "exactly one",
        ),
        ({"schedule": {"every_months": 2}}, "needs from"),
        ({"schedule": {"yearly": {"month": 2, "day": 1, "working_day": 1}}}, "exactly one"),
    ],
)
def test_a_schedule_names_exactly_one_rule(spec: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        duty(**spec)


def test_the_loader_wants_a_self_loop_without_deadline_and_declared_dates() -> None:
    text = (
        shipped_text("unified.yaml")
        .replace(
            "schedule: {every_months: 12, from: implementation_end}",
            "schedule: {every_months: 12, from: grant_decision}",
        )
        .replace(
            "      report_progress:\n        schedule:",
            "      report_final:\n        schedule:",
        )
    )
    with pytest.raises(ShemaError) as caught:
        load_scheme_text(text, "unified.yaml")
    said = str(caught.value)
    assert "unknown project date 'grant_decision'" in said
    assert "needs a self-loop action 'report_final'" in said


# -- the walk -------------------------------------------------------------------------------


def duty_rows(engine: Engine, code: str, action: str) -> list[Any]:
    with engine.db.read() as conn:
        return list(
            conn.execute(
                select(deadlines)
                .join(projects, projects.c.id == deadlines.c.project_id)
                .where(projects.c.code == code, deadlines.c.action == action)
                .order_by(deadlines.c.due_at)
            )
        )


def reminders_by_deadline(engine: Engine, ids: list[int]) -> Counter[int]:
    """Fired reminder timers per deadline, and the reminder messages behind them."""
    with engine.db.read() as conn:
        fired = conn.execute(
            select(timers.c.deadline_id).where(
                timers.c.deadline_id.in_(ids),
                timers.c.step.like("reminder%"),
                timers.c.fired_at.is_not(None),
            )
        ).scalars()
        out = Counter(fired)
        sent = set(
            conn.execute(
                select(outbox.c.deadline_id).where(
                    outbox.c.deadline_id.in_(ids), outbox.c.kind == "reminder"
                )
            ).scalars()
        )
    assert sent == set(out)
    return out


def work_through(engine: Engine, code: str, action: str, actor: str) -> list[dt.date]:
    """Sweep up to each open occurrence's due day and tick it off that morning, until the
    schedule ends; returns the due days."""
    done: list[dt.date] = []
    while open_ := [r for r in duty_rows(engine, code, action) if r.closed_at is None]:
        day = CAL.local_date(open_[0].due_at)
        morning = CAL.start_of(day) + HOUR
        keep_up(engine, morning)
        engine.advance(code, action, actor=actor, now=morning)
        done.append(day)
    return done


def fifth_working_day(year: int, month: int) -> dt.date:
    days = [d for d in CAL.days(D(year, month, 1), D(year, month, 28)) if CAL.is_working_day(d)]
    return days[4]


def test_fourteen_months_of_reports_and_five_years_of_monitoring(engine: Engine) -> None:
    end = D(2027, 3, 31)
    code = engine.create_project(
        title="Tautas nams", unit=UNIT, actor=LIGA, now=T0, dates={"implementation_end": end}
    ).code
    engine.force(code, "implementation", reason="contract signed", actor=COORDINATOR, now=T0 + HOUR)
    engine.acknowledge(code, actor=JANIS, now=T0 + 2 * HOUR)

    monthly = work_through(engine, code, "report_progress", JANIS)
    months = [(2026, m) for m in range(2, 13)] + [(2027, m) for m in (1, 2, 3)]
    assert monthly == [fifth_working_day(y, m) for y, m in months]  # 14 occurrences
    assert monthly[2] == D(2026, 4, 9)  # after Good Friday and Easter Monday
    ids = [r.id for r in duty_rows(engine, code, "report_progress")]
    assert reminders_by_deadline(engine, ids) == Counter(dict.fromkeys(ids, 1))

    moved = dt.datetime(2027, 4, 20, 8, tzinfo=dt.UTC)
    engine.force(code, "monitoring", reason="final payment received", actor=COORDINATOR, now=moved)
    engine.acknowledge(code, actor=ARNIS, now=moved + HOUR)
    yearly = work_through(engine, code, "submit_monitoring_report", ARNIS)
    assert yearly == [D(2028, 3, 31), D(2029, 4, 3), D(2030, 4, 1), D(2031, 3, 31), D(2032, 3, 31)]
    ids = [r.id for r in duty_rows(engine, code, "submit_monitoring_report")]
    assert reminders_by_deadline(engine, ids) == Counter(dict.fromkeys(ids, 1))


def test_a_missed_occurrence_falls_overdue_and_the_next_one_opens_anyway(engine: Engine) -> None:
    code = engine.create_project(
        title="Ceļš", unit=UNIT, actor=LIGA, now=T0, dates={"implementation_end": D(2026, 12, 30)}
    ).code
    engine.force(code, "implementation", reason="contract signed", actor=COORDINATOR, now=T0 + HOUR)
    engine.acknowledge(code, actor=JANIS, now=T0 + 2 * HOUR)
    keep_up(engine, dt.datetime(2026, 3, 2, 8, tzinfo=dt.UTC))  # February's report is late
    running = [r for r in duty_rows(engine, code, "report_progress") if r.closed_at is None]
    assert [CAL.local_date(r.due_at) for r in running] == [D(2026, 2, 6), D(2026, 3, 6)]
    late = dt.datetime(2026, 3, 3, 8, tzinfo=dt.UTC)
    engine.advance(code, "report_progress", actor=JANIS, now=late)  # the late February one
    running = [r for r in duty_rows(engine, code, "report_progress") if r.closed_at is None]
    assert [CAL.local_date(r.due_at) for r in running] == [D(2026, 3, 6)]


def in_implementation(engine: Engine) -> str:
    code = engine.create_project(
        title="Skola", unit=UNIT, actor=LIGA, now=T0, dates={"implementation_end": D(2026, 12, 30)}
    ).code
    engine.force(code, "implementation", reason="contract signed", actor=COORDINATOR, now=T0 + HOUR)
    engine.acknowledge(code, actor=JANIS, now=T0 + 2 * HOUR)
    return code


def test_an_occurrence_has_the_duties_own_ladder_and_its_reminder_names_the_duty(
    engine: Engine,
) -> None:
    code = in_implementation(engine)
    (first,) = duty_rows(engine, code, "report_progress")
    with engine.db.read() as conn:
        steps = {
            r.step: (r.role, r.fire_at)
            for r in conn.execute(select(timers).where(timers.c.deadline_id == first.id))
        }
    assert steps == {
        "reminder0": (None, CAL.start_of(D(2026, 2, 4))),  # 2 working days before the 6th
        "overdue": (None, CAL.end_of(D(2026, 2, 6))),
        "escalation0": ("development_head", CAL.end_of(D(2026, 2, 11))),
    }
    keep_up(engine, CAL.start_of(D(2026, 2, 4)) + HOUR)
    with engine.db.read() as conn:
        subjects = list(
            conn.execute(select(outbox.c.subject).where(outbox.c.deadline_id == first.id)).scalars()
        )
        assert subjects and all("progresa pārskats" in s.lower() for s in subjects)


def test_a_hold_stops_an_occurrence_and_the_resume_keeps_the_duties_ladder(engine: Engine) -> None:
    code = in_implementation(engine)
    engine.hold(
        code, reason="waiting for CFLA", actor=JANIS, now=dt.datetime(2026, 2, 3, 8, tzinfo=dt.UTC)
    )
    engine.resume(code, actor=JANIS, now=dt.datetime(2026, 2, 10, 8, tzinfo=dt.UTC))
    running = [r for r in duty_rows(engine, code, "report_progress") if r.closed_at is None]
    assert len(running) == 1
    with engine.db.read() as conn:
        steps = set(
            conn.execute(
                select(timers.c.step).where(timers.c.deadline_id == running[0].id)
            ).scalars()
        )
    assert steps == {"reminder0", "overdue", "escalation0"}
