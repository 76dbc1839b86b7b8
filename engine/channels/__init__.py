"""Notification channels: where outbox messages go. Each channel's `send` either
delivers the message or raises DeliveryError; it never touches the database."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol


class DeliveryError(Exception):
    """A message could not be delivered: this time (it will be retried), or — when
    `permanent` — ever (it cannot be built, or the server refuses it for good)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Mail:
    """One message to one person."""

    key: str  # the outbox idempotency key
    to_name: str
    to_address: str | None
    subject: str
    body: str
    sender: str

    @property
    def message_id(self) -> str:
        """The same key always gives the same Message-ID, so a resend after a crash is
        recognised by mail systems as a duplicate."""
        digest = hashlib.sha256(self.key.encode()).hexdigest()[:32]
        domain = self.sender.rsplit("@", 1)[-1].strip(">") or "shema.invalid"
        return f"<{digest}@{domain}>"


class Channel(Protocol):
    """Something that delivers Mail."""

    name: str

    def send(self, mail: Mail) -> None:
        """Deliver `mail` or raise DeliveryError."""
        ...
