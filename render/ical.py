"""Deadlines as an iCalendar file (RFC 5545) that calendar programs import.

Written by hand, so the runtime needs no iCalendar library: CRLF line ends, lines folded
at 75 octets without splitting a UTF-8 character, TEXT values escaped, times in UTC.
Each deadline is an all-day event on the day it falls due (a deadline is "by the end of
that day", not a meeting at 23:59), with a link to the project's page when the web's
address is known; its UID is stable, so importing a newer export updates the events
instead of duplicating them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.ical import DeadlineEvent

PRODID = "-//Shema//Shema deadlines//LV"


def escape(value: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines escaped."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str, limit: int = 75) -> str:
    """A content line folded into CRLF + space continuations of at most `limit` octets
    each, never splitting a UTF-8 character (RFC 5545 §3.1)."""
    parts: list[str] = []
    current, size = "", 0
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            parts.append(current)
            current, size = " " + ch, 1 + n
        else:
            current, size = current + ch, size + n
    parts.append(current)
    return "\r\n".join(parts)


def _utc(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def to_ics(events: Sequence[DeadlineEvent], *, now: dt.datetime, name: str) -> str:
    """A VCALENDAR of `events`, each a non-blocking all-day VEVENT on its due date."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(name)}",
    ]
    stamp = _utc(now)
    for e in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{e.uid}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{e.due_date:%Y%m%d}",
            f"DTEND;VALUE=DATE:{e.due_date + dt.timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{escape(e.summary)}",
            f"DESCRIPTION:{escape(e.description)}",
            *([f"URL:{e.url}"] if e.url else []),
            f"CATEGORIES:{escape(e.kind)}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
