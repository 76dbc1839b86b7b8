"""`shema audit verify` and `audit anchor`: a direct SQL edit of anything that decides who
may act or what is true of a project is named (project, field, both values) and fails the
CLI with exit 1; older histories that do not record a value pass and are counted; an
anchor taken outside the database catches deleted last events with a fixed head, and
lets projects grow."""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Connection, delete, func, insert, select, update

import cli
from engine import planning
from engine.audit import VerifyReport, digest_anchor, dump_anchor, read_anchor, take_anchor, verify
from engine.history import GENESIS, dumps, event_hash
from engine.service import Engine
from storage.tables import (
    audit_heads,
    audit_runs,
    cba_years,
    checklist,
    history,
    org_versions,
    people,
    projects,
    risks,
    role_assignments,
    scheme_versions,
)
from workflow.cba import YearFlow

T0 = dt.datetime(2026, 2, 2, 8, 0, tzinfo=dt.UTC)
LIGA = "liga.ozolina"  # parish specialist and coordinator, Krapes
ZANE = "zane.roze"  # parish specialist, Suntaži
JANIS = "janis.ozols"  # project manager, central


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def world(engine: Engine) -> tuple[str, str]:
    """Two projects like the demo's: a Krapes one with every kind of data (budget,
    instrument, partners, dates, ticks, a handoff acknowledged, risks, a cost-benefit
    analysis, a comment last) and a Suntaži one on hold."""
    a = engine.create_project(
        title="Krapes tautas nama jumts",
        unit="krapes_pagasts",
        actor=LIGA,
        now=at(0),
        budget=Decimal("120000.50"),
        funding_instrument="eafrd_leader",
        partners=["Siguldas novads"],
        dates={"call_deadline": dt.date(2026, 9, 30)},
    ).code
    for n, item in enumerate(("problem_statement", "estimated_cost")):
        engine.check(a, item, actor=LIGA, now=at(1 + n))
    engine.advance(a, "submit_idea", actor=LIGA, now=at(3))
    engine.acknowledge(a, actor=JANIS, now=at(4))
    engine.check(a, "programme_fit", actor=JANIS, now=at(5))
    planning.add_risk(
        engine, a, title="Izmaksas", likelihood=3, impact=4, owner=JANIS, actor=JANIS, now=at(6)
    )
    planning.update_risk(engine, a, 1, {"status": "mitigating"}, actor=JANIS, now=at(7))
    flows = [YearFlow(2026, Decimal("148000"), Decimal("0"))] + [
        YearFlow(y, Decimal("1500"), Decimal("19500.25")) for y in range(2027, 2036)
    ]
    planning.set_cba(engine, a, flows, actor=JANIS, now=at(8))
    engine.comment(a, "Gatavs plānam", actor=JANIS, now=at(9))
    b = engine.create_project(title="Suntažu ietve", unit="suntazu_pagasts", actor=ZANE, now=at(0))
    engine.hold(b.code, reason="Gaida zemesgrāmatu", actor=ZANE, now=at(10))
    return a, b.code


def run(engine: Engine, *args: str) -> Result:
    """`shema ARGS` in process on the engine's database."""
    env = {"SHEMA_DB": engine.db.url, "SHEMA_USER": None, "SHEMA_DEBUG": None}
    result = CliRunner().invoke(cli.main, list(args), env=env)
    gc.collect()  # its engine's PostgreSQL connections
    assert "Traceback" not in result.output
    return result


def pid_of(conn: Connection, code: str) -> int:
    return int(conn.execute(select(projects.c.id).where(projects.c.code == code)).scalar_one())


def tamper(engine: Engine, change: Callable[[Connection, int], Any], code: str) -> None:
    """Change the database behind Shēma's back."""
    with engine.db.write() as conn:
        change(conn, pid_of(conn, code))


def problems(report: VerifyReport, code: str) -> list[dict[str, Any]]:
    return [b for b in report.broken if b["project"] == code]


# -- tampering with what the history says -----------------------------------------------


