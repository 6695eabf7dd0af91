"""Pure shipping rules: the most specific rate wins, and the free-over boundary."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shopops.contexts.shipping import rules
from shopops.contexts.shipping.errors import ShippingError
from shopops.kernel.errors import FieldError

CN = rules.Rate(1, "CN", None, "CNY", 800, free_over_minor=9900)
CN_XZ = rules.Rate(2, "CN", "CN-XZ", "CNY", 2500)
ANYWHERE = rules.Rate(3, "*", None, "CNY", 6000)
US_USD = rules.Rate(4, "US", None, "USD", 1500)
STANDARD = rules.Method(1, "standard", "Standard", True, 0, (CN, CN_XZ, ANYWHERE, US_USD))
EXPRESS = rules.Method(2, "express", "Express", True, 10, (rules.Rate(5, "CN", None, "CNY", 2000),))
PAUSED = rules.Method(3, "courier", "Courier", False, 5, (rules.Rate(6, "*", None, "CNY", 1),))
TABLE = rules.RateTable((STANDARD, PAUSED, EXPRESS))


def test_the_region_beats_the_country_which_beats_anywhere() -> None:
    assert rules.choose_rate(STANDARD.rates, "CN", "CN-XZ", "CNY") == CN_XZ
    assert rules.choose_rate(STANDARD.rates, "CN", "CN-SH", "CNY") == CN
    assert rules.choose_rate(STANDARD.rates, "CN", None, "CNY") == CN
    assert rules.choose_rate(STANDARD.rates, "FR", "FR-75", "CNY") == ANYWHERE
    # Rates are in one currency each: a USD cart to CN has none, a USD cart to US has one.
    assert rules.choose_rate(STANDARD.rates, "CN", None, "USD") is None
    assert rules.choose_rate(STANDARD.rates, "US", None, "USD") == US_USD
    assert rules.choose_rate(EXPRESS.rates, "FR", None, "CNY") is None


def test_free_over_is_inclusive() -> None:
    assert rules.fee_for(CN, 9899) == 800
    assert rules.fee_for(CN, 9900) == 0
    assert rules.fee_for(CN, 10**9) == 0
    assert rules.fee_for(CN_XZ, 10**9) == 2500  # no threshold
    quote = rules.quote(STANDARD, "CN", "CN-SH", 9900, "CNY")
    assert quote == rules.Quote("standard", CN, 0)
    assert quote is not None
    assert quote.free_over_reached
    assert rules.quote(STANDARD, "CN", None, 9899, "CNY") == rules.Quote("standard", CN, 800)
    assert rules.quote(EXPRESS, "JP", None, 0, "CNY") is None


def test_methods_are_chosen_by_code_and_the_default_is_the_first_active() -> None:
    assert TABLE.default() == STANDARD
    assert TABLE.active_codes() == ["standard", "express"]
    assert rules.select_method(TABLE, None) == STANDARD
    assert rules.select_method(TABLE, " Express ") == EXPRESS
    assert rules.select_method(TABLE, "drone") == FieldError(
        "shipping_method",
        ShippingError.UNKNOWN_METHOD,
        "unknown shipping method 'drone'; allowed: standard, express",
    )
    assert rules.select_method(TABLE, "courier") == FieldError(
        "shipping_method",
        ShippingError.UNKNOWN_METHOD,
        "shipping method 'courier' is off; allowed: standard, express",
    )
    off = rules.RateTable((PAUSED,))
    assert rules.select_method(off, None) == FieldError(
        "shipping_method", ShippingError.UNKNOWN_METHOD, "no shipping method is active"
    )
    assert rules.resolve(TABLE, "express", "JP", None, "CNY") == FieldError(
        "shipping_address.country",
        ShippingError.NO_RATE,
        "shipping method 'express' has no CNY rate for JP",
    )
    resolved = rules.resolve(TABLE, None, "CN", "CN-XZ", "CNY")
    assert resolved == rules.Quote("standard", CN_XZ, 2500)


def test_destinations_are_normalized() -> None:
    assert rules.normalize_country(" cn ") == "CN"
    assert rules.normalize_country("*") == "*"
    for bad in ("", "CHN", "C1", "中国", None):
        assert rules.normalize_country(bad) is None
    assert rules.normalize_region(" cn-sh ") == "CN-SH"
    assert rules.normalize_region("  ") is None


def test_invalid_rates_and_methods_list_every_problem() -> None:
    problems = rules.validate_rate(
        "rates.0.",
        country=None,
        region="X",
        raw_region="x" * 101,
        fee_minor=-1,
        free_over_minor=0,
    )
    assert [(p.field, p.code) for p in problems] == [
        ("rates.0.country", "shipping.invalid_country"),
        ("rates.0.region", "shipping.invalid_region"),
        ("rates.0.fee", "shipping.invalid_fee"),
        ("rates.0.free_over", "shipping.invalid_free_over"),
    ]
    anywhere_region = rules.validate_rate(
        "", country="*", region="CN-SH", raw_region="cn-sh", fee_minor=0, free_over_minor=None
    )
    assert [(p.field, p.code) for p in anywhere_region] == [("region", "shipping.invalid_region")]
    assert [p.code for p in rules.validate_method(code="Std!", name="", sort_order=-1)] == [
        "shipping.invalid_code",
        "shipping.invalid_name",
        "shipping.invalid_sort_order",
    ]
    assert rules.validate_method(code="next-day_2", name="Next day", sort_order=0) == []
    assert rules.duplicate_destinations([("CN", None), ("CN", "CN-SH"), ("CN", None)]) == [2]


# --- properties ------------------------------------------------------------------------

countries = st.sampled_from(["CN", "US", "FR", "*"])
regions = st.sampled_from([None, "R1", "R2"])
destinations = st.tuples(countries, regions).filter(lambda d: d[0] != "*" or d[1] is None)


@st.composite
def rate_sets(draw: st.DrawFn) -> list[rules.Rate]:
    """Rates of one method, one per destination (the table's unique key)."""
    chosen = draw(st.lists(destinations, unique=True, max_size=8))
    return [
        rules.Rate(i + 1, country, region, "CNY", draw(st.integers(0, 10**6)))
        for i, (country, region) in enumerate(chosen)
    ]


@given(rates=rate_sets(), country=st.sampled_from(["CN", "US", "FR", "JP"]), region=regions)
def test_the_most_specific_matching_rate_wins(
    rates: list[rules.Rate], country: str, region: str | None
) -> None:
    chosen = rules.choose_rate(rates, country, region, "CNY")
    matching = [(r.specificity(country, region), r) for r in rates]
    scores = [score for score, _ in matching if score is not None]
    if not scores:
        assert chosen is None
        return
    assert chosen is not None
    assert chosen.specificity(country, region) == max(scores)
    # the chosen rate names the destination: its region, its country or anywhere
    assert chosen.country in {country, "*"}
    assert chosen.region in {None, region}
    # a rate for the exact region, when there is one, always wins
    exact = [r for r in rates if (r.country, r.region) == (country, region) and region]
    if exact:
        assert chosen == exact[0]
    # adding a less specific rate never changes the choice
    fallback = rules.Rate(99, "*", None, "CNY", 1)
    if all(r.country != "*" for r in rates):
        assert rules.choose_rate([*rates, fallback], country, region, "CNY") == chosen


@given(
    fee=st.integers(0, 10**9),
    threshold=st.one_of(st.none(), st.integers(1, 10**9)),
    items=st.integers(0, 2 * 10**9),
    more=st.integers(0, 10**9),
)
def test_the_free_over_boundary(fee: int, threshold: int | None, items: int, more: int) -> None:
    rate = rules.Rate(1, "CN", None, "CNY", fee, threshold)
    charged = rules.fee_for(rate, items)
    assert charged in {0, fee}
    assert (charged == 0 and fee > 0) == (threshold is not None and items >= threshold and fee > 0)
    # spending more never costs more shipping
    assert rules.fee_for(rate, items + more) <= charged
    if threshold is not None:
        assert rules.fee_for(rate, threshold) == 0
        assert rules.fee_for(rate, threshold - 1) == fee
