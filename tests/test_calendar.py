"""The working-day calendar: Latvian public holidays and Cabinet transfers, a municipality's
own changes in both directions, deadlines at the end of the day in Riga stored as UTC, and
the `shema calendar` commands with and without a database.

Pure functions, so most tests need no database; the CLI tests use a throw-away SQLite file
(and PostgreSQL where the stored calendar is read)."""

from __future__ import annotations

import datetime as dt
import gc
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

import cli
from workflow.calendar import WorkingCalendar, national_calendar
from workflow.org import CalendarDay, CalendarOverrides
from workflow.scheme import Duration

REPO = Path(__file__).resolve().parent.parent
ORG_FILE = REPO / "schemes" / "ogre.yaml"
COORDINATOR = "ilze.kalnina"
UTC = dt.UTC

NATIONAL = national_calendar()
DECLINED = WorkingCalendar(CalendarOverrides(declined_transfers=[dt.date(2026, 1, 2)]))


def day(iso: str) -> dt.date:
    return dt.date.fromisoformat(iso)


def utc(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso).replace(tzinfo=UTC)


def entry_map(cal: WorkingCalendar, year: int, lang: str) -> dict[dt.date, Any]:
    return {e.date: e for e in cal.entries(year, lang)}


# -- national working days ----------------------------------------------------------------


def test_ten_working_days_after_friday_19_december_2025_is_monday_12_january_2026() -> None:
    assert NATIONAL.add_working_days(day("2025-12-19"), 10) == day("2026-01-12")


def test_saturday_17_january_2026_is_a_working_day_by_the_national_transfer() -> None:
    assert NATIONAL.is_working_day(day("2026-01-17"))


def test_friday_2_january_2026_is_a_day_off_by_the_national_transfer() -> None:
    assert not NATIONAL.is_working_day(day("2026-01-02"))


def test_saturday_27_june_2026_is_a_working_day_and_monday_22_june_is_off() -> None:
    assert NATIONAL.is_working_day(day("2026-06-27"))
    assert not NATIONAL.is_working_day(day("2026-06-22"))


def test_an_ordinary_weekend_is_off_and_an_ordinary_weekday_works() -> None:
    assert not NATIONAL.is_working_day(day("2026-02-07"))  # Saturday
    assert not NATIONAL.is_working_day(day("2026-02-08"))  # Sunday
    assert NATIONAL.is_working_day(day("2026-02-09"))  # Monday


def test_zero_working_days_after_a_date_is_that_date() -> None:
    assert NATIONAL.add_working_days(day("2026-02-07"), 0) == day("2026-02-07")


def test_negative_working_days_count_backwards_over_the_new_year_holidays() -> None:
    assert NATIONAL.add_working_days(day("2026-01-05"), -1) == day("2025-12-30")


def test_working_days_between_counts_the_days_after_the_start_up_to_the_end() -> None:
    assert NATIONAL.working_days_between(day("2026-02-02"), day("2026-02-09")) == 5
    assert NATIONAL.working_days_between(day("2026-02-09"), day("2026-02-02")) == -5


# -- the municipality's own changes -------------------------------------------------------


def test_a_municipality_declining_the_2_january_transfer_works_on_2_january() -> None:
    assert DECLINED.is_working_day(day("2026-01-02"))


def test_a_municipality_declining_the_2_january_transfer_rests_on_saturday_17_january() -> None:
    assert not DECLINED.is_working_day(day("2026-01-17"))


def test_declining_the_january_transfer_leaves_the_june_transfer_in_force() -> None:
    assert not DECLINED.is_working_day(day("2026-06-22"))
    assert DECLINED.is_working_day(day("2026-06-27"))


def test_declining_the_january_transfer_moves_the_tenth_working_day_after_19_december() -> None:
    assert DECLINED.add_working_days(day("2025-12-19"), 10) == day("2026-01-09")


def test_declining_a_date_that_is_not_a_national_transfer_leaves_the_holidays_alone() -> None:
    mistaken = WorkingCalendar(CalendarOverrides(declined_transfers=[dt.date(2026, 1, 1)]))
    assert not mistaken.is_working_day(day("2026-01-01"))  # New Year's Day stays a holiday
    assert mistaken.is_working_day(day("2026-01-17"))  # and the January transfer stands


