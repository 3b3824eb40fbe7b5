"""Which hourly rate prices a time entry, and the money rule. Plain Python.

Resolution, in order: the pinned rate of the quote line the membership links to (or, when it
names none, the pinned rate matched by the member's role: the task's line among several, else
the first, reported as a fallback); the member's project rate; the person's default rate in
force on the entry's date in the project's currency; the organization default in that
currency. A billable entry without any is refused; a non-billable one gets a zero rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from pivotal_runtime.errors import FailedPrecondition, PreconditionViolation
from pivotal_runtime.kit.money import round_to_minor

from pivotal_time.domain import reasons
from pivotal_time.domain.replica import MemberCopy, PinnedRateCopy, ProjectCopy, TaskCopy


class RateSource(str, Enum):
    QUOTE_PINNED = "QUOTE_PINNED"
    MEMBER_PROJECT_RATE = "MEMBER_PROJECT_RATE"
    USER_DEFAULT = "USER_DEFAULT"
    ORGANIZATION_DEFAULT = "ORGANIZATION_DEFAULT"
    NONE = "NONE"


@dataclass(frozen=True)
class ResolvedRate:
    rate: Decimal
    source: RateSource
    quote_line_item_id: str = ""
    tax_rate_id: str = ""
    tax_rate_name: str = ""
    tax_rate_percent: Decimal | None = None
    matched_by_role: bool = False


def amount_of(hours: Decimal, rate: Decimal, currency_code: str) -> Decimal:
    """hours × rate, half-even to the currency's minor units."""
    return round_to_minor(hours * rate, currency_code)


def _pinned(rate: PinnedRateCopy, by_role: bool) -> ResolvedRate:
    return ResolvedRate(rate.hourly_rate or Decimal(0), RateSource.QUOTE_PINNED,
                        rate.quote_line_item_id, rate.tax_rate_id, rate.tax_rate_name,
                        rate.tax_rate_percent, by_role)


def _by_role(project: ProjectCopy, member: MemberCopy, task: TaskCopy | None
             ) -> PinnedRateCopy | None:
    role = member.project_role.strip().lower()
    candidates = [r for r in project.pinned_rates
                  if r.prices_time and r.hourly_rate is not None and role
                  and r.role.strip().lower() == role]
    if task is not None and task.quote_line_item_id:
        for rate in candidates:
            if rate.quote_line_item_id == task.quote_line_item_id:
                return rate
    return candidates[0] if candidates else None


def resolve_rate(project: ProjectCopy, member: MemberCopy, task: TaskCopy | None,
                 user_default: Decimal | None, organization_default: Decimal | None,
                 billable: bool) -> ResolvedRate:
    if member.quote_line_item_id:
        linked = project.rate_of_line(member.quote_line_item_id)
        if linked is not None and linked.hourly_rate is not None:
            return _pinned(linked, by_role=False)
    else:
        matched = _by_role(project, member, task)
        if matched is not None:
            return _pinned(matched, by_role=True)
    if member.hourly_rate is not None:
        return ResolvedRate(member.hourly_rate, RateSource.MEMBER_PROJECT_RATE)
    if user_default is not None:
        return ResolvedRate(user_default, RateSource.USER_DEFAULT)
    if organization_default is not None:
        return ResolvedRate(organization_default, RateSource.ORGANIZATION_DEFAULT)
    if billable:
        raise FailedPrecondition(
            "no rate in the project's currency applies to this billable entry",
            [PreconditionViolation("RATE", f"projects/{project.id}",
                                   f"no pinned, member, personal or organization rate in "
                                   f"{project.currency_code}")],
            reason=reasons.RATE_NOT_FOUND)
    return ResolvedRate(Decimal(0), RateSource.NONE)
