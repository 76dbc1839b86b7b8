"""What the CLI adds to a refusal: the flag or command that answers it, by error code.

The engine's sentence names the thing ("a comment"); the CLI says how to give it. Each
hint is appended to the error's message as written (so it starts with its separator).
"""

HINTS: dict[str, str] = {
    "environment.no_org": ": run `shema org load FILE`",
    "environment.no_scheme": ": run `shema scheme load FILE`",
    "report.soon_days": " (--soon N)",
}
