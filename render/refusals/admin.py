"""Refusals of loading schemes and the organisation, of sign-in accounts, and of the
administration commands (database, audit anchors, the demo, output files)."""

ENTRIES: dict[str, tuple[str, str]] = {
    "load.actor_missing": (
        "Norādiet, kurš koordinators veic ielādi.",
        "Say which coordinator loads {what}.",
    ),
    "load.not_coordinator": (
        "{actor} nevar veikt šo ielādi: to drīkst tikai koordinatori.",
        "{actor} may not load {what}: only coordinators may.",
    ),
    "load.first_org_not_coordinator": (
        "{actor} nevar ielādēt pirmo organizāciju: failā {actor} jābūt norādītam kā koordinatoram.",
        "{actor} may not load the first organisation: the file must name {actor} as a coordinator.",
    ),
    "password.too_short": (
        "Parolē jābūt vismaz {minimum} rakstzīmēm.",
        "A password needs at least {minimum} characters.",
    ),
    "password.not_theirs": (
        "{actor} nevar mainīt {person} paroli: tikai savu (koordinatori var mainīt "
        "ikviena paroli).",
        "{actor} may not set the password of {person}: only their own (coordinators may "
        "set anyone's).",
    ),
    "environment.no_database": (
        "Datubāze {path} nav atrasta.",
        "There is no database at {path}.",
    ),
    "output.unwritable": (
        "Failu {path} nevar ierakstīt: {reason}.",
        "Cannot write {path}: {reason}.",
    ),
    "anchor.too_many": (
        "Norādiet ne vairāk kā vienu enkura failu un vienu enkura kontrolsummu.",
        "Give at most one anchor file and one anchor digest.",
    ),
    "anchor.not_a_digest": (
        "“{value}” nav ne fails, ne 64 heksadecimālu ciparu kontrolsumma.",
        "'{value}' is no file, and not a 64-hex-digit digest.",
    ),
    "anchor.digest_mismatch": (
        "Enkura faila {file} kontrolsumma ir {digest}, nevis {given}: tas nav pierakstītais "
        "enkurs.",
        "The anchor file {file} has digest {digest}, not {given}: it is not the anchor you noted.",
    ),
    "demo.not_a_folder": (
        "{directory} jau pastāv, un tā nav mape.",
        "{directory} exists and is not a folder.",
    ),
    "demo.folder_taken": (
        "Mape {directory} nav tukša, un to neizveidoja demonstrācija; izvēlieties citu mapi.",
        "{directory} is not empty and was not made by the demo; choose another folder.",
    ),
}
