"""Members of a project's team and the allocation rule: for every day, one person's
allocations over their open projects sum to at most 100%. Plain Python."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from pivotal_runtime.errors import (
    FailedPrecondition,
    FieldReason,
    FieldViolation,
    InvalidArgument,
    PreconditionViolation,
)
from pivotal_runtime.kit.resources import Versioned

from pivotal_project.domain import reasons
from pivotal_project.domain.checks import Checks
from pivotal_project.domain.projects import ProjectFields

UPDATABLE = ("project_role", "hourly_rate", "allocation", "quote_line_item_id")
FULL = Decimal(100)


@dataclass(frozen=True)
class Allocation:
    percent: Decimal
    start_date: date
    end_date: date | None = None  # open-ended

    @property
    def last_day(self) -> date:
        return self.end_date or date.max

    def overlaps(self, other: Allocation) -> bool:
        return self.start_date <= other.last_day and other.start_date <= self.last_day

    def covers(self, day: date) -> bool:
        return self.start_date <= day <= self.last_day

    def describe(self) -> str:
        until = f"to {self.end_date.isoformat()}" if self.end_date else "open-ended"
        return f"{self.percent.normalize():f}% from {self.start_date.isoformat()} {until}"


@dataclass(frozen=True)
class MemberFields:
    user_id: str = ""
    project_role: str = ""
    hourly_rate: Decimal | None = None
    allocation: Allocation | None = None
    quote_line_item_id: str = ""

    def normalized(self) -> MemberFields:
        return replace(self, user_id=self.user_id.strip(), project_role=self.project_role.strip())


def check_member(fields: MemberFields, project: ProjectFields, at: str = "member") -> None:
    checks = Checks()
    checks.text(f"{at}.user_id", fields.user_id, 100, required=True)
    checks.text(f"{at}.project_role", fields.project_role, 100, required=True)
    checks.not_negative(f"{at}.hourly_rate", fields.hourly_rate)
    allocation = fields.allocation
    if allocation is not None:
        checks.decimal(f"{at}.allocation.percent", allocation.percent, places=2, positive=True,
                       maximum=FULL)
        if allocation.end_date and allocation.end_date < allocation.start_date:
            checks.add(f"{at}.allocation.end_date", "is on or after start_date",
                       reasons.OUT_OF_RANGE)
    checks.raise_if_any()
    if fields.quote_line_item_id:
        rate = project.rate_of_line(fields.quote_line_item_id)
        if rate is None or not rate.prices_time:
            raise InvalidArgument([FieldViolation(
                f"{at}.quote_line_item_id", "is not a time-priced line of the project's pinned "
                "rates", FieldReason.UNKNOWN_REFERENCE)], reason=reasons.UNKNOWN_QUOTE_LINE)


@dataclass
class Member(Versioned):
    id: str
    organization_id: str
    project_id: str
    fields: MemberFields
    create_time: datetime
    update_time: datetime
    # The project's revision at this membership's last change (its events' `version`).
    revision: int = 1

    @property
    def resource(self) -> str:
        return f"projects/{self.project_id}/members/{self.id}"

    def change(self, fields: MemberFields, names: list[str], now: datetime) -> list[str]:
        changed = [n for n in names if getattr(fields, n) != getattr(self.fields, n)]
        if changed:
            self.fields = fields
            self.touch(now)
        return changed


@dataclass(frozen=True)
class OtherAllocation:
    """One of the person's other memberships in an open project."""

    project_id: str
    member_id: str
    project_name: str
    allocation: Allocation


def check_allocation(user_id: str, requested: Allocation | None,
                     others: list[OtherAllocation]) -> None:
    """FAILED_PRECONDITION (OVER_ALLOCATION) naming every other allocation that is in force
    on a day where the sum goes over 100%."""
    if requested is None:
        return
    overlapping = [o for o in others if o.allocation.overlaps(requested)]
    peak_percent, peak_date, over_days = Decimal(0), None, []
    for day in _boundaries(requested, overlapping):
        total = requested.percent + sum((o.allocation.percent for o in overlapping
                                         if o.allocation.covers(day)), Decimal(0))
        if total > FULL:
            over_days.append(day)
            if peak_date is None:
                peak_date = day
        peak_percent = max(peak_percent, total)
    if not over_days:
        return
    conflicts = [o for o in overlapping if any(o.allocation.covers(d) for d in over_days)]
    raise FailedPrecondition(
        f"{user_id} would be allocated {peak_percent.normalize():f}% on "
        f"{peak_date.isoformat()}",
        [PreconditionViolation("ALLOCATION", f"projects/{o.project_id}/members/{o.member_id}",
                               f"{o.project_name}: {o.allocation.describe()}")
         for o in conflicts],
        reason=reasons.OVER_ALLOCATION,
        metadata={"user_id": user_id, "requested_percent": f"{requested.percent.normalize():f}",
                  "peak_percent": f"{peak_percent.normalize():f}",
                  "peak_date": peak_date.isoformat()})


def _boundaries(requested: Allocation, others: list[OtherAllocation]) -> list[date]:
    """The days on which the sum can change inside the requested range: its start and every
    other allocation's start and day after its end."""
    days = {requested.start_date}
    for other in others:
        days.add(other.allocation.start_date)
        if other.allocation.end_date and other.allocation.end_date < date.max:
            days.add(other.allocation.end_date + timedelta(days=1))
    return sorted(d for d in days if requested.covers(d))
