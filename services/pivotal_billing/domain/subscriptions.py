"""An organization's subscription: trial, activation, plan change with proration,
cancellation, and the period clock (trial end, renewal, cancellation at period end).
Pure code; every change is recorded in `changes` for the events the application stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import Enum

from pivotal_runtime.errors import FailedPrecondition, InvalidState
from pivotal_runtime.kit.money import Money
from pivotal_runtime.kit.resources import Versioned

from pivotal_billing.domain import reasons
from pivotal_billing.domain.periods import Proration, period_end, prorate
from pivotal_billing.domain.plans import Entitlement, Plan


class SubscriptionState(Enum):
    TRIALING = 1
    ACTIVE = 2
    PAST_DUE = 3
    CANCELED = 4


class CancellationTiming(Enum):
    AT_PERIOD_END = 1
    IMMEDIATELY = 2


class Cause(Enum):
    """Why the effective entitlement set changed (EntitlementsChangeCause)."""

    TRIAL_STARTED = 1
    ACTIVATED = 2
    PLAN_CHANGED = 3
    CANCELED = 4


@dataclass(frozen=True)
class Transition:
    from_state: SubscriptionState | None
    to_state: SubscriptionState
    time: datetime
    actor_id: str = ""
    reason: str = ""


@dataclass(frozen=True)
class Activated:
    previous_state: SubscriptionState | None
    actor_id: str


@dataclass(frozen=True)
class PlanChanged:
    from_plan: Plan
    proration: Proration
    actor_id: str


@dataclass(frozen=True)
class Canceled:
    timing: CancellationTiming
    previous_state: SubscriptionState
    credit: Money
    actor_id: str


@dataclass(frozen=True)
class EntitlementsChanged:
    cause: Cause


Change = Activated | PlanChanged | Canceled | EntitlementsChanged | Transition


@dataclass
class Subscription(Versioned):
    id: str
    organization_id: str
    plan: Plan  # at the subscribed version (`plan.terms`)
    state: SubscriptionState
    period_start: date
    period_end: date
    anchor_day: int
    create_time: datetime
    update_time: datetime
    trial_start: date | None = None
    trial_end: date | None = None
    cancel_at_period_end: bool = False
    cancel_effective_date: date | None = None
    cancel_reason: str = ""
    activate_time: datetime | None = None
    cancel_time: datetime | None = None
    transitions: list[Transition] = field(default_factory=list)
    entitlements_version: int = 0
    changes: list[Change] = field(default_factory=list, repr=False)

    @property
    def entitlements(self) -> tuple[Entitlement, ...]:
        """The effective set: the plan version's, none once canceled."""
        if self.state is SubscriptionState.CANCELED:
            return ()
        return self.plan.terms.entitlements

    # --- lifecycle ----------------------------------------------------------------------------
    def _move(self, to: SubscriptionState, now: datetime, actor_id: str = "",
              reason: str = "") -> None:
        self._record(Transition(self.state, to, now, actor_id, reason))

    def _record(self, transition: Transition) -> None:
        self.state = transition.to_state
        self.transitions.append(transition)
        self.changes.append(transition)

    def _entitlements_changed(self, cause: Cause) -> None:
        self.entitlements_version += 1
        self.changes.append(EntitlementsChanged(cause))

    def activate(self, plan: Plan | None, today: date, now: datetime, actor_id: str) -> None:
        if self.state is SubscriptionState.ACTIVE:
            raise InvalidState("subscription", self.state.name, "activate")
        if plan is not None and not plan.active:
            raise FailedPrecondition(f"plan {plan.code} is not active",
                                     reason=reasons.PLAN_INACTIVE)
        previous = self.state
        new_version = plan is not None and (plan.id, plan.current_version) != (
            self.plan.id, self.plan.current_version)
        if plan is not None:
            self.plan = plan
        if previous is SubscriptionState.TRIALING:
            self.trial_end = today
        self._start_paid_period(today)
        self.cancel_at_period_end, self.cancel_effective_date = False, None
        self.activate_time = now
        self._move(SubscriptionState.ACTIVE, now, actor_id)
        self.changes.append(Activated(previous, actor_id))
        if new_version or previous is SubscriptionState.CANCELED:
            self._entitlements_changed(Cause.ACTIVATED)
        self.touch(now)

    def _start_paid_period(self, today: date) -> None:
        self.anchor_day = today.day
        self.period_start = today
        self.period_end = period_end(today, self.plan.terms.period, self.anchor_day)

    def preview_change(self, plan: Plan, today: date) -> Proration:
        if self.state is SubscriptionState.CANCELED:
            raise InvalidState("subscription", self.state.name, "change the plan of")
        if not plan.active:
            raise FailedPrecondition(f"plan {plan.code} is not active",
                                     reason=reasons.PLAN_INACTIVE)
        if (plan.id, plan.current_version) == (self.plan.id, self.plan.current_version):
            raise FailedPrecondition("the subscription is on this plan version already",
                                     reason=reasons.PLAN_UNCHANGED)
        current, target = self.plan.terms, plan.terms
        if current.price.currency_code != target.price.currency_code:
            raise FailedPrecondition(
                f"plan {plan.code} is priced in {target.price.currency_code}, the subscription "
                f"in {current.price.currency_code}", reason=reasons.CURRENCY_MISMATCH)
        return prorate(today=today, current_start=self.period_start,
                       current_end=self.period_end, anchor_day=self.anchor_day,
                       from_price=current.price, from_period=current.period,
                       to_price=target.price, to_period=target.period,
                       trialing=self.state is SubscriptionState.TRIALING)

    def change_plan(self, plan: Plan, today: date, now: datetime, actor_id: str) -> Proration:
        proration = self.preview_change(plan, today)
        previous = self.plan
        self.plan = plan
        self.period_start, self.period_end = proration.new_start, proration.new_end
        self.changes.append(PlanChanged(previous, proration, actor_id))
        self._entitlements_changed(Cause.PLAN_CHANGED)
        self.touch(now)
        return proration

    def unused_credit(self, today: date) -> Money:
        """The unused part of a paid period at today's date (zero in a trial)."""
        price = self.plan.terms.price
        days = (self.period_end - self.period_start).days
        if self.state is not SubscriptionState.ACTIVE or days <= 0:
            return Money.zero(price.currency_code)
        unused = (self.period_end - today).days
        return Money(price.amount * unused / days, price.currency_code).rounded()

    def cancel(self, timing: CancellationTiming, reason: str, today: date, now: datetime,
               actor_id: str) -> None:
        if self.state is SubscriptionState.CANCELED:
            raise InvalidState("subscription", self.state.name, "cancel")
        previous = self.state
        if timing is CancellationTiming.AT_PERIOD_END:
            if self.cancel_at_period_end:
                return  # requested before: nothing changes
            self.cancel_at_period_end = True
            self.cancel_effective_date = self.period_end
            credit = Money.zero(self.plan.terms.price.currency_code)
        else:
            credit = self.unused_credit(today)
            self.cancel_at_period_end = False
            self.cancel_effective_date = today
            self.period_end = today
            self._move(SubscriptionState.CANCELED, now, actor_id, reason)
            self._entitlements_changed(Cause.CANCELED)
        self.cancel_reason, self.cancel_time = reason, now
        self.changes.append(Canceled(timing, previous, credit, actor_id))
        self.touch(now)

    def advance(self, today: date, now: datetime) -> bool:
        """Runs the period clock up to `today`: a trial ends (PAST_DUE), an active period
        renews, a cancellation requested for the period end takes effect. True when
        anything changed."""
        changed = False
        while self.state is not SubscriptionState.CANCELED and self.period_end <= today:
            if self.cancel_at_period_end:
                self.cancel_at_period_end = False
                self._move(SubscriptionState.CANCELED, now, reason="canceled at period end")
                self._entitlements_changed(Cause.CANCELED)
            elif self.state is SubscriptionState.TRIALING:
                self._move(SubscriptionState.PAST_DUE, now, reason="trial ended")
            elif self.state is SubscriptionState.ACTIVE:
                self.period_start = self.period_end
                self.period_end = period_end(self.period_start, self.plan.terms.period,
                                             self.anchor_day)
            else:
                break  # PAST_DUE waits for an activation or a cancellation
            changed = True
        if changed:
            self.touch(now)
        return changed


def start_subscription(subscription_id: str, organization_id: str, plan: Plan, today: date,
                       now: datetime) -> Subscription:
    """The first subscription of an organization: a trial of the plan's trial days, or an
    active paid period when the plan has no trial."""
    first = SubscriptionState.TRIALING if plan.trial_days > 0 else SubscriptionState.ACTIVE
    subscription = Subscription(subscription_id, organization_id, plan, first, today, today,
                                today.day, now, now)
    if first is SubscriptionState.TRIALING:
        subscription.trial_start = today
        subscription.trial_end = subscription.period_end = today + timedelta(plan.trial_days)
    else:
        subscription._start_paid_period(today)
        subscription.activate_time = now
    subscription._record(Transition(None, first, now))
    subscription.changes.append(Activated(None, ""))
    subscription._entitlements_changed(Cause.TRIAL_STARTED)
    return subscription
