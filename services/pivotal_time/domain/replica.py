"""Time's own copy of projects, memberships and tasks, kept from project's events so that time
keeps working while the project service is down. Each copy applies only a newer version.
Plain Python."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

ACTIVE = "ACTIVE"


@dataclass(frozen=True)
class PinnedRateCopy:
    quote_line_item_id: str
    role: str
    prices_time: bool
    hourly_rate: Decimal | None
    tax_rate_id: str = ""
    tax_rate_name: str = ""
    tax_rate_percent: Decimal | None = None


@dataclass(frozen=True)
class ProjectCopy:
    id: str
    organization_id: str
    name: str
    state: str  # a ProjectState name without prefix: PLANNED, ACTIVE, ...
    customer_id: str
    currency_code: str
    billing_model: str  # TIME_AND_MATERIALS, FIXED_PRICE, NON_BILLABLE
    source_quote_id: str
    pinned_rates: tuple[PinnedRateCopy, ...]
    version: int

    @property
    def active(self) -> bool:
        return self.state == ACTIVE

    def rate_of_line(self, quote_line_item_id: str) -> PinnedRateCopy | None:
        return next((r for r in self.pinned_rates
                     if r.quote_line_item_id == quote_line_item_id and r.prices_time), None)


@dataclass(frozen=True)
class MemberCopy:
    organization_id: str
    project_id: str
    member_id: str
    user_id: str
    project_role: str
    hourly_rate: Decimal | None
    quote_line_item_id: str
    version: int
    removed: bool = False


@dataclass(frozen=True)
class TaskCopy:
    organization_id: str
    project_id: str
    task_id: str
    quote_line_item_id: str
    version: int
    deleted: bool = False


@dataclass(frozen=True)
class OrganizationCopy:
    """The organization's time zone, from identity's organization events."""

    organization_id: str
    time_zone: str
    version: int


def newer(current, incoming) -> bool:
    """Whether `incoming` replaces `current` (a copy with a version, or None)."""
    return current is None or incoming.version > current.version
