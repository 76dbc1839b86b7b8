"""Rendering notifications from Jinja2 templates in the recipient's language."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import Environment


@cache
def _environment() -> Environment:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("engine", "templates"),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # plain-text e-mail
    )
    env.filters["lv_plural"] = lv_plural
    return env


def lv_plural(n: int, one: str, other: str, zero: str | None = None) -> str:
    """`n` in the Latvian form its number needs (CLDR: 1, 21, 31 … take `one`; 0, 10–20,
    30 … may take `zero`, which reads like `other` unless given); `%d` becomes `n`."""
    from babel import Locale

    form = Locale("lv").plural_form(abs(n))
    chosen = one if form == "one" else zero if form == "zero" and zero else other
    return chosen.replace("%d", str(n))


def render(kind: str, lang: str, context: dict[str, Any]) -> tuple[str, str]:
    """Subject and body of a message of `kind` (reminder, overdue, escalation, handoff,
    notify) in `lang` (lv or en)."""
    lang = lang if lang in ("lv", "en") else "lv"
    text = _environment().get_template(f"{lang}/{kind}.txt").render(**context)
    head, _, body = text.partition("\n\n")
    subject = head.removeprefix("Subject: ").strip()
    return subject, body.strip() + "\n"
