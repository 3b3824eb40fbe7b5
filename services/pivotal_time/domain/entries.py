"""Time entries: duration, the person's day, overlaps, the period lock and the approval
workflow. Plain Python."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pivotal_runtime.errors import (
    FailedPrecondition,
    FieldReason,
    FieldViolation,
    InvalidArgument,
    InvalidState,
    PermissionDenied,
    PreconditionViolation,
)
from pivotal_runtime.kit.checks import FieldChecks, decimal_places
from pivotal_runtime.kit.money import round_half_even
from pivotal_runtime.kit.resources import Versioned

from pivotal_time.domain import reasons
from pivotal_time.domain.rates import RateSource, ResolvedRate

DAY_HOURS = Decimal(24)
UPDATABLE = ("project_id", "task_id", "date", "hours", "start_time", "end_time",
             "description", "billable")
# A change of these resolves the rate again (as of the new project, task or date).
REPRICING = ("project_id", "task_id", "date")


class EntryState(str, Enum):
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"

    @property
    def editable(self) -> bool:
        return self in (EntryState.DRAFT, EntryState.REJECTED)


@dataclass(frozen=True)
class EntryFields:
    """What a client sets on an entry."""

    user_id: str = ""
    project_id: str = ""
    task_id: str = ""
    date: dt.date | None = None  # (`dt.`: the field's name shadows the type)
    hours: Decimal | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    description: str = ""
    billable: bool = True

    @property
    def timed(self) -> bool:
        return self.start_time is not None and self.end_time is not None


def _invalid(path: str, description: str, reason: str, **metadata: str) -> InvalidArgument:
    return InvalidArgument([FieldViolation(path, description, FieldReason.OUT_OF_RANGE)],
                           reason=reason, metadata=metadata)


def settle_fields(fields: EntryFields, at: str = "time_entry") -> EntryFields:
    """The fields with `hours` computed from start/end when given; INVALID_ARGUMENT
    (DURATION_INVALID) for a duration that is not positive, over 24 hours, finer than a
    hundredth, or that disagrees with the span."""
    checks = FieldChecks()
    checks.text(f"{at}.project_id", fields.project_id, 100, required=True)
    checks.text(f"{at}.description", fields.description, 2000)
    if fields.date is None:
        checks.add(f"{at}.date", "is required", FieldReason.REQUIRED)
    checks.raise_if_any()
    hours = fields.hours
    if (fields.start_time is None) != (fields.end_time is None):
        missing = "end_time" if fields.end_time is None else "start_time"
        raise _invalid(f"{at}.{missing}", "start_time and end_time are set together",
                       reasons.DURATION_INVALID)
    if fields.timed:
        if fields.end_time <= fields.start_time:
            raise _invalid(f"{at}.end_time", "is after start_time", reasons.DURATION_INVALID)
        if fields.end_time - fields.start_time > timedelta(hours=24):
            raise _invalid(f"{at}.end_time", "is at most 24 hours after start_time",
                           reasons.DURATION_INVALID)
        span = round_half_even(
            Decimal((fields.end_time - fields.start_time).total_seconds()) / 3600, 2)
        if hours is not None and hours != span:
            raise _invalid(f"{at}.hours", f"disagrees with the start/end span ({span})",
                           reasons.DURATION_INVALID)
        hours = span
    if hours is None or hours <= 0:
        raise _invalid(f"{at}.hours", "is greater than 0", reasons.DURATION_INVALID)
    if hours > DAY_HOURS:
        raise _invalid(f"{at}.hours", "is at most 24", reasons.DURATION_INVALID)
    if decimal_places(hours) > 2:
        raise _invalid(f"{at}.hours", "has at most 2 decimal places", reasons.DURATION_INVALID)
    return replace(fields, hours=hours, description=fields.description.strip())


def check_local_day(fields: EntryFields, time_zone: str, at: str = "time_entry") -> None:
    """A timed entry counts on the day its work started in the organization's time zone."""
    if not fields.timed or not time_zone:
        return
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return  # an unknown zone from identity: the client's date stands
    local = fields.start_time.astimezone(zone).date()
    if local != fields.date:
        raise InvalidArgument([FieldViolation(
            f"{at}.date", f"is the day the work started in the organization's time zone "
            f"({time_zone}): {local.isoformat()}", FieldReason.OUT_OF_RANGE)],
            reason=reasons.DURATION_INVALID)


def check_day(hours: Decimal, booked_hours: Decimal, day: date, at: str = "time_entry") -> None:
    """The person's other entries on `day` plus this one stay within 24 hours."""
    if booked_hours + hours > DAY_HOURS:
        raise _invalid(f"{at}.hours", f"the person already has {booked_hours} hours on "
                       f"{day.isoformat()}; a day has 24", reasons.DAILY_HOURS_EXCEEDED,
                       date=day.isoformat(), booked_hours=format(booked_hours, "f"))


