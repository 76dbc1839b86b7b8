"""Project lists selected, counted, ordered and paged in the database (SQLite and
PostgreSQL): running projects by default, finished ones on request, search ignoring case
and diacritics, the overdue filter, and pages that add up to the whole list."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import COORDINATOR

from engine.listing import Filters
from engine.service import Engine

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
TITLES = ["Ķeguma tilts", "Ogres parks", "Ikšķiles ietve", "Lielvārdes skola"]


@pytest.fixture
def listed(engine: Engine) -> list[str]:
    """Twelve projects in Krape parish, every third one withdrawn (finished)."""
    codes = []
    for n in range(12):
        title = f"{TITLES[n % len(TITLES)]} {n}"
        at = NOW - dt.timedelta(days=30 - n)
        code = engine.create_project(
            title=title, unit="krapes_pagasts", actor=COORDINATOR, now=at
        ).code
        if n % 3 == 2:
            engine.force(code, "withdrawn", reason="Atsaukts", actor=COORDINATOR, now=at)
        codes.append(code)
    return codes


def _codes(engine: Engine, **filters: object) -> list[str]:
    return [p.code for p in engine.list_projects(actor=COORDINATOR, now=NOW, **filters)]  # type: ignore[arg-type]


def test_running_projects_by_default_finished_on_request(engine: Engine, listed: list[str]) -> None:
    running = [c for n, c in enumerate(listed) if n % 3 != 2]
    assert _codes(engine) == running
    assert _codes(engine, finished=True) == listed


def test_pages_add_up_to_the_list_and_count_it(engine: Engine, listed: list[str]) -> None:
    filters = Filters(finished=True)
    pages = [
        engine.page_of_projects(actor=COORDINATOR, filters=filters, page=n, size=5, now=NOW)
        for n in (1, 2, 3, 4)
    ]
    assert [p.total for p in pages] == [12] * 4 and pages[0].pages == 3
    assert [len(p.rows) for p in pages] == [5, 5, 2, 0]
    assert [r.code for p in pages for r in p.rows] == listed


def test_search_ignores_case_and_diacritics(engine: Engine, listed: list[str]) -> None:
    found = _codes(engine, search="KEGUMA", finished=True)
    assert found == [listed[0], listed[4], listed[8]]
    assert _codes(engine, search="ķeguma tilts 4") == [listed[4]]
    assert _codes(engine, search="100%_") == []  # LIKE's own characters are literal


def test_sorting_by_unit_stage_and_deadline(engine: Engine, listed: list[str]) -> None:
    by_stage = engine.list_projects(actor=COORDINATOR, sort="stage", finished=True, now=NOW)
    titles = [p.stage_title.casefold() for p in by_stage]
    assert titles == sorted(titles)
    by_deadline = engine.list_projects(actor=COORDINATOR, sort="deadline", now=NOW)
    dues = [p.due_at for p in by_deadline]
    assert None not in dues and dues == sorted(dues)  # running ones all have a clock


def test_the_overdue_filter_is_the_database_s(engine: Engine, listed: list[str]) -> None:
    late = NOW + dt.timedelta(days=60)
    overdue = engine.list_projects(actor=COORDINATOR, overdue_at=late, now=late)
    assert overdue and all(p.overdue for p in overdue)
    assert {p.code for p in overdue} <= {c for n, c in enumerate(listed) if n % 3 != 2}


def test_streaming_yields_the_same_list_in_chunks(engine: Engine, listed: list[str]) -> None:
    streamed = engine.iter_projects(
        actor=COORDINATOR, filters=Filters(finished=True), now=NOW, chunk=5
    )
    assert [p.code for p in streamed] == listed


def test_another_parish_sees_none_of_them(engine: Engine, listed: list[str]) -> None:
    assert engine.list_projects(actor="zane.roze", finished=True, now=NOW) == []
