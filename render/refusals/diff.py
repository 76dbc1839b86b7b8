"""Refusals of comparing schemes (`shema scheme diff`, the coordinator page)."""

ENTRIES: dict[str, tuple[str, str]] = {
    "diff.no_version": (
        "Shēmai {scheme} nav saglabātas {version}. versijas.",
        "Scheme {scheme} has no stored version {version}.",
    ),
}
