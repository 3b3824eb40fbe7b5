"""Money as domains compute it: exact decimals, ISO 4217 minor units, half-even rounding,
largest-remainder allocation. Pure code (no infrastructure): a domain may import it.

    total = Money.of("100.00", "EUR")
    total.allocate([1, 1, 1])            # 33.34 + 33.33 + 33.33, always summing to total
    round_half_even(Decimal("2.345"), 2) # 2.34
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

# ISO 4217 currencies whose minor unit is not 2 (all others: 2).
_MINOR_UNITS: dict[str, int] = {
    # 0 decimals
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0,
    "XPF": 0,
    # 3 decimals
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    # 4 decimals
    "CLF": 4, "UYW": 4,
}


class CurrencyError(ValueError):
    pass


def minor_units(currency_code: str) -> int:
    """Decimal places of `currency_code` (JPY 0, EUR 2, KWD 3)."""
    if len(currency_code) != 3 or not currency_code.isalpha() or not currency_code.isupper():
        raise CurrencyError(f"{currency_code!r} is not an ISO 4217 currency code")
    return _MINOR_UNITS.get(currency_code, 2)


def round_half_even(value: Decimal, places: int) -> Decimal:
    """`value` rounded to `places` decimals, ties to even (banker's rounding)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def round_to_minor(value: Decimal, currency_code: str) -> Decimal:
    return round_half_even(value, minor_units(currency_code))


def allocate(amount: Decimal, weights: Sequence[Decimal | int], places: int) -> list[Decimal]:
    """Spreads `amount` (already at `places` decimals) over `weights` by largest remainder:
    each part is its share rounded down to the minor unit, and the units left over go to the
    parts with the largest remainders (earlier parts first on ties). The parts always sum to
    `amount` exactly; a negative amount is allocated like its opposite, negated."""
    weights = [Decimal(w) for w in weights]
    if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
        raise ValueError("allocation needs non-negative weights with a positive sum")
    unit = Decimal(1).scaleb(-places)
    if amount != round_half_even(amount, places):
        raise ValueError(f"{amount} has more than {places} decimals")
    if amount < 0:
        return [-part for part in allocate(-amount, weights, places)]
    units = int(amount / unit)
    total_weight = sum(weights)
    exact = [Decimal(units) * w / total_weight for w in weights]
    floors = [int(e) for e in exact]
    left = units - sum(floors)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for index in by_remainder[:left]:
        floors[index] += 1
    return [Decimal(n) * unit for n in floors]


@dataclass(frozen=True)
class Money:
    """An amount in a currency, at any precision (round it with `rounded()`)."""

    amount: Decimal
    currency_code: str

    def __post_init__(self) -> None:
        minor_units(self.currency_code)
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite():
            raise ValueError("Money needs a finite Decimal amount")

    @classmethod
    def of(cls, amount: Decimal | int | str, currency_code: str) -> Money:
        return cls(Decimal(amount), currency_code)

    @classmethod
    def zero(cls, currency_code: str) -> Money:
        return cls(Decimal(0), currency_code)

    def _same(self, other: Money) -> None:
        if other.currency_code != self.currency_code:
            raise CurrencyError(f"cannot combine {self.currency_code} and {other.currency_code}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency_code)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency_code)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency_code)

    def times(self, factor: Decimal | int) -> Money:
        return Money(self.amount * Decimal(factor), self.currency_code)

    def rounded(self) -> Money:
        """Rounded half-even to the currency's minor units."""
        return Money(round_to_minor(self.amount, self.currency_code), self.currency_code)

    def allocate(self, weights: Sequence[Decimal | int]) -> list[Money]:
        places = minor_units(self.currency_code)
        parts = allocate(self.rounded().amount, weights, places)
        return [Money(part, self.currency_code) for part in parts]
