"""An organization's time settings (home currency, default rate, lock date), the records of
lock changes, and people's default rates. Plain Python."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum

from pivotal_runtime.errors import (
    FailedPrecondition,
    FieldReason,
    FieldViolation,
    InvalidArgument,
    PreconditionViolation,
)
from pivotal_runtime.kit.resources import Versioned

from pivotal_time.domain import reasons

UPDATABLE = ("currency_code", "default_rate")


class LockAction(str, Enum):
    LOCK = "LOCK"
    UNLOCK = "UNLOCK"


@dataclass
class TimeSettings(Versioned):
    organization_id: str
    currency_code: str = ""
    default_rate: Decimal | None = None
    locked_until: date | None = None
    update_time: datetime | None = None

    def default_in(self, currency_code: str) -> Decimal | None:
        return self.default_rate if self.currency_code == currency_code else None


@dataclass(frozen=True)
class PeriodLock:
    id: str
    organization_id: str
    action: LockAction
    locked_until: date | None
    previous_locked_until: date | None
    reason: str
    actor_id: str
    create_time: datetime


def check_lock_move(settings: TimeSettings, locked_until: date | None, *, lock: bool) -> None:
    """LockPeriod moves the lock date forward, UnlockPeriod backward (or removes it)."""
    current = settings.locked_until
    if lock and locked_until is None:
        raise InvalidArgument([FieldViolation("locked_until", "is required",
                                              FieldReason.REQUIRED)])
    if lock and current is not None and locked_until <= current:
        raise InvalidArgument([FieldViolation(
            "locked_until", f"moves the lock date forward (it is {current.isoformat()})",
            FieldReason.OUT_OF_RANGE)])
    if not lock:
        if current is None:
            raise FailedPrecondition("no period is locked", [PreconditionViolation(
                "PERIOD_LOCK", f"organizations/{settings.organization_id}/timeSettings",
                "nothing is locked")])
        if locked_until is not None and locked_until >= current:
            raise InvalidArgument([FieldViolation(
                "locked_until", f"moves the lock date backward (it is {current.isoformat()})",
                FieldReason.OUT_OF_RANGE)])


def unapproved_refusal(entry_ids: list[str]) -> FailedPrecondition:
    return FailedPrecondition(
        f"{len(entry_ids)} entries in the period are not approved",
        [PreconditionViolation("TIME_ENTRY", f"timeEntries/{entry_id}", "not approved")
         for entry_id in entry_ids[:20]], reason=reasons.UNAPPROVED_ENTRIES_IN_PERIOD)


@dataclass
class UserRate(Versioned):
    id: str
    organization_id: str
    user_id: str
    currency_code: str
    rate: Decimal
    effective_from: date
    creator_id: str
    create_time: datetime
    update_time: datetime
    effective_until: date | None = None


def rate_on(rates: list[UserRate], day: date) -> Decimal | None:
    """The version in force on `day` of one person's rates in one currency."""
    current = None
    for rate in sorted(rates, key=lambda r: r.effective_from):
        if rate.effective_from <= day:
            current = rate
    return current.rate if current is not None else None


def with_until(rates: list[UserRate]) -> list[UserRate]:
    """Each version's last day: the day before the next version of the same person and
    currency; unset for the latest."""
    ordered = sorted(rates, key=lambda r: (r.user_id, r.currency_code, r.effective_from))
    for rate, following in zip(ordered, [*ordered[1:], None], strict=False):
        same = following is not None and (following.user_id, following.currency_code) == (
            rate.user_id, rate.currency_code)
        rate.effective_until = following.effective_from - timedelta(days=1) if same else None
    return ordered
