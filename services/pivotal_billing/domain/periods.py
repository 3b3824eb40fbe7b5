"""Billing periods on a day-of-month anchor, and proration to the day (the arithmetic of
`pivotal.billing.v1.Proration`). Pure code."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum

from pivotal_runtime.kit.money import Money


class BillingPeriod(Enum):
    MONTHLY = 1
    YEARLY = 2

    @property
    def months(self) -> int:
        return 1 if self is BillingPeriod.MONTHLY else 12


def add_months(start: date, months: int, anchor_day: int) -> date:
    """The day `months` after `start` on the anchor day of month, or the month's last day
    when it has no such day (anchor 31: Jan 31 → Feb 28 → Mar 31)."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(anchor_day, last))


def period_end(start: date, period: BillingPeriod, anchor_day: int) -> date:
    return add_months(start, period.months, anchor_day)


def period_containing(day: date, first_start: date, period: BillingPeriod, anchor_day: int
                      ) -> tuple[date, date]:
    """The period [start, end) of `period` length, on the anchor, that contains `day`,
    counting from `first_start` (a period start on the anchor)."""
    start = first_start
    step = 0
    while True:
        end = add_months(first_start, (step + 1) * period.months, anchor_day)
        if day < end:
            return start, end
        start, step = end, step + 1


@dataclass(frozen=True)
class Proration:
    """The money effect of a plan change on `effective_date` (see the contract's formula)."""

    effective_date: date
    current_start: date
    current_end: date
    new_start: date
    new_end: date
    credit: Money
    charge: Money

    @property
    def current_days(self) -> int:
        return (self.current_end - self.current_start).days

    @property
    def unused_days(self) -> int:
        return (self.current_end - self.effective_date).days

    @property
    def new_days(self) -> int:
        return (self.new_end - self.new_start).days

    @property
    def charged_days(self) -> int:
        return (self.new_end - self.effective_date).days

    @property
    def net(self) -> Money:
        return self.charge - self.credit


def prorate(*, today: date, current_start: date, current_end: date, anchor_day: int,
            from_price: Money, from_period: BillingPeriod, to_price: Money,
            to_period: BillingPeriod, trialing: bool) -> Proration:
    """Credit the unused part of [current_start, current_end) at the old price, charge the
    rest of the new plan's period containing `today` at the new price; both half-even to the
    currency's minor units. A trial has no amounts and keeps its period."""
    if trialing:
        zero = Money.zero(to_price.currency_code)
        return Proration(today, current_start, current_end, current_start, current_end,
                         zero, zero)
    if from_period is to_period:
        new_start, new_end = current_start, current_end
    elif to_period is BillingPeriod.YEARLY:
        new_start = current_start
        new_end = period_end(current_start, to_period, anchor_day)
    else:
        new_start, new_end = period_containing(today, current_start, to_period, anchor_day)
    unused = Decimal((current_end - today).days)
    days = Decimal((current_end - current_start).days)
    charged = Decimal((new_end - today).days)
    new_days = Decimal((new_end - new_start).days)
    credit = Money(from_price.amount * unused / days, from_price.currency_code).rounded()
    charge = Money(to_price.amount * charged / new_days, to_price.currency_code).rounded()
    return Proration(today, current_start, current_end, new_start, new_end, credit, charge)
