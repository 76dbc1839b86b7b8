"""The scheme drawn as SVG on the project page, when Graphviz is installed.

Graphviz is an optional system package, so without `dot` the page shows the Mermaid
source instead. Drawings are cached per (scheme version, stage, language)."""

from __future__ import annotations

import re
import shutil
import subprocess

from workflow.diagram import dot
from workflow.scheme import Scheme

_UNSAFE = re.compile(r"<script|\son\w+\s*=|javascript:", re.IGNORECASE)


_cache: dict[tuple[int, str, str], str | None] = {}


def svg(scheme: Scheme, version_id: int, stage: str, lang: str) -> str | None:
    """The scheme as inline SVG with `stage` highlighted, or None when Graphviz is missing,
    fails, or its output holds anything script-like. `version_id` keys the cache."""
    key = (version_id, stage, lang)
    if key not in _cache:
        if len(_cache) > 512:
            _cache.clear()
        _cache[key] = _render(scheme, stage, lang)
    return _cache[key]


def _render(scheme: Scheme, stage: str, lang: str) -> str | None:
    binary = shutil.which("dot")
    if binary is None:
        return None
    try:
        done = subprocess.run(
            [binary, "-Tsvg"],
            input=dot(scheme, lang, highlight=stage),
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    start = done.stdout.find("<svg")
    if start < 0 or _UNSAFE.search(done.stdout):
        return None
    return done.stdout[start:]
