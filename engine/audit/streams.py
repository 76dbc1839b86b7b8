"""Handing out the audit's streamed rows (storage.audit, in project order) one project at
a time (`Rows`), so each project is checked with its own rows only."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, Protocol, TypeVar

from storage.audit import STREAM_BATCH

__all__ = ["STREAM_BATCH", "OfProject", "Rows"]


class OfProject(Protocol):
    """A row that belongs to one project."""

    @property
    def project_id(self) -> int: ...


R = TypeVar("R", bound=OfProject)


class Rows(Generic[R]):
    """Rows of one table in project order, handed out one project at a time."""

    def __init__(self, rows: Iterable[R]) -> None:
        self._it = iter(rows)
        self._next = next(self._it, None)

    def take(self, pid: int) -> list[R]:
        """The rows of project `pid`, skipping those of projects before it (which have no
        project row); call it with increasing ids."""
        out = []
        while self._next is not None and self._next.project_id <= pid:
            if self._next.project_id == pid:
                out.append(self._next)
            self._next = next(self._it, None)
        return out
