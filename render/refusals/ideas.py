"""Refusals of the ideas notebook: reading, adding, editing and promoting ideas."""

ENTRIES: dict[str, tuple[str, str]] = {
    "idea.invalid": (
        "Idejas ierakstā nederīgi lauki: {fields}. Pārbaudiet tos un mēģiniet vēlreiz.",
        "The idea has invalid fields: {problems}.",
    ),
    "idea.bad_ref": (
        "“{ref}” nav idejas numurs (piemēram, 12).",
        "“{ref}” is not an idea number (e.g. 12).",
    ),
    "idea.unknown": (
        "Idejas #{idea} nav.",
        "There is no idea #{idea}.",
    ),
    "idea.unknown_status": (
        "Idejas statusa “{status}” nav (iespējamie: {known}).",
        "There is no idea status “{status}” (one of {known}).",
    ),
    "idea.unknown_priority": (
        "Prioritātes “{priority}” nav (iespējamās: {known}).",
        "There is no priority “{priority}” (one of {known}).",
    ),
    "idea.unknown_unit": (
        "Struktūrvienības “{unit}” nav.",
        "There is no unit “{unit}”.",
    ),
    "idea.unknown_proposer": (
        "Organizācijā nav personas “{actor}”.",
        "There is no person “{actor}” in the organisation.",
    ),
    "idea.unknown_instrument": (
        "Nezināms finansējuma instruments: {instruments} (zināmie: {known}; citus var "
        "pievienot organizācijas faila sadaļā funding_instruments).",
        "Unknown funding instrument {instruments} (known: {known}; add others under "
        "funding_instruments in the organisation file).",
    ),
    "idea.unknown_promoted_instrument": (
        "Nezināms finansējuma instruments “{instrument}”.",
        "Unknown funding instrument “{instrument}”.",
    ),
    "idea.created_promoted": (
        "Ideja kļūst par projektu tikai tad, kad to pārvērš projektā; jaunu ideju nevar "
        "uzreiz atzīmēt kā projektā pārvērstu.",
        "An idea becomes promoted only by promoting it into a project; a new idea cannot "
        "start as promoted.",
    ),
    "idea.may_not_add": (
        "{actor} nevar pievienot ideju struktūrvienībai {unit}: neviena no viņa lomām "
        "neattiecas uz šo struktūrvienību.",
        "{actor} may not add an idea for {unit}: none of their roles covers unit {unit}.",
    ),
    "idea.may_not_edit": (
        "{actor} nevar labot ideju #{idea}: neviena no viņa lomām neattiecas uz "
        "struktūrvienību {unit}.",
        "{actor} may not edit idea #{idea}: none of their roles covers unit {unit}.",
    ),
    "idea.may_not_move": (
        "{actor} nevar pārcelt ideju #{idea} uz struktūrvienību {unit}: neviena no viņa "
        "lomām neattiecas uz to.",
        "{actor} may not move idea #{idea} to {unit}: none of their roles covers unit {unit}.",
    ),
    "idea.may_not_promote": (
        "{actor} nevar pārvērst ideju #{idea} projektā: neviena no viņa lomām neattiecas "
        "uz struktūrvienību {unit}.",
        "{actor} may not promote idea #{idea}: none of their roles covers unit {unit}.",
    ),
    "idea.unknown_field": (
        "Idejai nav lauka: {fields}.",
        "An idea has no field {fields}.",
    ),
    "idea.nothing_to_change": (
        "Norādiet, ko mainīt.",
        "Say what to change.",
    ),
    "idea.stale": (
        "Ideja #{idea} ir mainīta, kamēr to skatījāties: tā ir versijā {version}, bet "
        "gaidījāt versiju {expected}.",
        "Idea #{idea} changed since you looked: it is at version {version}, you expected "
        "{expected}.",
    ),
    "idea.raced": (
        "Ideju #{idea} tikmēr mainīja kāds cits; apskatiet to vēlreiz un mēģiniet vēl.",
        "Idea #{idea} was changed by someone else meanwhile; look again and retry.",
    ),
    "idea.promoted": (
        "{actor} nevar labot ideju #{idea}: tā ir pārvērsta projektā {project}; mainiet projektu.",
        "{actor} may not edit idea #{idea}: it was promoted into {project}; change the "
        "project instead.",
    ),
    "idea.promoted_unlinked": (
        "{actor} nevar labot ideju #{idea}: tā ir pārvērsta projektā; mainiet projektu.",
        "{actor} may not edit idea #{idea}: it was promoted into a project; change the "
        "project instead.",
    ),
    "idea.status_promoted": (
        "{actor} nevar labot ideju #{idea}: par projektu ideja kļūst, tikai pārvēršot to projektā.",
        "{actor} may not edit idea #{idea}: an idea becomes promoted only by promoting it "
        "into a project.",
    ),
    "idea.unchanged": (
        "Ideja #{idea} jau ir tāda; nekas netika mainīts.",
        "Idea #{idea} already is like that; nothing changed.",
    ),
    "idea.not_promotable": (
        "{actor} nevar pārvērst ideju #{idea} projektā: tās statuss ir “{status}”.",
        "{actor} may not promote idea #{idea}: it is {status}.",
    ),
    "idea.promoted_into": (
        "{actor} nevar pārvērst ideju #{idea} projektā: tā jau ir pārvērsta projektā {project}.",
        "{actor} may not promote idea #{idea}: it is already promoted into {project}.",
    ),
}
