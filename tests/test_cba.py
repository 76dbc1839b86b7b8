"""Cost-benefit maths and money, as pure functions: textbook NPV and IRR checked against an
independent float computation, undefined and ambiguous IRRs, BCR, and lats to euro."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.cba import (
    DEFAULT_DISCOUNT_RATE,
    YearFlow,
    analyse,
    bcr,
    check_flows,
    irr,
    npv,
    series,
)
from workflow.money import Money, lvl_to_eur

D = Decimal
TEXTBOOK = [D(-1000), D(300), D(400), D(500)]  # years 0..3


def float_npv(rate: float, flows: list[float]) -> float:
    return sum(c / (1 + rate) ** t for t, c in enumerate(flows))


def newton_irr(flows: list[float], guess: float = 0.1) -> float:
    """An independent IRR: Newton's method in floats."""
    rate = guess
    for _ in range(100):
        value = float_npv(rate, flows)
        slope = sum(-t * c / (1 + rate) ** (t + 1) for t, c in enumerate(flows))
        rate -= value / slope
    return rate


def flows(*nets: int, first: int = 2026) -> list[YearFlow]:
    """Year flows whose net values are `nets` (negative nets are costs)."""
    return [YearFlow(first + t, D(max(-n, 0)), D(max(n, 0))) for t, n in enumerate(nets)]


# -- NPV ------------------------------------------------------------------------------------


def test_the_textbook_flows_have_an_npv_of_minus_21_04_at_10_percent() -> None:
    value = npv(D("0.10"), TEXTBOOK)

    assert value.quantize(D("0.01")) == D("-21.04")
    assert float(value) == pytest.approx(float_npv(0.10, [-1000, 300, 400, 500]), abs=1e-9)


def test_the_first_year_is_not_discounted() -> None:
    assert npv(D("0.04"), [D(100)]) == D(100)
    assert npv(D("0.04"), [D(0), D(104)]) == D(100)


def test_missing_years_between_the_first_and_the_last_count_as_zero() -> None:
    gappy = [YearFlow(2026, D(1000), D(0)), YearFlow(2028, D(0), D(1210))]

    assert series(gappy) == [D(-1000), D(0), D(1210)]
    assert analyse(gappy, D("0.10")).npv == D(0)


def test_the_default_discount_rate_is_4_percent() -> None:
    result = analyse(flows(-1000, 300, 400, 500))

    assert D("0.04") == DEFAULT_DISCOUNT_RATE
    assert result.discount_rate == D("0.04")
    assert float(result.npv) == pytest.approx(float_npv(0.04, [-1000, 300, 400, 500]))


# -- IRR ------------------------------------------------------------------------------------


def test_the_textbook_flows_have_an_irr_of_8_9_percent() -> None:
    result = irr(TEXTBOOK)

    assert result.rate is not None and result.reason is None
    assert result.rate.quantize(D("0.001")) == D("0.089")
    assert float(result.rate) == pytest.approx(newton_irr([-1000, 300, 400, 500]), abs=1e-9)
    assert abs(npv(result.rate, TEXTBOOK)) < D("0.0001")


def test_irr_is_undefined_with_a_clear_reason_when_every_flow_is_positive() -> None:
    result = irr([D(100), D(200), D(300)])

    assert result.rate is None
    assert result.reason == (
        "IRR is undefined: benefits exceed costs in every year, so NPV is positive at any rate"
    )


def test_irr_is_undefined_when_costs_exceed_benefits_every_year() -> None:
    result = irr([D(-100), D(-5), D(0)])

    assert result.rate is None
    assert result.reason is not None and "NPV is negative at any rate" in result.reason


def test_irr_is_undefined_when_every_flow_is_zero() -> None:
    assert irr([D(0), D(0)]).reason == "IRR is undefined: every yearly net flow is zero"


def test_irr_is_ambiguous_when_npv_is_zero_at_two_rates() -> None:
    # −100, +230, −132: NPV is zero at both 10 % and 20 %.
    result = irr([D(-100), D(230), D(-132)])

    assert result.rate is None
    assert result.reason is not None
    assert result.reason.startswith("IRR is ambiguous")
    assert "10.00 %" in result.reason and "20.00 %" in result.reason


