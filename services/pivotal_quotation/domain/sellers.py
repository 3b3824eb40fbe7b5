"""The seller's legal profile, kept from identity's organization events for the quote PDF."""

from __future__ import annotations

from dataclasses import dataclass, field

from pivotal_quotation.domain.customers import Address


@dataclass(frozen=True)
class SellerProfile:
    organization_id: str
    display_name: str
    legal_name: str = ""
    address: Address = field(default_factory=Address)
    tax_id: str = ""
    locale: str = "en"
    time_zone: str = "UTC"
    version: int = 0  # the organization's version in identity

    @property
    def printed_name(self) -> str:
        return self.legal_name or self.display_name


def newer(current: SellerProfile | None, incoming: SellerProfile) -> bool:
    """A replica applies only a newer version (a late, retried event changes nothing)."""
    return current is None or incoming.version > current.version
