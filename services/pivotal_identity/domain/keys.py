"""Signing-key rotation rules."""

from __future__ import annotations

from datetime import datetime, timedelta

from pivotal_identity.domain.model import SigningKey, SigningKeyState


def retirement_overlap(access_ttl: timedelta, leeway: timedelta, overlap: timedelta) -> timedelta:
    """How long a retired key stays in the JWKS: every token it signed has expired by then
    (lifetime + clock skew), plus an overlap for JWKS caches."""
    return access_ttl + leeway + overlap


def earliest_rotation(active: SigningKey | None, min_interval: timedelta) -> datetime | None:
    if active is None or active.activate_time is None:
        return None
    return active.activate_time + min_interval


def published_keys(keys: list[SigningKey], now: datetime) -> list[SigningKey]:
    """The keys of the JWKS: the active one first, then retired ones not yet expired."""
    live = [k for k in keys if k.verifies_at(now)]
    return sorted(live, key=lambda k: (k.state_at(now) is not SigningKeyState.ACTIVE,
                                       -(k.activate_time or k.create_time).timestamp()))
