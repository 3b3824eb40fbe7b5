"""The pricing engine: lines, discounts, taxes and totals of a quote, exact to the minor unit.

Order of computation (the contract's `LineItemTotals` and `QuoteTotals` invariants):
1. net = quantity × unit price, half-even to the currency's minor units;
2. the line discount (a percentage of net, or an amount not above net);
3. the quote discount (a percentage of, or an amount not above, the sum after line
   discounts), spread over the lines in proportion to their amount after line discounts by
   largest remainder, so the shares add up exactly and no line goes below zero;
4. tax per rate on the sum of the taxable amounts at that rate, allocated back to the lines
   by largest remainder; totals are sums of those parts.

Rounding and allocation are the runtime's (`pivotal_runtime.kit.money`); every invalid
input is reported at once as a field violation, so nothing is priced from bad data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from pivotal_runtime.errors import FieldViolation, InvalidArgument
from pivotal_runtime.kit.money import Money, allocate, minor_units, round_half_even

from pivotal_quotation.domain import reasons
from pivotal_quotation.domain.currencies import is_known_currency

HUNDRED = Decimal(100)
MAX_QUANTITY = Decimal(1_000_000)
MAX_LINES = 200
INPUT_PLACES = 4  # unit prices, quantities and percentages
RATE_PLACES = 4  # pinned hourly rates


class Unit(str, Enum):
    HOUR = "HOUR"
    DAY = "DAY"
    EACH = "EACH"


@dataclass(frozen=True)
class PercentOff:
    percent: Decimal


@dataclass(frozen=True)
class AmountOff:
    amount: Money


Discount = PercentOff | AmountOff | None


@dataclass(frozen=True)
class AppliedTax:
    """The tax a line is charged at, pinned when the line is saved. `tax_rate_id` and
    `display_name` are empty for an ad-hoc percentage."""

    percent: Decimal
    tax_rate_id: str = ""
    display_name: str = ""

    @property
    def sort_key(self) -> tuple[Decimal, str, str]:
        return (self.percent, self.display_name, self.tax_rate_id)


NO_TAX = AppliedTax(Decimal(0))


@dataclass(frozen=True)
class PricedLineInput:
    quantity: Decimal
    unit: Unit
    unit_price: Money
    discount: Discount = None
    tax: AppliedTax = NO_TAX


@dataclass(frozen=True)
class LineAmounts:
    net: Money
    line_discount: Money
    quote_discount: Money
    taxable: Money
    tax: Money

    @property
    def discount(self) -> Money:
        return self.line_discount + self.quote_discount

    @property
    def total(self) -> Money:
        return self.taxable + self.tax


@dataclass(frozen=True)
class TaxAmount:
    tax: AppliedTax
    taxable: Money
    amount: Money


@dataclass(frozen=True)
class QuoteAmounts:
    subtotal: Money
    line_discount_total: Money
    quote_discount_total: Money
    tax_breakdown: tuple[TaxAmount, ...]

    @property
    def discount_total(self) -> Money:
        return self.line_discount_total + self.quote_discount_total

    @property
    def net_total(self) -> Money:
        return self.subtotal - self.discount_total

    @property
    def tax_total(self) -> Money:
        return _sum((entry.amount for entry in self.tax_breakdown), self.subtotal.currency_code)

    @property
    def grand_total(self) -> Money:
        return self.net_total + self.tax_total


@dataclass(frozen=True)
class Pricing:
    currency_code: str
    lines: tuple[LineAmounts, ...]
    totals: QuoteAmounts


def price_quote(currency_code: str, lines: Sequence[PricedLineInput],
                discount: Discount = None, *, at: str = "quote") -> Pricing:
    """Prices a quote, or raises InvalidArgument naming every problem (field paths under
    `at`, for example `quote.line_items[2].discount.amount`)."""
    problems = _Problems(at)
    places = _currency_places(currency_code, problems)
    if not lines:
        problems.add("line_items", "a quote needs at least one line", reasons.REQUIRED)
    elif len(lines) > MAX_LINES:
        problems.add("line_items", f"a quote has at most {MAX_LINES} lines", reasons.OUT_OF_RANGE)
    if places is None:
        problems.raise_if_any()
    sound = []  # lines whose own inputs are valid: their discount can be checked
    for index, line in enumerate(lines):
        before = len(problems.violations)
        _check_line(f"line_items[{index}]", line, currency_code, places, problems)
        sound.append(len(problems.violations) == before)
    _check_discount("discount", discount, currency_code, places, problems)
    nets = [_rounded(line.quantity * line.unit_price.amount, places) if ok else Decimal(0)
            for line, ok in zip(lines, sound, strict=False)]
    for index, (line, net, ok) in enumerate(zip(lines, nets, sound, strict=False)):
        if ok and isinstance(line.discount, AmountOff) and line.discount.amount.amount > net:
            problems.add(f"line_items[{index}].discount.amount",
                         f"the discount {line.discount.amount.amount} is above the line's net "
                         f"{net}", reasons.DISCOUNT_EXCEEDS_AMOUNT)
    problems.raise_if_any()

    line_discounts = [_discount_of(line.discount, net, places)
                      for line, net in zip(lines, nets, strict=False)]
    after_line = [net - off for net, off in zip(nets, line_discounts, strict=False)]
    base = sum(after_line, Decimal(0))
    quote_discount = _discount_of(discount, base, places)
    if quote_discount > base:
        problems.add("discount.amount", f"the discount {quote_discount} is above the quote's "
                     f"amount after line discounts {base}", reasons.DISCOUNT_EXCEEDS_AMOUNT)
        problems.raise_if_any()

    quote_shares = _spread(quote_discount, after_line, places)
    taxable = [amount - share for amount, share in zip(after_line, quote_shares, strict=False)]
    taxes, breakdown = _taxes(lines, taxable, places)

    def money(value: Decimal) -> Money:
        return Money(value, currency_code)

    priced = tuple(
        LineAmounts(money(nets[i]), money(line_discounts[i]), money(quote_shares[i]),
                    money(taxable[i]), money(taxes[i]))
        for i in range(len(lines)))
    totals = QuoteAmounts(
        subtotal=money(sum(nets, Decimal(0))),
        line_discount_total=money(sum(line_discounts, Decimal(0))),
        quote_discount_total=money(quote_discount),
        tax_breakdown=tuple(TaxAmount(tax, money(base), money(amount))
                            for tax, base, amount in breakdown))
    return Pricing(currency_code, priced, totals)


def hours_per_unit(unit: Unit, hours_per_day: Decimal) -> Decimal | None:
    """How many hours one unit of a line is: 1 for hours, the organization's hours per day
    for days, none for pieces."""
    if unit is Unit.HOUR:
        return Decimal(1)
    if unit is Unit.DAY:
        return hours_per_day
    return None


def pinned_hourly_rate(amounts: LineAmounts, quantity: Decimal, unit: Unit,
                       hours_per_day: Decimal) -> Decimal | None:
    """The hourly rate time is billed at for this line: its net after line and quote
    discounts ÷ its hours, half-even to 4 places (DESIGN "Money from quote to invoice");
    none for a line not priced in time."""
    per_unit = hours_per_unit(unit, hours_per_day)
    if per_unit is None:
        return None
    return round_half_even(amounts.taxable.amount / (quantity * per_unit), RATE_PLACES)


def _taxes(lines: Sequence[PricedLineInput], taxable: list[Decimal], places: int
           ) -> tuple[list[Decimal], list[tuple[AppliedTax, Decimal, Decimal]]]:
    groups: dict[AppliedTax, list[int]] = {}
    for index, line in enumerate(lines):
        groups.setdefault(line.tax, []).append(index)
    taxes = [Decimal(0)] * len(lines)
    breakdown = []
    for tax in sorted(groups, key=lambda t: t.sort_key):
        members = groups[tax]
        base = sum((taxable[i] for i in members), Decimal(0))
        amount = _rounded(base * tax.percent / HUNDRED, places)
        for index, share in zip(members, _spread(amount, [taxable[i] for i in members], places),
                                strict=False):
            taxes[index] = share
        breakdown.append((tax, base, amount))
    return taxes, breakdown


def _spread(amount: Decimal, weights: list[Decimal], places: int) -> list[Decimal]:
    if amount == 0 or sum(weights, Decimal(0)) == 0:
        return [_rounded(Decimal(0), places)] * len(weights)
    return allocate(amount, weights, places)


def _discount_of(discount: Discount, base: Decimal, places: int) -> Decimal:
    if isinstance(discount, PercentOff):
        return _rounded(base * discount.percent / HUNDRED, places)
    if isinstance(discount, AmountOff):
        return _rounded(discount.amount.amount, places)
    return _rounded(Decimal(0), places)


def _rounded(value: Decimal, places: int) -> Decimal:
    return round_half_even(value, places)


def _sum(amounts, currency_code: str) -> Money:
    total = Money.zero(currency_code)
    for amount in amounts:
        total = total + amount
    return total.rounded()


def _currency_places(currency_code: str, problems: _Problems) -> int | None:
    if not is_known_currency(currency_code):
        problems.add("currency_code", f"{currency_code!r} is not a known ISO 4217 currency",
                     reasons.CURRENCY_UNKNOWN)
        return None
    return minor_units(currency_code)


def _check_line(path: str, line: PricedLineInput, currency_code: str, places: int,
                problems: _Problems) -> None:
    quantity = line.quantity
    if quantity <= 0 or quantity > MAX_QUANTITY:
        problems.add(f"{path}.quantity", "the quantity must be above 0 and at most 1000000",
                     reasons.OUT_OF_RANGE)
    elif decimal_places(quantity) > INPUT_PLACES:
        problems.add(f"{path}.quantity", "a quantity has at most 4 fraction digits",
                     reasons.PRECISION_EXCEEDED)
    _check_price(f"{path}.unit_price", line.unit_price, currency_code, problems)
    _check_discount(f"{path}.discount", line.discount, currency_code, places, problems)
    _check_percent(f"{path}.tax_rate_percent", line.tax.percent, problems)


def _check_price(path: str, price: Money, currency_code: str, problems: _Problems) -> None:
    if price.currency_code != currency_code:
        problems.add(path, f"the price is in {price.currency_code}, the quote in "
                     f"{currency_code}", reasons.CURRENCY_MISMATCH)
    elif price.amount < 0:
        problems.add(path, "a price is not negative", reasons.OUT_OF_RANGE)
    elif decimal_places(price.amount) > INPUT_PLACES:
        problems.add(path, "a unit price has at most 4 fraction digits",
                     reasons.PRECISION_EXCEEDED)


def _check_discount(path: str, discount: Discount, currency_code: str, places: int,
                    problems: _Problems) -> None:
    if isinstance(discount, PercentOff):
        _check_percent(f"{path}.percent", discount.percent, problems)
    elif isinstance(discount, AmountOff):
        amount = discount.amount
        if amount.currency_code != currency_code:
            problems.add(f"{path}.amount", f"the discount is in {amount.currency_code}, the "
                         f"quote in {currency_code}", reasons.CURRENCY_MISMATCH)
        elif amount.amount < 0:
            problems.add(f"{path}.amount", "a discount is not negative", reasons.OUT_OF_RANGE)
        elif decimal_places(amount.amount) > places:
            problems.add(f"{path}.amount", f"{currency_code} amounts have at most {places} "
                         "fraction digits", reasons.PRECISION_EXCEEDED)


def _check_percent(path: str, percent: Decimal, problems: _Problems) -> None:
    if percent < 0:
        problems.add(path, "a percentage is not negative", reasons.OUT_OF_RANGE)
    elif percent > HUNDRED:
        reason = (reasons.DISCOUNT_EXCEEDS_AMOUNT if path.endswith("discount.percent")
                  else reasons.OUT_OF_RANGE)
        problems.add(path, "a percentage is at most 100", reason)
    elif decimal_places(percent) > INPUT_PLACES:
        problems.add(path, "a percentage has at most 4 fraction digits",
                     reasons.PRECISION_EXCEEDED)


def decimal_places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


class _Problems:
    def __init__(self, at: str) -> None:
        self._at = at
        self.violations: list[FieldViolation] = []

    def add(self, field: str, description: str, reason: str) -> None:
        path = f"{self._at}.{field}" if self._at else field
        self.violations.append(FieldViolation(path, description, reason))

    def raise_if_any(self) -> None:
        if self.violations:
            raise InvalidArgument(self.violations)
