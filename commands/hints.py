"""What the CLI adds to a refusal: the flag or command that answers it, by error code.

The engine's sentence names the thing ("a comment"); the CLI says how to give it. Each
hint is appended to the error's message as written (so it starts with its separator).
"""

HINTS: dict[str, str] = {
    "actor.missing": ": --as PERSON (or SHEMA_USER)",
    "environment.no_database": ": run `shema init` (or set SHEMA_DB / --db)",
    "load.actor_missing": ": --as PERSON (a coordinator)",
    "project.handoff_pending": " (`shema project ack`)",
    "advance.comment_required": " (--comment TEXT)",
    "advance.gates": (
        " (the risk register: `shema project risk add`; the cost-benefit analysis: "
        "`shema project cba set`)"
    ),
    "hold.no_reason": " (--reason TEXT)",
    "force.no_reason": " (--reason TEXT)",
    "idea.nothing_to_change": " (e.g. --status agreed)",
    "environment.no_org": ": run `shema org load FILE`",
    "environment.no_scheme": ": run `shema scheme load FILE`",
    "report.soon_days": " (--soon N)",
    "audit.not_an_anchor": " (anchors are written by `shema audit anchor -o FILE`)",
    "risk.nothing_to_change": " (e.g. --likelihood 3 --impact 4)",
}
