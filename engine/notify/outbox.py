"""Delivering the outbox: at least once, with recognisable duplicates.

Rows are claimed with a lease in a short transaction, sent *outside* any transaction (a
mail outage never blocks an advance), then marked sent. A process that dies between the
server accepting a message and marking it sent leaves the lease to expire; the row is
sent again with the same Message-ID, which mail systems drop as a duplicate. Failures
are retried with exponential backoff (1, 2, 4 … minutes, at most 6 hours) for at least
a day from the first failure (`retry_for`), then end as `failed`. A message that can
never be sent (it cannot be built: an address or name a header cannot carry; or the
server refuses it for good) is `failed` at once with the reason, and the rest of the
batch goes on: one bad row never stops the others.

A notice is sent only while its reason holds: a reminder, overdue notice, escalation or
handoff whose deadline has closed meanwhile (the work was done, the handoff
acknowledged, the project moved on or finished) is marked `dropped` with the reason,
never sent late. Notices of something that happened (`notify`) stay true and are sent.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from engine.failpoints import failpoint
from engine.notify.channels import Channel, DeliveryError, Mail
from storage import outbox as stored
from storage.database import Database
from storage.outbox import STALE_REASON, ClaimedMessage

log = logging.getLogger("shema.outbox")
LEASE = dt.timedelta(minutes=5)
RETRY_FOR = dt.timedelta(days=1)  # how long a transient failure is retried before `failed`
BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_CAP = dt.timedelta(hours=6)


def backoff(attempts: int) -> dt.timedelta:
    """Wait before attempt `attempts + 1`: 1, 2, 4 … minutes, at most 6 hours."""
    delay: dt.timedelta = BACKOFF_BASE * (2 ** max(0, attempts - 1))
    return min(delay, BACKOFF_CAP)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class DispatchReport:
    """What one dispatch pass did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self))


def drop_stale(conn: Connection) -> int:
    """Mark waiting notices whose deadline has closed as `dropped`; returns how many."""
    return stored.drop_stale(conn)


def claim(
    db: Database, now: dt.datetime, *, owner: str, limit: int = 100, lease: dt.timedelta = LEASE
) -> list[ClaimedMessage]:
    """Lease up to `limit` due rows to `owner` until now + lease; returns them with the
    recipient's current name and address (so an erased person gets nothing)."""
    with db.write() as conn:
        drop_stale(conn)
        return stored.claim(conn, now, owner=owner, limit=limit, lease_until=now + lease)


def mail_of(row: ClaimedMessage, sender: str, now: dt.datetime) -> Mail:
    """The Mail for a claimed row, dated `now`."""
    return Mail(
        row.key,
        row.to_name or row.recipient_id,
        row.to_address,
        row.subject,
        row.body,
        sender,
        now,
    )


def dispatch(
    db: Database,
    channels: Sequence[Channel],
    now: dt.datetime,
    *,
    sender: str,
    owner: str | None = None,
    limit: int = 100,
    retry_for: dt.timedelta = RETRY_FOR,
    max_attempts: int | None = None,
) -> DispatchReport:
    """Send what is due through every channel; returns counts. Does nothing without
    channels (messages wait in the outbox). A transient failure is retried until
    `retry_for` after the message was created (or `max_attempts`, when given). The
    messages are dated `now`."""
    report = DispatchReport()
    if not channels:
        return report
    owner = owner or worker_id()
    while True:
        rows = claim(db, now, owner=owner, limit=limit)
        for row in rows:
            mail = mail_of(row, sender, now)
            try:
                for channel in channels:
                    channel.send(mail)
                failpoint("dispatch.after_send")
            except DeliveryError as exc:
                final = exc.permanent or _given_up(row, retry_for, max_attempts)
                _failed(db, row, now, str(exc), final, owner, report)
                continue
            except Exception as exc:  # a channel's own bug must not stop the batch either
                log.exception("message %s could not be sent", row.key)
                reason = f"cannot send the message: {type(exc).__name__}: {exc}"
                _failed(db, row, now, reason, True, owner, report)
                continue
            with db.write() as conn:
                stored.mark_sent(conn, row.id, owner=owner, now=now, attempts=row.attempts + 1)
            report.sent += 1
        if len(rows) < limit:
            return report


def _given_up(row: ClaimedMessage, retry_for: dt.timedelta, max_attempts: int | None) -> bool:
    """Whether a transient failure now is the last one: the waits between attempts have
    added up to `retry_for` (counted from the first failure, so a message that waited in
    the outbox for a channel still gets its full day of tries)."""
    attempts = row.attempts + 1
    if max_attempts is not None:
        return bool(attempts >= max_attempts)
    waited = sum((backoff(n) for n in range(1, attempts + 1)), dt.timedelta())
    return waited > retry_for


def _failed(
    db: Database,
    row: ClaimedMessage,
    now: dt.datetime,
    error: str,
    final: bool,
    owner: str,
    report: DispatchReport,
) -> None:
    attempts = row.attempts + 1
    with db.write() as conn:
        stored.mark_failed(
            conn,
            row.id,
            owner=owner,
            final=final,
            attempts=attempts,
            next_attempt_at=now + backoff(attempts),
            error=error,
        )
    report.errors.append(f"{row.key}: {error}")
    if final:
        report.failed += 1
    else:
        report.retried += 1


def retry_failed(db: Database, now: dt.datetime) -> int:
    """Give every failed row a fresh set of attempts, due now; returns how many."""
    with db.write() as conn:
        return stored.retry_failed(conn, now)


def counts(db: Database) -> dict[str, int]:
    """Outbox rows by status."""
    with db.read() as conn:
        return stored.counts(conn)


__all__ = [
    "STALE_REASON",
    "DispatchReport",
    "backoff",
    "claim",
    "counts",
    "dispatch",
    "drop_stale",
    "mail_of",
    "retry_failed",
    "worker_id",
]
