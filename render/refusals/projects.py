"""Refusals of project changes: moves, checklists, handoffs, holds, assignments, new
projects, and finding a project, a person or a scheme."""

ENTRIES: dict[str, tuple[str, str]] = {
    "project.unknown": ("Projekts {project} nav atrasts.", "There is no project {project}."),
    "project.not_visible": (
        "{actor} neredz projektu {project}: neviena no viņa lomām neaptver struktūrvienību {unit}.",
        "{actor} may not see project {project}: none of their roles covers unit {unit}.",
    ),
    "project.stale": (
        "Projekts {project} ir mainījies, kopš to atvērāt (tagad versija {version}, "
        "gaidīta {expected}); nekas netika mainīts.",
        "Project {project} changed since you looked (now version {version}, expected "
        "{expected}); nothing was changed.",
    ),
    "project.raced": (
        "Projektu {project} tikko mainīja kāds cits; pārskatiet to un mēģiniet vēlreiz.",
        "Project {project} was changed by someone else meanwhile; look again and retry.",
    ),
    "project.handoff_pending": (
        "Projekta {project} nodošana lomai {owner} vēl nav apstiprināta; vispirms tā jāpieņem.",
        "The handoff of {project} to {owner} is not acknowledged yet; it must be accepted first.",
    ),
    "project.not_stage_worker": (
        "{actor} nevar to darīt projektā {project}: posmā {stage} strādā {needs}, bet "
        "{actor} te darbojas kā {roles}.",
        "{actor} may not do that on {project}: stage {stage} is worked on by {needs}; "
        "{actor} acts there as {roles}.",
    ),
    "advance.unknown_action": (
        "Shēmā nav darbības „{action}” (šeit iespējams: {known}).",
        "{action} is not an action of this scheme (actions here: {known}).",
    ),
    "advance.not_from_stage": (
        "Darbība „{action}” neved prom no posma {stage} (šeit iespējams: {known}).",
        "{action} does not leave stage {stage} (actions here: {known}).",
    ),
    "advance.needs_role": (
        "{actor} nevar veikt „{action}” projektā {project}: vajag lomu {needs} "
        "struktūrvienībā {unit}, bet {actor} te darbojas kā {roles}.",
        "{actor} may not take {action} on {project}: it needs {needs} for unit {unit}; "
        "{actor} acts there as {roles}.",
    ),
    "advance.on_hold": (
        "Projekts {project} ir apturēts kopš {since} ({reason}); vispirms atsāciet to.",
        "Project {project} is on hold since {since} ({reason}); resume it first.",
    ),
    "list.unknown_sort": (
        "Nav kārtošanas veida „{sort}” (var: code, urgency, deadline, stage, unit).",
        "There is no sort order {sort!r} (use code, urgency, deadline, stage or unit).",
    ),
    "project.on_hold": (
        "Projekts {project} ir apturēts kopš {since} ({reason}): kamēr tas apturēts, var "
        "tikai atsākt darbu vai komentēt.",
        "Project {project} is on hold since {since} ({reason}): while it is, it can only be "
        "resumed or commented on.",
    ),
    "advance.unticked": (
        "Darbībai „{action}” vēl nav atzīmēti kontrolsaraksta punkti: {items}.",
        "{action} needs checklist items that are not ticked: {items}.",
    ),
    "advance.gates": (
        "Darbību „{action}” projektā {project} vēl nevar veikt: trūkst novērtēta riska "
        "vai izmaksu un ieguvumu analīzes.",
        "{action} on {project} waits for the project's own data: {gates}.",
    ),
    "advance.comment_required": (
        "Darbībai „{action}” vajag komentāru.",
        "{action} needs a comment.",
    ),
    "ack.nothing_waiting": (
        "Projektā {project} nav nodošanas, ko pieņemt.",
        "No handoff of {project} is waiting.",
    ),
    "ack.not_receiver": (
        "Projekta {project} nodošanu pieņem {owner} struktūrvienībai {unit}.",
        "The handoff of {project} goes to {owner} for unit {unit}.",
    ),
    "check.unknown_item": (
        "Posmā {stage} nav kontrolsaraksta punkta „{item}” (punkti: {items}).",
        "Stage {stage} has no checklist item {item} (items: {items}).",
    ),
    "check.already_ticked": (
        "Punkts „{item}” jau ir atzīmēts.",
        "{item} is already ticked.",
    ),
    "check.not_ticked": ("Punkts „{item}” nav atzīmēts.", "{item} is not ticked."),
    "assign.not_stage_worker": (
        "{person} nestrādā posmā {stage} struktūrvienībai {unit}, tāpēc nevar būt "
        "atbildīgais par {project}.",
        "{person} does not work on stage {stage} for unit {unit}, so cannot be made "
        "responsible for {project}.",
    ),
    "hold.already": (
        "Projekts {project} jau ir apturēts kopš {since}.",
        "Project {project} is already on hold since {since}.",
    ),
    "resume.not_held": ("Projekts {project} nav apturēts.", "Project {project} is not on hold."),
    "force.coordinators_only": (
        "Projektu var pārvietot uz citu posmu tikai koordinators.",
        "Only coordinators may force a project to another stage.",
    ),
    "force.unknown_stage": (
        "Shēmas {scheme} versijā {version} nav posma „{stage}”.",
        "Scheme {scheme} v{version} has no stage {stage}.",
    ),
    "force.already_there": (
        "Projekts {project} jau ir posmā {stage}.",
        "Project {project} is already in stage {stage}.",
    ),
    "comment.empty": ("Komentārā nav teksta.", "A comment needs text."),
    "hold.no_reason": ("Apturēšanai vajag iemeslu.", "A hold needs a reason."),
    "force.no_reason": (
        "Projekta pārvietošanai vajag iemeslu.",
        "Forcing a project needs a reason.",
    ),
    "project.no_title": ("Projektam vajag nosaukumu.", "A project needs a title."),
    "project.currency": (
        "Valūta {currency} nav EUR vai LVL (vēsturiski lati).",
        "The currency {currency} is not EUR or LVL (historical lats).",
    ),
    "project.unknown_instrument": (
        "Nav tāda finansējuma instrumenta: {instrument}.",
        "Unknown funding instrument {instrument}.",
    ),
    "project.may_not_create": (
        "{actor} nevar izveidot projektu struktūrvienībai {unit}: vajag lomu {needs} vai "
        "centrālu lomu, bet {actor} te darbojas kā {roles}.",
        "{actor} may not create a project for {unit}: that needs {needs} there or a "
        "central role; {actor} acts there as {roles}.",
    ),
    "project.unknown_date": (
        "Shēmā {scheme} nav projekta datuma „{date}”.",
        "Scheme {scheme} has no project date {date}.",
    ),
    "unit.unknown": ("Nav struktūrvienības {unit}.", "There is no unit {unit}."),
    "person.unknown": (
        "Organizācijā nav darbinieka {person}.",
        "There is no person {person} in the organisation.",
    ),
    "actor.missing": ("Norādiet, kas jūs esat.", "Say who you are."),
    "actor.account_unmapped": (
        "Konts {account} organizācijas failā nav piesaistīts nevienam darbiniekam.",
        "The account {account} is not mapped to a person in the organisation file.",
    ),
    "actor.account_not_theirs": (
        "Konts {account} pieder {mapped}, kas nevar darboties kā {actor}.",
        "The account {account} belongs to {mapped}, who may not act as {actor}.",
    ),
    "scheme.no_version": (
        "Nav saglabātas shēmas versijas {version}.",
        "There is no stored scheme version {version}.",
    ),
    "scheme.unknown": ("Nav ielādētas shēmas {scheme}.", "No scheme named {scheme} is loaded."),
    "scheme.choose": (
        "Ielādētas vairākas shēmas ({schemes}): izvēlieties, kurai projekts sekos.",
        "Several schemes are loaded ({schemes}): choose the one the project follows.",
    ),
    "verb.unknown": ("Nav tādas darbības ar projektu: {verb}.", "There is no verb {verb}."),
    "web.no_version": (
        "Veidlapa nesaka, no kuras projekta versijas tā veidota; atveriet lapu no jauna.",
        "The form does not say which version of the project it was drawn from; open the "
        "page again.",
    ),
    "web.no_file": ("Izvēlieties augšupielādējamo failu.", "Choose a file to upload."),
    "web.not_utf8": (
        "Fails {file} nav UTF-8 teksts; saglabājiet to kā UTF-8 un mēģiniet vēlreiz.",
        "{file} is not UTF-8 text; save it as UTF-8 and try again.",
    ),
    "web.no_diagram": (
        "Shēmas attēlu nevar uzzīmēt (uz servera nav Graphviz).",
        "The scheme diagram cannot be drawn (Graphviz is missing on the server).",
    ),
    "web.no_form": ("Nav tādas veidlapas: {form}.", "There is no form {form}."),
    "environment.no_org": ("Organizācija nav ielādēta.", "No organisation is loaded."),
    "environment.no_scheme": ("Neviena shēma nav ielādēta.", "No scheme is loaded."),
}