def check_overlap(fields: EntryFields, others: list[TimeEntry], at: str = "time_entry") -> None:
    """A start/end span overlaps none of the person's other timed entries."""
    if not fields.timed:
        return
    for other in others:
        if (other.fields.timed and other.fields.start_time < fields.end_time
                and fields.start_time < other.fields.end_time):
            raise InvalidArgument(
                [FieldViolation(f"{at}.start_time", f"overlaps time entry {other.id} "
                                f"({other.fields.start_time.isoformat()} to "
                                f"{other.fields.end_time.isoformat()})",
                                FieldReason.OUT_OF_RANGE)],
                reason=reasons.TIME_ENTRY_OVERLAP, metadata={"time_entry_id": other.id})


def check_unlocked(day: date, locked_until: date | None, subject: str) -> None:
    if locked_until is not None and day <= locked_until:
        raise FailedPrecondition(
            f"{day.isoformat()} is in a locked period (locked until "
            f"{locked_until.isoformat()})",
            [PreconditionViolation("PERIOD_LOCK", subject,
                                   f"entries on or before {locked_until.isoformat()} are locked")],
            reason=reasons.PERIOD_LOCKED, metadata={"locked_until": locked_until.isoformat()})


@dataclass(frozen=True)
class Pricing:
    """The rate stored on an entry when it is priced, and what it traces to."""

    currency_code: str
    resolved: ResolvedRate
    amount: Decimal
    customer_id: str = ""
    quote_id: str = ""
    project_role: str = ""


@dataclass(frozen=True)
class Transition:
    from_state: EntryState | None
    to_state: EntryState
    actor_id: str
    reason: str
    time: datetime


@dataclass
class TimeEntry(Versioned):
    id: str
    organization_id: str
    fields: EntryFields
    pricing: Pricing
    creator_id: str
    create_time: datetime
    update_time: datetime
    state: EntryState = EntryState.DRAFT
    rejection_reason: str = ""
    approver_id: str = ""
    submit_time: datetime | None = None
    approve_time: datetime | None = None
    transitions: list[Transition] = field(default_factory=list)

    @property
    def resource(self) -> str:
        return f"timeEntries/{self.id}"

    @property
    def rate_source(self) -> RateSource:
        return self.pricing.resolved.source

    def locked(self, locked_until: date | None) -> bool:
        return self.state is EntryState.APPROVED or (
            locked_until is not None and self.fields.date <= locked_until)

    def _move(self, to: EntryState, actor_id: str, reason: str, now: datetime) -> None:
        self.transitions.append(Transition(self.state, to, actor_id, reason, now))
        self.state = to
        self.touch(now)

    def check_editable(self, action: str) -> None:
        if not self.state.editable:
            raise InvalidState(self.resource, f"TIME_ENTRY_STATE_{self.state.value}", action)

    def change(self, fields: EntryFields, names: list[str], pricing: Pricing, now: datetime
               ) -> list[str]:
        self.check_editable("update")
        changed = [n for n in names if getattr(fields, n) != getattr(self.fields, n)]
        if changed or pricing != self.pricing:
            self.fields, self.pricing = fields, pricing
            self.touch(now)
        return changed

    def submit(self, actor_id: str, now: datetime) -> None:
        self.check_editable("submit")
        self.rejection_reason, self.submit_time = "", now
        self._move(EntryState.SUBMITTED, actor_id, "", now)

    def _check_reviewer(self, actor_id: str, action: str) -> None:
        if self.state is not EntryState.SUBMITTED:
            raise InvalidState(self.resource, f"TIME_ENTRY_STATE_{self.state.value}", action)
        if actor_id == self.fields.user_id:
            raise PermissionDenied(f"an approver cannot {action} their own time",
                                   reason=reasons.SELF_APPROVAL_FORBIDDEN)

    def approve(self, actor_id: str, now: datetime) -> None:
        self._check_reviewer(actor_id, "approve")
        self.approver_id, self.approve_time = actor_id, now
        self._move(EntryState.APPROVED, actor_id, "", now)

    def reject(self, actor_id: str, reason: str, now: datetime) -> None:
        reason = reason.strip()
        if not reason or len(reason) > 1000:
            raise InvalidArgument([FieldViolation(
                "reason", "is 1 to 1000 characters",
                FieldReason.REQUIRED if not reason else FieldReason.TOO_LONG)])
        self._check_reviewer(actor_id, "reject")
        self.approver_id, self.rejection_reason = actor_id, reason
        self._move(EntryState.REJECTED, actor_id, reason, now)
