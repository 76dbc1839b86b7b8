"""One exception tree for all of Shēma; the CLI maps each branch to an exit code.

Every error is data: a stable `code` (``advance.needs_role``, ``limit.length``) and its
`params` (project, action, actor, stage, items, field, limit …). The `message` is the
plain English sentence for logs and scripts; it names no front end's flags or pages.
Each edge renders the code in its own words (render/refusals.py: Latvian and English;
the CLI adds its flags from commands/hints.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ShemaError(Exception):
    """Root of every error Shēma raises on purpose."""

    exit_code = 1
    # The code of an error raised without one: the branch of the tree it belongs to.
    default_code = "error"

    def __init__(self, message: str, *, code: str | None = None, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.params: dict[str, Any] = {k: v for k, v in params.items() if v is not None}

    @property
    def context(self) -> dict[str, Any]:
        """The parameters (the older name)."""
        return self.params

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

    default_code = "input.invalid"

    exit_code = 2

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems), count=len(problems))


class SchemeError(InputError):
    """A scheme file is invalid."""


class OrgError(InputError):
    """An organisation file is invalid."""


class UsageError(ShemaError):
    """A command was called with arguments that cannot work."""

    default_code = "usage"

    exit_code = 2


class NotAllowed(ShemaError):
    """The rules refuse the action for this person, project or stage."""

    default_code = "refused"


class NotVisible(NotAllowed):
    """The person may not see the project at all; the web answers as if it did not exist."""

    default_code = "project.not_visible"


class Conflict(ShemaError):
    """The project changed since the caller looked (stale version), or a uniqueness clash."""

    default_code = "conflict"


class NotFound(ShemaError):
    """A project, person, unit, stage or action does not exist."""

    default_code = "not_found"


class EnvironmentProblem(ShemaError):
    """The database is unreachable or not initialised, or mail is misconfigured."""

    default_code = "environment"

    exit_code = 3


def invalid_fields(what: str, errors: list[Any], code: str) -> UsageError:
    """A refusal of `what` (a risk, an idea) for pydantic's `errors()`: the English message
    names every problem; `fields` lists the fields concerned, for an edge to name."""
    problems, fields = [], []
    for e in errors:
        where = ".".join(str(p) for p in e["loc"]) or what
        problems.append(f"{where}: {e['msg'][:1].lower()}{e['msg'][1:]}")
        fields.append(str(e["loc"][0]) if e["loc"] else what)
    return UsageError(
        f"invalid {what}: " + "; ".join(problems),
        code=code,
        fields=list(dict.fromkeys(fields)),
        problems=problems,
    )
