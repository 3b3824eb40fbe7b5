"""The organization's invoicing settings (a singleton, AIP-156) and the seller's legal
profile kept from identity's events. Pure code."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from pivotal_runtime.errors import ViolationCollector
from pivotal_runtime.kit.resources import Versioned

from pivotal_billing.domain import reasons
from pivotal_billing.domain.invoices import Tax

UPDATABLE = ("payment_instructions", "default_payment_terms_days", "default_tax_rate_id",
             "default_tax_rate_name", "default_tax_rate_percent")


@dataclass(frozen=True)
class SettingsFields:
    payment_instructions: str = ""
    default_payment_terms_days: int = 30
    default_tax_rate_id: str = ""
    default_tax_rate_name: str = ""
    default_tax_rate_percent: Decimal | None = None


def check_settings(fields: SettingsFields) -> None:
    v = ViolationCollector()
    at = "invoice_settings"
    if len(fields.payment_instructions) > 2000:
        v.add(f"{at}.payment_instructions", "has at most 2000 characters", reasons.TOO_LONG)
    if not 0 <= fields.default_payment_terms_days <= 365:
        v.add(f"{at}.default_payment_terms_days", "is from 0 to 365", reasons.OUT_OF_RANGE)
    if len(fields.default_tax_rate_name) > 100:
        v.add(f"{at}.default_tax_rate_name", "has at most 100 characters", reasons.TOO_LONG)
    percent = fields.default_tax_rate_percent
    if percent is not None and (not 0 <= percent <= 100
                                or -percent.as_tuple().exponent > 4):  # type: ignore[operator]
        v.add(f"{at}.default_tax_rate_percent", "is from 0 to 100 with at most 4 fraction "
              "digits", reasons.OUT_OF_RANGE)
    v.raise_if_any()


@dataclass
class InvoiceSettings(Versioned):
    organization_id: str
    fields: SettingsFields = field(default_factory=SettingsFields)
    update_time: datetime | None = None

    @property
    def id(self) -> str:
        return self.organization_id

    @property
    def default_tax(self) -> Tax:
        f = self.fields
        if f.default_tax_rate_percent is None:
            return Tax()
        return Tax(f.default_tax_rate_percent, f.default_tax_rate_id, f.default_tax_rate_name)


@dataclass(frozen=True)
class Seller:
    """The organization's legal profile for the documents (identity's Organization)."""

    organization_id: str
    display_name: str = ""
    legal_name: str = ""
    address_lines: tuple[str, ...] = ()
    tax_id: str = ""
    locale: str = "en"
    version: int = 0
    country_code: str = ""

    @property
    def printed_name(self) -> str:
        return self.legal_name or self.display_name
