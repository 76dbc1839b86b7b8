"""Money: a Decimal amount with a currency, and the fixed conversion of historical lats.

Amounts are never floats. EUR is the default currency; LVL (the lats, replaced by the
euro on 1 January 2014) converts at the fixed rate 1 EUR = 0.702804 LVL, rounded half up
to the cent (21,828 LVL = 31,058.45 EUR).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

EUR = "EUR"
LVL = "LVL"
LVL_PER_EUR = Decimal("0.702804")
CENT = Decimal("0.01")
CURRENCY = re.compile(r"^[A-Z]{3}$")
_AMOUNT = re.compile(r"^\s*(?P<amount>[-+]?[\d\s\u00a0.,']+?)\s*(?P<currency>[A-Za-z]{3})?\s*$")


def cents(amount: Decimal) -> Decimal:
    """`amount` rounded half up to the cent."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def lvl_to_eur(amount: Decimal) -> Decimal:
    """Lats in euro at the fixed rate, rounded half up to the cent."""
    return cents(amount / LVL_PER_EUR)


@dataclass(frozen=True)
class Money:
    """An amount in a currency (ISO 4217 code). Immutable; arithmetic stays in Decimal."""

    amount: Decimal
    currency: str = EUR

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"an amount must be a Decimal, got {type(self.amount).__name__}")
        if not self.amount.is_finite():
            raise ValueError(f"an amount must be a finite number, got {self.amount}")
        if not CURRENCY.match(self.currency):
            raise ValueError(f"{self.currency!r} is not a currency code (three capital letters)")

    def to_eur(self) -> Money:
        """The amount in euro: EUR as it is, LVL at the fixed rate; other currencies have
        no fixed rate and raise ValueError."""
        if self.currency == EUR:
            return self
        if self.currency == LVL:
            return Money(lvl_to_eur(self.amount), EUR)
        raise ValueError(f"no fixed rate converts {self.currency} to EUR")

    def __str__(self) -> str:
        return f"{format_amount(self.amount)} {self.currency}"

    @classmethod
    def parse(cls, text: str, currency: str = EUR) -> Money:
        """Money from text such as ``125000``, ``31 058,45 EUR`` or ``21828 LVL``: spaces
        and apostrophes group thousands; a lone comma is a decimal comma. The currency in
        the text wins over `currency`. Raises ValueError on anything else."""
        found = _AMOUNT.match(text or "")
        if not found:
            raise ValueError(f"{text!r} is not an amount")
        number = re.sub(r"[\s\u00a0']", "", found["amount"])
        if "," in number and "." not in number and number.count(",") == 1:
            number = number.replace(",", ".")
        elif "," in number:
            number = number.replace(",", "")  # 1,234,567.89
        try:
            amount = Decimal(number)
        except InvalidOperation:
            raise ValueError(f"{text!r} is not an amount") from None
        return cls(amount, (found["currency"] or currency).upper())


def format_amount(amount: Decimal) -> str:
    """Two decimals, no grouping (spreadsheets and scripts read it back as it is)."""
    return f"{cents(amount):.2f}"
