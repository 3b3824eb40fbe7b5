"""What an organization's plan allows: its effective set, and the check other services ask
before an action a plan limits."""

from __future__ import annotations

import math
from datetime import datetime

from pivotal_runtime.errors import ViolationCollector
from pivotal_runtime.kit.caller import Caller

from pivotal_billing.application.common import Deps
from pivotal_billing.application.usage import current_period, midnight
from pivotal_billing.domain import reasons
from pivotal_billing.domain.entitlements import Decision, decide
from pivotal_billing.domain.plans import KEY, Plan
from pivotal_billing.domain.subscriptions import Subscription, SubscriptionState


class EntitlementsService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def get(self, caller: Caller) -> tuple[Subscription | None, Plan | None, list]:
        with self._deps.uow(read_only=True) as uow:
            subscription = uow.subscriptions.for_organization(caller.organization_id)
            default = uow.plans.default() if subscription is None else None
            usage = uow.entitlement_usage.of(caller.organization_id)
        return subscription, default, usage

    def check(self, organization_id: str, key: str, requested: int,
              current_usage: int | None) -> tuple[Decision, Subscription | None, Plan | None]:
        v = ViolationCollector()
        if not organization_id:
            v.add("organization_id", "is required", reasons.REQUIRED)
        if not KEY.match(key):
            v.add("key", "is 1 to 64 lower-case letters, digits, `_` and `.`, starting with a "
                  "letter", reasons.INVALID_FORMAT if key else reasons.REQUIRED)
        if requested < 0:
            v.add("requested", "is not negative", reasons.OUT_OF_RANGE)
        if current_usage is not None and current_usage < 0:
            v.add("current_usage", "is not negative", reasons.OUT_OF_RANGE)
        v.raise_if_any()
        now = self._deps.clock()
        with self._deps.uow() as uow:
            subscription = uow.subscriptions.for_organization(organization_id)
            plan = subscription.plan if subscription else uow.plans.default()
            if current_usage is not None:
                uow.entitlement_usage.report(organization_id, key, current_usage, now)
                uow.commit()
                used = current_usage
            else:
                used = self._metered(uow, organization_id, key, subscription, now)
        entitlements = subscription.entitlements if subscription else (
            plan.terms.entitlements if plan else ())
        canceled = subscription is not None and subscription.state is SubscriptionState.CANCELED
        return decide(key, entitlements, canceled=canceled, used=used,
                      requested=requested), subscription, plan

    @staticmethod
    def _metered(uow, organization_id: str, key: str, subscription: Subscription | None,
                 now: datetime) -> int:
        start, end = current_period(subscription, now.date())
        meters = uow.usage.summary(organization_id, midnight(start), midnight(end))
        total = next((meter.sum for meter in meters if meter.meter_key == key), 0)
        return math.ceil(total)
