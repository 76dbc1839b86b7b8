"""Bounds and domains of inputs (workflow/limits.py, workflow/domains.py)."""

ENTRIES: dict[str, tuple[str, str]] = {
    "limit.length": (
        "Lauks „{field}” ir {size} rakstzīmes garš; atļauts ne vairāk kā {limit}.",
        "The {field} is {size} characters long; at most {limit} are allowed.",
    ),
    "domain.money": (
        "Lauka „{field}” vērtība {value} nav derīga naudas summa (0–999 999 999 999,99, "
        "ne vairāk kā divas zīmes aiz komata).",
        "The {field} {value} is not an amount Shēma keeps (0 to 999,999,999,999.99, in cents).",
    ),
    "domain.date": (
        "Lauka „{field}” datums {value} ir ārpus atbalstītā laika (1990–2100).",
        "The {field} {value} is outside the supported dates (1990 to 2100).",
    ),
    "domain.year": (
        "Lauka „{field}” gads {value} ir ārpus atbalstītā laika (1990–2100).",
        "The {field} {value} is outside the supported years (1990 to 2100).",
    ),
    "domain.number": (
        "Lauka „{field}” vērtība {value} nav derīgs numurs.",
        "The {field} {value} is not a number Shēma can keep.",
    ),
    "domain.days": (
        "Lauka „{field}” dienu skaits {value} ir ārpus pieļaujamā (0–3650).",
        "The {field} {value} is not a span of days Shēma accepts (0 to 3650).",
    ),
    "domain.rate": (
        "Lauka „{field}” likme {value} nav procentos no 0 līdz 100.",
        "The {field} {value} is not a percentage from 0 to 100.",
    ),
}
