"""Refusals of the reports and exports: the portfolio, CSV files and the calendar."""

ENTRIES: dict[str, tuple[str, str]] = {
    "report.no_role": (
        "{actor} nevar skatīt portfeli: nav piešķirta neviena loma",
        "{actor} may not see the portfolio: they hold no role",
    ),
    "report.soon_days": (
        "darba dienu skaitam, ko uzskatīt par “drīz”, jābūt 0 vai lielākam",
        "the number of working days for 'due soon' must be 0 or more",
    ),
    "report.csv_delimiter": (
        "CSV atdalītājs ir viena rakstzīme, piemēram, ',' vai ';', nevis '{delimiter}'",
        "a CSV delimiter is one character such as ',' or ';', not '{delimiter}'",
    ),
    "calendar.person_and_unit": (
        "norādiet vai nu personu, vai struktūrvienību, ne abas",
        "give a person or a unit, not both",
    ),
}
