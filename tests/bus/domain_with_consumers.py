"""A stand-in for `pivotal_<domain>.service`: what a domain exposes to consume events."""

from __future__ import annotations

from pivotal_runtime.bus import Subscription

from tests.bus.support import effect_subscription


def register(server, deps) -> set[str]:
    return set()


def consumers(deps) -> list[Subscription]:
    return [effect_subscription()]
