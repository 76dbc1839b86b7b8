"""Refusals of the financing plan and its payment requests."""

ENTRIES: dict[str, tuple[str, str]] = {
    "financing.nothing": (
        "Norādiet, ko finansēšanas plānā mainīt.",
        "Say what to change in the financing plan.",
    ),
    "financing.currency": (
        "Finansēšanas plāns ir eiro (vēsturiskiem plāniem — latos), nevis {currency}.",
        "A financing plan is in EUR (or historical LVL), not {currency}.",
    ),
    "financing.unknown_source": (
        "„{source}” nav finansējuma avots; iespējamie: {known}.",
        "“{source}” is not a financing source; the sources are {known}.",
    ),
    "financing.sources_mismatch": (
        "Finansējuma avotu summa {sources} nesakrīt ar kopējām izmaksām {total} "
        "(attiecināmās un neattiecināmās kopā): starpība {difference}.",
        "The sources add up to {sources} but the total costs (eligible and ineligible) are "
        "{total}: the difference is {difference}.",
    ),
    "financing.too_many_quarters": (
        "Plānā var būt ne vairāk kā {limit} ceturkšņu maksājumu.",
        "A plan has at most {limit} quarterly payments.",
    ),
    "financing.bad_quarter": (
        "{year}. gada ceturksnis {quarter} nav no 1 līdz 4.",
        "Quarter {quarter} of {year} is not 1 to 4.",
    ),
    "financing.bad_kind": (
        "„{kind}” nav maksājuma veids: jābūt expenditure (izdevumi) vai reimbursement (atmaksa).",
        "“{kind}” is not expenditure or reimbursement.",
    ),
    "financing.duplicate_quarter": (
        "{year}. gada {quarter}. ceturksnim norādītas divas summas ar veidu {kind}.",
        "{year} Q{quarter} has two {kind} amounts.",
    ),
    "financing.intensity_exceeded": (
        "Atbalsta intensitāte (ES fonda un valsts budžeta daļa no attiecināmajām izmaksām) "
        "ir {intensity} %, bet instruments {instrument} pieļauj ne vairāk kā {maximum} %.",
        "The aid intensity (the EU fund and state budget share of the eligible costs) is "
        "{intensity} %; {instrument} allows at most {maximum} %.",
    ),
    "financing.request_pair": (
        "Maksājuma pieprasījumam Nr. {number} summa un datums jānorāda kopā.",
        "Payment request {number}: the {step} amount and date go together.",
    ),
    "financing.request_exceeds": (
        "Maksājuma pieprasījumā Nr. {number} summa {amount} pārsniedz iepriekšējā soļa "
        "summu {limit}.",
        "Payment request {number}: {step} {amount} exceeds {before} {limit}.",
    ),
    "financing.request_order": (
        "Maksājuma pieprasījumā Nr. {number} datums {day} ir agrāks par iepriekšējā soļa datumu.",
        "Payment request {number}: {step} on {day} is before it was {before}.",
    ),
    "financing.bad_source_spec": (
        "„{spec}” nav pieraksts AVOTS=SUMMA (piemēram, eu_fund=850000).",
        "“{spec}” is not SOURCE=AMOUNT (e.g. eu_fund=850000).",
    ),
    "financing.bad_quarter_spec": (
        "„{spec}” nav pieraksts GADSQN:VEIDS=SUMMA (piemēram, 2026Q1:expenditure=120000).",
        "“{spec}” is not YEARQN:KIND=AMOUNT (e.g. 2026Q1:expenditure=120000).",
    ),
    "financing.bad_amount": (
        "„{value}” nav summa (piemēram, 850000 vai 850 000,00).",
        "“{value}” is not an amount (e.g. 850000 or 850,000.00).",
    ),
    "financing.bad_date": (
        "Laukā {field} nav datuma formā GGGG-MM-DD.",
        "The field {field} is not a date as YYYY-MM-DD.",
    ),
    "financing.request_missing": (
        "Norādiet pieprasīto summu un iesniegšanas datumu.",
        "Say what was submitted and when.",
    ),
}
