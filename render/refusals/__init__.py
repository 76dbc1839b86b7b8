"""Refusals and validation errors in a person's language.

An error carries a stable code and its parameters (workflow/errors.py); the catalogue
here holds one Latvian and one English sentence per code, written with the parameters'
names (``{project}``, ``{action}``). Each domain keeps its sentences in its own module.
A code without an entry, or an entry whose parameters the error lacks, falls back to the
error's own English message, so a person always reads something true.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Callable, Iterable
from typing import Any

from babel.numbers import format_decimal

from render.refusals import (
    absence,
    admin,
    audit,
    clocks,
    details,
    diff,
    financing,
    general,
    ideas,
    inputs,
    migration,
    notify,
    planning,
    projects,
    reports,
)
from workflow.errors import ShemaError
from workflow.labels import LANGUAGES

_DOMAINS = (
    general,
    inputs,
    projects,
    ideas,
    planning,
    reports,
    notify,
    audit,
    admin,
    details,
    diff,
    migration,
    absence,
    financing,
    clocks,
)
CATALOGUE: dict[str, tuple[str, str]] = {
    code: entry for domain in _DOMAINS for code, entry in domain.ENTRIES.items()
}
LOCALES = {"lv": "lv_LV", "en": "en_GB"}
# Parameters that name a person: an edge may show their names instead of their ids.
PERSON_PARAMS = frozenset({"actor", "person", "holder", "owner", "by"})


def _shown(value: Any, lang: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return format_decimal(value, locale=LOCALES[lang])
    if isinstance(value, dt.date):
        day = value.date() if isinstance(value, dt.datetime) else value
        return f"{day:%d.%m.%Y}." if lang == "lv" else day.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else list(value)
        return ", ".join(str(v) for v in items) or ("nekas" if lang == "lv" else "none")
    return str(value)


def fields(template: str) -> set[str]:
    """The parameter names a template uses."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def render(
    error: ShemaError,
    lang: str = "lv",
    *,
    name_of: Callable[[str], str] | None = None,
    words: Callable[[str, Any], str | None] | None = None,
) -> str:
    """`error` as one sentence in `lang`. `name_of` turns person ids into names; `words`
    may give an edge's own rendering of a parameter (a stage's title, an action's label)
    and returns None to keep the value as it is."""
    entry = CATALOGUE.get(error.code)
    if entry is None:
        return error.message
    template = entry[0] if lang == "lv" else entry[1]
    params = dict(error.params)
    if not fields(template) <= params.keys():
        return error.message
    shown: dict[str, str] = {}
    for key, value in params.items():
        own = words(key, value) if words is not None else None
        if own is not None:
            shown[key] = own
        elif name_of is not None and key in PERSON_PARAMS and isinstance(value, str):
            shown[key] = name_of(value)
        else:
            shown[key] = _shown(value, lang)
    return template.format(**shown)


def codes() -> Iterable[str]:
    return CATALOGUE.keys()


__all__ = ["CATALOGUE", "LANGUAGES", "fields", "render"]
