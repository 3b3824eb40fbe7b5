"""What a document prints about a party. Pure code: a domain's view model may use it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Party:
    """A seller or customer as printed: name, then the lines under it."""

    name: str
    address_lines: tuple[str, ...] = ()
    tax_id: str = ""
    contact: str = ""
    email: str = ""
    country_code: str = ""  # ISO 3166-1 alpha-2, printed as the country's name
