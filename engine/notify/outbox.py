"""Delivering the outbox: at least once, in batches, with recognisable duplicates.

A dispatch pass works in batches of up to `limit` rows. Each batch is claimed with a
lease in one short transaction, sent *outside* any transaction (a mail outage never
blocks an advance) through one batch per channel (SMTP: one connection; the folder: one
directory fsync; see engine/notify/channels/__init__.py), and its outcomes — sent,
failed with the reason, or retry later — are recorded together in one transaction once
every channel's batch is closed.

What that guarantees:

- Nothing is lost. A row is `sent` only after every channel accepted the message and
  closed its batch (SMTP: the server answered 250 to the message; the folder: the file
  and the directory are fsynced). A batch that cannot be confirmed at its close is
  retried like a transient failure.
- A crash costs duplicates, bounded by the batch. A process that dies between
  delivering and recording (fail points `dispatch.after_send`, after each message, and
  `dispatch.before_mark`, after the whole batch) records nothing of its batch: every row
  of it stays `sending` until the lease expires, and is then claimed and sent again with
  the same Message-ID, so each message of that batch delivered before the crash arrives
  twice at most (up to `limit` messages per crash; marking one message at a time would
  repeat at most one). Mail systems can drop the repeat as a duplicate by its
  Message-ID; the folder channel writes the same `<key>.eml` again, so there it leaves
  no duplicate at all. A worker whose lease ran out before it recorded (a batch slower
  than `LEASE`) records nothing for the rows another worker has claimed since: that
  worker sends them again, the same way.
- Per message, as before: a transient failure is retried with exponential backoff (1,
  2, 4 … minutes, at most 6 hours) for at least a day from the first failure
  (`retry_for`), then ends as `failed`. A message that can never be sent (it cannot be
  built: an address or name a header cannot carry; or the server refuses it for good)
  is `failed` at once with the reason, and the rest of the batch goes on: one bad row
  never stops the others. When a channel gives up on a batch (the SMTP server cannot be
  reached again), the rows after it are retried later, and those it delivered are sent.

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
from engine.notify.channels import Batch, Channel, DeliveryError, Mail, open_batch
from storage import outbox as stored
from storage.database import Database
from storage.outbox import STALE_REASON, ClaimedMessage, FailedAttempt

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
    """Send what is due through every channel, `limit` rows a batch; returns counts. Does
    nothing without channels (messages wait in the outbox). A transient failure is
    retried until `retry_for` after the message was created (or `max_attempts`, when
    given). The messages are dated `now`."""
    report = DispatchReport()
    if not channels:
        return report
    owner = owner or worker_id()
    while True:
        rows = claim(db, now, owner=owner, limit=limit)
        if rows:
            attempts = deliver(channels, [(row, mail_of(row, sender, now)) for row in rows])
            failpoint("dispatch.before_mark")
            record(db, attempts, now, owner, Retries(retry_for, max_attempts), report)
        if len(rows) < limit:
            return report


@dataclass(frozen=True, slots=True)
class Attempt:
    """What sending one claimed row did: delivered (`error` None), or not, and why."""

    row: ClaimedMessage
    error: str | None = None
    permanent: bool = False


def deliver(
    channels: Sequence[Channel], batch: Sequence[tuple[ClaimedMessage, Mail]]
) -> list[Attempt]:
    """Send each row's Mail through every channel, one batch per channel, and close the
    batches; a row counts as delivered once all of them took it and closed. Touches no
    database."""
    batches = [open_batch(channel) for channel in channels]
    attempts: list[Attempt] = []
    try:
        for row, mail in batch:
            attempts.append(attempt(batches, row, mail))
    finally:
        unconfirmed = close(batches)
    if unconfirmed is None:
        return attempts
    return [a if a.error is not None else Attempt(a.row, unconfirmed) for a in attempts]


def attempt(batches: Sequence[Batch], row: ClaimedMessage, mail: Mail) -> Attempt:
    """Send `mail` through every batch, stopping at the first that fails."""
    try:
        for batch in batches:
            batch.send(mail)
        failpoint("dispatch.after_send")
    except DeliveryError as exc:
        return Attempt(row, str(exc), exc.permanent)
    except Exception as exc:  # a channel's own bug must not stop the batch either
        log.exception("message %s could not be sent", row.key)
        return Attempt(row, f"cannot send the message: {type(exc).__name__}: {exc}", True)
    return Attempt(row)


def close(batches: Sequence[Batch]) -> str | None:
    """Close every batch; why what they delivered is not confirmed, or None when it is."""
    problems = []
    for batch in batches:
        try:
            batch.close()
        except DeliveryError as exc:
            problems.append(str(exc))
        except Exception as exc:  # a channel's bug: what it delivered is not confirmed
            log.exception("a channel's batch could not be closed")
            problems.append(f"cannot confirm the delivery: {type(exc).__name__}: {exc}")
    return "; ".join(problems) if problems else None


@dataclass(frozen=True, slots=True)
class Retries:
    """How long transient failures are retried: for `retry_for` (or `max_attempts`)."""

    retry_for: dt.timedelta
    max_attempts: int | None

    def given_up(self, row: ClaimedMessage) -> bool:
        """Whether a transient failure now is the last one: the waits between attempts
        have added up to `retry_for` (counted from the first failure, so a message that
        waited in the outbox for a channel still gets its full day of tries)."""
        attempts = row.attempts + 1
        if self.max_attempts is not None:
            return attempts >= self.max_attempts
        waited = sum((backoff(n) for n in range(1, attempts + 1)), dt.timedelta())
        return waited > self.retry_for


def record(
    db: Database,
    attempts: Sequence[Attempt],
    now: dt.datetime,
    owner: str,
    retries: Retries,
    report: DispatchReport,
) -> None:
    """Record a batch's outcomes in one transaction and count them in `report`."""
    failed = []
    for a in attempts:
        if a.error is None:
            report.sent += 1
            continue
        final = a.permanent or retries.given_up(a.row)
        n = a.row.attempts + 1
        failed.append(FailedAttempt(a.row.id, final, n, now + backoff(n), a.error))
        report.errors.append(f"{a.row.key}: {a.error}")
        if final:
            report.failed += 1
        else:
            report.retried += 1
    sent = [a.row.id for a in attempts if a.error is None]
    with db.write() as conn:
        stored.mark_outcomes(conn, owner=owner, now=now, sent=sent, failed=failed)


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
    "Attempt",
    "DispatchReport",
    "backoff",
    "claim",
    "counts",
    "deliver",
    "dispatch",
    "drop_stale",
    "mail_of",
    "retry_failed",
    "worker_id",
]
