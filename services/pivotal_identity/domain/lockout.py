"""The lockout rule (docs/security.md, "Lockout"; OWASP ASVS V2.2.1).

Two counters guard each account. The strict one counts per (account, client address): at
most `max_attempts` password checks within a window, then that client is locked out of that
account for a period; an attacker elsewhere on the internet cannot use it to lock out the real
user. The account-wide one counts every client together with a much higher limit (by default
100 per hour, ASVS's ceiling), so that guessing from many addresses stays bounded too; when it
trips, the account is locked for everyone (UserLocked).

Each counter follows the rule below: at most `max_attempts` password checks within a window.

An attempt is *admitted* (counted) before its password is checked and the count is reset
when the password proves right. Counting first is what bounds parallel guessing: twenty
simultaneous attempts against a limit of five admit exactly five, and the other fifteen are
refused without their password ever being checked. The caller runs `admit` and
`after_failure` on a locked row (or a single serialized transaction), so the rule is atomic.
Emails that belong to no user are counted the same way, so a lock reveals nothing.
"""

from __future__ import annotations

import hashlib
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

    def give_back(self) -> None:
        """Returns an admitted attempt's slot (the other counter refused it)."""
        self.failed_count = max(0, self.failed_count - 1)

    def reset(self) -> None:
        self.failed_count = 0
        self.window_start = None
        self.locked_until = None


@dataclass(frozen=True)
class LockoutPolicies:
    per_client: LockoutPolicy
    account: LockoutPolicy


def admit_attempt(client: LoginAttempts, account: LoginAttempts, policies: LockoutPolicies,
                  now: datetime) -> Admission:
    """Counts an attempt in both counters, or in neither (both rows locked by the caller)."""
    on_account = account.admit(policies.account, now)
    if not on_account.admitted:
        return on_account
    on_client = client.admit(policies.per_client, now)
    if not on_client.admitted:
        account.give_back()
    return on_client


def _hashed(kind: str, *parts: str) -> str:
    return f"{kind}:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:40]


def client_key(email: str, client_address: str) -> str:
    """The strict counter's key: the account and the client address, hashed into one short
    string (the address is whatever the gateway vouched for; empty when unknown)."""
    return _hashed("client", email, client_address)


def mail_counter_key(email: str) -> str:
    """The key of an email's forgot-password mail counter (the same rule, another limit)."""
    return _hashed("mail", email)