def test_a_municipal_day_off_is_not_a_working_day() -> None:
    cal = WorkingCalendar(CalendarOverrides(days_off=[CalendarDay(date=day("2026-06-19"))]))
    assert not cal.is_working_day(day("2026-06-19"))
    assert NATIONAL.is_working_day(day("2026-06-19"))


def test_a_municipal_working_saturday_is_a_working_day() -> None:
    cal = WorkingCalendar(CalendarOverrides(working_days=[CalendarDay(date=day("2026-11-21"))]))
    assert cal.is_working_day(day("2026-11-21"))
    assert not NATIONAL.is_working_day(day("2026-11-21"))


def test_a_municipal_day_off_pushes_a_working_day_deadline_one_day_on() -> None:
    cal = WorkingCalendar(CalendarOverrides(days_off=[CalendarDay(date=day("2026-02-05"))]))
    assert cal.add_working_days(day("2026-02-02"), 5) == day("2026-02-10")
    assert NATIONAL.add_working_days(day("2026-02-02"), 5) == day("2026-02-09")


# -- deadlines as instants ----------------------------------------------------------------


def test_a_deadline_falls_at_235959_in_riga_winter_time_as_2159_utc() -> None:
    assert NATIONAL.end_of(day("2026-03-27")) == utc("2026-03-27T21:59:59")


def test_a_deadline_on_the_day_summer_time_starts_falls_at_2059_utc() -> None:
    assert NATIONAL.end_of(day("2026-03-29")) == utc("2026-03-29T20:59:59")


def test_a_deadline_on_the_day_summer_time_ends_falls_at_2159_utc() -> None:
    assert NATIONAL.end_of(day("2026-10-25")) == utc("2026-10-25T21:59:59")
    assert NATIONAL.end_of(day("2026-10-24")) == utc("2026-10-24T20:59:59")


def test_a_deadline_instant_is_timezone_aware_utc() -> None:
    due = NATIONAL.end_of(day("2026-07-01"))
    assert due.utcoffset() == dt.timedelta(0)


def test_a_deadline_counts_from_the_riga_date_not_the_utc_date() -> None:
    entered = utc("2026-02-01T22:30:00")  # Monday 00:30 in Riga, still Sunday in UTC
    assert NATIONAL.due(entered, Duration(working_days=5)) == utc("2026-02-09T21:59:59")


def test_a_five_working_day_deadline_from_monday_10_00_is_the_next_monday_at_midnight() -> None:
    entered = utc("2026-02-02T08:00:00")
    assert NATIONAL.due(entered, Duration(working_days=5)) == utc("2026-02-09T21:59:59")


def test_a_calendar_day_deadline_ending_on_a_saturday_moves_to_monday() -> None:
    assert NATIONAL.add(day("2026-02-02"), Duration(calendar_days=5)) == day("2026-02-09")


def test_a_calendar_day_deadline_ending_on_1_may_moves_past_the_4_may_holiday() -> None:
    assert NATIONAL.add(day("2026-04-30"), Duration(calendar_days=1)) == day("2026-05-05")


def test_a_calendar_day_deadline_ending_on_a_working_day_stays_there() -> None:
    assert NATIONAL.add(day("2026-02-02"), Duration(calendar_days=10)) == day("2026-02-12")


# -- listing ------------------------------------------------------------------------------


def test_the_english_2026_list_names_new_years_day() -> None:
    entries = entry_map(NATIONAL, 2026, "en")
    assert entries[day("2026-01-01")].name == "New Year's Day"
    assert entries[day("2026-01-01")].kind == "day_off"


def test_the_2026_list_shows_saturday_17_january_as_a_national_working_day() -> None:
    found = entry_map(NATIONAL, 2026, "en")[day("2026-01-17")]
    assert (found.kind, found.source) == ("working_day", "national")


def test_the_latvian_2026_list_names_the_days_in_latvian() -> None:
    entries = entry_map(NATIONAL, 2026, "lv")
    assert entries[day("2026-01-01")].name == "Jaungada diena"
    assert "pārcelta" in entries[day("2026-01-02")].name
    assert "pārcelta" in entries[day("2026-01-17")].name


