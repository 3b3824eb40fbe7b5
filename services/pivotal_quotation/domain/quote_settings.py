"""The organization's quotation settings (a singleton, AIP-156), defaults until first changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from pivotal_runtime.kit.money import Money
from pivotal_runtime.kit.resources import Versioned

from pivotal_quotation.domain import reasons
from pivotal_quotation.domain.checks import Checks
from pivotal_quotation.domain.fields import ChangesFields
from pivotal_quotation.domain.pricing import decimal_places

UPDATABLE = ("approval_thresholds", "default_validity_days", "default_currency_code",
             "default_notes", "hours_per_day")
DEFAULT_HOURS_PER_DAY = Decimal(8)


@dataclass(frozen=True)
class SettingsFields:
    approval_thresholds: tuple[Money, ...] = ()
    default_validity_days: int = 30
    default_currency_code: str = ""
    default_notes: str = ""
    hours_per_day: Decimal = DEFAULT_HOURS_PER_DAY


def check_settings(fields: SettingsFields, at: str = "quote_settings") -> None:
    checks = Checks()
    seen: set[str] = set()
    for index, threshold in enumerate(fields.approval_thresholds):
        path = f"{at}.approval_thresholds[{index}]"
        checks.currency(f"{path}.currency_code", threshold.currency_code)
        if threshold.currency_code in seen:
            checks.add(f"{path}.currency_code", "one threshold per currency",
                       reasons.INVALID_FIELD)
        seen.add(threshold.currency_code)
        if threshold.amount < 0:
            checks.add(path, "is not negative", reasons.OUT_OF_RANGE)
    checks.within(f"{at}.default_validity_days", fields.default_validity_days, 1, 365)
    checks.currency(f"{at}.default_currency_code", fields.default_currency_code, required=False)
    checks.text(f"{at}.default_notes", fields.default_notes, 4000)
    hours = fields.hours_per_day
    if not Decimal("0.25") <= hours <= 24 or decimal_places(hours) > 2:
        checks.add(f"{at}.hours_per_day", "is from 0.25 to 24 with at most 2 fraction digits",
                   reasons.OUT_OF_RANGE)
    checks.raise_if_any()


@dataclass
class QuoteSettings(ChangesFields, Versioned):
    organization_id: str
    fields: SettingsFields = field(default_factory=SettingsFields)
    update_time: datetime | None = None

    @property
    def id(self) -> str:
        return self.organization_id

    def threshold_for(self, currency_code: str) -> Money | None:
        return next((t for t in self.fields.approval_thresholds
                     if t.currency_code == currency_code), None)