def _project(**values: Any) -> Callable[[Connection, int], Any]:
    return lambda c, pid: c.execute(update(projects).where(projects.c.id == pid).values(values))


def _tick(c: Connection, pid: int) -> None:
    c.execute(
        insert(checklist).values(
            project_id=pid, item="funding_instrument", checked_at=at(5), checked_by=JANIS
        )
    )


def _untick(c: Connection, pid: int) -> None:
    c.execute(
        delete(checklist).where(checklist.c.project_id == pid, checklist.c.item == "programme_fit")
    )


def _risk(**values: Any) -> Callable[[Connection, int], Any]:
    return lambda c, pid: c.execute(
        update(risks).where(risks.c.project_id == pid, risks.c.number == 1).values(values)
    )


def _flows(c: Connection, pid: int) -> None:
    c.execute(
        update(cba_years)
        .where(cba_years.c.project_id == pid, cba_years.c.year == 2030)
        .values(benefit=cba_years.c.benefit + 1000)
    )


TAMPERS = [
    pytest.param(_project(unit_id="suntazu_pagasts"), "unit_id", id="unit"),
    pytest.param(_project(title="Cits"), "title", id="title"),
    pytest.param(_project(budget_amount=Decimal("99.00")), "budget_amount", id="budget"),
    pytest.param(_project(budget_currency="LVL"), "budget_currency", id="currency"),
    pytest.param(_project(funding_instrument="interreg"), "funding_instrument", id="instrument"),
    pytest.param(_project(partners='["Rīga"]'), "partners", id="partners"),
    pytest.param(_project(dates='{"call_deadline": "2027-01-01"}'), "dates", id="dates"),
    pytest.param(_project(responsible_id=LIGA), "responsible_id", id="responsible"),
    pytest.param(_project(handoff_since=at(9)), "handoff_since", id="handoff"),
    pytest.param(_tick, "checklist.funding_instrument", id="tick-inserted"),
    pytest.param(_untick, "checklist.programme_fit", id="tick-deleted"),
    pytest.param(_risk(likelihood=1), "risks.R1.likelihood", id="risk-likelihood"),
    pytest.param(_risk(status="closed"), "risks.R1.status", id="risk-status"),
    pytest.param(_flows, "cba.flows", id="cba-flows"),
]


@pytest.mark.parametrize(("change", "field"), TAMPERS)
def test_a_direct_edit_of_project_data_is_named_with_both_values(
    engine: Engine, change: Callable[[Connection, int], Any], field: str
) -> None:
    a, b = world(engine)
    tamper(engine, change, a)

    report = verify(engine.db)
    result = run(engine, "audit", "verify")

    assert [p["field"] for p in problems(report, a)] == [field]
    assert not problems(report, b)
    found = problems(report, a)[0]
    assert found["history"] != found["row"]
    assert "changed outside" in found["reason"] or "outside Shēma" in found["reason"]
    assert result.exit_code == 1
    assert f"BROKEN {a} event #" in result.stderr
    assert field.split(".")[-1] in result.stderr


ROLE_TAMPERS = [
    pytest.param(
        lambda c: c.execute(
            insert(role_assignments).values(
                person_id=ZANE, role="coordinator", unit_id="ogres_novads"
            )
        ),
        f"{ZANE} holds coordinator for ogres_novads",
        id="inserted",
    ),
    pytest.param(
        lambda c: c.execute(
            delete(role_assignments).where(
                role_assignments.c.person_id == LIGA, role_assignments.c.role == "parish_specialist"
            )
        ),
        f"gives {LIGA} parish_specialist for krapes_pagasts, but the row is missing",
        id="deleted",
    ),
    pytest.param(
        lambda c: c.execute(update(people).where(people.c.id == ZANE).values(active=False)),
        f"{ZANE} is inactive",
        id="person-deactivated",
    ),
    pytest.param(
        lambda c: c.execute(update(org_versions).values(compiled=org_versions.c.compiled + " ")),
        "compiled organisation does not match its content hash",
        id="org-version-edited",
    ),
    pytest.param(
        lambda c: c.execute(update(scheme_versions).values(content_hash="0" * 64)),
        "compiled scheme does not match its content hash",
        id="scheme-version-edited",
    ),
]


