"""The catalogue of funding instruments: shipped defaults, extended (or relabelled) by the
organisation file's ``funding_instruments``."""

from __future__ import annotations

from decimal import Decimal

from workflow.labels import Bilingual, Label, text
from workflow.org import Organisation

SHIPPED: dict[str, Label] = {
    "esf_plus": Bilingual(
        lv="Eiropas Sociālais fonds Plus (ESF+)", en="European Social Fund Plus (ESF+)"
    ),
    "erdf": Bilingual(
        lv="Eiropas Reģionālās attīstības fonds (ERAF)",
        en="European Regional Development Fund (ERDF)",
    ),
    "cohesion_fund": Bilingual(lv="Kohēzijas fonds (KF)", en="Cohesion Fund (CF)"),
    "eafrd_leader": Bilingual(
        lv="Eiropas Lauksaimniecības fonds lauku attīstībai (ELFLA), LEADER",
        en="European Agricultural Fund for Rural Development (EAFRD), LEADER",
    ),
    "interreg": Bilingual(
        lv="Interreg (Eiropas teritoriālā sadarbība)",
        en="Interreg (European territorial cooperation)",
    ),
    "eea_norway_grants": Bilingual(
        lv="EEZ un Norvēģijas finanšu instrumenti", en="EEA and Norway Grants"
    ),
    "state_budget": Bilingual(lv="Valsts budžets", en="State budget"),
    "municipal_budget": Bilingual(lv="Pašvaldības budžets", en="Municipal budget"),
}

MAX_INTENSITY: dict[str, Decimal] = {
    # Interreg: the co-financing rate of an Interreg programme is at most 80 %
    # (Regulation (EU) 2021/1059, Article 13(1)); applied to the EU and state share.
    "interreg": Decimal(80),
}
"""The highest aid intensity (EU and state share of eligible costs, per cent) an
instrument allows, where a regulation names one; the others are checked by the managing
authority's call, which Shēma does not know."""


def max_intensity(instrument: str | None) -> Decimal | None:
    """The instrument's maximum aid intensity in per cent; None when none is known."""
    return None if instrument is None else MAX_INTENSITY.get(instrument)


def catalogue(org: Organisation | None = None) -> dict[str, Label]:
    """Every known instrument, id → label: the shipped ones, then the organisation's (which
    may relabel a shipped one)."""
    out = dict(SHIPPED)
    if org is not None:
        out.update(org.funding_instruments)
    return out


def title(instrument: str, org: Organisation | None = None, lang: str = "lv") -> str:
    """The instrument's label in `lang`; its id when it is not in the catalogue."""
    return text(catalogue(org).get(instrument), lang, instrument)


def unknown(instruments: list[str], org: Organisation | None = None) -> list[str]:
    """The ids in `instruments` that the catalogue does not know."""
    known = catalogue(org)
    return [i for i in instruments if i not in known]
