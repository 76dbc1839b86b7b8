"""Human-facing labels: a plain string or a Latvian/English pair."""

from __future__ import annotations

import unicodedata

from pydantic import BaseModel, ConfigDict

LANGUAGES = ("lv", "en")


class Bilingual(BaseModel):
    """A label in Latvian and, optionally, English."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lv: str
    en: str | None = None


Label = str | Bilingual


def text(label: Label | None, lang: str = "lv", default: str = "") -> str:
    """The label in `lang`, falling back to the other language, then to `default`."""
    if label is None:
        return default
    if isinstance(label, str):
        return label
    if lang == "en":
        return label.en or label.lv
    return label.lv or label.en or default


def folded(value: str) -> str:
    """`value` for matching: lower case, without diacritics ("Ķegums" → "kegums")."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))