@pytest.mark.parametrize(("change", "message"), ROLE_TAMPERS)
def test_role_assignments_and_versions_must_agree_with_the_organisation(
    engine: Engine, change: Callable[[Connection], Any], message: str
) -> None:
    world(engine)
    with engine.db.write() as conn:
        change(conn)

    report = verify(engine.db)
    result = run(engine, "audit", "verify")

    assert [b["reason"] for b in report.broken if message in b["reason"]], report.broken
    assert all(b["project"] is None for b in report.broken)
    assert result.exit_code == 1
    assert message in result.stderr


def test_an_untouched_demo_like_database_verifies_clean(engine: Engine) -> None:
    world(engine)

    report = verify(engine.db)
    result = run(engine, "audit", "verify", "--json")

    assert report.ok, report.broken
    assert (report.projects, report.partial, report.not_checkable) == (2, 0, {})
    assert report.role_assignments > 0
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["broken"] == []


# -- histories written before the audit data ------------------------------------------------

NEW_KEYS = {
    "created": (
        "code",
        "budget_amount",
        "budget_currency",
        "funding_instrument",
        "partners",
        "dates",
        "responsible",
    ),
    "advanced": ("responsible",),
    "forced": ("responsible",),
    "acknowledged": ("responsible",),
    "cba_set": ("flows",),
}


def rewrite(engine: Engine, code: str, edit: Callable[[dict[str, Any]], None]) -> None:
    """Rewrite a project's events with `edit` and rechain them (and the head), as someone
    who can also recompute hashes would: only an anchor notices."""
    with engine.db.write() as conn:
        pid = pid_of(conn, code)
        rows = conn.execute(
            select(history).where(history.c.project_id == pid).order_by(history.c.seq)
        ).mappings()
        prev = GENESIS
        for r in list(rows):
            event = dict(r)
            edit(event)
            event["prev_hash"] = prev
            event["hash"] = prev = event_hash(event)
            conn.execute(
                update(history)
                .where(history.c.project_id == pid, history.c.seq == event["seq"])
                .values(
                    data=event["data"],
                    comment=event["comment"],
                    prev_hash=event["prev_hash"],
                    hash=prev,
                )
            )
        conn.execute(update(projects).where(projects.c.id == pid).values(head_hash=prev))


def as_before(event: dict[str, Any]) -> None:
    data = json.loads(event["data"])
    for key in NEW_KEYS.get(event["kind"], ()):
        data.pop(key, None)
    event["data"] = dumps(data)


def test_older_histories_pass_and_are_counted_as_not_fully_checkable(engine: Engine) -> None:
    a, _ = world(engine)
    rewrite(engine, a, as_before)

    report = verify(engine.db)
    result = run(engine, "audit", "verify")

    assert report.ok, report.broken
    assert report.partial == 1
    assert {"budget_amount", "partners", "responsible_id", "cba.flows"} <= set(report.not_checkable)
    assert "title" not in report.not_checkable  # always recorded
    assert result.exit_code == 0
    assert "1 projects have older events that do not record" in result.stdout

    # What was recorded is still checked; what never was cannot be.
    tamper(engine, _project(budget_amount=Decimal("1.00"), unit_id="suntazu_pagasts"), a)
    tamper(engine, _flows, a)
    fields = [p["field"] for p in problems(verify(engine.db), a)]
    assert fields == ["unit_id", "cba.npv", "cba.bcr"]


# -- anchors ---------------------------------------------------------------------------------


