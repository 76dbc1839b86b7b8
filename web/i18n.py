"""The interface's own words in Latvian and English (scheme labels come from the scheme);
the messages live in the gettext catalogues of render/catalogue.py."""

from __future__ import annotations

from render.catalogue import Words
from render.catalogue import words as _words
from workflow.labels import LANGUAGES

LANGS = LANGUAGES  # the languages of the interface: those of the labels


def words(lang: str) -> Words:
    """Every word in `lang` (Latvian unless `lang` is "en")."""
    return _words(lang)
