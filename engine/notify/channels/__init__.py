"""Notification channels: where outbox messages go.

The contract (`Channel`): `send(mail)` delivers one message to one person, or raises
`DeliveryError`, and nothing else on purpose.

- It never touches the database: the outbox (engine/notify/outbox.py) claims the row,
  calls `send` outside any transaction and records the outcome.
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

Channels: SMTP and a folder of `.eml` files (engine/notify/channels/email.py), and an
in-memory channel for tests (engine/notify/channels/memory.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, Protocol

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


__all__ = ["Channel", "DeliveryError", "Mail"]