def drop_last_event(engine: Engine, code: str) -> None:
    """Delete the last event and fix the head and version to match: the chain is whole."""
    with engine.db.write() as conn:
        pid = pid_of(conn, code)
        last = conn.execute(
            select(func.max(history.c.seq)).where(history.c.project_id == pid)
        ).scalar_one()
        conn.execute(delete(history).where(history.c.project_id == pid, history.c.seq == last))
        prev = conn.execute(
            select(history.c.hash).where(history.c.project_id == pid, history.c.seq == last - 1)
        ).scalar_one()
        conn.execute(
            update(projects)
            .where(projects.c.id == pid)
            .values(head_seq=last - 1, head_hash=prev, version=last - 1)
        )


def test_deleting_the_last_events_and_fixing_the_head_fails_only_against_an_anchor(
    engine: Engine, tmp_path: Path
) -> None:
    a, b = world(engine)
    file = tmp_path / "anchor.json"
    taken = run(engine, "audit", "anchor", "-o", str(file))
    assert taken.exit_code == 0, taken.stderr
    digest = taken.stdout.split()[0]
    drop_last_event(engine, a)  # the comment: nothing else to fix

    report = verify(engine.db, anchor=read_anchor(file.read_text()))

    assert verify(engine.db).ok
    assert run(engine, "audit", "verify").exit_code == 0
    assert [(p["event"], "were deleted" in p["reason"]) for p in problems(report, a)] == [
        (10, True)
    ]
    assert not problems(report, b)
    failed = run(engine, "audit", "verify", "--anchor", str(file), "--anchor", digest)
    assert failed.exit_code == 1
    assert f"BROKEN {a} event #10: the history has 9 events but the anchor of" in failed.stderr


def test_a_project_that_grew_after_the_anchor_still_passes(engine: Engine, tmp_path: Path) -> None:
    a, b = world(engine)
    doc = take_anchor(engine.db, at(20))
    (tmp_path / "anchor.json").write_text(dump_anchor(doc))
    engine.comment(a, "Vēl viens", actor=JANIS, now=at(21))
    engine.resume(b, actor=ZANE, now=at(22))
    engine.create_project(title="Jauns", unit="krapes_pagasts", actor=LIGA, now=at(23))

    report = verify(engine.db, anchor=read_anchor(dump_anchor(doc)))
    result = run(engine, "audit", "verify", "--anchor", str(tmp_path / "anchor.json"))

    assert report.ok, report.broken
    assert report.anchor == {"digest": doc["digest"], "taken_at": doc["taken_at"], "projects": 2}
    assert result.exit_code == 0, result.stderr
    # A bare digest proves only an unchanged database.
    assert not verify(engine.db, anchor=digest_anchor(doc["digest"])).ok


def test_a_bare_digest_passes_an_unchanged_database(engine: Engine) -> None:
    world(engine)
    digest = take_anchor(engine.db, at(20))["digest"]

    assert verify(engine.db, anchor=digest_anchor(digest)).ok
    assert run(engine, "audit", "verify", "--anchor", digest).exit_code == 0


def test_a_rewritten_history_and_an_edited_anchor_file_are_named(engine: Engine) -> None:
    a, _ = world(engine)
    doc = take_anchor(engine.db, at(20))

    def recomment(event: dict[str, Any]) -> None:
        if event["kind"] == "commented":
            event["comment"] = "Nav gatavs"

    rewrite(engine, a, recomment)
    report = verify(engine.db, anchor=read_anchor(dump_anchor(doc)))
    doc["projects"][1][2] -= 1  # the file edited to hide it
    edited = verify(engine.db, anchor=read_anchor(dump_anchor(doc)))

    assert verify(engine.db).ok
    assert [p["reason"] for p in problems(report, a)] == [
        f"event #10 is not the one the anchor of {doc['taken_at']} saw: the history was rewritten"
    ]
    assert any("the file was edited" in x["reason"] for x in edited.broken)


def test_a_wrong_anchor_argument_is_a_usage_error(engine: Engine, tmp_path: Path) -> None:
    world(engine)
    file = tmp_path / "anchor.json"
    file.write_text(dump_anchor(take_anchor(engine.db, at(20))))
    (tmp_path / "junk.json").write_text("{}")

    assert (
        run(engine, "audit", "verify", "--anchor", str(file), "--anchor", "a" * 64).exit_code == 2
    )
    assert run(engine, "audit", "verify", "--anchor", str(tmp_path / "nope")).exit_code == 2
    assert run(engine, "audit", "verify", "--anchor", str(tmp_path / "junk.json")).exit_code == 2


