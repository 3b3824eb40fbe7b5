"""The lockout rule: at most `max_attempts` password checks per email within a window.

An attempt is *admitted* (counted) before its password is checked and the count is reset
when the password proves right. Counting first is what bounds parallel guessing: twenty
simultaneous attempts against a limit of five admit exactly five, and the other fifteen are
refused without their password ever being checked. The caller runs `admit` and
`after_failure` on a locked row (or a single serialized transaction), so the rule is atomic.
Emails that belong to no user are counted the same way, so a lock reveals nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class LockoutPolicy:
    max_attempts: int
    window: timedelta
    period: timedelta


@dataclass(frozen=True)
class Admission:
    admitted: bool
    retry_after_seconds: float = 0.0


@dataclass
class LoginAttempts:
    email: str
    failed_count: int = 0
    window_start: datetime | None = None
    locked_until: datetime | None = None

    def locked_at(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now

    def admit(self, policy: LockoutPolicy, now: datetime) -> Admission:
        if self.locked_at(now):
            return Admission(False, (self.locked_until - now).total_seconds())
        if self.locked_until is not None or (
            self.window_start is not None and self.window_start + policy.window <= now
        ):
            self.reset()
        if self.failed_count >= policy.max_attempts:
            # The limit is taken by attempts still being checked; one of them will lock.
            return Admission(False, policy.period.total_seconds())
        self.failed_count += 1
        if self.window_start is None:
            self.window_start = now
        return Admission(True)

    def after_failure(self, policy: LockoutPolicy, now: datetime) -> bool:
        """Locks when the admitted failures reached the limit; True when this call locked."""
        if self.locked_until is None and self.failed_count >= policy.max_attempts:
            self.locked_until = now + policy.period
            return True
        return False

    def reset(self) -> None:
        self.failed_count = 0
        self.window_start = None
        self.locked_until = None
