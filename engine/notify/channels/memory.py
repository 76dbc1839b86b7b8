"""A channel that keeps what it is given, in memory: for tests and dry runs."""

from __future__ import annotations

from engine.notify.channels import DeliveryError, Mail


class MemoryChannel:
    """Keeps every delivered Mail in `sent`, in order. With `refuse` set, `send` raises
    DeliveryError instead (permanent when `refuse` is "permanent")."""

    name = "memory"

    def __init__(self, *, refuse: str | None = None) -> None:
        self.sent: list[Mail] = []
        self.refuse = refuse

    def send(self, mail: Mail) -> None:
        if self.refuse is not None:
            raise DeliveryError(
                f"the memory channel refuses {mail.key}",
                code="delivery.refused",
                permanent=self.refuse == "permanent",
                key=mail.key,
            )
        self.sent.append(mail)

    @property
    def keys(self) -> list[str]:
        """The keys of what was delivered, in order."""
        return [m.key for m in self.sent]
