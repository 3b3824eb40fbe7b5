"""The organization's subscription: the trial from OrganizationCreated, activation, plan
changes with proration, cancellation, and the period clock run as a job."""

from __future__ import annotations

import logging
from datetime import datetime

from pivotal_runtime.errors import Aborted, FailedPrecondition, NotFound
from pivotal_runtime.kit.caller import Caller
from pivotal_runtime.kit.money import Money
from pivotal_runtime.kit.resources import check_etag

from pivotal_billing.application import events
from pivotal_billing.application.common import Deps
from pivotal_billing.domain import reasons
from pivotal_billing.domain.entitlements import check_limits_cover
from pivotal_billing.domain.periods import Proration
from pivotal_billing.domain.plans import Plan
from pivotal_billing.domain.subscriptions import (
    CancellationTiming,
    Subscription,
    start_subscription,
)

log = logging.getLogger("pivotal.billing.subscriptions")


def not_started() -> FailedPrecondition:
    return FailedPrecondition("the organization has no subscription yet; retry shortly",
                              reason=reasons.SUBSCRIPTION_NOT_STARTED)


def trial_plan(uow, plan_code: str) -> Plan | None:
    """The plan chosen at registration when it names an active plan with a trial, else the
    default plan."""
    chosen = uow.plans.get_by_code(plan_code) if plan_code else None
    if chosen is not None and chosen.active and chosen.trial_days > 0:
        return chosen
    return uow.plans.default()


def start_trial(uow, organization_id: str, plan_code: str, now: datetime, new_id: str) -> bool:
    """The organization's first subscription, once however often the event arrives."""
    if uow.subscriptions.for_organization(organization_id) is not None:
        return False
    plan = trial_plan(uow, plan_code)
    if plan is None:
        raise FailedPrecondition("the plan catalog has no default plan")
    subscription = start_subscription(new_id, organization_id, plan, now.date(), now)
    if not uow.subscriptions.add_if_absent(subscription):
        return False
    events.subscription_changes(uow, subscription)
    return True


class SubscriptionsService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def get(self, caller: Caller) -> Subscription:
        with self._deps.uow(read_only=True) as uow:
            subscription = uow.subscriptions.for_organization(caller.organization_id)
        if subscription is None:
            raise NotFound("subscription", caller.organization_id)
        return subscription

    def _load(self, uow, caller: Caller, etag: str) -> Subscription:
        subscription = uow.subscriptions.for_organization(caller.organization_id, lock=True)
        if subscription is None:
            raise not_started()
        check_etag(etag, subscription.etag, "subscription")
        return subscription

    def _plan(self, uow, plan_id: str) -> Plan:
        plan = uow.plans.get(plan_id) if plan_id else None
        if plan is None:
            raise NotFound("plan", plan_id)
        return plan

    def activate(self, caller: Caller, plan_id: str, etag: str) -> Subscription:
        now = self._deps.clock()
        with self._deps.uow() as uow:
            subscription = self._load(uow, caller, etag)
            plan = self._plan(uow, plan_id) if plan_id else None
            subscription.activate(plan, now.date(), now, caller.subject)
            self._save(uow, subscription)
        return subscription

    def preview(self, caller: Caller, plan_id: str) -> tuple[Proration, Subscription, Plan]:
        today = self._deps.clock().date()
        with self._deps.uow(read_only=True) as uow:
            subscription = uow.subscriptions.for_organization(caller.organization_id)
            if subscription is None:
                raise not_started()
            plan = self._plan(uow, plan_id)
            usage = self._usage(uow, caller.organization_id)
        proration = subscription.preview_change(plan, today)
        check_limits_cover(plan.terms.entitlements, usage)
        return proration, subscription, plan

    @staticmethod
    def _usage(uow, organization_id: str) -> dict[str, int]:
        return {key: used for key, used, _ in uow.entitlement_usage.of(organization_id)}

    def change_plan(self, caller: Caller, plan_id: str, etag: str,
                    expected_net: Money | None) -> tuple[Subscription, Proration]:
        now = self._deps.clock()
        with self._deps.uow() as uow:
            subscription = self._load(uow, caller, etag)
            plan = self._plan(uow, plan_id)
            before = subscription.plan.terms.price.currency_code
            proration = subscription.change_plan(plan, now.date(), now, caller.subject)
            check_limits_cover(plan.terms.entitlements, self._usage(uow, caller.organization_id))
            if expected_net is not None and (
                    expected_net.currency_code != before
                    or expected_net.amount != proration.net.amount):
                raise Aborted("the prorated amount changed since the preview; preview again",
                              reason=reasons.PRORATION_CHANGED,
                              metadata={"net_amount": str(proration.net.amount)})
            self._save(uow, subscription)
        return subscription, proration

    def cancel(self, caller: Caller, timing: CancellationTiming, reason: str, etag: str
               ) -> Subscription:
        now = self._deps.clock()
        with self._deps.uow() as uow:
            subscription = self._load(uow, caller, etag)
            before = subscription.version
            subscription.cancel(timing, reason, now.date(), now, caller.subject)
            if subscription.version != before:  # a repeated request changes nothing
                self._save(uow, subscription)
        return subscription

    @staticmethod
    def _save(uow, subscription: Subscription) -> None:
        events.subscription_changes(uow, subscription)
        uow.subscriptions.update(subscription)
        uow.commit()

    def advance_due(self, now: datetime) -> int:
        """The job: trial ends, renewals and cancellations at period end up to `now`, one
        organization per transaction. Returns how many subscriptions changed."""
        today = now.date()
        with self._deps.uow(read_only=True) as uow:
            due = uow.subscriptions.due(today)
        changed = 0
        for organization_id in due:
            try:
                with self._deps.uow() as uow:
                    subscription = uow.subscriptions.for_organization(organization_id,
                                                                      lock=True)
                    if subscription is not None and subscription.advance(today, now):
                        self._save(uow, subscription)
                        changed += 1
            except Aborted:
                log.info("subscription of %s changed concurrently; next pass", organization_id)
        return changed
