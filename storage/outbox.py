"""The outbox (one message to one person, keyed so it is created once) and the record of
the scheduled jobs' last runs.

Every function runs in the caller's transaction (`Database.write()` or `.read()`); none
commits. Rows come back as typed records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from storage.tables import deadlines, job_runs, outbox, people, projects

STALE_REASON = "not sent: its deadline closed before delivery (the work was done or moved on)"


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    """An outbox row leased for sending, with the recipient's current name and address
    (None when the person has none) and the project's code (None for a digest)."""

    id: int
    key: str
    project_id: int | None
    deadline_id: int | None
    recipient_id: str
    kind: str
    subject: str
    body: str
    attempts: int
    created_at: dt.datetime
    to_name: str | None
    to_address: str | None
    project_code: str | None


@dataclass(frozen=True, slots=True)
class DigestItem:
    """A message waiting for its recipient's daily digest."""

    id: int
    recipient_id: str
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class Addressee:
    """A person as the digest addresses them."""

    id: str
    lang: str
    name: str


def insert_new(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert outbox rows (dicts of outbox columns, all with the same columns) in one
    batched statement, skipping keys that exist already (a concurrent writer's row wins,
    without an error) and repeats of a key among `rows` (the first is kept); returns how
    many were new."""
    if not rows:
        return 0
    unique: dict[str, dict[str, Any]] = {}
    for row in rows:
        unique.setdefault(row["key"], dict(row))
    dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(outbox)
        .on_conflict_do_nothing(index_elements=[outbox.c.key])
        .returning(outbox.c.id)
    )
    # Sent as multi-row INSERTs (SQLAlchemy's "insertmanyvalues"); RETURNING gives one
    # row per inserted row, none for a key that existed, so its length is the count.
    return len(conn.execute(stmt, list(unique.values())).all())


DROP_STALE = (
    update(outbox)
    .where(
        and_(
            outbox.c.status.in_(("pending", "digest")),
            outbox.c.deadline_id.in_(
                select(deadlines.c.id).where(deadlines.c.closed_at.is_not(None))
            ),
        )
    )
    .values(status="dropped", lease_until=None, last_error=STALE_REASON)
)


def drop_stale(conn: Connection) -> int:
    """Mark waiting (pending or digest) rows whose deadline has closed as `dropped`, with
    the reason; returns how many (0 when none)."""
    return conn.execute(DROP_STALE).rowcount


def claim(
    conn: Connection, now: dt.datetime, *, owner: str, limit: int, lease_until: dt.datetime
) -> list[ClaimedMessage]:
    """Lease up to `limit` due rows (pending, or sending with an expired lease) to
    `owner` until `lease_until`, oldest first; [] when none is due. On PostgreSQL rows
    another worker is claiming are skipped (``FOR UPDATE SKIP LOCKED``)."""
    due = and_(
        outbox.c.status.in_(("pending", "sending")),
        outbox.c.next_attempt_at <= now,
        or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now),
    )
    pick = select(outbox.c.id).where(due).order_by(outbox.c.id).limit(limit)
    if conn.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    ids = list(conn.execute(pick).scalars())
    if not ids:
        return []
    conn.execute(
        update(outbox)
        .where(outbox.c.id.in_(ids))
        .values(status="sending", lease_until=lease_until, lease_owner=owner)
    )
    rows = conn.execute(
        select(
            outbox,
            people.c.name.label("to_name"),
            people.c.email.label("to_address"),
            projects.c.code.label("project_code"),
        )
        .join(people, people.c.id == outbox.c.recipient_id)
        .outerjoin(projects, projects.c.id == outbox.c.project_id)
        .where(outbox.c.id.in_(ids))
        .order_by(outbox.c.id)
    )
    return [
        ClaimedMessage(
            r.id,
            r.key,
            r.project_id,
            r.deadline_id,
            r.recipient_id,
            r.kind,
            r.subject,
            r.body,
            r.attempts,
            r.created_at,
            r.to_name,
            r.to_address,
            r.project_code,
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class FailedAttempt:
    """The outcome of an attempt that did not deliver: `final` ends the row as `failed`,
    else it is pending again from `next_attempt_at`."""

    id: int
    final: bool
    attempts: int
    next_attempt_at: dt.datetime
    error: str


MARK_FAILED = (
    update(outbox)
    .where(outbox.c.id == bindparam("m_id"), outbox.c.lease_owner == bindparam("m_owner"))
    .values(
        status=bindparam("m_status"),
        attempts=bindparam("m_attempts"),
        lease_until=None,
        next_attempt_at=bindparam("m_next"),
        last_error=bindparam("m_error"),
    )
)


def mark_outcomes(
    conn: Connection,
    *,
    owner: str,
    now: dt.datetime,
    sent: Sequence[int],
    failed: Sequence[FailedAttempt] = (),
) -> int:
    """Record a batch's outcomes, for the rows `owner` still holds the lease of (a row
    another worker took over after the lease ran out is left to it): the `sent` rows as
    delivered at `now` with one more attempt (one statement), the `failed` ones with
    their attempt (one batched statement; errors kept to 1000 characters). Returns how
    many of `sent` were recorded."""
    if failed:
        conn.execute(
            MARK_FAILED,
            [
                {
                    "m_id": f.id,
                    "m_owner": owner,
                    "m_status": "failed" if f.final else "pending",
                    "m_attempts": f.attempts,
                    "m_next": f.next_attempt_at,
                    "m_error": f.error[:1000],
                }
                for f in failed
            ],
        )
    if not sent:
        return 0
    done: int = conn.execute(
        update(outbox)
        .where(outbox.c.id.in_(list(sent)), outbox.c.lease_owner == owner)
        .values(
            status="sent",
            sent_at=now,
            lease_until=None,
            attempts=outbox.c.attempts + 1,
            last_error=None,
        )
    ).rowcount
    return done


def retry_failed(conn: Connection, now: dt.datetime) -> int:
    """Give every failed row a fresh set of attempts, due at `now`; returns how many."""
    return conn.execute(
        update(outbox)
        .where(outbox.c.status == "failed")
        .values(status="pending", attempts=0, next_attempt_at=now, lease_until=None)
    ).rowcount


def counts(conn: Connection) -> dict[str, int]:
    """Outbox rows by status (statuses without rows are absent)."""
    return {
        status: n
        for status, n in conn.execute(
            select(outbox.c.status, func.count()).group_by(outbox.c.status)
        )
    }


def claim_digest(conn: Connection) -> list[DigestItem]:
    """Every row waiting for a digest, by recipient then age, locked for this transaction
    (on PostgreSQL rows another composer holds are skipped); [] when none."""
    stmt = (
        select(outbox.c.id, outbox.c.recipient_id, outbox.c.subject, outbox.c.body)
        .where(outbox.c.status == "digest")
        .order_by(outbox.c.recipient_id, outbox.c.id)
    )
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return [DigestItem(r.id, r.recipient_id, r.subject, r.body) for r in conn.execute(stmt)]


def addressees(conn: Connection, ids: Iterable[str]) -> dict[str, Addressee]:
    """The people `ids` who exist, by id (an erased or unknown id is absent)."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = conn.execute(
        select(people.c.id, people.c.lang, people.c.name).where(people.c.id.in_(wanted))
    )
    return {r.id: Addressee(r.id, r.lang, r.name) for r in rows}


def mark_digested(conn: Connection, ids: Sequence[int]) -> int:
    """Mark rows as gathered into a digest; returns how many."""
    if not ids:
        return 0
    return conn.execute(
        update(outbox).where(outbox.c.id.in_(list(ids))).values(status="digested")
    ).rowcount


def record_job_run(
    conn: Connection, name: str, started: dt.datetime, finished: dt.datetime, result: str
) -> None:
    """Remember the last run of job `name` (replacing the one before, inserting the first)."""
    done = conn.execute(
        update(job_runs)
        .where(job_runs.c.name == name)
        .values(started_at=started, finished_at=finished, result=result)
    ).rowcount
    if not done:
        conn.execute(
            insert(job_runs).values(
                name=name, started_at=started, finished_at=finished, result=result
            )
        )