def test_the_list_is_in_date_order_and_holds_only_that_year() -> None:
    dates = [e.date for e in NATIONAL.entries(2026, "en")]
    assert dates == sorted(dates)
    assert {d.year for d in dates} == {2026}


def test_the_list_of_a_declining_municipality_shows_both_reverted_halves() -> None:
    entries = entry_map(DECLINED, 2026, "en")
    assert (entries[day("2026-01-02")].kind, entries[day("2026-01-02")].source) == (
        "working_day",
        "declined",
    )
    assert (entries[day("2026-01-17")].kind, entries[day("2026-01-17")].source) == (
        "day_off",
        "declined",
    )
    assert entries[day("2026-06-22")].source == "national"


def test_municipal_days_appear_in_the_list_with_their_titles_in_each_language() -> None:
    title = {"lv": "Pašvaldības darbinieku diena", "en": "Municipal staff day"}
    cal = WorkingCalendar(
        CalendarOverrides(
            days_off=[CalendarDay.model_validate({"date": "2026-06-19", "title": title})]
        )
    )
    for lang in ("lv", "en"):
        found = entry_map(cal, 2026, lang)[day("2026-06-19")]
        assert (found.kind, found.source, found.name) == ("day_off", "municipal", title[lang])


# -- properties ---------------------------------------------------------------------------

DATES = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2028, 12, 31))
SPANS = st.integers(min_value=1, max_value=60)


@settings(deadline=None, max_examples=150)
@given(start=DATES, n=SPANS)
def test_adding_working_days_lands_on_a_working_day(start: dt.date, n: int) -> None:
    assert NATIONAL.is_working_day(NATIONAL.add_working_days(start, n))


@settings(deadline=None, max_examples=150)
@given(start=DATES, n=SPANS)
def test_counting_the_working_days_back_gives_the_number_added(start: dt.date, n: int) -> None:
    assert NATIONAL.working_days_between(start, NATIONAL.add_working_days(start, n)) == n


@settings(deadline=None, max_examples=100)
@given(start=DATES, n=SPANS)
def test_a_declining_municipality_keeps_both_properties(start: dt.date, n: int) -> None:
    end = DECLINED.add_working_days(start, n)
    assert DECLINED.is_working_day(end)
    assert DECLINED.working_days_between(start, end) == n


# -- the command line ---------------------------------------------------------------------


def shema(url: str, *args: str, who: str | None = None) -> Result:
    """`shema [--as WHO] ARGS` in process against `url`, with a clean environment."""
    argv = (["--as", who] if who else []) + list(args)
    env = {"SHEMA_DB": url, "SHEMA_USER": None, "SHEMA_LANG": None, "SHEMA_DEBUG": None}
    result = CliRunner().invoke(cli.main, argv, env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"shema {argv} raised {result.exception!r}") from result.exception
    return result


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.fixture
def offline(tmp_path: Path) -> str:
    """A database URL that is never initialised (the file does not exist)."""
    return f"sqlite:///{tmp_path / 'never.db'}"


