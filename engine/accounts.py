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

from engine import sessions
from engine.service import Engine
from engine.work import person as person_of
from storage import accounts as stored
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
        raise UsageError(
            f"a password needs at least {MIN_LENGTH} characters",
            code="password.too_short",
            minimum=MIN_LENGTH,
        )
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
            raise NotFound(
                f"no person {person!r} in the organisation", code="person.unknown", person=person
            )
        if who != person and not org.is_coordinator(who):
            raise NotAllowed(
                f"{who} may not set the password of {person}: only their own "
                "(coordinators may set anyone's)",
                code="password.not_theirs",
                actor=who,
                person=person,
            )
        stored.set_password_hashes(conn, [person], hashed)
        keep = sessions.key(keep_session) if keep_session else None
        stored.delete_sessions_of(conn, person, keep=keep)


def store_hash(engine: Engine, persons: Iterable[str], password_hash: str) -> int:
    """Store one ready-made hash for several people (the demo); returns how many rows
    changed. No permission check: only set-up code calls this."""
    with engine.db.write() as conn:
        return stored.set_password_hashes(conn, persons, password_hash)


def check_password(engine: Engine, person: str, password: str) -> bool:
    """True when `person` is an active person whose stored hash matches `password`."""
    with engine.db.read() as conn:
        found = stored.credentials(conn, person)
    known = found.password_hash if found is not None and found.active else None
    try:
        with _CHECKS:
            return bool(_HASHER.verify(known or _DUMMY, password)) and known is not None
    except (VerificationError, InvalidHashError):
        return False
