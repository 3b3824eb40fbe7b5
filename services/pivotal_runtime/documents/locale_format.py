"""Amounts, quantities, percentages and dates as the organization's locale writes them
(Unicode CLDR through babel): `1.234,50 €` in de-DE, `£1,234.50` in en-GB, `KWD 1,234.567`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent

from pivotal_runtime.kit.money import Money, minor_units

FALLBACK_LOCALE = "en"


def locale_of(tag: str) -> Locale:
    """A BCP 47 tag (`de-DE`, `en_GB`, `fr`) as a babel Locale; English when unknown."""
    try:
        return Locale.parse(tag.replace("-", "_")) if tag else Locale.parse(FALLBACK_LOCALE)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(FALLBACK_LOCALE)


class LocaleFormat:
    def __init__(self, tag: str) -> None:
        self.locale = locale_of(tag)

    def money(self, amount: Money) -> str:
        """Exactly the currency's minor units (JPY none, KWD three)."""
        exact = amount.amount.quantize(Decimal(1).scaleb(-minor_units(amount.currency_code)))
        return _plain(format_currency(exact, amount.currency_code, locale=self.locale,
                                      decimal_quantization=False))

    def unit_price(self, amount: Money, max_places: int = 4) -> str:
        """A price per unit (an hourly rate): the currency's minor units, or more (up to
        `max_places`) when the rate has them, so quantity × price reads true."""
        places = max(minor_units(amount.currency_code),
                     min(max_places, -amount.amount.normalize().as_tuple().exponent))
        exact = amount.amount.quantize(Decimal(1).scaleb(-places))
        return _plain(format_currency(exact, amount.currency_code, locale=self.locale,
                                      decimal_quantization=False))

    def number(self, value: Decimal) -> str:
        return _plain(format_decimal(value.normalize() if value == value.to_integral()
                                     else value, locale=self.locale,
                                     decimal_quantization=False))

    def percent(self, value: Decimal) -> str:
        return _plain(format_percent(value / 100, locale=self.locale,
                                     decimal_quantization=False))

    def country(self, region_code: str) -> str:
        """The country's name in this locale (`DE` → `Deutschland` in de-DE)."""
        return self.locale.territories.get(region_code.upper(), region_code)

    def date(self, value: date) -> str:
        return _plain(format_date(value, "long", locale=self.locale))


def _plain(text: str) -> str:
    """Narrow and ordinary no-break spaces become plain spaces, which every font has."""
    return text.replace("\u202f", "\u00a0")
