"""External clocks: a stage waiting on an outside body (CFLA) with that body's period.
When the period lapses the project manager is reminded once to follow up and nobody is
escalated; the project is not overdue in lists; the body's extension is a project event
that moves the clock's due date once.

Every test runs on SQLite and PostgreSQL (the `engine` fixture); time is a parameter."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from conftest import COORDINATOR, T0, keep_up, shipped_text
from sqlalchemy import select

from engine.audit import verify
from engine.clocks import extend
from engine.deadlines import plan_external
from engine.notify.sweep import sweep
from engine.service import Engine
from render.projects import project_show
from render.speech import Speech
from storage.tables import deadlines, outbox, projects, timers
from workflow.calendar import national_calendar
from workflow.errors import NotAllowed, UsageError
from workflow.loader import load_scheme_text

LIGA = "liga.ozolina"  # parish_specialist, Krapes pagasts
JANIS = "janis.ozols"  # project_manager
UNIT = "krapes_pagasts"
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
CALL = dt.date(2026, 3, 2)  # the call closes on a Monday
CFLA_DUE = dt.datetime(2026, 6, 2, 20, 59, 59, tzinfo=dt.UTC)  # 3 months on, 23:59:59 Riga
EXTENDED_DUE = dt.datetime(2026, 9, 2, 20, 59, 59, tzinfo=dt.UTC)  # 3 months more


def external_rows(engine: Engine, code: str) -> list[Any]:
    """The project's external clocks, oldest first."""
    with engine.db.read() as conn:
        return list(
            conn.execute(
                select(deadlines)
                .join(projects, projects.c.id == deadlines.c.project_id)
                .where(projects.c.code == code, deadlines.c.kind == "external")
                .order_by(deadlines.c.id)
            )
        )


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


def steps_of(engine: Engine, deadline_id: int) -> dict[str, Any]:
    with engine.db.read() as conn:
        rows = conn.execute(select(timers).where(timers.c.deadline_id == deadline_id))
        return {r.step: r for r in rows}


def in_evaluation(engine: Engine, **dates: dt.date) -> str:
    """A project forced into external evaluation at T0+1h and acknowledged by its project
    manager (who becomes the responsible person) at T0+2h."""
    code = engine.create_project(
        title="Jumts", unit=UNIT, actor=LIGA, now=T0, dates={"call_deadline": CALL, **dates}
    ).code
    engine.force(code, "evaluation", reason="submitted", actor=COORDINATOR, now=T0 + HOUR)
    engine.acknowledge(code, actor=JANIS, now=T0 + 2 * HOUR)
    return code


def overdue_codes(engine: Engine, at: dt.datetime) -> list[str]:
    return [p.code for p in engine.list_projects(actor=COORDINATOR, overdue_at=at)]


# -- the clock ----------------------------------------------------------------------------


def test_evaluation_opens_cfla_s_clock_three_months_after_the_call_closed(
    engine: Engine,
) -> None:
    code = in_evaluation(engine)
    [clock] = external_rows(engine, code)
    assert (clock.stage, clock.due_at, clock.closed_at) == ("evaluation", CFLA_DUE, None)
    assert {s: (t.role, t.fire_at) for s, t in steps_of(engine, clock.id).items()} == {
        "followup": (None, CFLA_DUE)
    }


def test_without_the_call_s_closing_date_no_clock_runs_and_no_extension_is_possible(
    engine: Engine,
) -> None:
    code = engine.create_project(title="Jumts", unit=UNIT, actor=LIGA, now=T0).code
    engine.force(code, "evaluation", reason="submitted", actor=COORDINATOR, now=T0 + HOUR)
    engine.acknowledge(code, actor=JANIS, now=T0 + 2 * HOUR)
    assert external_rows(engine, code) == []
    with pytest.raises(NotAllowed) as refused:
        extend(engine, code, "CFLA vēstule", actor=JANIS, now=T0 + DAY)
    assert refused.value.code == "clocks.not_running"


def test_a_lapsed_evaluation_reminds_the_project_manager_once_and_escalates_nobody(
    engine: Engine,
) -> None:
    code = in_evaluation(engine)
    before = {r.id for r in outbox_of(engine, code)}
    report = keep_up(engine, CFLA_DUE + 40 * DAY)
    sweep(engine, CFLA_DUE + 80 * DAY)  # later sweeps send nothing more
    new = [r for r in outbox_of(engine, code) if r.id not in before]
    assert [(r.kind, r.recipient_id) for r in new] == [("followup", JANIS)]
    [notice] = new
    assert "CFLA" in notice.subject and "2026-06-02" in notice.subject
    assert "netiek eskalēts" in notice.body
    assert "nokavēts" not in notice.body
    assert report.escalations == 0
    history = engine.history(code, actor=COORDINATOR)
    assert [e for e in history if e.kind == "escalated"] == []
    [clock] = external_rows(engine, code)
    assert [s for s, t in steps_of(engine, clock.id).items() if t.fired_at is not None] == [
        "followup"
    ]


def test_a_project_waiting_on_cfla_past_its_period_is_not_overdue(engine: Engine) -> None:
    code = in_evaluation(engine)
    late = CFLA_DUE + 10 * DAY
    assert code not in overdue_codes(engine, late)
    view = engine.project(code, actor=COORDINATOR, now=late, lang="lv")
    assert view.due_at is None and not view.overdue
    mine = engine.list_projects(actor=JANIS, mine=True, now=late)
    assert all(not p.overdue for p in mine)


