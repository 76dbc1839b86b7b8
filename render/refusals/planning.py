"""Refusals of the planning tools: the risk register and the cost-benefit analysis."""

ENTRIES: dict[str, tuple[str, str]] = {
    "risk.invalid": (
        "Riska ierakstā nederīgi lauki: {fields}. Pārbaudiet tos un mēģiniet vēlreiz.",
        "The risk has invalid fields: {problems}.",
    ),
    "risk.owner_not_eligible": (
        "{owner} nevar būt projekta {project} riska atbildīgais: neviena no viņa lomām "
        "neaptver struktūrvienību {unit}.",
        "{owner} cannot own a risk of {project}: none of their roles covers unit {unit}.",
    ),
    "risk.owner_unknown": (
        "Organizācijā nav personas {owner}, ko norādīt kā riska īpašnieku.",
        "There is no person {owner} in the organisation to own the risk.",
    ),
    "risk.unknown_field": (
        "Riskam nav lauka {fields}.",
        "A risk has no field {fields}.",
    ),
    "risk.nothing_to_change": (
        "Norādiet, ko riskā R{number} mainīt.",
        "Say what to change in risk R{number}.",
    ),
    "risk.unknown": (
        "Projektam {project} nav riska R{number}.",
        "{project} has no risk R{number}.",
    ),
    "risk.unchanged": (
        "Projekta {project} risks R{number} jau ir tieši tāds; nekas netika mainīts.",
        "Risk R{number} of {project} already is like that; nothing changed.",
    ),
    "risk.bad_number": (
        "„{value}” nav riska numurs (piemēram, R2 vai 2).",
        "“{value}” is not a risk number (e.g. R2 or 2).",
    ),
    "cba.amount_not_cents": (
        "{year}. gada summa {value} nav izteikta veselos centos.",
        "Year {year} {field}: {value} is not an amount in whole cents.",
    ),
    "cba.amount_too_large": (
        "{year}. gada summa {value} ir pārāk liela (tai jābūt mazākai par triljonu).",
        "Year {year} {field}: {value} is too large (it must be under a trillion).",
    ),
    "cba.too_many_years": (
        "Izmaksu un ieguvumu analīze aptver ne vairāk kā {limit} gadus.",
        "A cost-benefit analysis covers at most {limit} years.",
    ),
    "cba.invalid": (
        "Izmaksu un ieguvumu analīze nav derīga: {reason}.",
        "The cost-benefit analysis is invalid: {reason}.",
    ),
    "cba.file_empty": (
        "Izmaksu un ieguvumu fails ir tukšs.",
        "The cost-benefit file is empty.",
    ),
    "cba.file_header": (
        "Izmaksu un ieguvumu failam vajag virsrakstu rindu ar kolonnām gads, izmaksas un "
        "ieguvumi (atrastas: {header}).",
        "The cost-benefit file needs a header with year, cost and benefit (found: {header}).",
    ),
    "cba.file_line": (
        "Izmaksu un ieguvumu faila {line}. rindā ({row}) nav gada, izmaksu un ieguvumu.",
        "Line {line} of the cost-benefit file ({row}) is not a year, a cost and a benefit.",
    ),
    "cba.bad_year_flow": (
        "„{year} {cost} {benefit}” nav gads, izmaksas un ieguvumi.",
        "“{year} {cost} {benefit}” is not a year, a cost and a benefit.",
    ),
    "cba.no_flows": (
        "Norādiet katra gada izmaksas un ieguvumus.",
        "Give the costs and benefits of each year.",
    ),
    "cba.bad_rate": (
        "Diskonta likme „{value}” nav procentu skaitlis.",
        "The discount rate “{value}” is not a percentage.",
    ),
    "cba.missing": (
        "Projektam {project} nav izmaksu un ieguvumu analīzes.",
        "{project} has no cost-benefit analysis.",
    ),
}