def declining_org(folder: Path) -> Path:
    """A copy of the shipped Ogre organisation that declines the 2 January transfer."""
    source = ORG_FILE.read_text(encoding="utf-8")
    assert "  declined_transfers: []\n" in source
    path = folder / "ogre-declines.yaml"
    path.write_text(
        source.replace("  declined_transfers: []\n", "  declined_transfers: [2026-01-02]\n"),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def declining_db(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An initialised database (SQLite or PostgreSQL) holding the declining organisation."""
    ok(shema(database_url, "init"))
    ok(shema(database_url, "org", "load", str(declining_org(tmp_path)), who=COORDINATOR))
    yield database_url
    gc.collect()  # in-process engines hold PostgreSQL connections until collected


def test_cli_add_days_prints_12_january_for_10_working_days_after_19_december(
    offline: str,
) -> None:
    assert ok(shema(offline, "calendar", "add-days", "2025-12-19", "10")) == "2026-01-12\n"


def test_cli_add_days_needs_no_database(offline: str) -> None:
    ok(shema(offline, "calendar", "add-days", "2026-02-02", "5"))
    assert not Path(offline.removeprefix("sqlite:///")).exists()


def test_cli_add_days_with_calendar_days_counts_every_day(offline: str) -> None:
    out = shema(offline, "calendar", "add-days", "2026-02-02", "10", "--calendar-days")
    assert ok(out) == "2026-02-12\n"


def test_cli_add_days_with_calendar_days_agrees_with_the_engines_deadline_rule(
    offline: str,
) -> None:
    out = shema(offline, "calendar", "add-days", "2026-02-02", "5", "--calendar-days")
    assert ok(out) == "2026-02-09\n"


def test_cli_calendar_show_without_a_database_lists_the_national_calendar(offline: str) -> None:
    shown = {
        e["date"]: e
        for e in json.loads(ok(shema(offline, "calendar", "show", "--year", "2026", "--json")))
    }
    assert shown["2026-01-02"]["kind"] == "day_off"
    assert shown["2026-01-17"]["kind"] == "working_day"
    assert shown["2026-01-01"]["source"] == "national"


def test_cli_calendar_show_in_english_names_new_years_day(offline: str) -> None:
    out = shema(offline, "--lang", "en", "calendar", "show", "--year", "2026", "--json")
    shown = {e["date"]: e["name"] for e in json.loads(ok(out))}
    assert shown["2026-01-01"] == "New Year's Day"


def test_cli_calendar_show_uses_the_calendar_of_the_organisation_in_the_database(
    declining_db: str,
) -> None:
    out = shema(declining_db, "calendar", "show", "--year", "2026", "--json")
    shown = {e["date"]: e for e in json.loads(ok(out))}
    assert (shown["2026-01-02"]["kind"], shown["2026-01-02"]["source"]) == (
        "working_day",
        "declined",
    )
    assert shown["2026-01-17"]["kind"] == "day_off"
    assert shown["2026-06-22"]["kind"] == "day_off"


def test_cli_add_days_uses_the_calendar_of_the_organisation_in_the_database(
    declining_db: str,
) -> None:
    out = shema(declining_db, "calendar", "add-days", "2025-12-19", "10")
    assert ok(out) == "2026-01-09\n"


def test_cli_calendar_show_on_an_initialised_database_without_an_organisation_is_national(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    ok(shema(url, "init"))
    shown = {
        e["date"]: e
        for e in json.loads(ok(shema(url, "calendar", "show", "--year", "2026", "--json")))
    }
    assert shown["2026-01-02"]["kind"] == "day_off"
    assert shown["2026-01-17"]["kind"] == "working_day"


def test_the_cli_counts_working_days_backwards_and_refuses_a_range_in_one_line(
    tmp_path: Path,
) -> None:
    from click.testing import CliRunner

    env = {"SHEMA_DB": f"sqlite:///{tmp_path / 'none.db'}"}
    back = CliRunner().invoke(
        cli.main, ["calendar", "add-days", "--", "2026-01-12", "-10"], env=env
    )
    assert (back.exit_code, back.output.strip()) == (0, "2025-12-19")
    huge = CliRunner().invoke(cli.main, ["calendar", "add-days", "2026-01-01", "99999999"], env=env)
    assert huge.exit_code == 2 and "more than 3,650 days" in huge.output
    assert len(huge.output.strip().splitlines()) == 1 and "Traceback" not in huge.output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["add-days", "9999-12-31", "1"], "outside the supported dates (1990-01-01 to 2100-12-31)"),
        (["add-days", "0001-01-01", "1"], "outside the supported dates"),
        (["add-days", "2100-12-30", "5"], "the resulting date"),
        (["show", "--year", "0"], "outside the supported years (1990 to 2100)"),
    ],
)
def test_calendar_questions_outside_the_supported_dates_are_refused_in_one_line(
    tmp_path: Path, args: list[str], words: str
) -> None:
    from click.testing import CliRunner

    env = {"SHEMA_DB": f"sqlite:///{tmp_path / 'none.db'}"}
    out = CliRunner().invoke(cli.main, ["calendar", *args], env=env)
    assert out.exit_code == 2
    assert out.output.strip().splitlines() == [out.output.strip()] and words in out.output
