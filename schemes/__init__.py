"""Shipped data: the unified scheme, the Ogres novads organisation, the JSON Schema."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable


def shipped(name: str) -> Traversable:
    """A file shipped in this package (works from a checkout and from an installed wheel)."""
    return files(__name__).joinpath(name)