def test_a_hold_does_not_stop_the_outside_body_s_clock(engine: Engine) -> None:
    code = in_evaluation(engine)
    engine.hold(code, reason="gaidām CFLA", actor=JANIS, now=T0 + 3 * DAY)
    engine.resume(code, actor=JANIS, now=T0 + 30 * DAY)
    [clock] = external_rows(engine, code)
    assert (clock.due_at, clock.paused_at, clock.closed_at) == (CFLA_DUE, None, None)


def test_leaving_the_stage_closes_the_clock_and_the_contract_opens_its_own(
    engine: Engine,
) -> None:
    code = in_evaluation(engine)
    at = dt.datetime(2026, 5, 4, 8, 0, tzinfo=dt.UTC)  # a Monday
    engine.check(code, "approval_decision", actor=JANIS, now=at - HOUR)
    engine.advance(code, "record_approval", actor=JANIS, now=at)
    evaluation, contract = external_rows(engine, code)
    assert evaluation.closed_at == at and contract.closed_at is None
    # 30 working days from Monday 4 May 2026 (Whit Monday is no holiday in Latvia)
    cal = national_calendar()
    assert cal.local_date(contract.due_at) == cal.add_working_days(dt.date(2026, 5, 4), 30)
    assert contract.stage == "contract"


# -- the extension ------------------------------------------------------------------------


def test_an_extension_moves_the_due_date_once_and_is_an_event_in_the_history(
    engine: Engine,
) -> None:
    code = in_evaluation(engine)
    at = CFLA_DUE - 5 * DAY
    out = extend(engine, code, "CFLA pagarina vērtēšanu", actor=JANIS, now=at)
    assert out.kind == "external_extended"
    old, new = external_rows(engine, code)
    assert old.closed_at == at and (new.due_at, new.closed_at) == (EXTENDED_DUE, None)
    assert set(steps_of(engine, new.id)) == {"followup"}
    with pytest.raises(NotAllowed) as refused:
        extend(engine, code, "vēlreiz", actor=JANIS, now=at + DAY)
    assert refused.value.code == "clocks.already_extended"
    assert [r.due_at for r in external_rows(engine, code) if r.closed_at is None] == [EXTENDED_DUE]
    [event] = [e for e in engine.history(code, actor=COORDINATOR) if e.kind == "external_extended"]
    assert event.comment == "CFLA pagarina vērtēšanu"
    report = verify(engine.db)
    assert report.ok, report.broken
    # the old date passes quietly; the new one reminds once
    before = len(outbox_of(engine, code))
    keep_up(engine, EXTENDED_DUE + DAY)
    assert [r.kind for r in outbox_of(engine, code)[before:]] == ["followup"]


def test_an_extension_needs_a_reason_and_a_stage_worker(engine: Engine) -> None:
    code = in_evaluation(engine)
    with pytest.raises(UsageError) as blank:
        extend(engine, code, "  ", actor=JANIS, now=T0 + DAY)
    assert blank.value.code == "clocks.reason_required"
    with pytest.raises(NotAllowed) as outsider:
        extend(engine, code, "CFLA vēstule", actor=LIGA, now=T0 + DAY)
    assert outsider.value.code == "project.not_stage_worker"


# -- words and the scheme ----------------------------------------------------------------


def test_project_show_says_whom_the_stage_waits_on_and_until_when(engine: Engine) -> None:
    code = in_evaluation(engine)
    lines: list[str] = []
    view = engine.project(code, actor=COORDINATOR, now=T0 + DAY, lang="lv")
    with engine.db.read() as conn:
        org = engine.org_index(conn)
    scheme = load_scheme_text(shipped_text("unified.yaml"), "unified.yaml")
    project_show(view, Speech("lv", org, scheme), lines.append)
    assert any("Gaida CFLA lēmumu līdz 02.06.2026." in line for line in lines), lines


SCHEME = """
scheme: s
dates: {call_deadline: {}}
roles: {pm: {level: central}}
stages:
  wait:
    owner: pm
    waits_on: {body: {lv: LAD, en: RSS}, period: {months: 1}, starts: %s}
  done: {terminal: true}
actions:
  finish: {from: wait, to: done, by: [pm]}
"""


def test_a_clock_counts_from_a_declared_date_or_entry_only() -> None:
    with pytest.raises(Exception) as bad:
        load_scheme_text(SCHEME % "opening_day", "s.yaml")
    assert "unknown project date 'opening_day'" in str(bad.value)
    scheme = load_scheme_text(SCHEME % "entry", "s.yaml")
    cal = national_calendar()
    entered = dt.datetime(2026, 1, 31, 8, 0, tzinfo=dt.UTC)  # a Saturday
    [plan] = plan_external(scheme, "wait", entered, cal, {})
    # 28 February 2026 is a Saturday: the month's end moves on to Monday 2 March
    assert (plan.kind, cal.local_date(plan.due_at)) == ("external", dt.date(2026, 3, 2))


def test_shema_project_extend_records_the_extension_and_refuses_a_second(engine: Engine) -> None:
    from click.testing import CliRunner

    import cli

    code = in_evaluation(engine)
    env = {"SHEMA_DB": engine.db.url, "SHEMA_USER": None, "SHEMA_LANG": None, "SHEMA_DEBUG": None}
    argv = ["--as", JANIS, "project", "extend", code, "--reason", "CFLA vēstule Nr. 5"]
    first = CliRunner().invoke(cli.main, argv, env=env)
    assert first.exit_code == 0, first.output
    assert f"{code}: CFLA termiņš pagarināts līdz 02.09.2026.;" in first.output
    second = CliRunner().invoke(cli.main, argv, env=env)
    assert second.exit_code != 0
    assert "extended already" in second.output + second.stderr
