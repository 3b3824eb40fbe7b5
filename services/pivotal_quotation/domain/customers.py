"""Customers of an organization: the parties quotes (and later projects and invoices) are for."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum

from pivotal_runtime.errors import InvalidState
from pivotal_runtime.kit.resources import Versioned

from pivotal_quotation.domain import reasons
from pivotal_quotation.domain.checks import Checks
from pivotal_quotation.domain.fields import ChangesFields

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_REGION = re.compile(r"^[A-Z]{2}$")
UPDATABLE = ("display_name", "legal_name", "email", "phone", "contact_name", "billing_address",
             "tax_id", "currency_code", "payment_terms_days", "notes")


class CustomerState(str, Enum):
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"


@dataclass(frozen=True)
class Address:
    address_lines: tuple[str, ...] = ()
    locality: str = ""
    administrative_area: str = ""
    postal_code: str = ""
    region_code: str = ""

    @property
    def empty(self) -> bool:
        return not (any(self.address_lines) or self.locality or self.administrative_area
                    or self.postal_code or self.region_code)

    def printed_lines(self) -> tuple[str, ...]:
        """The address as printed, without the country: street lines, `postal code locality`,
        area (the document prints the country's name in its own locale)."""
        town = " ".join(part for part in (self.postal_code, self.locality) if part)
        return tuple(line for line in (*self.address_lines, town, self.administrative_area)
                     if line)


@dataclass(frozen=True)
class CustomerFields:
    """What a client sets on a customer."""

    display_name: str = ""
    legal_name: str = ""
    email: str = ""
    phone: str = ""
    contact_name: str = ""
    billing_address: Address = field(default_factory=Address)
    tax_id: str = ""
    currency_code: str = ""
    payment_terms_days: int = 0
    notes: str = ""

    def normalized(self) -> CustomerFields:
        return replace(self, display_name=self.display_name.strip(),
                       email=self.email.strip().lower(),
                       currency_code=self.currency_code.strip().upper())


def check_customer(fields: CustomerFields, at: str = "customer") -> None:
    checks = Checks()
    checks.text(f"{at}.display_name", fields.display_name.strip(), 200, required=True)
    checks.text(f"{at}.legal_name", fields.legal_name, 200)
    if fields.email and (len(fields.email) > 254 or not _EMAIL.match(fields.email)):
        checks.add(f"{at}.email", "is not a valid email address", reasons.INVALID_FIELD)
    checks.text(f"{at}.phone", fields.phone, 50)
    checks.text(f"{at}.contact_name", fields.contact_name, 200)
    checks.text(f"{at}.tax_id", fields.tax_id, 50)
    checks.currency(f"{at}.currency_code", fields.currency_code, required=False)
    checks.within(f"{at}.payment_terms_days", fields.payment_terms_days, 0, 365)
    checks.text(f"{at}.notes", fields.notes, 4000)
    address, path = fields.billing_address, f"{at}.billing_address"
    if len(address.address_lines) > 4:
        checks.add(f"{path}.address_lines", "has at most 4 lines", reasons.OUT_OF_RANGE)
    for index, line in enumerate(address.address_lines):
        checks.text(f"{path}.address_lines[{index}]", line, 200)
    checks.text(f"{path}.locality", address.locality, 100)
    checks.text(f"{path}.administrative_area", address.administrative_area, 100)
    checks.text(f"{path}.postal_code", address.postal_code, 20)
    if not address.empty and not _REGION.match(address.region_code):
        checks.add(f"{path}.region_code", "is an ISO 3166-1 alpha-2 code, required with an "
                   "address", reasons.REQUIRED if not address.region_code else
                   reasons.INVALID_FIELD)
    checks.raise_if_any()


@dataclass
class Customer(ChangesFields, Versioned):
    id: str
    organization_id: str
    fields: CustomerFields
    create_time: datetime
    update_time: datetime
    state: CustomerState = CustomerState.ACTIVE
    archive_time: datetime | None = None

    @property
    def resource(self) -> str:
        return f"customers/{self.id}"

    @property
    def active(self) -> bool:
        return self.state is CustomerState.ACTIVE

    def archive(self, now: datetime) -> None:
        if not self.active:
            raise InvalidState(self.resource, "CUSTOMER_STATE_ARCHIVED", "archive")
        self.state, self.archive_time = CustomerState.ARCHIVED, now
        self.touch(now)

    def unarchive(self, now: datetime) -> None:
        if self.active:
            raise InvalidState(self.resource, "CUSTOMER_STATE_ACTIVE", "unarchive")
        self.state, self.archive_time = CustomerState.ACTIVE, None
        self.touch(now)
