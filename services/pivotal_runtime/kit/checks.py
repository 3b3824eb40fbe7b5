"""Field checks most resources need, collected and raised together (pure code):

    checks = FieldChecks()
    checks.text("project.name", name, 200, required=True)
    checks.decimal("project.budget_hours", hours, places=2)
    checks.raise_if_any()    # INVALID_ARGUMENT naming every field at once
"""

from __future__ import annotations

from decimal import Decimal

from pivotal_runtime.errors import ViolationCollector
from pivotal_runtime.kit import field_reasons
from pivotal_runtime.kit.money import CurrencyError, minor_units


def decimal_places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


class FieldChecks(ViolationCollector):
    def text(self, path: str, value: str, limit: int, *, required: bool = False) -> None:
        if required and not value.strip():
            self.add(path, "is required", field_reasons.REQUIRED)
        elif len(value) > limit:
            self.add(path, f"has at most {limit} characters", field_reasons.TOO_LONG)

    def currency(self, path: str, code: str, *, required: bool = True) -> None:
        if not code and not required:
            return
        try:
            minor_units(code)
        except CurrencyError:
            self.add(path, f"{code!r} is not an ISO 4217 currency code",
                     field_reasons.INVALID_FORMAT if code else field_reasons.REQUIRED)

    def decimal(self, path: str, value: Decimal | None, *, places: int,
                positive: bool = False, maximum: Decimal | None = None) -> None:
        """Not negative (or, `positive`, greater than 0), at most `places` decimals and at
        most `maximum`; None passes (an optional value left unset)."""
        if value is None:
            return
        if value < 0 or (positive and value == 0):
            self.add(path, "is greater than 0" if positive else "is not negative",
                     field_reasons.OUT_OF_RANGE)
        elif maximum is not None and value > maximum:
            self.add(path, f"is at most {maximum}", field_reasons.OUT_OF_RANGE)
        elif decimal_places(value) > places:
            self.add(path, f"has at most {places} decimal places", field_reasons.INVALID_FORMAT)
