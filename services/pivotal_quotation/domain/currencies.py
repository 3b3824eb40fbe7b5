"""Which currency codes a quote, rate card or customer may use: ISO 4217 currencies that are
legal tender somewhere since 2010, as the Unicode CLDR (through babel) records them. Minor
units and rounding stay the runtime's (`pivotal_runtime.kit.money`)."""

from __future__ import annotations

from datetime import date
from functools import cache

from babel import Locale
from babel.numbers import get_territory_currencies

_SINCE = date(2010, 1, 1)
_UNTIL = date(2100, 1, 1)


@cache
def known_currencies() -> frozenset[str]:
    codes: set[str] = set()
    for territory in Locale("en").territories:
        codes.update(get_territory_currencies(territory, _SINCE, _UNTIL, tender=True))
    return frozenset(codes)


def is_known_currency(code: str) -> bool:
    return code in known_currencies()
