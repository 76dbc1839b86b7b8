"""Refusals of recording an outside body's extension of its period (`shema project
extend`)."""

ENTRIES: dict[str, tuple[str, str]] = {
    "clocks.not_running": (
        "Projektā {project} posmā „{stage}” negaida ārējas iestādes lēmumu, tāpēc termiņu "
        "nevar pagarināt.",
        "Project {project} waits on no outside body in stage {stage}, so there is no period "
        "to extend.",
    ),
    "clocks.no_extension": (
        "Ārējās iestādes termiņu posmā „{stage}” pagarināt nevar: shēmā pagarinājums nav "
        "paredzēts.",
        "The outside body's period in stage {stage} cannot be extended: the scheme gives no "
        "extension.",
    ),
    "clocks.already_extended": (
        "Ārējās iestādes termiņš projektā {project} jau ir pagarināts; to var pagarināt tikai "
        "vienreiz.",
        "The outside body's period on {project} was extended already; it can be extended "
        "only once.",
    ),
    "clocks.reason_required": (
        "Norādiet, kāpēc ārējā iestāde pagarināja termiņu projektā {project}.",
        "Say why the outside body extended its period on {project}.",
    ),
}
