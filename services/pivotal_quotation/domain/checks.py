"""Field checks every quotation resource uses: text lengths, currencies, percentages."""

from __future__ import annotations

from decimal import Decimal

from pivotal_runtime.errors import ViolationCollector

from pivotal_quotation.domain import reasons
from pivotal_quotation.domain.currencies import is_known_currency
from pivotal_quotation.domain.pricing import HUNDRED, INPUT_PLACES, decimal_places


class Checks(ViolationCollector):
    def text(self, path: str, value: str, limit: int, *, required: bool = False) -> None:
        if required and not value.strip():
            self.add(path, "is required", reasons.REQUIRED)
        elif len(value) > limit:
            self.add(path, f"has at most {limit} characters", reasons.TOO_LONG)

    def currency(self, path: str, code: str, *, required: bool = True) -> None:
        if not code and not required:
            return
        if not is_known_currency(code):
            self.add(path, f"{code!r} is not a known ISO 4217 currency",
                     reasons.CURRENCY_UNKNOWN)

    def percent(self, path: str, value: Decimal) -> None:
        if value < 0 or value > HUNDRED:
            self.add(path, "is a percentage from 0 to 100", reasons.OUT_OF_RANGE)
        elif decimal_places(value) > INPUT_PLACES:
            self.add(path, "has at most 4 fraction digits", reasons.PRECISION_EXCEEDED)

    def within(self, path: str, value: int, low: int, high: int) -> None:
        if not low <= value <= high:
            self.add(path, f"is from {low} to {high}", reasons.OUT_OF_RANGE)
