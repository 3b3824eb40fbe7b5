"""RFC 6238 TOTP (pyotp): SHA-1, 6 digits, 30-second steps."""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

STEP_SECONDS = 30


class PyOtpTotp:
    def new_secret(self) -> str:
        return pyotp.random_base32()

    def uri(self, secret: str, account: str, issuer: str) -> str:
        return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)

    def matching_steps(self, secret: str, code: str, now: datetime, drift: int = 1) -> list[int]:
        """The time steps (now ± drift) whose code equals `code`."""
        code = code.strip().replace(" ", "")
        if not (code.isdigit() and len(code) == 6):
            return []
        totp = pyotp.TOTP(secret)
        current = int(now.timestamp()) // STEP_SECONDS
        return [step for step in range(current - drift, current + drift + 1)
                if hmac.compare_digest(totp.at(step * STEP_SECONDS), code)]
