"""Refusals of every domain: the branches of the error tree raised without a code."""

ENTRIES: dict[str, tuple[str, str]] = {}
