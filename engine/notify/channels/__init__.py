"""Notification channels: where outbox messages go.

The contract (`Channel`): `send(mail)` delivers one message to one person, or raises
`DeliveryError`, and nothing else on purpose.

- It never touches the database: the outbox (engine/notify/outbox.py) claims the rows,
  calls `send` outside any transaction and records the outcomes.
- It is idempotent per `mail.key`: the outbox sends again after a crash between the
  delivery and its record, so the same key must give the same message (the same
  Message-ID, the same file) and a repeat must do no harm.
- `DeliveryError(permanent=False)` means "not now": the row is retried with backoff.
  `DeliveryError(permanent=True)` means "never": the message cannot be built, or the
  receiving side refuses it for good; the row fails at once with the reason.
- Any other exception is a bug in the channel: the row fails at once and the rest of
  the batch goes on.
- It reads no clock: the time it may stamp on the message is `mail.date`, given by the
  dispatch pass.

Batches (`batch()`, optional): the outbox sends the rows it claimed together through one
`Batch` per channel, so a channel can reuse what the messages share (SMTP: one
connection and one login; the folder: one fsync of the directory). A batch's `send`
keeps the contract above, message by message, and adds:

- A message counts as delivered only once `close()` has returned: `close` finishes the
  batch (SMTP: QUIT; the folder: the directory's fsync) and the outbox records the
  outcomes after it, in one transaction. `close` is called exactly once, also after
  failures; it raises `DeliveryError` (never permanent) only when it cannot confirm
  what the batch delivered, and the outbox then retries those rows (a repeat is
  harmless, see above).
- A batch may give up early: after a failure it cannot repair (SMTP: the server cannot
  be reached again), `send` raises a transient `DeliveryError` for the rest of the
  batch without trying them, so they are retried with backoff like any other.

A channel without `batch()` is used one message at a time (`open_batch`).

Channels: SMTP and a folder of `.eml` files (engine/notify/channels/email.py), and an
in-memory channel for tests (engine/notify/channels/memory.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from workflow.errors import ShemaError


class DeliveryError(ShemaError):
    """A message could not be delivered: this time (it will be retried), or — when
    `permanent` — ever (it cannot be built, or the server refuses it for good)."""

    default_code = "delivery.failed"

    def __init__(
        self, message: str, *, permanent: bool = False, code: str | None = None, **params: Any
    ) -> None:
        super().__init__(message, code=code, **params)
        self.permanent = permanent


@dataclass(frozen=True)
class Mail:
    """One message to one person; `date` is when it is sent (the dispatch pass's `now`)."""

    key: str  # the outbox idempotency key
    to_name: str
    to_address: str | None
    subject: str
    body: str
    sender: str
    date: dt.datetime | None = None

    @property
    def message_id(self) -> str:
        """The same key always gives the same Message-ID, so a resend after a crash is
        recognised by mail systems as a duplicate."""
        digest = hashlib.sha256(self.key.encode()).hexdigest()[:32]
        domain = self.sender.rsplit("@", 1)[-1].strip(">") or "shema.invalid"
        return f"<{digest}@{domain}>"


class Channel(Protocol):
    """Something that delivers Mail (see the module's docstring for the contract)."""

    name: str

    def send(self, mail: Mail) -> None:
        """Deliver `mail` or raise DeliveryError (permanent when retrying cannot help)."""
        ...


class Batch(Protocol):
    """Messages sent together through one channel (see the module's docstring)."""

    def send(self, mail: Mail) -> None:
        """Deliver `mail` or raise DeliveryError, as `Channel.send`."""
        ...

    def close(self) -> None:
        """Finish the batch; raise DeliveryError if what it delivered is not confirmed."""
        ...


@runtime_checkable
class BatchingChannel(Channel, Protocol):
    """A channel that can send several messages as one batch."""

    def batch(self) -> Batch:
        """A new batch: nothing is opened until its first `send`."""
        ...


class OneByOne:
    """The batch of a channel that has none: each message through `channel.send`."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    def send(self, mail: Mail) -> None:
        self.channel.send(mail)

    def close(self) -> None:
        """Nothing to finish: each `send` was complete."""


def open_batch(channel: Channel) -> Batch:
    """The channel's own batch when it has one, else one message at a time."""
    if isinstance(channel, BatchingChannel):
        return channel.batch()
    return OneByOne(channel)


__all__ = [
    "Batch",
    "BatchingChannel",
    "Channel",
    "DeliveryError",
    "Mail",
    "OneByOne",
    "open_batch",
]
