"""The pricing engine, without I/O: worked examples with exact amounts, and properties that
hold for any quote (hypothesis)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pivotal_quotation.domain.pricing import (
    AmountOff,
    AppliedTax,
    PercentOff,
    PricedLineInput,
    Unit,
    pinned_hourly_rate,
    price_quote,
)
from pivotal_runtime.errors import InvalidArgument
from pivotal_runtime.kit.money import Money, minor_units

D = Decimal
VAT20 = AppliedTax(D(20), "tax-vat20", "VAT 20%")
VAT7 = AppliedTax(D(7), "tax-vat7", "VAT 7%")
JCT10 = AppliedTax(D(10), "tax-jct", "Consumption tax 10%")
ZERO = AppliedTax(D(0))
KW5 = AppliedTax(D(5), "", "")


def line(quantity, unit, price, currency, discount=None, tax=ZERO):
    return PricedLineInput(D(quantity), unit, Money.of(price, currency), discount, tax)


def off(amount, currency):
    return AmountOff(Money.of(amount, currency))


# Each example: currency, lines, quote discount, then per line (net, line discount, quote
# discount share, taxable, tax, total) and the totals (subtotal, line discounts, quote
# discount, net total, [(rate, taxable, tax)], tax total, grand total). Worked by hand:
WORKED_EXAMPLES = {
    # 100.00 off spread over 950.00 / 1944.00 / 300.00 (of 3194.00): exact shares 29.743,
    # 60.864, 9.392 cents-wise 2974.33 / 6086.41 / 939.26 → floors 9999 cents, the one left
    # goes to the largest remainder (.41, line 2). VAT 20% on 2803.39 = 560.678 → 560.68,
    # allocated 184.05 / 376.63; VAT 7% on 290.61 = 20.3427 → 20.34.
    "EUR, amount off spread over three lines, two VAT rates": (
        "EUR",
        [line(10, Unit.HOUR, "95.00", "EUR", tax=VAT20),
         line(3, Unit.DAY, "720", "EUR", PercentOff(D(10)), VAT20),
         line(1, Unit.EACH, "333.33", "EUR", off("33.33", "EUR"), VAT7)],
        off("100.00", "EUR"),
        [("950.00", "0.00", "29.74", "920.26", "184.05", "1104.31"),
         ("2160.00", "216.00", "60.87", "1883.13", "376.63", "2259.76"),
         ("333.33", "33.33", "9.39", "290.61", "20.34", "310.95")],
        ("3443.33", "249.33", "100.00", "3094.00",
         [("7", "290.61", "20.34"), ("20", "2803.39", "560.68")], "581.02", "3675.02"),
    ),
    # No minor units: 10 % of 256933 = 25693.3 → 25693, spread 10200 / 12160 / 3333
    # (exact 10199.89 / 12159.86 / 3333.24: two yen left go to .89 and .86).
    "JPY, percent off spread over three lines": (
        "JPY",
        [line(12, Unit.HOUR, 8500, "JPY", tax=JCT10),
         line(2, Unit.DAY, 64000, "JPY", PercentOff(D(5)), JCT10),
         line(1, Unit.EACH, 33333, "JPY", tax=JCT10)],
        PercentOff(D(10)),
        [("102000", "0", "10200", "91800", "9180", "100980"),
         ("128000", "6400", "12160", "109440", "10944", "120384"),
         ("33333", "0", "3333", "30000", "3000", "33000")],
        ("263333", "6400", "25693", "231240", [("10", "231240", "23124")], "23124",
         "254364"),
    ),
    # Three minor units: 7.5 × 12.345 = 92.5875 → 92.588 (half-even, 7 is odd); 10.000 off
    # spread 4.355 / 4.234 / 1.411 (exact 4355.37 / 4233.54 / 1411.18 fils, one fils left to
    # .54); 5 % of 28.589 = 1.42945 → 1.429.
    "KWD, half-even to fils, amount off spread over three lines": (
        "KWD",
        [line("7.5", Unit.HOUR, "12.345", "KWD"),
         line(1, Unit.DAY, "98.765", "KWD", off("8.765", "KWD")),
         line(3, Unit.EACH, "10", "KWD", tax=KW5)],
        off("10", "KWD"),
        [("92.588", "0.000", "4.355", "88.233", "0.000", "88.233"),
         ("98.765", "8.765", "4.234", "85.766", "0.000", "85.766"),
         ("30.000", "0.000", "1.411", "28.589", "1.429", "30.018")],
        ("221.353", "8.765", "10.000", "202.588",
         [("0", "173.999", "0.000"), ("5", "28.589", "1.429")], "1.429", "204.017"),
    ),
}


@pytest.mark.parametrize("name", list(WORKED_EXAMPLES))
def test_worked_example(name):
    currency, lines, discount, expected_lines, expected_totals = WORKED_EXAMPLES[name]
    pricing = price_quote(currency, lines, discount)

    got_lines = [tuple(str(m.amount) for m in (a.net, a.line_discount, a.quote_discount,
                                                 a.taxable, a.tax, a.total))
                 for a in pricing.lines]
    assert got_lines == expected_lines
    t = pricing.totals
    subtotal, line_off, quote_off, net_total, breakdown, tax_total, grand = expected_totals
    assert str(t.subtotal.amount) == subtotal
    assert str(t.line_discount_total.amount) == line_off
    assert str(t.quote_discount_total.amount) == quote_off
    assert str(t.net_total.amount) == net_total
    assert [(str(e.tax.percent), str(e.taxable.amount), str(e.amount.amount))
            for e in t.tax_breakdown] == breakdown
    assert str(t.tax_total.amount) == tax_total
    assert str(t.grand_total.amount) == grand


def test_pinned_hourly_rate_is_net_after_discounts_over_hours_half_even_to_4_places():
    example = "EUR, amount off spread over three lines, two VAT rates"
    _, lines, discount, *_ = WORKED_EXAMPLES[example]
    pricing = price_quote("EUR", lines, discount)
    # 3 days × 8 h = 24 h for 1883.13: 78.46375 → 78.4638 (ties to even).
    assert pinned_hourly_rate(pricing.lines[1], D(3), Unit.DAY, D(8)) == D("78.4638")
    # 10 h for 920.26.
    assert pinned_hourly_rate(pricing.lines[0], D(10), Unit.HOUR, D(8)) == D("92.0260")
    # a 7.5-hour day changes the hours, not the amount: 1883.13 / 22.5 = 83.6946666…
    assert pinned_hourly_rate(pricing.lines[1], D(3), Unit.DAY, D("7.5")) == D("83.6947")
    assert pinned_hourly_rate(pricing.lines[2], D(1), Unit.EACH, D(8)) is None


def reasons_of(error: InvalidArgument) -> dict[str, str]:
    return {v.field: v.reason for v in error.violations}


def test_a_line_discount_above_the_line_is_refused_and_nothing_is_priced():
    with pytest.raises(InvalidArgument) as caught:
        price_quote("EUR", [line(1, Unit.EACH, "10.00", "EUR"),
                            line(2, Unit.HOUR, "50", "EUR", off("100.01", "EUR"))])
    assert reasons_of(caught.value) == {
        "quote.line_items[1].discount.amount": "DISCOUNT_EXCEEDS_AMOUNT"}


def test_a_quote_discount_above_the_amount_after_line_discounts_is_refused():
    with pytest.raises(InvalidArgument) as caught:
        price_quote("EUR", [line(1, Unit.EACH, "10.00", "EUR", off("5", "EUR"))],
                    off("5.01", "EUR"))
    assert reasons_of(caught.value) == {"quote.discount.amount": "DISCOUNT_EXCEEDS_AMOUNT"}


def test_every_bad_pricing_input_is_reported_at_once():
    with pytest.raises(InvalidArgument) as caught:
        price_quote("EUR", [
            line(-1, Unit.HOUR, "10", "EUR"),
            line("1.00001", Unit.HOUR, "-1", "EUR", PercentOff(D(101))),
            line(1, Unit.HOUR, "10", "USD", off("0.001", "EUR"),
                 AppliedTax(D("20.00001"))),
        ], off("1", "USD"))
    assert reasons_of(caught.value) == {
        "quote.line_items[0].quantity": "OUT_OF_RANGE",
        "quote.line_items[1].quantity": "PRECISION_EXCEEDED",
        "quote.line_items[1].unit_price": "OUT_OF_RANGE",
        "quote.line_items[1].discount.percent": "DISCOUNT_EXCEEDS_AMOUNT",
        "quote.line_items[2].unit_price": "CURRENCY_MISMATCH",
        "quote.line_items[2].discount.amount": "PRECISION_EXCEEDED",
        "quote.line_items[2].tax_rate_percent": "PRECISION_EXCEEDED",
        "quote.discount.amount": "CURRENCY_MISMATCH",
    }


def test_no_lines_and_an_unknown_currency_are_refused():
    with pytest.raises(InvalidArgument) as caught:
        price_quote("EUR", [])
    assert reasons_of(caught.value) == {"quote.line_items": "REQUIRED"}
    with pytest.raises(InvalidArgument) as caught:
        price_quote("XQZ", [line(1, Unit.HOUR, "10", "EUR")])
    assert reasons_of(caught.value) == {"quote.currency_code": "CURRENCY_UNKNOWN"}


# Properties --------------------------------------------------------------------------

CURRENCIES = ["EUR", "JPY", "KWD", "USD", "BHD"]
TAXES = [ZERO, VAT7, VAT20, AppliedTax(D("7.7"), "ch", "MWST 7.7%"), AppliedTax(D("12.5"))]


def decimals(low, high, places):
    return st.decimals(min_value=D(low), max_value=D(high), places=places,
                       allow_nan=False, allow_infinity=False)


@st.composite
def quotes(draw):
    currency = draw(st.sampled_from(CURRENCIES))
    places = minor_units(currency)
    lines = []
    for _ in range(draw(st.integers(1, 6))):
        quantity = draw(decimals("0.0001", "1000", 4))
        price = draw(decimals("0", "10000", 4))
        net = (quantity * price).quantize(D(1).scaleb(-places))
        discount = draw(st.one_of(
            st.none(),
            decimals("0", "100", 2).map(PercentOff),
            st.fractions(0, 1).map(lambda f, net=net: AmountOff(Money(
                (net * f.numerator / f.denominator).quantize(D(1).scaleb(-places),
                                                             rounding="ROUND_DOWN"),
                currency))),
        ))
        lines.append(PricedLineInput(quantity, draw(st.sampled_from(list(Unit))),
                                     Money(price, currency), discount,
                                     draw(st.sampled_from(TAXES))))
    quote_discount = draw(st.one_of(st.none(), decimals("0", "100", 4).map(PercentOff)))
    return currency, lines, quote_discount


def all_amounts(pricing):
    t = pricing.totals
    for a in pricing.lines:
        yield from (a.net, a.line_discount, a.quote_discount, a.discount, a.taxable, a.tax,
                    a.total)
    yield from (t.subtotal, t.line_discount_total, t.quote_discount_total, t.discount_total,
                t.net_total, t.tax_total, t.grand_total)
    for entry in t.tax_breakdown:
        yield from (entry.taxable, entry.amount)


def total(amounts):
    return sum((m.amount for m in amounts), D(0))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(quotes())
def test_totals_are_the_sums_of_their_parts(quote):
    currency, lines, discount = quote
    pricing = price_quote(currency, lines, discount)
    t, parts = pricing.totals, pricing.lines
    assert t.subtotal.amount == total(a.net for a in parts)
    assert t.line_discount_total.amount == total(a.line_discount for a in parts)
    assert t.quote_discount_total.amount == total(a.quote_discount for a in parts)
    assert t.net_total.amount == total(a.taxable for a in parts)
    assert t.net_total.amount == t.subtotal.amount - t.discount_total.amount
    assert t.tax_total.amount == total(a.tax for a in parts) == total(
        e.amount for e in t.tax_breakdown)
    assert t.grand_total.amount == total(a.total for a in parts)
    assert t.grand_total.amount == t.net_total.amount + t.tax_total.amount
    for entry in t.tax_breakdown:
        at_rate = [a for a, source in zip(parts, lines, strict=False) if source.tax == entry.tax]
        assert entry.taxable.amount == total(a.taxable for a in at_rate)
    assert [e.tax.percent for e in t.tax_breakdown] == sorted(e.tax.percent
                                                               for e in t.tax_breakdown)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(quotes())
def test_every_amount_is_in_the_currencys_minor_units(quote):
    currency, lines, discount = quote
    places = minor_units(currency)
    for amount in all_amounts(price_quote(currency, lines, discount)):
        assert amount.currency_code == currency
        assert amount.amount.as_tuple().exponent == -places


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(quotes())
def test_discounts_never_make_a_line_negative(quote):
    currency, lines, discount = quote
    for amounts in price_quote(currency, lines, discount).lines:
        assert D(0) <= amounts.discount.amount <= amounts.net.amount
        assert amounts.taxable.amount >= 0
        assert amounts.tax.amount >= 0
        assert amounts.total.amount >= amounts.taxable.amount


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(quotes())
def test_the_same_input_always_gives_the_same_totals(quote):
    currency, lines, discount = quote
    assert price_quote(currency, lines, discount) == price_quote(currency, list(lines),
                                                                  discount)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(quotes(), st.integers(1, 10**6))
def test_an_amount_discount_above_a_line_is_always_refused(quote, excess):
    currency, lines, discount = quote
    places = minor_units(currency)
    first = lines[0]
    net = (first.quantity * first.unit_price.amount).quantize(D(1).scaleb(-places))
    too_much = AmountOff(Money(net + D(excess).scaleb(-places), currency))
    lines = [PricedLineInput(first.quantity, first.unit, first.unit_price, too_much,
                             first.tax), *lines[1:]]
    with pytest.raises(InvalidArgument) as caught:
        price_quote(currency, lines, discount)
    assert reasons_of(caught.value)["quote.line_items[0].discount.amount"] == (
        "DISCOUNT_EXCEEDS_AMOUNT")