# -- incremental verify: verified heads ------------------------------------------------------


def history_edit(engine: Engine, code: str, seq: int, comment: str) -> None:
    """Change one event's comment in place (its hash left as it was)."""
    tamper(
        engine,
        lambda c, pid: c.execute(
            update(history)
            .where(history.c.project_id == pid, history.c.seq == seq)
            .values(comment=comment)
        ),
        code,
    )


def events_of(engine: Engine, code: str) -> int:
    with engine.db.read() as conn:
        pid = pid_of(conn, code)
        return int(
            conn.execute(select(projects.c.head_seq).where(projects.c.id == pid)).scalar_one()
        )


def test_incremental_verify_checks_only_the_events_appended_since_the_last_run(
    engine: Engine,
) -> None:
    a, b = world(engine)
    total = events_of(engine, a) + events_of(engine, b)

    first = verify(engine.db, now=at(20))
    engine.comment(a, "Viens", actor=JANIS, now=at(21))
    engine.comment(a, "Divi", actor=JANIS, now=at(22))
    second = verify(engine.db, now=at(23))
    third = verify(engine.db, now=at(24))
    cli_run = run(engine, "audit", "verify", "--json")

    assert first.ok and second.ok and third.ok, (first.broken, second.broken, third.broken)
    assert (first.mode, first.checked, first.skipped) == (
        "incremental",
        {"projects": 2, "events": total},
        {"projects": 0, "events": 0},
    )
    assert first.heads["written"] == 1
    assert (second.projects, second.events) == (2, total + 2)
    assert second.checked == {"projects": 1, "events": 2}
    assert second.skipped == {"projects": 1, "events": total}  # every event not re-hashed
    assert second.heads["written"] == 2
    assert third.checked == {"projects": 0, "events": 0}
    assert third.skipped == {"projects": 2, "events": total + 2}
    assert third.heads["written"] is None  # nothing changed: no run is recorded
    doc = json.loads(cli_run.stdout)
    assert (doc["mode"], doc["checked"], doc["skipped"]["projects"]) == (
        "incremental",
        {"projects": 0, "events": 0},
        2,
    )
    text = run(engine, "audit", "verify").stdout
    assert f"2 projects, {total + 2} events: ok; incremental: 0 projects and 0 events" in text


def test_a_tampered_new_event_is_named_as_a_full_verify_names_it(engine: Engine) -> None:
    a, _ = world(engine)
    verify(engine.db, now=at(20))
    engine.comment(a, "Viens", actor=JANIS, now=at(21))
    engine.comment(a, "Divi", actor=JANIS, now=at(22))
    history_edit(engine, a, 11, "Cits")

    incremental = verify(engine.db, now=at(23))
    full = verify(engine.db, full=True)
    result = run(engine, "audit", "verify")

    assert incremental.mode == "incremental" and full.mode == "full"
    assert (
        incremental.broken
        == full.broken
        == [
            {
                "project": a,
                "project_id": incremental.broken[0]["project_id"],
                "event": 11,
                "reason": "event #11 was changed after it was written",
            }
        ]
    )
    assert incremental.checked == {"projects": 1, "events": 2}
    assert result.exit_code == 1
    assert f"BROKEN {a} event #11: event #11 was changed after it was written" in result.stderr
    # A broken project keeps no verified head: the next run checks it in full.
    assert verify(engine.db).checked == {"projects": 1, "events": events_of(engine, a)}


