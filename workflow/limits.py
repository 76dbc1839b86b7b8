"""Every bound on input in one place, used alike by the CLI, the web and the engine.

Files: scheme and organisation files are far smaller than `FILE_BYTES` (the shipped ones
are 25 KB and 17 KB); their YAML may use a few anchors and aliases but never enough to
expand into a bomb, nests a handful of levels, and parses in milliseconds.
Text fields: a title is a line, a comment a few paragraphs. Request bodies: a form is
small, an uploaded file at most `FILE_BYTES` plus the form around it.

Going past a bound is a refusal (`LimitExceeded`, code ``limit.*``) that names the field
or the place in the file and the limit, never a hang.
"""

from __future__ import annotations

from typing import Final

from workflow.errors import UsageError

FILE_BYTES: Final = 1_000_000
YAML_ALIASES: Final = 100
YAML_DEPTH: Final = 32
# Values built from the file, counting every alias expansion again.
YAML_VALUES: Final = 200_000
PARSE_SECONDS: Final = 10.0

FORM_BYTES: Final = 256 * 1024
UPLOAD_BYTES: Final = FILE_BYTES + 64 * 1024

# Maximum length in characters of each free-text field a person types.
TEXT: Final[dict[str, int]] = {
    "title": 300,
    "comment": 10_000,
    "reason": 2_000,
    "description": 20_000,
    "name": 200,
    "partner": 200,
    "reference": 500,
    "person": 63,
    "password": 1_000,
}


class LimitExceeded(UsageError):
    """An input is larger than its bound (a text field, a file, a request body)."""

    def __init__(self, message: str, *, code: str, field: str, limit: int, size: int) -> None:
        super().__init__(message, code=code, field=field, limit=limit, size=size)


def text(field: str, value: str | None) -> str | None:
    """`value` unchanged when within the length bound of `field`; else LimitExceeded."""
    if value is None:
        return None
    limit = TEXT[field]
    if len(value) > limit:
        raise LimitExceeded(
            f"the {field} is {len(value):,} characters long; at most {limit:,} are allowed",
            code="limit.length",
            field=field,
            limit=limit,
            size=len(value),
        )
    return value


def texts(field: str, values: list[str] | tuple[str, ...]) -> None:
    """Check every value of a repeated field (partners, document references)."""
    for value in values:
        text(field, value)
