"""The domain of every number and date a person gives, in one place: the engine checks
them, so the CLI and the web refuse alike (exit 2, a form error) and name the field.

Money is a finite Decimal with at most two decimals, not negative, at most
`MAX_MONEY` (what the database's Numeric(14, 2) columns hold). Dates — project dates,
`--now`, calendar questions — lie in the supported window `FIRST_DAY`…`LAST_DAY`: the
working-day calendar is computed for those years, and a date outside them is a typing
error, not a plan. Numbers that name things (idea and risk numbers) are positive and fit
the database's integers; spans and intervals are positive and bounded.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Final

from workflow.errors import UsageError

MAX_MONEY: Final = Decimal("999999999999.99")
FIRST_DAY: Final = dt.date(1990, 1, 1)
LAST_DAY: Final = dt.date(2100, 12, 31)
MAX_NUMBER: Final = 2**31 - 1  # the database's INTEGER
MAX_DAYS: Final = 3650  # a span of days anyone could mean: ten years


class OutOfDomain(UsageError):
    """A value outside what its field can mean (code ``domain.*``, with the field)."""

    def __init__(self, message: str, *, code: str, field: str, value: object) -> None:
        super().__init__(message, code=code, field=field, value=str(value)[:100])


def money(field: str, value: Decimal | str | None, *, negative: bool = False) -> Decimal | None:
    """`value` as an amount of money, or OutOfDomain saying why it is not one."""
    if value is None:
        return None
    try:
        amount = value if isinstance(value, Decimal) else Decimal(value.strip())
    except InvalidOperation:
        raise OutOfDomain(
            f"the {field} {str(value)[:40]!r} is not an amount (e.g. 125000.00)",
            code="domain.money",
            field=field,
            value=value,
        ) from None
    if not amount.is_finite():
        why = "is not a number" if amount.is_nan() else "is not finite"
        raise OutOfDomain(f"the {field} {why}", code="domain.money", field=field, value=value)
    if amount < 0 and not negative:
        raise OutOfDomain(
            f"the {field} cannot be negative", code="domain.money", field=field, value=value
        )
    if abs(amount) > MAX_MONEY:
        raise OutOfDomain(
            f"the {field} is larger than {MAX_MONEY:,.2f}, the most Shēma keeps",
            code="domain.money",
            field=field,
            value=value,
        )
    if amount != amount.quantize(Decimal("0.01")):
        raise OutOfDomain(
            f"the {field} has more than two decimals (cents)",
            code="domain.money",
            field=field,
            value=value,
        )
    return amount


def date(field: str, value: dt.date) -> dt.date:
    """`value` when inside the supported window of dates."""
    day = value.date() if isinstance(value, dt.datetime) else value
    if not FIRST_DAY <= day <= LAST_DAY:
        raise OutOfDomain(
            f"the {field} {day.isoformat()} is outside the supported dates "
            f"({FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()})",
            code="domain.date",
            field=field,
            value=day,
        )
    return value


def moment(field: str, value: dt.datetime) -> dt.datetime:
    """A point in time inside the supported window of dates."""
    date(field, value.date())  # its own calendar day: converting first could overflow
    return value


def year(field: str, value: int) -> int:
    """A calendar year inside the supported window."""
    if not FIRST_DAY.year <= value <= LAST_DAY.year:
        raise OutOfDomain(
            f"the {field} {value} is outside the supported years "
            f"({FIRST_DAY.year} to {LAST_DAY.year})",
            code="domain.year",
            field=field,
            value=value,
        )
    return value


def number(field: str, value: int) -> int:
    """A positive number that names something (an idea, a risk)."""
    if not 1 <= value <= MAX_NUMBER:
        raise OutOfDomain(
            f"there is no {field} {value}: numbers run from 1",
            code="domain.number",
            field=field,
            value=value,
        )
    return value


def days(field: str, value: int) -> int:
    """A count of days, either way, of a size anyone could mean."""
    if abs(value) > MAX_DAYS:
        raise OutOfDomain(
            f"the {field} {value} is more than {MAX_DAYS:,} days",
            code="domain.days",
            field=field,
            value=value,
        )
    return value


def rate(field: str, value: Decimal, *, low: Decimal, high: Decimal) -> Decimal:
    """A rate (as a fraction) within `low`…`high`."""
    if not value.is_finite() or not low <= value <= high:
        raise OutOfDomain(
            f"the {field} must be from {low * 100:g} % to {high * 100:g} %",
            code="domain.rate",
            field=field,
            value=value,
        )
    return value


__all__ = ["OutOfDomain", "date", "days", "moment", "money", "number", "rate", "year"]