def test_several_sign_changes_with_a_single_root_still_give_an_irr() -> None:
    nets = [D(-1000), D(800), D(-100), D(600)]
    result = irr(nets)

    assert result.rate is not None
    assert float(result.rate) == pytest.approx(newton_irr([-1000, 800, -100, 600]), abs=1e-8)


def test_a_very_profitable_project_has_a_large_irr() -> None:
    assert irr([D(-1), D(1000)]).rate == D(999)


@settings(max_examples=60, deadline=None)
@given(
    cost=st.integers(min_value=1, max_value=10**7),
    benefits=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=30),
)
def test_npv_at_the_irr_is_zero_when_an_investment_pays_back(
    cost: int, benefits: list[int]
) -> None:
    nets = [D(-cost), *(D(b) for b in benefits)]
    result = irr(nets)

    if sum(benefits) == 0:
        assert result.rate is None
        return
    assert result.rate is not None
    # The rate is a root to within its documented precision: NPV changes sign across it.
    step = D("1e-9")
    below, above = npv(result.rate - step, nets), npv(result.rate + step, nets)
    assert below >= 0 >= above


# -- BCR and validation --------------------------------------------------------------------


def test_bcr_is_the_present_value_of_benefits_over_that_of_costs() -> None:
    years = flows(-1000, 300, 400, 500)
    expected = float_npv(0.1, [0, 300, 400, 500]) / 1000

    ratio = bcr(D("0.10"), years)
    assert ratio is not None
    assert float(ratio) == pytest.approx(expected)
    assert analyse(years, D("0.10")).bcr == ratio


def test_bcr_is_undefined_without_costs() -> None:
    assert bcr(D("0.04"), flows(100, 100)) is None


@pytest.mark.parametrize(
    ("years", "message"),
    [
        ([], "at least one year"),
        ([YearFlow(2026, D(1), D(0)), YearFlow(2026, D(0), D(1))], "year 2026 is given twice"),
        ([YearFlow(2026, D(-1), D(0))], "zero or more"),
        ([YearFlow(2000, D(1), D(0)), YearFlow(2100, D(0), D(1))], "at most 100 years"),
    ],
)
def test_invalid_flows_are_refused(years: list[YearFlow], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_flows(years)


@pytest.mark.parametrize("rate", [D("-0.01"), D("1.5")])
def test_a_discount_rate_outside_0_to_100_percent_is_refused(rate: Decimal) -> None:
    with pytest.raises(ValueError, match="from 0 % to 100 %"):
        analyse(flows(-1, 2), rate)


# -- money ----------------------------------------------------------------------------------


def test_21828_lats_are_31058_45_euro() -> None:
    assert lvl_to_eur(D(21828)) == D("31058.45")
    assert Money(D(21828), "LVL").to_eur() == Money(D("31058.45"), "EUR")


def test_lats_round_half_up_to_the_cent() -> None:
    # 0.702804 LVL is exactly 1 EUR, so 0.351402 LVL is exactly half a euro.
    assert lvl_to_eur(D("0.351402")) == D("0.50")
    assert lvl_to_eur(D("0.00351402")) == D("0.01")  # 0.005 EUR rounds up


def test_euro_stays_euro_and_other_currencies_have_no_fixed_rate() -> None:
    assert Money(D("10.00")).to_eur() == Money(D("10.00"), "EUR")
    with pytest.raises(ValueError, match="no fixed rate"):
        Money(D(1), "USD").to_eur()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("125000", Money(D("125000"), "EUR")),
        ("31 058,45 EUR", Money(D("31058.45"), "EUR")),
        ("21828 LVL", Money(D("21828"), "LVL")),
        ("1,234,567.89", Money(D("1234567.89"), "EUR")),
    ],
)
def test_money_is_read_as_people_write_it(text: str, expected: Money) -> None:
    assert Money.parse(text) == expected


def test_money_refuses_floats_and_bad_currencies() -> None:
    with pytest.raises(TypeError):
        Money(1.5, "EUR")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="currency code"):
        Money(D(1), "euro")
    with pytest.raises(ValueError, match="not an amount"):
        Money.parse("daudz")
