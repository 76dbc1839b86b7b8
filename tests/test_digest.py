"""The optional daily digest: a person who asks for it gets one message a day with every
reminder, overdue notice and escalation addressed to them, once; others are unaffected."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import COORDINATOR, T0, shipped_text
from sqlalchemy import select

from engine.loading import load_org, load_scheme
from engine.notify import digest
from engine.notify.channels.memory import MemoryChannel as Collect
from engine.notify.outbox import dispatch
from engine.notify.sweep import sweep
from engine.service import Engine
from storage.database import Database
from storage.tables import outbox

LIGA = "liga.ozolina"  # parish specialist in Krapes pagasts; the reminders go to her
LATER = dt.datetime(2026, 2, 11, 8, 0, tzinfo=dt.UTC)  # reminder and overdue notice due


@pytest.fixture
def digest_engine(db: Database) -> Engine:
    """The shipped organisation, with liga.ozolina asking for a daily digest."""
    text = shipped_text("ogre.yaml").replace(
        "  liga.ozolina:\n", "  liga.ozolina:\n    digest: true\n", 1
    )
    assert "digest: true" in text
    engine = Engine(db)
    load_org(engine, text, "ogre.yaml", actor=COORDINATOR, now=T0)
    load_scheme(engine, shipped_text("unified.yaml"), "unified.yaml", actor=COORDINATOR, now=T0)
    for n in range(2):
        engine.create_project(title=f"Ideja {n}", unit="krapes_pagasts", actor=LIGA, now=T0)
    return engine


def rows(engine: Engine, person: str) -> list[tuple[str, str]]:
    with engine.db.read() as conn:
        found = conn.execute(
            select(outbox.c.kind, outbox.c.status).where(outbox.c.recipient_id == person)
        )
        return sorted((r.kind, r.status) for r in found)


def test_notices_for_a_digest_reader_wait_instead_of_going_out(digest_engine: Engine) -> None:
    sweep(digest_engine, LATER)

    kinds = rows(digest_engine, LIGA)
    assert kinds and all(status == "digest" for _, status in kinds)
    # Escalations to people without a digest go out as usual.
    assert all(status == "pending" for _, status in rows(digest_engine, "arnis.dzenis"))


def test_the_morning_digest_gathers_them_into_one_message_once(digest_engine: Engine) -> None:
    sweep(digest_engine, LATER)
    held = len(rows(digest_engine, LIGA))

    assert digest.compose(digest_engine, LATER) == 1
    assert digest.compose(digest_engine, LATER + dt.timedelta(hours=1)) == 0
    box = Collect()
    dispatch(digest_engine.db, [box], LATER, sender="shema@ogresnovads.example")

    mine = [m for m in box.sent if m.key.startswith(f"digest:{LIGA}:")]
    assert len(mine) == 1
    assert f"{held} " in mine[0].subject and "2026-02-11" in mine[0].subject
    assert mine[0].body.count("== [OGR-2026-000") == held
    assert "OGR-2026-0001" in mine[0].body and "OGR-2026-0002" in mine[0].body
    assert all(
        status == "digested" for kind, status in rows(digest_engine, LIGA) if kind != "digest"
    )


def test_no_digest_goes_out_before_seven_in_the_morning(digest_engine: Engine) -> None:
    sweep(digest_engine, LATER)
    early = dt.datetime(2026, 2, 11, 4, 30, tzinfo=dt.UTC)  # 06:30 in Riga

    assert digest.compose(digest_engine, early) == 0
    assert all(status == "digest" for _, status in rows(digest_engine, LIGA))
