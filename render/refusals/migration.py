"""Refusals of moving running projects to another version of their scheme
(engine/migration.py)."""

ENTRIES: dict[str, tuple[str, str]] = {
    "migration.map_file_unreadable": (
        "Posmu kartes failu {file} nevar nolasīt: tam jābūt UTF-8 tekstam līdz 100 000 baitiem.",
        "The stage map file {file} cannot be read: it must be UTF-8 text of at most 100,000 bytes.",
    ),
    "migration.finished": (
        "Projekts {project} ir pabeigts (posms {stage}); tas paliek savā versijā.",
        "{project} is finished (stage {stage}); it stays on its version.",
    ),
    "migration.not_coordinator": (
        "Projektus uz citu shēmas versiju var pārcelt tikai koordinatori.",
        "Only coordinators may move projects to another version of the scheme.",
    ),
    "migration.choose_projects": (
        "Norādiet vai nu projektu kodus, vai versiju, no kuras pārcelt, — ne abus, ne neko.",
        "Give either project codes or the version to migrate from — not both, not neither.",
    ),
    "migration.no_version": (
        "Shēmai {scheme} nav versijas {version}.",
        "Scheme {scheme} has no version {version}.",
    ),
    "migration.bad_map": (
        "Posmu atbilstībā minētā posma „{stage}” versijā {version} nav.",
        "The stage map names stage {stage}, which version {version} does not have.",
    ),
    "migration.bad_map_entry": (
        "Posmu atbilstības ieraksts „{entry}”: gaidīts VECAIS=JAUNAIS.",
        "The stage map entry “{entry}”: expected OLD=NEW.",
    ),
    "migration.no_version_number": (
        "Versija jānorāda ar tās numuru.",
        "Give the version as its number.",
    ),
    "migration.unmapped_stage": (
        "Projektu {project} nevar pārcelt uz versiju {version}: posmam {stage} tajā nav "
        "atbilstoša posma; norādiet to posmu atbilstībā.",
        "{project} cannot move to version {version}: it has no stage for {stage}; give one "
        "in the stage map.",
    ),
    "migration.target_terminal": (
        "Projektu {project} nevar pārcelt uz versiju {version}: posms {target} tajā ir noslēdzošs.",
        "{project} cannot move to version {version}: stage {target} is terminal there.",
    ),
    "migration.handoff_sides": (
        "Projektu {project} nevar pārcelt uz versiju {version}: tā nodošana gaida pieņemšanu "
        "pusē {sent_to}, bet posms {target} tajā pieder pusei {side}.",
        "{project} cannot move to version {version}: its handoff waits on the {sent_to} "
        "side, but stage {target} belongs to the {side} side there.",
    ),
    "migration.already_current": (
        "Projekts {project} jau seko versijai {version}; nekas netika mainīts.",
        "{project} already follows version {version}; nothing changed.",
    ),
}
