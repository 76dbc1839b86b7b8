"""Refusals of `audit verify` and `audit anchor`: an anchor that cannot be read."""

ENTRIES: dict[str, tuple[str, str]] = {
    "audit.not_an_anchor": (
        "{source} nav audita enkura fails: {problem}",
        "{source} is not an audit anchor: {problem}",
    ),
    "audit.not_a_digest": (
        "„{digest}” nav enkura kontrolsumma: tai jābūt 64 heksadecimālām zīmēm",
        "'{digest}' is not an anchor digest (64 hexadecimal digits)",
    ),
}
