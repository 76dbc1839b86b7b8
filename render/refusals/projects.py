"""Refusals of project changes: moves, checklists, handoffs, holds, assignments."""

ENTRIES: dict[str, tuple[str, str]] = {}
