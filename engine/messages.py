"""Rendering notifications from Jinja2 templates in the recipient's language."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import Environment


@cache
def _environment() -> Environment:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(
        loader=PackageLoader("engine", "templates"),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # plain-text e-mail
    )


def render(kind: str, lang: str, context: dict[str, Any]) -> tuple[str, str]:
    """Subject and body of a message of `kind` (reminder, overdue, escalation, handoff,
    notify) in `lang` (lv or en)."""
    lang = lang if lang in ("lv", "en") else "lv"
    text = _environment().get_template(f"{lang}/{kind}.txt").render(**context)
    head, _, body = text.partition("\n\n")
    subject = head.removeprefix("Subject: ").strip()
    return subject, body.strip() + "\n"
