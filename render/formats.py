"""Dates, times, money and working-day counts as a person reads them: ``16.12.2026.``,
``450 000,00 €`` and "nokavēts par 4 darba dienām" in Latvian (Babel's ``lv_LV``),
``16 Dec 2026`` and "€450,000.00" in English (``en_GB``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from render.catalogue import words

LOCALES = {"lv": "lv_LV", "en": "en_GB"}
DATE = {"lv": "dd.MM.yyyy.", "en": "d MMM yyyy"}


def _locale(lang: str) -> str:
    return LOCALES.get(lang, "lv_LV")


def day(value: dt.date | str | None, lang: str) -> str:
    """A calendar date (an ISO string is read as one); "" for none."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    return format_date(value, DATE.get(lang, DATE["lv"]), locale=_locale(lang))


def when(value: dt.datetime | None, lang: str, tz: ZoneInfo) -> str:
    """An instant as local date and time in `tz`, e.g. ``16.12.2026. 10:00``."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    local = value.astimezone(tz)
    return f"{day(local.date(), lang)} {local:%H:%M}"


def money(amount: Decimal | float | int | None, currency: str | None, lang: str) -> str:
    """An amount with its currency, e.g. ``450 000,00 €``; "" for none."""
    if amount is None:
        return ""
    return format_currency(Decimal(str(amount)), currency or "EUR", locale=_locale(lang))


def number(value: Decimal | float | int | None, lang: str, digits: int = 2) -> str:
    """A plain number with `digits` decimals, e.g. ``1,23``; "—" for none."""
    if value is None:
        return "—"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(Decimal(str(value)), format=pattern, locale=_locale(lang))


def days(left: int | None, lang: str) -> str:
    """Working days to a deadline: "atlikušas 3 darba dienas", "termiņš šodien",
    "nokavēts par 4 darba dienām"; "" when there is no running deadline."""
    if left is None:
        return ""
    w = words(lang)
    if left == 0:
        return w["due_today"]
    if left < 0:
        return w.n("days_over_n", -left)
    return w.n("days_left_n", left)
