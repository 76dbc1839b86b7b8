"""Sign-in passwords: argon2 hashes in `people.password_hash`.

A coordinator may set anyone's password, a person their own. Checking a password takes
about the same time whether or not the person exists or has a password, so a sign-in
form does not tell which accounts exist.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update

from engine import sessions
from engine.service import Engine
from engine.work import person as person_of
from storage.tables import people, web_sessions
from workflow import limits
from workflow.errors import NotAllowed, NotFound, UsageError

MIN_LENGTH = 8
_HASHER = PasswordHasher()
# Each check holds 64 MiB for its duration; a burst of sign-ins waits here instead of
# growing the process by gigabytes (the checks are CPU-bound: more at once is not faster).
_CHECKS = threading.BoundedSemaphore(4)
# Verified against when there is no stored hash, so a miss costs what a hit costs.
_DUMMY = _HASHER.hash("no such person: compare against something")


def hash_password(password: str) -> str:
    """An argon2id hash of `password` (with a fresh salt) in the PHC string format."""
    if len(password) < MIN_LENGTH:
        raise UsageError(f"a password needs at least {MIN_LENGTH} characters")
    return _HASHER.hash(password)


def set_password(
    engine: Engine, person: str, password: str, *, actor: str | None, keep_session: str = ""
) -> None:
    """Store a new password for `person` and end every web session of theirs (but the one
    of token `keep_session`, from which they changed it); refused unless `actor` is
    `person` or a coordinator. Nothing is written when refused."""
    limits.text("password", password)
    hashed = hash_password(password)
    with engine.db.write() as conn:
        org = engine.org_index(conn)
        who = person_of(org, actor)
        if person not in org.org.people:
            raise NotFound(f"no person {person!r} in the organisation", actor=person)
        if who != person and not org.is_coordinator(who):
            raise NotAllowed(
                f"{who} may not set the password of {person}: only their own "
                "(coordinators may set anyone's)",
                actor=who,
            )
        conn.execute(update(people).where(people.c.id == person).values(password_hash=hashed))
        ended = delete(web_sessions).where(web_sessions.c.person_id == person)
        if keep_session:
            ended = ended.where(web_sessions.c.id != sessions.key(keep_session))
        conn.execute(ended)


def store_hash(engine: Engine, persons: Iterable[str], password_hash: str) -> int:
    """Store one ready-made hash for several people (the demo); returns how many rows
    changed. No permission check: only set-up code calls this."""
    ids = list(persons)
    with engine.db.write() as conn:
        result = conn.execute(
            update(people).where(people.c.id.in_(ids)).values(password_hash=password_hash)
        )
        return int(result.rowcount)


def check_password(engine: Engine, person: str, password: str) -> bool:
    """True when `person` is an active person whose stored hash matches `password`."""
    with engine.db.read() as conn:
        row = conn.execute(
            select(people.c.password_hash, people.c.active).where(people.c.id == person)
        ).first()
    stored = row.password_hash if row is not None and row.active else None
    try:
        with _CHECKS:
            return bool(_HASHER.verify(stored or _DUMMY, password)) and stored is not None
    except (VerificationError, InvalidHashError):
        return False