def test_a_tampered_old_event_is_missed_incrementally_and_found_by_full(engine: Engine) -> None:
    a, _ = world(engine)
    assert run(engine, "audit", "verify").exit_code == 0  # records the heads
    history_edit(engine, a, 2, "Cits")

    incremental = run(engine, "audit", "verify", "--json")
    full = run(engine, "audit", "verify", "--full", "--json")

    assert incremental.exit_code == 0, incremental.stderr
    assert json.loads(incremental.stdout)["skipped"]["projects"] == 2
    assert full.exit_code == 1
    doc = json.loads(full.stdout)
    assert doc["mode"] == "full"
    assert doc["skipped"] == {"projects": 0, "events": 0}
    assert [(b["project"], b["event"], b["reason"]) for b in doc["broken"]] == [
        (a, 2, "event #2 was changed after it was written")
    ]
    assert f"BROKEN {a} event #2: event #2 was changed after it was written" in full.stderr
    # --full dropped the broken project's head: incremental runs now find it too.
    assert run(engine, "audit", "verify").exit_code == 1


def test_a_row_edited_without_an_event_is_found_incrementally(engine: Engine) -> None:
    a, _ = world(engine)
    verify(engine.db, now=at(20))
    tamper(engine, _project(title="Cits"), a)

    report = verify(engine.db, now=at(21))

    assert [p["field"] for p in problems(report, a)] == ["title"]
    assert report.checked == {"projects": 1, "events": 0}  # replayed, nothing re-hashed


def test_a_history_rewritten_or_cut_behind_a_verified_head_is_found_incrementally(
    engine: Engine,
) -> None:
    a, b = world(engine)
    verify(engine.db, now=at(20))

    def recomment(event: dict[str, Any]) -> None:
        if event["kind"] == "commented":
            event["comment"] = "Nav gatavs"

    rewrite(engine, a, recomment)  # whole chain, head fixed: --full sees nothing
    rewritten = verify(engine.db)
    assert verify(engine.db, full=True, now=at(21)).ok  # and makes it the verified one
    drop_last_event(engine, a)
    cut = verify(engine.db)

    assert verify(engine.db, full=True).ok
    assert [(p["event"], p["reason"]) for p in rewritten.broken] == [
        (
            10,
            "event #10 is not the one the verify of 2026-02-02T08:20:00.000000Z found whole: "
            "the history was rewritten",
        )
    ]
    assert [(p["event"], p["reason"]) for p in cut.broken] == [
        (
            10,
            "the history has 9 events but the verify of 2026-02-02T08:21:00.000000Z found 10: "
            "events #10..#10 were deleted",
        )
    ]
    assert not problems(cut, b)


def _head(**values: Any) -> Callable[[Connection, int], Any]:
    return lambda c, pid: c.execute(
        update(audit_heads).where(audit_heads.c.project_id == pid).values(values)
    )


def test_a_head_row_edited_to_match_a_rewritten_history_is_found(engine: Engine) -> None:
    a, _ = world(engine)
    verify(engine.db, now=at(20))

    def recomment(event: dict[str, Any]) -> None:
        if event["kind"] == "commented":
            event["comment"] = "Nav gatavs"

    rewrite(engine, a, recomment)
    with engine.db.read() as conn:
        new_hash = conn.execute(
            select(projects.c.head_hash).where(projects.c.code == a)
        ).scalar_one()
    tamper(engine, _head(hash=new_hash), a)

    report = verify(engine.db, now=at(21))
    result = run(engine, "audit", "verify")

    assert report.mode == "full"  # the heads proved nothing: every project was checked
    assert report.heads["trusted"] is False
    assert [(b["where"], b["reason"]) for b in report.broken] == [
        (
            "audit_heads",
            "the verified heads do not match the digest verify run #1 of "
            "2026-02-02T08:20:00.000000Z wrote (changed outside Shēma): every project was "
            "checked in full",
        )
    ]
    assert report.heads["written"] == 2  # rewritten from what the full check found
    assert result.exit_code == 0, result.stderr  # now consistent again (only an anchor…)


