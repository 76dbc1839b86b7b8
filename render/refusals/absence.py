"""Refusals of absences and deputies (`shema absence`, the web's /account/absence)."""

ENTRIES: dict[str, tuple[str, str]] = {
    "absence.not_allowed": (
        "{actor} nevar noteikt {person} prombūtni: to var pati persona, tās vienības "
        "vadītājs vai koordinators.",
        "{actor} may not set {person}'s absences: only they, someone who heads their unit, "
        "or a coordinator may.",
    ),
    "absence.ends_before_start": (
        "Prombūtne nevar beigties ({ends_on}) pirms tās sākuma ({starts_on}).",
        "An absence cannot end ({ends_on}) before it starts ({starts_on}).",
    ),
    "absence.too_long": (
        "Prombūtne, kas ilgāka par diviem gadiem ({starts_on}–{ends_on}), netiek pieņemta.",
        "An absence of more than two years ({starts_on} to {ends_on}) is not accepted.",
    ),
    "absence.self_deputy": (
        "{person} nevar būt pats sev aizvietotājs.",
        "{person} cannot be their own deputy.",
    ),
    "absence.overlaps": (
        "{person} jau ir prombūtnē no {starts_on} līdz {ends_on}: vispirms beidziet vai "
        "mainiet to prombūtni.",
        "{person} is already away from {starts_on} to {ends_on}: end or change that absence first.",
    ),
    "absence.bad_date": (
        "Datums jānorāda formā GGGG-MM-DD.",
        "Give the date as YYYY-MM-DD.",
    ),
    "absence.unknown": (
        "Nav atvērtas prombūtnes Nr. {absence}.",
        "There is no open absence {absence}.",
    ),
}
