"""Absence and deputies over a simulated July 2027: handoffs, reminders and escalations
for an absent person reach their deputy once, saying why; the deputy acts with the
absent person's roles and the history says for whom; an absent deputy passes on to the
next one; a loop of deputies falls back to the unit's head, then the coordinators; the
person's return stops the routing; and no reason for an absence is stored anywhere.

Every engine test runs on SQLite and PostgreSQL (the `engine` fixture); time is a
parameter."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from conftest import COORDINATOR, keep_up
from sqlalchemy import inspect, select

from engine import absence
from engine.absence import Absences
from engine.listing import Filters, waiting
from engine.notify import recipients
from engine.notify.messages import lv_case
from engine.service import Engine
from storage.absences import AbsenceRecord
from storage.tables import absences as absences_table
from storage.tables import metadata, outbox
from workflow.errors import Conflict, NotAllowed, UsageError

LIGA = "liga.ozolina"  # parish_specialist, Krapes pagasts
ARNIS = "arnis.dzenis"  # parish_head, Krapes pagasta pārvalde
GUNTIS = "guntis.kalejs"  # parish_head, Suntažu pagasta pārvalde
ZANE = "zane.roze"  # parish_specialist, Suntažu pagasts
DACE = "dace.liepina"  # development_head
JANIS = "janis.ozols"  # project_manager
UNIT = "krapes_pagasts"

# Monday 5 July 2027, 10:00 in Riga. An idea created then is due at the end of Monday
# 12 July; its first escalation (to the parish head) falls due at the end of Tuesday 13.
JULY = dt.datetime(2027, 7, 5, 7, 0, tzinfo=dt.UTC)
FIRST, LAST = dt.date(2027, 7, 1), dt.date(2027, 7, 16)
AFTER_ESCALATION = dt.datetime(2027, 7, 14, 7, 0, tzinfo=dt.UTC)


def away(engine: Engine, person: str, deputy: str | None, *, by: str = COORDINATOR) -> int:
    return absence.add(
        engine, actor=by, person=person, starts_on=FIRST, ends_on=LAST, deputy=deputy, now=JULY
    ).id


def messages(engine: Engine, kind: str) -> list[Any]:
    with engine.db.read() as conn:
        return list(conn.execute(select(outbox).where(outbox.c.kind == kind)))


def idea(engine: Engine) -> str:
    return engine.create_project(title="Jumts", unit=UNIT, actor=LIGA, now=JULY).code


# -- the rules, pure ---------------------------------------------------------------------


def record(i: int, person: str, deputy: str | None, ends: dt.date = LAST) -> AbsenceRecord:
    return AbsenceRecord(i, person, deputy, FIRST, ends, JULY, COORDINATOR, None)


def org_of(engine: Engine) -> Any:
    with engine.db.read() as conn:
        return engine.org_index(conn)


def test_names_take_the_latvian_genitive_and_accusative() -> None:
    assert lv_case("Jānis Ozols", "gen") == "Jāņa Ozola"
    assert lv_case("Jānis Ozols", "acc") == "Jāni Ozolu"
    assert lv_case("Arnis Dzenis", "gen") == "Arņa Dzeņa"
    assert lv_case("Dace Liepiņa", "gen") == "Daces Liepiņas"
    assert lv_case("Māris Bērziņš", "gen") == "Māra Bērziņa"


def test_a_deputy_away_too_passes_on_and_a_loop_stops(sqlite_engine: Engine) -> None:
    org = org_of(sqlite_engine)
    day = dt.date(2027, 7, 10)
    chain = Absences.of(day, [record(1, ARNIS, GUNTIS), record(2, GUNTIS, DACE)], org.org)
    standin = chain.deputy(ARNIS)
    assert standin is not None and standin.deputy == DACE
    assert standin.chain == (ARNIS, GUNTIS, DACE)
    loop = Absences.of(day, [record(1, ARNIS, GUNTIS), record(2, GUNTIS, ARNIS)], org.org)
    assert loop.deputy(ARNIS) is None
    assert "loop" in loop.why_nobody(ARNIS)
    assert Absences.of(dt.date(2027, 7, 17), [record(1, ARNIS, GUNTIS)], org.org).away == {}


def test_the_recipient_rule_passes_over_the_absent(sqlite_engine: Engine) -> None:
    org = org_of(sqlite_engine)
    day = dt.date(2027, 7, 10)
    levels = {"parish_head": __import__("workflow.scheme").scheme.Level.parish}
    during = org.during(Absences.of(day, [record(1, ARNIS, GUNTIS)], org.org))
    to = recipients.escalation(during, "parish_head", UNIT, levels)
    assert to.people == [GUNTIS]
    assert to.instead == {GUNTIS: (ARNIS, LAST)}
    assert f"{ARNIS} is away until {LAST}" in to.why
    # A loop: the heads of the absent person's unit (none above a parish head here),
    # then the coordinators.
    loop = org.during(
        Absences.of(day, [record(1, ARNIS, GUNTIS), record(2, GUNTIS, ARNIS)], org.org)
    )
    fallback = recipients.escalation(loop, "parish_head", UNIT, levels)
    assert fallback.people == org.by_role["coordinator"]
    assert "loop" in fallback.why and "coordinators" in fallback.why
    # A project manager in a loop falls to the head of their unit.
    managers = org.during(
        Absences.of(day, [record(1, JANIS, ARNIS), record(2, ARNIS, JANIS)], org.org)
    )
    to_head = recipients.reminder(
        managers,
        owner="project_manager",
        handoff_role=None,
        responsible=JANIS,
        unit=UNIT,
        levels=levels,
    )
    assert to_head.people == [DACE]
    assert "heads of their unit" in to_head.why


# -- setting absences --------------------------------------------------------------------


def test_who_may_set_an_absence_and_what_is_refused(engine: Engine) -> None:
    away(engine, ARNIS, GUNTIS, by=ARNIS)  # the person
    with pytest.raises(Conflict) as clash:
        away(engine, ARNIS, DACE)
    assert clash.value.code == "absence.overlaps"
    with pytest.raises(NotAllowed) as refused:
        away(engine, LIGA, ZANE, by=ZANE)
    assert refused.value.code == "absence.not_allowed"
    assert away(engine, LIGA, ZANE, by=ARNIS)  # who heads her unit
    with pytest.raises(UsageError) as own:
        away(engine, JANIS, JANIS)
    assert own.value.code == "absence.self_deputy"
    with pytest.raises(UsageError):
        absence.add(
            engine,
            actor=COORDINATOR,
            person=JANIS,
            starts_on=LAST,
            ends_on=FIRST,
            deputy=DACE,
            now=JULY,
        )
    noted = absence.add(
        engine,
        actor=COORDINATOR,
        person=JANIS,
        starts_on=FIRST,
        ends_on=LAST,
        deputy=ZANE,
        now=JULY,
    )
    assert "absence.note_deputy_lacks_roles" in noted.notes
    listed = absence.listed(engine, actor=COORDINATOR, now=JULY)
    assert {(v.person, v.deputy, v.current) for v in listed} == {
        (ARNIS, GUNTIS, True),
        (LIGA, ZANE, True),
        (JANIS, ZANE, True),
    }
    assert [v.person for v in absence.listed(engine, actor=ZANE, now=JULY)] == [JANIS, LIGA]


def test_no_absence_reason_column_exists_anywhere(engine: Engine) -> None:
    assert not [c for c in absences_table.c if "reason" in c.name]
    with engine.db.read() as conn:
        columns = [c["name"] for c in inspect(conn).get_columns("absences")]
    assert columns and not [c for c in columns if "reason" in c]
    assert set(columns) == {c.name for c in metadata.tables["absences"].c}


# -- routing over July -------------------------------------------------------------------


def test_a_handoff_to_an_absent_project_manager_reaches_the_deputy(engine: Engine) -> None:
    away(engine, JANIS, DACE)
    code = idea(engine)
    for item in ("problem_statement", "estimated_cost"):
        engine.check(code, item, actor=LIGA, now=JULY)
    engine.advance(code, "submit_idea", actor=LIGA, now=JULY)
    handoffs = {r.recipient_id: r for r in messages(engine, "handoff")}
    assert JANIS not in handoffs
    assert "Jūs saņemat šo kā Jāņa Ozola aizvietotājs līdz 16.07.2027." in handoffs[DACE].body
    others = [r for pid, r in handoffs.items() if pid != DACE]
    assert others and all("aizvietotājs" not in r.body for r in others)
    sent = engine.history(code, actor=COORDINATOR)[-1].data["handoff"]
    assert DACE in sent["receivers"] and JANIS not in sent["receivers"]
    assert f"{JANIS} is away until {LAST}: deputy {DACE}" in sent["why"]


def test_escalations_for_the_absent_go_to_the_deputy_once(engine: Engine) -> None:
    away(engine, ARNIS, GUNTIS)
    code = idea(engine)
    keep_up(engine, AFTER_ESCALATION)
    keep_up(engine, AFTER_ESCALATION + dt.timedelta(hours=3))  # a second sweep sends nothing
    escalations = messages(engine, "escalation")
    assert [r.recipient_id for r in escalations] == [GUNTIS]
    assert "Jūs saņemat šo kā Arņa Dzeņa aizvietotājs līdz 16.07.2027." in escalations[0].body
    event = next(e for e in engine.history(code, actor=COORDINATOR) if e.kind == "escalated")
    assert event.data["recipients"] == [GUNTIS]
    assert event.data["deputies"] == {GUNTIS: ARNIS}
    assert f"{ARNIS} is away until {LAST}: deputy {GUNTIS}" in event.data["why"]


def test_an_absent_deputy_passes_on_to_the_next(engine: Engine) -> None:
    away(engine, ARNIS, GUNTIS)
    away(engine, GUNTIS, DACE)
    idea(engine)
    keep_up(engine, AFTER_ESCALATION)
    assert [r.recipient_id for r in messages(engine, "escalation")] == [DACE]


def test_a_loop_of_deputies_falls_back_to_the_coordinators(engine: Engine) -> None:
    away(engine, ARNIS, GUNTIS)
    away(engine, GUNTIS, ARNIS)
    idea(engine)
    keep_up(engine, AFTER_ESCALATION)
    got = sorted(r.recipient_id for r in messages(engine, "escalation"))
    assert got == sorted(org_of(engine).by_role["coordinator"])


def test_the_persons_return_stops_the_routing(engine: Engine) -> None:
    period = away(engine, ARNIS, GUNTIS)
    idea(engine)
    absence.end(engine, actor=ARNIS, absence_id=period, now=JULY + dt.timedelta(days=1))
    keep_up(engine, AFTER_ESCALATION)
    escalations = messages(engine, "escalation")
    assert [r.recipient_id for r in escalations] == [ARNIS]
    assert "aizvietotājs" not in escalations[0].body
    assert absence.listed(engine, actor=COORDINATOR, now=AFTER_ESCALATION) == []


def test_the_deputy_acts_for_the_absent_and_the_history_says_so(engine: Engine) -> None:
    away(engine, LIGA, ZANE)  # Zane is a parish specialist of another parish
    code = idea(engine)
    for item in ("problem_statement", "estimated_cost"):
        engine.check(code, item, actor=ZANE, now=JULY + dt.timedelta(hours=1))
    engine.advance(code, "submit_idea", actor=ZANE, now=JULY + dt.timedelta(hours=2))
    events = engine.history(code, actor=COORDINATOR)
    by_zane = [e for e in events if e.actor == ZANE]
    assert len(by_zane) == 3 and all(e.data.get("acting_for") == [LIGA] for e in by_zane)
    # After the absence Zane has no roles in Krapes: the project is not hers to touch.
    with pytest.raises(Exception) as after:
        engine.comment(code, "vēl", actor=ZANE, now=dt.datetime(2027, 7, 19, 7, tzinfo=dt.UTC))
    assert getattr(after.value, "code", None) == "project.not_visible"


def test_the_deputys_queue_holds_the_absent_persons_work_marked(engine: Engine) -> None:
    away(engine, LIGA, ZANE)
    code = idea(engine)
    with engine.db.read() as conn:
        org = engine.org_index(conn)
        during = waiting(conn, engine.versions, org, ZANE, Filters(mine=True), "lv", JULY)
        after = waiting(
            conn,
            engine.versions,
            org,
            ZANE,
            Filters(mine=True),
            "lv",
            dt.datetime(2027, 7, 19, 7, tzinfo=dt.UTC),
        )
    mine = {row.code: asks for row, _, asks in during}
    assert code in mine and all(a.for_person == LIGA for a in mine[code])
    assert code not in {row.code for row, _, _ in after}


def test_the_history_says_for_whom_the_deputy_acted(engine: Engine) -> None:
    from render.speech import Speech

    away(engine, LIGA, ZANE)
    code = idea(engine)
    engine.check(code, "problem_statement", actor=ZANE, now=JULY + dt.timedelta(hours=1))
    event = engine.history(code, actor=COORDINATOR)[-1]
    org = org_of(engine)
    assert "(aizvieto Līgu Ozoliņu)" in Speech("lv", org).event(event)
    assert "(standing in for Līga Ozoliņa)" in Speech("en", org).event(event)


def test_the_absence_page_sets_and_ends_an_absence(tmp_path: Any, prepared_sqlite: Any) -> None:
    from conftest import copy_sqlite
    from test_web_tasks import PASSWORD, Site, csrf_of, sign_in

    from engine import accounts
    from storage.database import Database

    copy_sqlite(prepared_sqlite, tmp_path / "web.db")
    url = f"sqlite:///{tmp_path / 'web.db'}"
    db = Database(url)
    eng = Engine(db)
    accounts.store_hash(eng, [ARNIS, LIGA], accounts.hash_password(PASSWORD))
    site = Site(url, JULY, eng)
    client = site.client()
    assert sign_in(client, ARNIS) == 303
    page = client.get("/account/absence")
    assert page.status_code == 200 and LIGA in page.text  # he heads her unit
    form = {"person": LIGA, "from": "2027-07-01", "to": "2027-07-16", "deputy": ZANE}
    answer = client.post("/account/absence", data={**form, "csrf": csrf_of(page.text)})
    assert answer.status_code == 303
    (period,) = absence.listed(eng, actor=COORDINATOR, now=JULY)
    assert (period.person, period.deputy) == (LIGA, ZANE)
    page = client.get("/account/absence")
    assert "Līga Ozoliņa" in page.text and "tagad" in page.text
    ended = client.post(
        "/account/absence", data={"end": str(period.id), "csrf": csrf_of(page.text)}
    )
    assert ended.status_code == 303
    assert absence.listed(eng, actor=COORDINATOR, now=JULY) == []
    db.dispose()
