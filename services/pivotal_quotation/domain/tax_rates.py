"""The organization's named tax rates; quote lines pin the rate's percentage and name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from pivotal_runtime.kit.resources import Versioned

from pivotal_quotation.domain.checks import Checks
from pivotal_quotation.domain.fields import ChangesFields
from pivotal_quotation.domain.pricing import AppliedTax

UPDATABLE = ("display_name", "rate_percent", "organization_default", "description")


@dataclass(frozen=True)
class TaxRateFields:
    display_name: str = ""
    rate_percent: Decimal = Decimal(0)
    organization_default: bool = False
    description: str = ""


def check_tax_rate(fields: TaxRateFields, at: str = "tax_rate") -> None:
    checks = Checks()
    checks.text(f"{at}.display_name", fields.display_name.strip(), 100, required=True)
    checks.percent(f"{at}.rate_percent", fields.rate_percent)
    checks.text(f"{at}.description", fields.description, 1000)
    checks.raise_if_any()


@dataclass
class TaxRate(ChangesFields, Versioned):
    id: str
    organization_id: str
    fields: TaxRateFields
    create_time: datetime
    update_time: datetime

    @property
    def applied(self) -> AppliedTax:
        return AppliedTax(self.fields.rate_percent, self.id, self.fields.display_name)
