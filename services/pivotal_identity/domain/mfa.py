"""TOTP replay protection and recovery codes."""

from __future__ import annotations

import secrets

RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes (0/o, 1/l/i)


def accept_step(matching_steps: list[int], last_step: int | None) -> int | None:
    """The time step to accept among those whose code matched, or None.

    A code is accepted once: only a step later than the last accepted one counts, so a code
    seen by a shoulder-surfer or a proxy cannot be replayed within its 30 seconds.
    """
    fresh = [step for step in matching_steps if last_step is None or step > last_step]
    return max(fresh) if fresh else None


def new_recovery_codes(count: int) -> list[str]:
    """Codes like `k7dm-xq3p-9ahs-2wfe`: 16 characters, about 79 bits each."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i:i + 4] for i in range(0, 16, 4)))
    return codes


def normalize_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.strip().lower() if ch.isalnum())
