"""A stand-in for `pivotal_<domain>.service`: a domain that consumes events."""

from __future__ import annotations

from pivotal_runtime.kit.domain import Domain

from tests.bus.support import effect_subscription


def build(deps) -> Domain:
    return Domain(subscriptions=[effect_subscription()])
