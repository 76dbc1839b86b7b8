"""One exception tree for all of Shēma; the CLI maps each branch to an exit code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ShemaError(Exception):
    """Root of every error Shēma raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = {k: v for k, v in context.items() if v is not None}

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Problem:
    """One located problem in an input file."""

    file: str
    line: int
    column: int
    path: str
    message: str
    severity: str = field(default="error")

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        prefix = "warning: " if self.severity == "warning" else ""
        return (
            f"{where}: {self.path}: {prefix}{self.message}"
            if self.path
            else (f"{where}: {prefix}{self.message}")
        )


class InputError(ShemaError):
    """A scheme or organisation file is invalid; carries every problem found."""

    exit_code = 2

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class SchemeError(InputError):
    """A scheme file is invalid."""


class OrgError(InputError):
    """An organisation file is invalid."""


class UsageError(ShemaError):
    """A command was called with arguments that cannot work."""

    exit_code = 2


class NotAllowed(ShemaError):
    """The rules refuse the action for this person, project or stage."""


class NotVisible(NotAllowed):
    """The person may not see the project at all; the web answers as if it did not exist."""


class Conflict(ShemaError):
    """The project changed since the caller looked (stale version), or a uniqueness clash."""


class NotFound(ShemaError):
    """A project, person, unit, stage or action does not exist."""


class EnvironmentProblem(ShemaError):
    """The database is unreachable or not initialised, or mail is misconfigured."""

    exit_code = 3