def test_an_edited_or_inserted_head_or_run_is_found(engine: Engine) -> None:
    a, b = world(engine)
    with engine.db.write() as conn:
        conn.execute(
            insert(audit_heads).values(
                project_id=pid_of(conn, a), seq=1, hash="0" * 64, state="0" * 64, verified_at=T0
            )
        )
    inserted = verify(engine.db, now=at(20))
    with engine.db.write() as conn:
        conn.execute(update(audit_runs).values(heads=7))
    run_edited = verify(engine.db, now=at(21))
    tamper(engine, _head(seq=3), b)
    head_edited = verify(engine.db)

    assert [x["reason"] for x in inserted.broken] == [
        "1 verified heads but no verify run wrote them (inserted outside Shēma): every "
        "project was checked in full"
    ]
    assert inserted.mode == "full"
    assert next(x["reason"] for x in run_edited.broken) == (
        "verify run #1 was changed (changed outside Shēma)"
    )
    assert run_edited.mode == "full"
    assert [x["where"] for x in head_edited.broken] == ["audit_heads"]


def test_full_refreshes_the_heads(engine: Engine) -> None:
    a, _ = world(engine)
    verify(engine.db, now=at(20))
    engine.comment(a, "Viens", actor=JANIS, now=at(21))

    full = verify(engine.db, full=True, now=at(22))
    after = verify(engine.db)

    assert full.ok and full.mode == "full"
    assert full.checked == {"projects": 2, "events": full.events}
    assert full.heads == {
        "trusted": True,
        "since": "2026-02-02T08:20:00.000000Z",
        "run": 1,
        "written": 2,
        "recorded": True,
    }
    with engine.db.read() as conn:
        modes = conn.execute(select(audit_runs.c.mode).order_by(audit_runs.c.id)).scalars()
        stamps = set(conn.execute(select(audit_heads.c.verified_at)).scalars())
        assert list(modes) == ["incremental", "full"]
        assert stamps == {at(22)}
    assert after.checked == {"projects": 0, "events": 0}
    assert after.heads["since"] == "2026-02-02T08:22:00.000000Z"


def test_an_anchor_pins_the_verified_heads(engine: Engine, tmp_path: Path) -> None:
    """Heads, runs and history rewritten consistently, as someone who recomputes every
    digest would: only the anchor taken before sees it."""
    from engine.audit.heads import head_line, run_digest

    a, _ = world(engine)
    verify(engine.db, now=at(20))
    file = tmp_path / "anchor.json"
    assert run(engine, "audit", "anchor", "-o", str(file)).exit_code == 0
    digest = read_anchor(file.read_text()).digest
    assert verify(engine.db, anchor=digest_anchor(digest)).ok  # a verify changed nothing

    def recomment(event: dict[str, Any]) -> None:
        if event["kind"] == "commented":
            event["comment"] = "Nav gatavs"

    rewrite(engine, a, recomment)
    with engine.db.write() as conn:
        pid = pid_of(conn, a)
        head_hash = conn.execute(select(projects.c.head_hash).where(projects.c.id == pid))
        conn.execute(
            update(audit_heads)
            .where(audit_heads.c.project_id == pid)
            .values(hash=head_hash.scalar_one())
        )
        rows = conn.execute(select(audit_heads).order_by(audit_heads.c.project_id)).all()
        lines = "".join(head_line(r.project_id, r.seq, r.hash, r.state) for r in rows)
        heads_digest = hashlib.sha256(lines.encode()).hexdigest()
        r = conn.execute(select(audit_runs)).one()
        conn.execute(
            update(audit_runs).values(
                heads_digest=heads_digest,
                digest=run_digest(
                    r.id, r.verified_at, r.mode, r.heads, heads_digest, r.prev_digest
                ),
            )
        )

    assert verify(engine.db).ok and verify(engine.db, full=True).ok
    report = verify(engine.db, anchor=read_anchor(file.read_text()))
    reasons = [x["reason"] for x in report.broken]
    assert any("saw verify run #1 with digest" in x and "has another digest" in x for x in reasons)
    assert [p["event"] for p in problems(report, a)] == [10]
    assert not verify(engine.db, anchor=digest_anchor(digest)).ok
