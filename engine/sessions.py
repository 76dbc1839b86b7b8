"""Web sessions and sign-in throttling, kept as database rows.

A session is known by a random token that only the browser's cookie holds; the row is
keyed by the token's SHA-256, so a copy of the table opens nothing. Rows survive a
restart and are shared by every worker on one database.

Guarantees: `load` returns None for an unknown, ended, idle (`IDLE`) or too old
(`ABSOLUTE`) session; `end` and `end_for_person` delete rows, after which the old cookie
opens nothing; throttling counts failures per person across all addresses and per
address across all names within `WINDOW`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from storage import accounts as stored
from storage.database import Database

IDLE = dt.timedelta(hours=2)
ABSOLUTE = dt.timedelta(hours=12)
# seen_at is rewritten at most this often, so reading a page seldom writes.
TOUCH = dt.timedelta(minutes=1)

WINDOW = dt.timedelta(minutes=15)
PER_PERSON = 5  # failures for one name, from anywhere
PER_ADDRESS = 30  # failures from one address, for any names (an office behind one proxy)


def key(token: str) -> str:
    """The row id of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Stored:
    """A session as loaded: its data and when it was last seen."""

    person: str | None
    data: dict[str, Any]
    seen_at: dt.datetime


def load(db: Database, token: str, now: dt.datetime) -> Stored | None:
    """The live session of `token`, else None (expired ones are deleted)."""
    if not token or len(token) > 128:
        return None
    row_id = key(token)
    with db.read() as conn:
        row = stored.session(conn, row_id)
    if row is None:
        return None
    if now - row.seen_at > IDLE or now - row.created_at > ABSOLUTE:
        with db.write() as conn:
            stored.delete_session(conn, row_id)
        return None
    return Stored(row.person_id, row.data, row.seen_at)


def create(db: Database, data: dict[str, Any], now: dt.datetime) -> str:
    """A new session holding `data`; returns its token (for the cookie only). Sessions
    idle past `IDLE` are swept away at the same time."""
    token = secrets.token_urlsafe(32)
    with db.write() as conn:
        stored.delete_sessions_seen_before(conn, now - IDLE)
        stored.add_session(conn, key(token), _person(data), data, now)
    return token


def save(db: Database, token: str, data: dict[str, Any], now: dt.datetime) -> None:
    """Store the session's changed data (a session deleted meanwhile stays deleted)."""
    with db.write() as conn:
        stored.save_session(conn, key(token), _person(data), data, now)


def touch(db: Database, token: str, now: dt.datetime) -> None:
    """Mark the session as used now."""
    with db.write() as conn:
        stored.touch_session(conn, key(token), now)


def end(db: Database, token: str) -> None:
    """Delete the session: its cookie opens nothing from now on."""
    with db.write() as conn:
        stored.delete_session(conn, key(token))


def end_for_person(db: Database, person: str, *, keep: str | None = None) -> int:
    """Delete every session of `person` except the one of token `keep`; returns how many."""
    with db.write() as conn:
        return stored.delete_sessions_of(conn, person, keep=key(keep) if keep else None)


def _person(data: dict[str, Any]) -> str | None:
    person = data.get("person")
    return person if isinstance(person, str) and person else None


# -- throttling ------------------------------------------------------------------------


def blocked(db: Database, person: str, address: str, now: dt.datetime) -> bool:
    """True while the person has `PER_PERSON` recent failures (from any address) or the
    address has `PER_ADDRESS` recent failures (for any names)."""
    with db.read() as conn:
        by_person, by_address = stored.failures_since(conn, person, address, now - WINDOW)
    return by_person >= PER_PERSON or by_address >= PER_ADDRESS


def failed(db: Database, person: str, address: str, now: dt.datetime) -> None:
    """Record a failed sign-in (old failures are pruned at the same time)."""
    with db.write() as conn:
        stored.add_failure(conn, person, address, now, prune_before=now - WINDOW)


def succeeded(db: Database, person: str) -> None:
    """Forget the person's failures after a successful sign-in."""
    with db.write() as conn:
        stored.clear_failures(conn, person)
