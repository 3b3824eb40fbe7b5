"""Proration to the day, as the contract's formula states it: a table of upgrades and
downgrades on the first, a middle and the last day of 28-, 30- and 31-day months and of
yearly periods, with the exact amounts (half-even to the cent). Pure domain, no I/O."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pivotal_billing.domain.periods import BillingPeriod, add_months, prorate
from pivotal_runtime.kit.money import Money

pytestmark = pytest.mark.unit
M, Y = BillingPeriod.MONTHLY, BillingPeriod.YEARLY


def eur(value: str) -> Money:
    return Money(Decimal(value), "EUR")


CASES = [
    # (case, period start, today, from price, from period, to price, to period,
    #  credit, charge, net, D, U, D', C)
    ("31-day month, upgrade on day 1", date(2026, 1, 1), date(2026, 1, 1), "30.00", M,
     "90.00", M, "30.00", "90.00", "60.00", 31, 31, 31, 31),
    ("31-day month, upgrade mid-period", date(2026, 1, 1), date(2026, 1, 16), "30.00", M,
     "90.00", M, "15.48", "46.45", "30.97", 31, 16, 31, 16),
    ("31-day month, upgrade on the last day", date(2026, 1, 1), date(2026, 1, 31), "30.00", M,
     "90.00", M, "0.97", "2.90", "1.93", 31, 1, 31, 1),
    ("31-day month, downgrade mid-period", date(2026, 1, 1), date(2026, 1, 16), "90.00", M,
     "30.00", M, "46.45", "15.48", "-30.97", 31, 16, 31, 16),
    ("28-day month, upgrade on day 1", date(2026, 2, 1), date(2026, 2, 1), "30.00", M,
     "90.00", M, "30.00", "90.00", "60.00", 28, 28, 28, 28),
    ("28-day month, upgrade mid-period", date(2026, 2, 1), date(2026, 2, 15), "30.00", M,
     "90.00", M, "15.00", "45.00", "30.00", 28, 14, 28, 14),
    ("28-day month, downgrade on the last day", date(2026, 2, 1), date(2026, 2, 28), "90.00",
     M, "30.00", M, "3.21", "1.07", "-2.14", 28, 1, 28, 1),
    ("30-day month, downgrade on day 1", date(2026, 4, 1), date(2026, 4, 1), "90.00", M,
     "30.00", M, "90.00", "30.00", "-60.00", 30, 30, 30, 30),
    ("30-day month, upgrade mid-period", date(2026, 4, 1), date(2026, 4, 16), "30.00", M,
     "90.00", M, "15.00", "45.00", "30.00", 30, 15, 30, 15),
    ("30-day month, upgrade on the last day", date(2026, 4, 1), date(2026, 4, 30), "30.00", M,
     "90.00", M, "1.00", "3.00", "2.00", 30, 1, 30, 1),
    ("yearly, upgrade on day 1", date(2026, 1, 1), date(2026, 1, 1), "1200.00", Y,
     "2400.00", Y, "1200.00", "2400.00", "1200.00", 365, 365, 365, 365),
    ("yearly, upgrade mid-period", date(2026, 1, 1), date(2026, 7, 2), "1200.00", Y,
     "2400.00", Y, "601.64", "1203.29", "601.65", 365, 183, 365, 183),
    ("yearly, downgrade on the last day", date(2026, 1, 1), date(2026, 12, 31), "2400.00", Y,
     "1200.00", Y, "6.58", "3.29", "-3.29", 365, 1, 365, 1),
    ("monthly to yearly mid-month", date(2026, 1, 1), date(2026, 1, 16), "30.00", M,
     "1200.00", Y, "15.48", "1150.68", "1135.20", 31, 16, 365, 350),
    ("yearly to monthly mid-year", date(2026, 1, 1), date(2026, 7, 2), "1200.00", Y,
     "30.00", M, "601.64", "29.03", "-572.61", 365, 183, 31, 30),
]


@pytest.mark.parametrize(
    "start,today,from_price,from_period,to_price,to_period,credit,charge,net,d,u,d2,c",
    [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_proration_to_the_day(start, today, from_price, from_period, to_price, to_period,
                              credit, charge, net, d, u, d2, c):
    end = add_months(start, from_period.months, start.day)
    result = prorate(today=today, current_start=start, current_end=end, anchor_day=start.day,
                     from_price=eur(from_price), from_period=from_period,
                     to_price=eur(to_price), to_period=to_period, trialing=False)
    assert (result.credit, result.charge, result.net) == (eur(credit), eur(charge), eur(net))
    assert (result.current_days, result.unused_days, result.new_days,
            result.charged_days) == (d, u, d2, c)


def test_a_trial_changes_plan_without_amounts():
    result = prorate(today=date(2026, 1, 5), current_start=date(2026, 1, 1),
                     current_end=date(2026, 1, 15), anchor_day=1, from_price=eur("30.00"),
                     from_period=M, to_price=eur("90.00"), to_period=M, trialing=True)
    assert result.net == eur("0") and result.new_end == date(2026, 1, 15)


def test_periods_keep_their_anchor_through_short_months():
    assert add_months(date(2026, 1, 31), 1, 31) == date(2026, 2, 28)
    assert add_months(date(2026, 2, 28), 1, 31) == date(2026, 3, 31)
    assert add_months(date(2024, 1, 31), 1, 31) == date(2024, 2, 29)
    assert add_months(date(2026, 3, 15), 12, 15) == date(2027, 3, 15)
