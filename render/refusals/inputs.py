"""Bounds and domains of inputs (workflow/limits.py, workflow/domains.py)."""

ENTRIES: dict[str, tuple[str, str]] = {}
