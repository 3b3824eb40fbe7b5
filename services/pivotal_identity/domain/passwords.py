"""Password policy and email normalization."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_PASSWORD_LENGTH = 1024
MAX_EMAIL_LENGTH = 254
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")

# A short list of the most common passwords (and their usual variants); the policy refuses
# them case-insensitively. Long enough to catch the obvious, short enough to ship in code.
COMMON_PASSWORDS: frozenset[str] = frozenset(
    ["123456", "123456789", "12345678", "1234567890", "12345", "1234567", "password", "password1", "password12", "password123", "password1234", "passw0rd", "p@ssw0rd", "p@ssword", "qwerty", "qwerty123", "qwertyuiop", "qwerty12345", "111111", "000000", "123123", "123321", "654321", "666666", "121212", "abc123", "abcd1234", "1q2w3e4r", "1q2w3e4r5t", "1qaz2wsx", "zaq12wsx", "iloveyou", "admin", "admin123", "administrator", "welcome", "welcome1", "welcome123", "letmein", "letmein123", "monkey", "dragon", "sunshine", "princess", "football", "baseball", "superman", "batman", "trustno1", "master", "shadow", "michael", "jennifer", "charlie", "hello123", "freedom", "whatever", "starwars", "secret", "secret123", "changeme", "changeme123", "default", "guest", "login", "test", "test123", "testtest", "987654321", "11111111", "88888888", "asdfghjkl", "asdf1234", "zxcvbnm", "qazwsx", "passwordpassword", "correcthorsebatterystaple", "pivotalflow", "pivotal123", "summer2024", "winter2024", "spring2024", "autumn2024", "summer2025", "winter2025", "123456789012", "1234567890123", "qwertyqwerty", "iloveyou123", "football123", "baseball123", "letmeinplease", "welcome2024", "welcome2025", "administrator1", "password12345", "password123456", "aaaaaaaaaaaa"]
)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def email_problem(email: str) -> str | None:
    """Why a (normalized) email is unacceptable, or None."""
    if not email:
        return "is required"
    if len(email) > MAX_EMAIL_LENGTH:
        return f"must be at most {MAX_EMAIL_LENGTH} characters"
    if not _EMAIL.match(email):
        return "must be a valid email address"
    return None


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 12
    max_length: int = MAX_PASSWORD_LENGTH
    common: frozenset[str] = COMMON_PASSWORDS

    def broken_rule(self, password: str, email: str = "", current: str | None = None
                    ) -> str | None:
        """The first rule the password breaks (`too_short`, `too_long`, `contains_email`,
        `common`, `unchanged`), or None when it is acceptable."""
        if len(password) < self.min_length:
            return "too_short"
        if len(password) > self.max_length:
            return "too_long"
        lowered = password.lower()
        local_part = email.split("@", 1)[0]
        if email and (email in lowered or (len(local_part) >= 4 and local_part in lowered)):
            return "contains_email"
        if lowered in self.common or lowered.rstrip("!.1") in self.common:
            return "common"
        if current is not None and password == current:
            return "unchanged"
        return None

    def describe(self, rule: str) -> str:
        return {
            "too_short": f"must be at least {self.min_length} characters",
            "too_long": f"must be at most {self.max_length} characters",
            "contains_email": "must not contain the email address",
            "common": "is too common; choose a less guessable password",
            "unchanged": "must differ from the current password",
        }[rule]
