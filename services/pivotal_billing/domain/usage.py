"""Metered usage: one immutable record per idempotency key, aggregated per subscription
period. Pure code."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from pivotal_runtime.errors import ViolationCollector

from pivotal_billing.domain import reasons
from pivotal_billing.domain.periods import BillingPeriod, add_months, period_containing
from pivotal_billing.domain.plans import KEY

REQUEST_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")
QUANTITY_PLACES = 6
FUTURE_LIMIT = timedelta(minutes=5)
PAST_LIMIT = timedelta(days=400)


@dataclass(frozen=True)
class UsageRecord:
    id: str
    organization_id: str
    meter_key: str
    quantity: Decimal
    occur_time: datetime
    request_id: str
    period_start: date
    creator_id: str
    create_time: datetime

    @property
    def etag(self) -> str:
        return 'W/"1"'


@dataclass(frozen=True)
class MeterUsage:
    meter_key: str
    count: int
    sum: Decimal
    max: Decimal
    first_occur_time: datetime | None
    last_occur_time: datetime | None


def check_usage(meter_key: str, quantity: Decimal, occur_time: datetime, request_id: str,
                now: datetime) -> None:
    v = ViolationCollector()
    if not KEY.match(meter_key):
        v.add("usage_record.meter_key", "is 1 to 64 lower-case letters, digits, `_` and `.`, "
              "starting with a letter", reasons.INVALID_FORMAT if meter_key else reasons.REQUIRED)
    if quantity <= 0:
        v.add("usage_record.quantity", "is greater than 0", reasons.OUT_OF_RANGE)
    elif -quantity.as_tuple().exponent > QUANTITY_PLACES:  # type: ignore[operator]
        v.add("usage_record.quantity", "has at most 6 fraction digits", reasons.INVALID_FIELD)
    if occur_time > now + FUTURE_LIMIT or occur_time < now - PAST_LIMIT:
        v.add("usage_record.occur_time", "is at most 5 minutes ahead and 400 days back",
              reasons.OUT_OF_RANGE)
    if not REQUEST_ID.match(request_id):
        v.add("request_id", "is 1 to 128 letters, digits, `-`, `_`, `.` and `:`",
              reasons.REQUIRED if not request_id else reasons.INVALID_FORMAT)
    v.raise_if_any()


def usage_period(day: date, current: tuple[date, date, BillingPeriod, int] | None
                 ) -> tuple[date, date]:
    """The period `day` counts in: the subscription's period on its anchor (a trial is one
    period), or the calendar month without a subscription."""
    if current is None:
        start = day.replace(day=1)
        return start, add_months(start, 1, 1)
    start, end, period, anchor = current
    if start <= day < end:
        return start, end
    if day >= end:
        return period_containing(day, end, period, anchor)
    back = 1
    while True:  # earlier periods on the anchor, counted back from the current start
        first = add_months(start, -back * period.months, anchor)
        if first <= day:
            return period_containing(day, first, period, anchor)
        back += 1
