"""When a recurring duty falls due: the calendar schedule of a stage's recurring duty
(monthly on the Nth working day, yearly on a date or the Nth working day of a month,
every N months from a project date), shifted onto the organisation's working days and
cut off at its end. Pure functions; `dateutil.rrule` produces the calendar dates, the
working calendar moves them.
"""

from __future__ import annotations

import calendar as months
import datetime as dt
from collections.abc import Iterator

from dateutil.relativedelta import relativedelta  # type: ignore[import-untyped]
from dateutil.rrule import MONTHLY, YEARLY, rrule  # type: ignore[import-untyped]

from workflow.calendar import WorkingCalendar
from workflow.scheme import RecurringDuty, Schedule

LOOKAHEAD = 600
"""How many scheduled dates are looked at for the next one (50 years of months)."""


def end_of(duty: RecurringDuty, dates: dict[str, dt.date]) -> dt.date | None:
    """The last day an occurrence may fall on, or None when the duty has no end (or its
    end counts from a project date that is not set yet)."""
    if duty.until is None:
        return None
    start = dates.get(duty.until.after)
    if start is None:
        return None
    end: dt.date = start + relativedelta(years=duty.until.years, months=duty.until.months)
    return end


def next_due(
    duty: RecurringDuty, after: dt.date, cal: WorkingCalendar, dates: dict[str, dt.date]
) -> dt.date | None:
    """The first due day of the duty strictly after `after`, or None when there is none
    (past its end, or counted from a project date that is not set)."""
    end = end_of(duty, dates)
    for n, day in enumerate(_due_days(duty.schedule, after, cal, dates)):
        if end is not None and day > end:
            return None
        if day > after:
            return day
        if n > LOOKAHEAD:
            break
    return None


def due_days(
    duty: RecurringDuty,
    start: dt.date,
    stop: dt.date,
    cal: WorkingCalendar,
    dates: dict[str, dt.date],
) -> list[dt.date]:
    """Every due day after `start` up to and including `stop` (for listings and tests)."""
    out: list[dt.date] = []
    day: dt.date | None = start
    while (day := next_due(duty, day, cal, dates) if day else None) and day <= stop:
        out.append(day)
    return out


def _due_days(
    schedule: Schedule, after: dt.date, cal: WorkingCalendar, dates: dict[str, dt.date]
) -> Iterator[dt.date]:
    """The schedule's due days in order, from the month (or year) of `after` on; from a
    project date's first interval on for `every_months`."""
    if schedule.monthly is not None:
        first = dt.datetime(after.year, after.month, 1)
        for month in rrule(MONTHLY, dtstart=first, bymonthday=1):
            yield _nth_working_day(month.date(), schedule.monthly.working_day, cal)
    elif schedule.yearly is not None:
        rule = schedule.yearly
        first = dt.datetime(after.year, 1, 1)
        if rule.working_day is not None:
            for day in rrule(YEARLY, dtstart=first, bymonth=rule.month, bymonthday=1):
                yield _nth_working_day(day.date(), rule.working_day, cal)
        else:
            for day in rrule(YEARLY, dtstart=first, bymonth=rule.month, bymonthday=rule.day):
                yield cal.next_working_day(day.date())
    else:
        origin = dates.get(schedule.start or "")
        if origin is None or schedule.every_months is None:
            return
        first = dt.datetime(origin.year, origin.month, 1)
        spans = rrule(MONTHLY, dtstart=first, interval=schedule.every_months)
        for n, month in enumerate(spans):
            if n == 0:
                continue  # the date itself is where counting starts
            last = months.monthrange(month.year, month.month)[1]
            yield cal.next_working_day(month.date().replace(day=min(origin.day, last)))


def _nth_working_day(month_start: dt.date, n: int, cal: WorkingCalendar) -> dt.date:
    """The n-th working day counted from the first day of a month."""
    return cal.add_working_days(month_start - dt.timedelta(days=1), n)
