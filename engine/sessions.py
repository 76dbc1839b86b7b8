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
import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from storage.database import Database
from storage.tables import sign_in_failures, web_sessions

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
        row = conn.execute(
            select(
                web_sessions.c.person_id,
                web_sessions.c.data,
                web_sessions.c.created_at,
                web_sessions.c.seen_at,
            ).where(web_sessions.c.id == row_id)
        ).first()
    if row is None:
        return None
    if now - row.seen_at > IDLE or now - row.created_at > ABSOLUTE:
        with db.write() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.id == row_id))
        return None
    try:
        data = json.loads(row.data)
    except ValueError:
        data = {}
    return Stored(row.person_id, data if isinstance(data, dict) else {}, row.seen_at)


def create(db: Database, data: dict[str, Any], now: dt.datetime) -> str:
    """A new session holding `data`; returns its token (for the cookie only). Sessions
    idle past `IDLE` are swept away at the same time."""
    token = secrets.token_urlsafe(32)
    with db.write() as conn:
        conn.execute(delete(web_sessions).where(web_sessions.c.seen_at < now - IDLE))
        conn.execute(
            insert(web_sessions).values(
                id=key(token),
                person_id=_person(data),
                data=json.dumps(data),
                created_at=now,
                seen_at=now,
            )
        )
    return token


def save(db: Database, token: str, data: dict[str, Any], now: dt.datetime) -> None:
    """Store the session's changed data (a session deleted meanwhile stays deleted)."""
    with db.write() as conn:
        conn.execute(
            update(web_sessions)
            .where(web_sessions.c.id == key(token))
            .values(data=json.dumps(data), person_id=_person(data), seen_at=now)
        )


def touch(db: Database, token: str, now: dt.datetime) -> None:
    """Mark the session as used now."""
    with db.write() as conn:
        conn.execute(
            update(web_sessions).where(web_sessions.c.id == key(token)).values(seen_at=now)
        )


def end(db: Database, token: str) -> None:
    """Delete the session: its cookie opens nothing from now on."""
    with db.write() as conn:
        conn.execute(delete(web_sessions).where(web_sessions.c.id == key(token)))


def end_for_person(db: Database, person: str, *, keep: str | None = None) -> int:
    """Delete every session of `person` except the one of token `keep`; returns how many."""
    query = delete(web_sessions).where(web_sessions.c.person_id == person)
    if keep:
        query = query.where(web_sessions.c.id != key(keep))
    with db.write() as conn:
        return int(conn.execute(query).rowcount)


def _person(data: dict[str, Any]) -> str | None:
    person = data.get("person")
    return person if isinstance(person, str) and person else None


# -- throttling ------------------------------------------------------------------------


def blocked(db: Database, person: str, address: str, now: dt.datetime) -> bool:
    """True while the person has `PER_PERSON` recent failures (from any address) or the
    address has `PER_ADDRESS` recent failures (for any names)."""
    since = now - WINDOW
    f = sign_in_failures.c
    with db.read() as conn:
        by_person = conn.execute(
            select(func.count()).where(f.person == person[:63], f.at > since)
        ).scalar_one()
        by_address = conn.execute(
            select(func.count()).where(f.address == address[:64], f.at > since)
        ).scalar_one()
    return by_person >= PER_PERSON or by_address >= PER_ADDRESS


def failed(db: Database, person: str, address: str, now: dt.datetime) -> None:
    """Record a failed sign-in (old failures are pruned at the same time)."""
    with db.write() as conn:
        conn.execute(delete(sign_in_failures).where(sign_in_failures.c.at < now - WINDOW))
        conn.execute(
            insert(sign_in_failures).values(person=person[:63], address=address[:64], at=now)
        )


def succeeded(db: Database, person: str) -> None:
    """Forget the person's failures after a successful sign-in."""
    with db.write() as conn:
        conn.execute(delete(sign_in_failures).where(sign_in_failures.c.person == person))
