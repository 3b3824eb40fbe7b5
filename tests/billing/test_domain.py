"""Billing's domain without I/O: a plan without trial starts paid, renewals keep the anchor
day, line taxes add up to the tax of their rate, usage periods."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pivotal_billing.domain.invoices import (
    BilledEntry,
    InvoiceLine,
    LineKind,
    Tax,
    totals_of,
)
from pivotal_billing.domain.periods import BillingPeriod
from pivotal_billing.domain.plans import PlanInput, new_plan
from pivotal_billing.domain.subscriptions import SubscriptionState, start_subscription
from pivotal_billing.domain.usage import usage_period
from pivotal_runtime.kit.money import Money

pytestmark = pytest.mark.unit
NOW = datetime(2026, 1, 31, 9, tzinfo=UTC)


def plan(trial_days: int):
    return new_plan("p-1", PlanInput(code="solo", name="Solo", price=Money.of("10.00", "EUR"),
                                     period=BillingPeriod.MONTHLY, trial_days=trial_days), NOW)


def test_a_plan_without_trial_starts_paid_and_renews_on_its_anchor():
    subscription = start_subscription("s-1", "o-1", plan(0), NOW.date(), NOW)
    assert subscription.state is SubscriptionState.ACTIVE
    assert (subscription.period_start, subscription.period_end) == (date(2026, 1, 31),
                                                                    date(2026, 2, 28))
    assert subscription.advance(date(2026, 3, 1), NOW)
    assert (subscription.period_start, subscription.period_end) == (date(2026, 2, 28),
                                                                    date(2026, 3, 31))
    assert not subscription.advance(date(2026, 3, 1), NOW)


def test_a_trial_that_ends_is_past_due_and_keeps_its_entitlements():
    subscription = start_subscription("s-1", "o-1", plan(7), NOW.date(), NOW)
    assert subscription.state is SubscriptionState.TRIALING
    assert subscription.advance(date(2026, 2, 7), NOW)
    assert subscription.state is SubscriptionState.PAST_DUE
    assert subscription.entitlements == subscription.plan.terms.entitlements


def test_line_taxes_add_up_to_the_tax_of_their_rate():
    vat = Tax(Decimal("19"), "", "VAT 19%")
    lines = [InvoiceLine(str(i), LineKind.TIME, "Work", Decimal("33.33"), vat,
                         [BilledEntry(str(i), date(2026, 1, 5), Decimal(1), Decimal("33.33"))])
             for i in range(3)]
    totals = totals_of(lines, "EUR")
    [group] = totals.taxes
    assert group.taxable == Decimal("99.99") and group.amount == Decimal("19.00")  # 18.9981
    assert sum(totals.line_taxes) == group.amount
    assert sorted(totals.line_taxes) == [Decimal("6.33"), Decimal("6.33"), Decimal("6.34")]


def test_usage_periods_follow_the_subscription_or_the_calendar_month():
    assert usage_period(date(2026, 2, 10), None) == (date(2026, 2, 1), date(2026, 3, 1))
    current = (date(2026, 3, 31), date(2026, 4, 30), BillingPeriod.MONTHLY, 31)
    assert usage_period(date(2026, 4, 2), current) == current[:2]
    assert usage_period(date(2026, 3, 1), current) == (date(2026, 2, 28), date(2026, 3, 31))
    assert usage_period(date(2026, 5, 5), current) == (date(2026, 4, 30), date(2026, 5, 31))
