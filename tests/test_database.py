"""Database: aware datetimes stored as UTC, all-or-nothing writes, and SQLite writers
that wait for each other instead of losing updates."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import StatementError

from storage.database import Database
from storage.tables import code_counters, org_versions, units

RIGA = ZoneInfo("Europe/Riga")


def _org_row(loaded_at: dt.datetime) -> dict[str, object]:
    return {"content_hash": "0" * 64, "source": "", "compiled": "{}", "loaded_at": loaded_at}


@pytest.mark.parametrize(
    "instant",
    [
        dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC),  # 02:30 EET, before clocks go forward
        dt.datetime(2026, 3, 29, 2, 30, tzinfo=dt.UTC),  # 05:30 EEST, after
        dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC),  # 03:30 EEST, the first 03:30
        dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC),  # 03:30 EET, the second 03:30
    ],
    ids=str,
)
def test_an_aware_datetime_comes_back_as_the_same_instant_in_utc(
    db: Database, instant: dt.datetime
) -> None:
    local = instant.astimezone(RIGA)
    with db.write() as conn:
        conn.execute(org_versions.insert().values(_org_row(local)))

    with db.read() as conn:
        stored = conn.execute(select(org_versions.c.loaded_at)).scalar_one()

    assert stored == instant
    assert stored.utcoffset() == dt.timedelta(0)


def test_a_naive_datetime_is_refused(db: Database) -> None:
    with pytest.raises(StatementError, match="an aware datetime is required"), db.write() as conn:
        conn.execute(org_versions.insert().values(_org_row(dt.datetime(2026, 3, 29, 2, 30))))


def test_a_failed_write_leaves_nothing_behind(db: Database) -> None:
    with pytest.raises(RuntimeError, match="boom"), db.write() as conn:
        conn.execute(units.insert().values(id="ogre", name="Ogre", kind="town"))
        raise RuntimeError("boom")

    with db.read() as conn:
        assert conn.execute(select(units.c.id)).all() == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_concurrent_sqlite_writers_lose_no_update(db: Database) -> None:
    with db.write() as conn:
        conn.execute(code_counters.insert().values(prefix="P", year=2026, last_number=0))
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def increment_200_times() -> None:
        try:
            start.wait()
            for _ in range(200):
                with db.write() as conn:  # read, then write what was read plus one
                    n = conn.execute(select(code_counters.c.last_number)).scalar_one()
                    conn.execute(update(code_counters).values(last_number=n + 1))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=increment_200_times) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with db.read() as conn:
        assert conn.execute(select(code_counters.c.last_number)).scalar_one() == 400
