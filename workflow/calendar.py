"""Latvian working days: national holidays from `holidays`, plus a municipality's own
overrides in both directions.

`holidays` keeps days off moved from a weekend in its holiday list but the Saturdays
made working days only in `weekend_workdays`, so working days are asked of its
`is_working_day()`, never computed as "a weekday and not a holiday". A Cabinet transfer
binds only state institutions; a municipality that did not adopt one declines it, which
reverts both halves (the moved day off and the working Saturday).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from workflow.labels import text
from workflow.org import CalendarOverrides
from workflow.scheme import Duration

DAY_STARTS = dt.time(8, 0)
DAY_ENDS = dt.time(23, 59, 59)
_HOLIDAY_LANG = {"lv": "lv", "en": "en_US"}


@dataclass(frozen=True)
class CalendarEntry:
    """A date that is not what its weekday suggests."""

    date: dt.date
    kind: str  # "day_off" | "working_day"
    name: str
    source: str  # "national" | "municipal" | "declined"


class WorkingCalendar:
    """Working days of one country and municipality, and deadlines as aware datetimes."""

    def __init__(
        self,
        overrides: CalendarOverrides | None = None,
        *,
        country: str = "LV",
        timezone: str = "Europe/Riga",
        compiled: dict[str, Any] | None = None,
    ) -> None:
        self.country = country
        self.zone = ZoneInfo(timezone)
        self.overrides = overrides or CalendarOverrides()
        self._national: dict[str, Any] = {}
        self._working: dict[dt.date, bool] = {}
        # A compiled form (see `compile`) answers without loading `holidays` at all.
        self._years: tuple[int, int] | None = None
        self._off: frozenset[dt.date] = frozenset()
        self._on: frozenset[dt.date] = frozenset()
        if compiled:
            self._years = (int(compiled["years"][0]), int(compiled["years"][1]))
            self._off = frozenset(dt.date.fromisoformat(d) for d in compiled["off"])
            self._on = frozenset(dt.date.fromisoformat(d) for d in compiled["on"])

    def compile(self, first_year: int, last_year: int) -> dict[str, Any]:
        """The calendar's exceptions to "Monday to Friday" for those years, as JSON-ready
        data: weekdays that are off and weekend days that are working, every one decided
        by `is_working_day` (national calendar plus the overrides)."""
        off, on = [], []
        for day in self.days(dt.date(first_year, 1, 1), dt.date(last_year, 12, 31)):
            working = self.is_working_day(day)
            if day.weekday() < 5 and not working:
                off.append(day.isoformat())
            elif day.weekday() >= 5 and working:
                on.append(day.isoformat())
        return {"years": [first_year, last_year], "off": off, "on": on}

    def national(self, lang: str = "lv") -> Any:
        """The `holidays` calendar (all years on demand) in a label language."""
        if lang not in self._national:
            import holidays  # imported when first needed: it is slow to import

            self._national[lang] = holidays.country_holidays(
                self.country, language=_HOLIDAY_LANG.get(lang, lang)
            )
        return self._national[lang]

    def transfer_of(self, day_off: dt.date) -> dt.date | None:
        """The working Saturday a national moved day off came from, or None when `day_off`
        is not such a day. Read from the day off's Latvian name ("pārcelta no 17.01.2026")."""
        national = self.national("lv")
        name = national.get(day_off) or ""
        for saturday in getattr(national, "weekend_workdays", set()):
            if saturday.year == day_off.year and saturday.strftime("%d.%m.%Y") in name:
                return saturday  # type: ignore[no-any-return]
        return None

    @cached_property
    def _transfers(self) -> dict[dt.date, dt.date]:
        """Declined national transfers: moved day off → the working Saturday it came from.
        Dates that are not national transfers are ignored (the organisation file's checks
        reject them)."""
        out: dict[dt.date, dt.date] = {}
        for off in self.overrides.declined_transfers:
            saturday = self.transfer_of(off)
            if saturday is not None:
                out[off] = saturday
        return out

    @cached_property
    def _local(self) -> dict[dt.date, bool]:
        """Municipal decisions: date → is it a working day."""
        out: dict[dt.date, bool] = {}
        for off, saturday in self._transfers.items():
            out[off], out[saturday] = True, False
        for entry in self.overrides.days_off:
            out[entry.date] = False
        for entry in self.overrides.working_days:
            out[entry.date] = True
        return out

    def is_working_day(self, day: dt.date) -> bool:
        if self._years is not None and self._years[0] <= day.year <= self._years[1]:
            return day in self._on or (day.weekday() < 5 and day not in self._off)
        found = self._working.get(day)
        if found is None:
            found = self._local.get(day)
            if found is None:
                found = bool(self.national().is_working_day(day))
            self._working[day] = found
        return found

    def add_working_days(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day after `day` (before it for negative n); 0 gives `day`."""
        step = 1 if n >= 0 else -1
        left = abs(n)
        while left:
            day += dt.timedelta(days=step)
            if self.is_working_day(day):
                left -= 1
        return day

    def next_working_day(self, day: dt.date) -> dt.date:
        """`day` itself if it is a working day, else the next one."""
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def add(self, day: dt.date, span: Duration, *, sign: int = 1) -> dt.date:
        """`day` moved by a span; a span in calendar days that ends on a day off moves on
        to the next working day (as administrative deadlines do)."""
        if span.working:
            return self.add_working_days(day, sign * span.days)
        moved = day + dt.timedelta(days=sign * span.days)
        return self.next_working_day(moved) if sign > 0 else moved

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end` (negative if end < start)."""
        if end < start:
            return -self.working_days_between(end, start)
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            count += self.is_working_day(day)
        return count

    # -- instants ---------------------------------------------------------------------

    def local_date(self, at: dt.datetime) -> dt.date:
        return at.astimezone(self.zone).date()

    def end_of(self, day: dt.date) -> dt.datetime:
        """The last second of `day` in local time, as UTC (DST-safe)."""
        return dt.datetime.combine(day, DAY_ENDS, self.zone).astimezone(dt.UTC)

    def start_of(self, day: dt.date) -> dt.datetime:
        """The start of the working day on `day` in local time, as UTC."""
        return dt.datetime.combine(day, DAY_STARTS, self.zone).astimezone(dt.UTC)

    def due(self, entered: dt.datetime, span: Duration) -> dt.datetime:
        """When a stage entered at `entered` with a deadline `span` is due."""
        return self.end_of(self.add(self.local_date(entered), span))

    # -- listing ----------------------------------------------------------------------

    def entries(self, year: int, lang: str = "lv") -> list[CalendarEntry]:
        """Days off that fall on weekdays and working days that fall on weekends, with the
        municipality's own changes, in date order."""
        national = self.national(lang)
        national.get(dt.date(year, 1, 1))  # populate the year
        out: dict[dt.date, CalendarEntry] = {}
        for day, name in national.items():
            if day.year == year and day.weekday() < 5:
                out[day] = CalendarEntry(day, "day_off", name, "national")
        for day in getattr(national, "weekend_workdays", set()):
            if day.year == year:
                label = "Darba diena (pārcelta)" if lang == "lv" else "Working day (transferred)"
                out[day] = CalendarEntry(day, "working_day", label, "national")
        declined = (
            "nepārņemta valsts pārcelšana" if lang == "lv" else "national transfer not adopted"
        )
        for off, saturday in self._transfers.items():
            for day in (off, saturday):
                if day.year == year:
                    out[day] = CalendarEntry(
                        day, "working_day" if day == off else "day_off", declined, "declined"
                    )
        for entry, kind in [
            *((e, "day_off") for e in self.overrides.days_off),
            *((e, "working_day") for e in self.overrides.working_days),
        ]:
            if entry.date.year == year:
                out[entry.date] = CalendarEntry(
                    entry.date, kind, text(entry.title, lang, ""), "municipal"
                )
        return [out[d] for d in sorted(out)]

    def days(self, start: dt.date, end: dt.date) -> Iterator[dt.date]:
        day = start
        while day <= end:
            yield day
            day += dt.timedelta(days=1)


def national_calendar() -> WorkingCalendar:
    """Latvia's calendar without municipal overrides."""
    return WorkingCalendar()
