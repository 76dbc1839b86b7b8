"""The escalation sweep: each reminder, overdue notice and escalation step becomes outbox
rows exactly once, however many sweeps run, however long the jobs were down, and whether
or not a sweep dies before committing; escalations go to the people the recipient rule
chooses, are written into the project's history with the reason, and read in the
recipient's language.

Every test runs on SQLite and PostgreSQL (the `engine` fixture); time is a parameter."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import COORDINATOR, T0, keep_up
from sqlalchemy import select

from engine.audit import verify
from engine.notify.sweep import sweep
from engine.service import Engine
from storage.database import Database
from storage.tables import deadlines, outbox, projects, timers
from workflow.errors import Conflict

LIGA = "liga.ozolina"  # parish_specialist, Krapes pagasts
ARNIS = "arnis.dzenis"  # parish_head, Krapes pagasta pārvalde
DACE = "dace.liepina"  # development_head
JANIS = "janis.ozols"  # project_manager, reads Latvian
LAURA = "laura.krumina"  # project_manager, reads English
COORDINATORS = ["ilze.kalnina", "maris.berzins"]
UNIT = "krapes_pagasts"
HOUR = dt.timedelta(hours=1)
REPO = Path(__file__).resolve().parent.parent


def utc(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso).replace(tzinfo=dt.UTC)


# An idea created at T0 (Monday 2 February 2026, 10:00 in Riga) is due at the end of
# Monday 9 February; its reminder fires on Friday 6 February at 08:00, the first
# escalation at the end of Tuesday 10 February (T0 + 6 working days), the second at the
# end of Monday 16 February.
AFTER_FIRST_ESCALATION = utc("2026-02-11T08:00:00")  # Wednesday 10:00
BEFORE_SECOND_ESCALATION = utc("2026-02-13T08:00:00")  # Friday 10:00
AFTER_SECOND_ESCALATION = utc("2026-02-17T08:00:00")  # Tuesday 10:00
AFTER_DOWNTIME = T0 + dt.timedelta(days=30)


# -- helpers ------------------------------------------------------------------------------


def new_idea(engine: Engine, unit: str = UNIT, actor: str = LIGA) -> str:
    return engine.create_project(title="Jumts", unit=unit, actor=actor, now=T0).code


def outbox_rows(engine: Engine) -> list[Any]:
    with engine.db.read() as conn:
        return list(conn.execute(select(outbox).order_by(outbox.c.id)))


def keys(engine: Engine) -> list[str]:
    return [r.key for r in outbox_rows(engine)]


def idea_deadline(engine: Engine, code: str) -> int:
    with engine.db.read() as conn:
        return int(
            conn.execute(
                select(deadlines.c.id)
                .join(projects, projects.c.id == deadlines.c.project_id)
                .where(projects.c.code == code, deadlines.c.stage == "idea")
            ).scalar_one()
        )


def message(engine: Engine, key: str) -> Any:
    [row] = [r for r in outbox_rows(engine) if r.key == key]
    return row


def escalations(engine: Engine, code: str) -> list[Any]:
    return [e for e in engine.history(code, actor=COORDINATOR) if e.kind == "escalated"]


def version(engine: Engine, code: str) -> int:
    return engine.project(code, actor=COORDINATOR).version


# -- once, and only once ------------------------------------------------------------------


def test_a_sweep_after_the_sixth_working_day_creates_the_overdue_notice_and_first_escalation(
    engine: Engine,
) -> None:
    code = new_idea(engine)
    did = idea_deadline(engine, code)
    keep_up(engine, AFTER_FIRST_ESCALATION)
    assert keys(engine) == [
        f"deadline:{did}:reminder0:{LIGA}",
        f"deadline:{did}:overdue:{LIGA}",
        f"deadline:{did}:escalation0:{ARNIS}",
    ]


def test_a_second_sweep_at_the_same_time_creates_no_message(engine: Engine) -> None:
    new_idea(engine)
    sweep(engine, AFTER_FIRST_ESCALATION)
    before = keys(engine)
    report = sweep(engine, AFTER_FIRST_ESCALATION)
    assert (report.fired, report.escalations) == (0, 0)
    assert keys(engine) == before


def test_a_later_sweep_before_the_next_step_creates_no_message(engine: Engine) -> None:
    code = new_idea(engine)
    sweep(engine, AFTER_FIRST_ESCALATION)
    before, before_version = keys(engine), version(engine, code)
    assert sweep(engine, BEFORE_SECOND_ESCALATION).fired == 0
    assert keys(engine) == before
    assert version(engine, code) == before_version


def test_the_second_escalation_goes_out_once_when_its_time_comes(engine: Engine) -> None:
    code = new_idea(engine)
    did = idea_deadline(engine, code)
    keep_up(engine, AFTER_FIRST_ESCALATION)
    for _ in range(3):
        sweep(engine, AFTER_SECOND_ESCALATION)
    assert Counter(keys(engine))[f"deadline:{did}:escalation1:{DACE}"] == 1
    assert len(keys(engine)) == 4
    assert len(escalations(engine, code)) == 2


def test_after_downtime_one_sweep_sends_the_overdue_notice_and_only_the_highest_escalation(
    engine: Engine,
) -> None:
    codes = [new_idea(engine) for _ in range(3)]
    report = sweep(engine, AFTER_DOWNTIME, batch=2)  # several batches
    assert report.batches >= 6
    assert (report.fired, report.skipped, report.escalations) == (6, 6, 3)
    found = keys(engine)
    assert len(found) == len(set(found)) == 6
    for code in codes:
        did = idea_deadline(engine, code)
        assert {k for k in found if k.startswith(f"deadline:{did}:")} == {
            f"deadline:{did}:overdue:{LIGA}",  # the reminder for a passed deadline is not sent
            f"deadline:{did}:escalation1:{DACE}",  # the step now due, not every step
        }
        [event] = escalations(engine, code)
        assert (event.data["step"], event.data["caught_up"]) == ("escalation1", ["escalation0"])


def test_a_reminder_whose_deadline_has_passed_is_never_sent_later_either(engine: Engine) -> None:
    code = new_idea(engine)
    sweep(engine, AFTER_FIRST_ESCALATION)
    did = idea_deadline(engine, code)
    for later in (AFTER_SECOND_ESCALATION, AFTER_DOWNTIME):
        sweep(engine, later)
    assert f"deadline:{did}:reminder0:{LIGA}" not in keys(engine)


def test_a_running_scheduler_sends_every_step_of_the_ladder_at_its_time(engine: Engine) -> None:
    code = new_idea(engine)
    report = keep_up(engine, AFTER_DOWNTIME)
    assert (report.fired, report.skipped, report.escalations) == (4, 0, 2)
    assert [e.data["step"] for e in escalations(engine, code)] == ["escalation0", "escalation1"]
    assert all("caught_up" not in e.data for e in escalations(engine, code))


def test_a_sweep_after_downtime_marks_every_timer_fired_at_the_sweep_time(engine: Engine) -> None:
    new_idea(engine)
    sweep(engine, AFTER_DOWNTIME)
    with engine.db.read() as conn:
        fired = [r.fired_at for r in conn.execute(select(timers))]
    assert fired == [AFTER_DOWNTIME] * 4
    assert sweep(engine, AFTER_DOWNTIME + dt.timedelta(days=1)).fired == 0


def test_the_sweep_report_counts_the_messages_it_created(
    engine: Engine, request: pytest.FixtureRequest
) -> None:
    new_idea(engine)
    report = keep_up(engine, AFTER_FIRST_ESCALATION)
    assert report.messages == len(outbox_rows(engine)) == 3
    assert sweep(engine, AFTER_FIRST_ESCALATION).messages == 0


def test_a_sweep_killed_before_it_commits_leaves_nothing_and_the_next_creates_each_once(
    engine: Engine,
) -> None:
    new_idea(engine)

    def run(failpoints: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHEMA_")}
        env.update(SHEMA_DB=engine.db.url, SHEMA_FAILPOINTS=failpoints)
        return subprocess.run(
            [sys.executable, "-m", "cli", "jobs", "sweep", "--now", "2026-02-11T10:00"],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO,
            timeout=60,
            check=False,
        )

    killed = run("sweep.before_commit")
    assert killed.returncode == -9, killed.stderr
    assert outbox_rows(engine) == []
    assert run("").returncode == 0
    assert len(keys(engine)) == 2  # the overdue notice and the escalation (the reminder is past)
    assert run("").returncode == 0
    assert len(keys(engine)) == 2


def test_a_batch_writes_its_messages_in_one_insert_and_marks_its_timers_in_one_update(
    engine: Engine,
) -> None:
    from sqlalchemy import event

    codes = [new_idea(engine) for _ in range(4)]
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        words = " ".join(statement.split()[:3]).upper()
        if words in ("INSERT INTO outbox".upper(), "UPDATE timers SET".upper()):
            statements.append(words)

    event.listen(engine.db.engine, "before_cursor_execute", seen)
    try:
        report = sweep(engine, AFTER_DOWNTIME, batch=100)
    finally:
        event.remove(engine.db.engine, "before_cursor_execute", seen)
    assert (report.batches, report.fired, report.skipped, report.messages) == (1, 8, 8, 8)
    assert sorted(statements) == ["INSERT INTO OUTBOX", "UPDATE TIMERS SET"]
    assert len(keys(engine)) == len(set(keys(engine))) == 8
    for code in codes:  # the same messages one at a time would have written
        did = idea_deadline(engine, code)
        assert {k for k in keys(engine) if k.startswith(f"deadline:{did}:")} == {
            f"deadline:{did}:overdue:{LIGA}",
            f"deadline:{did}:escalation1:{DACE}",
        }


# -- recipients and history ---------------------------------------------------------------


def test_the_first_escalation_goes_to_the_parish_head_of_the_projects_administration(
    engine: Engine,
) -> None:
    code = new_idea(engine)
    sweep(engine, AFTER_FIRST_ESCALATION)
    [event] = escalations(engine, code)
    assert (event.data["role"], event.data["recipients"]) == ("parish_head", [ARNIS])
    assert "krapes_parvalde" in event.data["why"]


def test_the_second_escalation_goes_to_the_central_development_head(engine: Engine) -> None:
    code = new_idea(engine)
    keep_up(engine, AFTER_SECOND_ESCALATION)
    second = escalations(engine, code)[1]
    assert (second.data["role"], second.data["recipients"]) == ("development_head", [DACE])
    assert second.data["why"] == "holders of development_head"


def test_an_escalation_nobody_in_the_unit_can_receive_goes_to_the_coordinators_with_the_reason(
    engine: Engine,
) -> None:
    code = new_idea(engine, unit="ogres_pilseta", actor=JANIS)  # no parish head above it
    sweep(engine, AFTER_FIRST_ESCALATION)
    [event] = escalations(engine, code)
    assert event.data["recipients"] == COORDINATORS
    assert "nobody holds parish_head" in event.data["why"]
    assert "coordinators" in event.data["why"]
    did = idea_deadline(engine, code)
    assert {r.recipient_id for r in outbox_rows(engine) if ":escalation0:" in r.key} == set(
        COORDINATORS
    )
    assert f"deadline:{did}:escalation0:ilze.kalnina" in keys(engine)


def test_an_escalation_is_an_event_in_history_with_the_step_and_due_time(engine: Engine) -> None:
    code = new_idea(engine)
    sweep(engine, AFTER_FIRST_ESCALATION)
    [event] = escalations(engine, code)
    assert (event.actor, event.at, event.from_stage, event.to_stage) == (
        None,
        AFTER_FIRST_ESCALATION,
        "idea",
        "idea",
    )
    assert event.data["step"] == "escalation0"
    assert event.data["deadline"] == "stage"
    assert event.data["due_at"] == "2026-02-09T21:59:59+00:00"


def test_each_escalation_bumps_the_project_version_and_the_others_do_not(engine: Engine) -> None:
    code = new_idea(engine)
    keep_up(engine, utc("2026-02-10T08:00:00"))  # reminder and overdue notice only
    assert version(engine, code) == 1
    keep_up(engine, AFTER_SECOND_ESCALATION)  # both escalation steps, each at its time
    assert version(engine, code) == 3


def test_the_history_chain_verifies_after_escalations(engine: Engine) -> None:
    for _ in range(2):
        new_idea(engine)
    keep_up(engine, AFTER_DOWNTIME)
    report = verify(engine.db)
    assert report.ok, report.broken
    assert report.events == 6  # per project: created and two escalations


def test_a_stale_write_after_an_escalation_is_a_conflict(engine: Engine) -> None:
    code = new_idea(engine)
    seen = version(engine, code)
    sweep(engine, AFTER_FIRST_ESCALATION)
    with pytest.raises(Conflict):
        engine.comment(code, "on it", actor=LIGA, now=AFTER_FIRST_ESCALATION, expect_version=seen)


def test_an_escalated_project_leaves_the_recipients_list_once_that_deadline_is_closed(
    engine: Engine,
) -> None:
    code = new_idea(engine)
    sweep(engine, AFTER_FIRST_ESCALATION)
    mine = [
        p.code for p in engine.list_projects(actor=ARNIS, mine=True, now=AFTER_FIRST_ESCALATION)
    ]
    assert mine == [code]  # the parish head was escalated to
    for item in ("problem_statement", "estimated_cost"):
        engine.check(code, item, actor=LIGA, now=AFTER_FIRST_ESCALATION + HOUR)
    engine.advance(code, "submit_idea", actor=LIGA, now=AFTER_FIRST_ESCALATION + 2 * HOUR)
    engine.acknowledge(code, actor=JANIS, now=AFTER_FIRST_ESCALATION + 3 * HOUR)
    later = AFTER_FIRST_ESCALATION + 4 * HOUR
    left = engine.list_projects(actor=ARNIS, mine=True, now=later)
    # What the parish head may still do (withdraw it) is offered; nothing is escalated.
    assert [a.kind for p in left for a in p.asks] in ([], ["may_decide"])


# -- racing -------------------------------------------------------------------------------


def test_a_sweep_racing_advances_leaves_every_project_consistent(engine: Engine) -> None:
    codes = [new_idea(engine) for _ in range(4)]
    for code in codes:
        for item in ("problem_statement", "estimated_cost"):
            engine.check(code, item, actor=LIGA, now=T0 + HOUR)
    other = Engine(Database(engine.db.url))
    start = threading.Barrier(2, timeout=60)
    failures: list[BaseException] = []

    def sweeper() -> None:
        try:
            start.wait()
            sweep(engine, AFTER_DOWNTIME, batch=1)
        except BaseException as exc:
            failures.append(exc)

    def advancer() -> None:
        try:
            start.wait()
            for code in codes:
                for _ in range(20):  # a concurrent escalation makes an advance conflict
                    try:
                        other.advance(code, "submit_idea", actor=LIGA, now=AFTER_DOWNTIME)
                        break
                    except Conflict:
                        continue
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=sweeper), threading.Thread(target=advancer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    other.db.dispose()
    assert not failures, failures
    assert verify(engine.db).ok
    with engine.db.read() as conn:
        rows = list(conn.execute(select(projects)))
        fired = {
            (t.deadline_id, t.step): t
            for t in conn.execute(select(timers).where(timers.c.fired_at.is_not(None)))
        }
        idea_rows = {
            r.id: r for r in conn.execute(select(deadlines).where(deadlines.c.stage == "idea"))
        }
        unfired_idea = conn.execute(
            select(timers).where(
                timers.c.fired_at.is_(None), timers.c.deadline_id.in_(list(idea_rows))
            )
        ).all()
    assert {r.stage for r in rows} == {"pre_assessment"}
    assert all(r.version == r.head_seq for r in rows)
    assert all(d.closed_at is not None for d in idea_rows.values())
    # An idea timer that did not fire belongs to a closed deadline: it never will, and the
    # next sweep prunes it.
    assert all(idea_rows[t.deadline_id].closed_at is not None for t in unfired_idea)
    sent = {
        (int(k.split(":")[1]), k.split(":")[2]) for k in keys(engine) if k.startswith("deadline:")
    }
    fired_idea = {k for k in fired if k[0] in idea_rows}
    assert sent <= fired_idea  # a message only for a fired timer …
    # … and a fired timer without one was caught up: a reminder after its deadline, or
    # an escalation step overtaken by a higher one due at the same sweep.
    assert all(step == "reminder0" or step == "escalation0" for _, step in fired_idea - sent)
    for code in codes:
        did = idea_deadline(engine, code)
        sent_escalations = [k for k in sent if k[0] == did and k[1].startswith("escalation")]
        assert len(escalations(engine, code)) == len(sent_escalations)
    assert sweep(engine, AFTER_DOWNTIME).fired == 0


# -- what the messages say ----------------------------------------------------------------


def test_a_project_manager_who_reads_english_gets_the_overdue_handoff_notice_in_english(
    engine: Engine,
) -> None:
    code = new_idea(engine)
    for item in ("problem_statement", "estimated_cost"):
        engine.check(code, item, actor=LIGA, now=T0 + HOUR)
    engine.advance(code, "submit_idea", actor=LIGA, now=T0 + 2 * HOUR)
    sweep(engine, utc("2026-02-05T08:00:00"))  # the handoff was due on 4 February
    overdue = {r.recipient_id: r for r in outbox_rows(engine) if r.kind == "overdue"}
    assert overdue[LAURA].subject == f"[{code}] Overdue: Pre-assessment (due 2026-02-04)"
    assert overdue[LAURA].body.startswith("Hello Laura Krūmiņa")
    assert overdue[JANIS].subject == f"[{code}] Nokavēts termiņš: Priekšizvērtējums (2026-02-04)"


def test_the_escalation_subject_names_the_project_the_step_and_the_due_date(
    engine: Engine,
) -> None:
    code = new_idea(engine)
    keep_up(engine, AFTER_SECOND_ESCALATION)
    did = idea_deadline(engine, code)
    first = message(engine, f"deadline:{did}:escalation0:{ARNIS}")
    second = message(engine, f"deadline:{did}:escalation1:{DACE}")
    assert first.subject == f"[{code}] Eskalācija (1. pakāpe): Ideja nokavēts kopš 2026-02-09"
    assert second.subject == f"[{code}] Eskalācija (2. pakāpe): Ideja nokavēts kopš 2026-02-09"


def test_the_reminder_subject_names_the_project_the_stage_and_the_due_date(
    engine: Engine,
) -> None:
    code = new_idea(engine)
    sweep(engine, utc("2026-02-06T08:00:00"))
    [row] = outbox_rows(engine)
    assert (row.kind, row.recipient_id) == ("reminder", LIGA)
    assert row.subject == f"[{code}] Atgādinājums: Ideja — termiņš 2026-02-09"


def test_sixty_days_without_a_sweep_send_no_stale_reminder_and_one_escalation_each(
    engine: Engine,
) -> None:
    codes = [new_idea(engine) for _ in range(5)]
    report = sweep(engine, T0 + dt.timedelta(days=60))
    assert (report.messages, report.escalations) == (10, 5)  # overdue + highest step each
    assert not [k for k in keys(engine) if ":reminder" in k]
    for code in codes:
        assert len(escalations(engine, code)) == 1
