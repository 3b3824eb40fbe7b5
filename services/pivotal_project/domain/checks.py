"""The field checks of project resources: the kit's, plus hours and money amounts."""

from __future__ import annotations

from decimal import Decimal

from pivotal_runtime.kit.checks import FieldChecks


class Checks(FieldChecks):
    def hours(self, path: str, value: Decimal | None) -> None:
        self.decimal(path, value, places=2)

    def not_negative(self, path: str, value: Decimal | None) -> None:
        self.decimal(path, value, places=9)
