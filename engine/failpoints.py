"""Named fail points for crash tests: with `SHEMA_FAILPOINTS=name[,name…]` the process
dies (SIGKILL, no clean-up, as a power cut would) when it reaches one of them.

The edge that starts the process passes the names to `enable` (cli.py and web/asgi.py,
from their `engine.config.Config`); the engine never reads the environment. A fail point
costs a set lookup."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable

_active: set[str] = set()


def enable(names: Iterable[str]) -> None:
    """Arm exactly the fail points `names` (an empty iterable disarms them all)."""
    _active.clear()
    _active.update(n for n in names if n)


def failpoint(name: str) -> None:
    """Kill this process here if `name` is enabled."""
    if name in _active:
        os.kill(os.getpid(), signal.SIGKILL)
