"""Sign-in accounts: people's password hashes, web sessions and failed sign-ins.

Sessions are keyed by the SHA-256 of their token (the caller passes that key, never the
token); their data is a JSON object, encoded and decoded here. Failed sign-ins are
stored with the name and address cut to their columns' widths, and counted the same
way. Functions run in the caller's transaction; none commits.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from storage.tables import people, sign_in_failures, web_sessions

PERSON_WIDTH = 63  # of sign_in_failures.person as stored
ADDRESS_WIDTH = 64


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a sign-in is checked against."""

    password_hash: str | None  # None: no password set
    active: bool  # False once the person left the organisation


@dataclass(frozen=True, slots=True)
class SessionRecord:
    person_id: str | None  # None before sign-in
    data: dict[str, Any]  # {} when the stored JSON is not an object
    created_at: dt.datetime
    seen_at: dt.datetime


# -- passwords -------------------------------------------------------------------------


def credentials(conn: Connection, person: str) -> Credentials | None:
    """The stored hash and whether the person is active; None for an unknown person."""
    r = conn.execute(
        select(people.c.password_hash, people.c.active).where(people.c.id == person)
    ).first()
    return None if r is None else Credentials(r.password_hash, bool(r.active))


def set_password_hashes(conn: Connection, persons: Iterable[str], password_hash: str) -> int:
    """Store `password_hash` for every person of `persons`; returns how many rows changed
    (unknown ids change nothing)."""
    ids = list(persons)
    result = conn.execute(
        update(people).where(people.c.id.in_(ids)).values(password_hash=password_hash)
    )
    return int(result.rowcount)


# -- web sessions ----------------------------------------------------------------------


def session(conn: Connection, key: str) -> SessionRecord | None:
    """The session stored under `key`, or None."""
    r = conn.execute(
        select(
            web_sessions.c.person_id,
            web_sessions.c.data,
            web_sessions.c.created_at,
            web_sessions.c.seen_at,
        ).where(web_sessions.c.id == key)
    ).first()
    if r is None:
        return None
    try:
        data = json.loads(r.data)
    except ValueError:
        data = {}
    return SessionRecord(
        r.person_id, data if isinstance(data, dict) else {}, r.created_at, r.seen_at
    )


def add_session(
    conn: Connection, key: str, person: str | None, data: dict[str, Any], now: dt.datetime
) -> None:
    """Store a new session under `key`, created and seen `now`."""
    conn.execute(
        insert(web_sessions).values(
            id=key, person_id=person, data=json.dumps(data), created_at=now, seen_at=now
        )
    )


def save_session(
    conn: Connection, key: str, person: str | None, data: dict[str, Any], now: dt.datetime
) -> None:
    """Replace the session's data and person, seen `now` (no row: nothing happens)."""
    conn.execute(
        update(web_sessions)
        .where(web_sessions.c.id == key)
        .values(data=json.dumps(data), person_id=person, seen_at=now)
    )


def touch_session(conn: Connection, key: str, now: dt.datetime) -> None:
    """Mark the session as seen `now` (no row: nothing happens)."""
    conn.execute(update(web_sessions).where(web_sessions.c.id == key).values(seen_at=now))


def delete_session(conn: Connection, key: str) -> None:
    """Delete the session under `key`, if any."""
    conn.execute(delete(web_sessions).where(web_sessions.c.id == key))


def delete_sessions_seen_before(conn: Connection, cutoff: dt.datetime) -> None:
    """Delete every session last seen before `cutoff`."""
    conn.execute(delete(web_sessions).where(web_sessions.c.seen_at < cutoff))


def delete_sessions_of(conn: Connection, person: str, *, keep: str | None = None) -> int:
    """Delete every session of `person` but the one under key `keep`; returns how many."""
    query = delete(web_sessions).where(web_sessions.c.person_id == person)
    if keep:
        query = query.where(web_sessions.c.id != keep)
    return int(conn.execute(query).rowcount)


# -- failed sign-ins -------------------------------------------------------------------


def failures_since(
    conn: Connection, person: str, address: str, since: dt.datetime
) -> tuple[int, int]:
    """How many sign-ins failed after `since` for `person` (from any address) and from
    `address` (for any names)."""
    f = sign_in_failures.c
    by_person = conn.execute(
        select(func.count()).where(f.person == person[:PERSON_WIDTH], f.at > since)
    ).scalar_one()
    by_address = conn.execute(
        select(func.count()).where(f.address == address[:ADDRESS_WIDTH], f.at > since)
    ).scalar_one()
    return int(by_person), int(by_address)


def add_failure(
    conn: Connection, person: str, address: str, at: dt.datetime, *, prune_before: dt.datetime
) -> None:
    """Record a failed sign-in at `at`, deleting the failures from before `prune_before`."""
    conn.execute(delete(sign_in_failures).where(sign_in_failures.c.at < prune_before))
    conn.execute(
        insert(sign_in_failures).values(
            person=person[:PERSON_WIDTH], address=address[:ADDRESS_WIDTH], at=at
        )
    )


def clear_failures(conn: Connection, person: str) -> None:
    """Forget every failed sign-in recorded under the name `person`."""
    conn.execute(delete(sign_in_failures).where(sign_in_failures.c.person == person))
