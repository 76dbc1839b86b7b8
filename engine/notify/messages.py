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


_SOFTENED = (
    ("ln", "ļņ"),
    ("sn", "šņ"),
    ("zn", "žņ"),
    ("sl", "šļ"),
    ("zl", "žļ"),
    ("dz", "dž"),
    ("n", "ņ"),
    ("l", "ļ"),
    ("s", "š"),
    ("z", "ž"),
    ("t", "š"),
    ("d", "ž"),
    ("c", "č"),
)


def _soften(stem: str) -> str:
    """The consonant change of the 2nd and 5th/6th declensions (Jānis → Jāņa)."""
    for plain, soft in _SOFTENED:
        if stem.endswith(plain):
            return stem[: -len(plain)] + soft
    return stem


def lv_case(name: str, case: str) -> str:
    """A person's name in the Latvian genitive ("gen": Jāņa Ozola) or accusative ("acc":
    Jāni Ozolu), word by word by its ending; a word of no known pattern stays as it is."""
    return " ".join(_word_case(word, case) for word in name.split(" "))


def _word_case(word: str, case: str) -> str:
    gen = case == "gen"
    if word.endswith("is") and len(word) > 3:
        stem = word[:-2]
        return (_soften(stem) if not stem.endswith("r") else stem) + "a" if gen else stem + "i"
    if word.endswith("us") and len(word) > 3:
        return word if gen else word[:-2] + "u"
    if word.endswith(("s", "š")) and len(word) > 2:
        return word[:-1] + ("a" if gen else "u")
    if word.endswith("a") and len(word) > 2:
        return word + "s" if gen else word[:-1] + "u"
    if word.endswith("e") and len(word) > 2:
        return word + "s" if gen else word[:-1] + "i"
    return word


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
