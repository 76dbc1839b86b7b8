"""The interface's words: gettext catalogues, one per area, in both languages.

Each language has its folder ``render/locale/<lang>/LC_MESSAGES`` of ``.po`` files, read
with Babel (no compile step: a file is read once per process). A message id is the key a
template or an edge uses (``mine``, ``said_checked``); a plural entry has the Latvian
three forms (Babel's rule for ``lv``: 0, 10-20, 30…; 1, 21…; the rest) and the English
two. A key missing from a language is a defect that tests/test_catalogue.py finds.
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from workflow.labels import LANGUAGES

LOCALE_DIR = Path(__file__).parent / "locale"


class Words(dict[str, str]):
    """The singular messages of one language by key; `n` gives a plural one."""

    def __init__(self, lang: str, singular: dict[str, str], plural: gettext.NullTranslations):
        super().__init__(singular)
        self.lang = lang
        self._plural = plural

    def n(self, key: str, count: int, **params: object) -> str:
        """The plural message `key` for `count`, formatted with `n` and `params`."""
        form = self._plural.ngettext(key, key, count)
        return form.format(n=count, **params)


def read(lang: str) -> list[Catalog]:
    """The catalogues of `lang`, as Babel reads them."""
    out = []
    for path in sorted((LOCALE_DIR / lang / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as fh:
            out.append(read_po(fh, locale=lang, domain=path.stem))
    return out


@lru_cache(maxsize=len(LANGUAGES))
def words(lang: str) -> Words:
    """Every message of `lang` (Latvian unless `lang` is "en")."""
    lang = "en" if lang == "en" else "lv"
    singular: dict[str, str] = {}
    merged = Catalog(locale=lang, domain="shema")
    for catalogue in read(lang):
        for message in catalogue:
            if not message.id:
                continue
            key = message.id if isinstance(message.id, str) else message.id[0]
            if key in singular or key in merged:
                raise ValueError(f"message {key!r} is in more than one {lang} catalogue")
            if isinstance(message.id, str):
                singular[key] = str(message.string)
            merged[message.id] = message
    buffer = io.BytesIO()
    write_mo(buffer, merged)
    buffer.seek(0)
    return Words(lang, singular, gettext.GNUTranslations(buffer))
