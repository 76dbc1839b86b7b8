"""Refusals of editing a project's details and of the task pages' own forms (a risk's
rating, one's own password)."""

ENTRIES: dict[str, tuple[str, str]] = {
    "details.unknown_field": (
        "Projekta datiem nav lauka {fields}.",
        "Project details have no field {fields}.",
    ),
    "details.nothing_to_change": (
        "Norādiet, kurus projekta datus mainīt.",
        "Say which project details to change.",
    ),
    "details.bad_date": (
        "Projekta datums „{date}”: „{value}” nav datums (GGGG-MM-DD).",
        "The project date {date}: “{value}” is not a date (YYYY-MM-DD).",
    ),
    "details.unchanged": (
        "Projekta {project} dati jau ir tieši tādi; nekas netika mainīts.",
        "The details of {project} already are like that; nothing changed.",
    ),
    "risk.bad_rating": (
        "Lauka „{field}” vērtība „{value}” nav skaitlis no 1 līdz 5.",
        "The {field} “{value}” is not a number from 1 to 5.",
    ),
    "account.wrong_password": (
        "Pašreizējā parole nav pareiza; parole netika mainīta.",
        "The current password is not right; the password was not changed.",
    ),
    "account.mismatch": (
        "Abas jaunās paroles nesakrīt; parole netika mainīta.",
        "The two new passwords differ; the password was not changed.",
    ),
}
