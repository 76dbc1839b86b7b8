"""Named fail points for crash tests: `SHEMA_FAILPOINTS=name[,name…]` makes the process
die (SIGKILL, no clean-up, as a power cut would) when it reaches one of them. Without the
variable, a fail point costs one dictionary lookup."""

from __future__ import annotations

import os
import signal

_ACTIVE = frozenset(filter(None, os.environ.get("SHEMA_FAILPOINTS", "").split(",")))


def failpoint(name: str) -> None:
    """Kill this process here if `name` is enabled."""
    if name in _ACTIVE:
        os.kill(os.getpid(), signal.SIGKILL)
