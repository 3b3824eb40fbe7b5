"""Metered usage: record once per idempotency key, list, aggregate per period."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

from pivotal_runtime.errors import AlreadyExists, ViolationCollector
from pivotal_runtime.kit.caller import Caller
from pivotal_runtime.kit.idempotency import REQUEST_ID_REUSED, fingerprint
from pivotal_runtime.kit.paging import page_request

from pivotal_billing.application.common import Deps
from pivotal_billing.domain import reasons
from pivotal_billing.domain.plans import KEY
from pivotal_billing.domain.subscriptions import Subscription
from pivotal_billing.domain.usage import MeterUsage, UsageRecord, check_usage, usage_period


def current_period(subscription: Subscription | None, day: date) -> tuple[date, date]:
    if subscription is None:
        return usage_period(day, None)
    return usage_period(day, (subscription.period_start, subscription.period_end,
                              subscription.plan.terms.period, subscription.anchor_day))


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


class UsageService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def record(self, caller: Caller, meter_key: str, quantity: Decimal,
               occur_time: datetime | None, request_id: str) -> tuple[UsageRecord, bool]:
        now = self._deps.clock()
        # The content of the request as sent: a retry without occur_time is the same request.
        content = fingerprint(meter_key, str(quantity.normalize()),
                              occur_time.isoformat() if occur_time else "")
        occur_time = occur_time or now
        check_usage(meter_key, quantity, occur_time, request_id, now)
        org = caller.organization_id
        with self._deps.uow() as uow:
            subscription = uow.subscriptions.for_organization(org)
            start, _ = current_period(subscription, occur_time.astimezone(UTC).date())
            record = UsageRecord(self._deps.new_id(), org, meter_key, quantity, occur_time,
                                 request_id, start, caller.subject, now)
            if uow.usage.add_once(record, content):
                uow.commit()
                return record, False
            earlier, earlier_content = uow.usage.by_request(org, request_id)
        if earlier_content != content:
            raise AlreadyExists("this request_id recorded a different usage",
                                reason=REQUEST_ID_REUSED)
        return earlier, True

    def list(self, caller: Caller, page_size: int, page_token: str, meter_key: str,
             start: datetime | None, end: datetime | None) -> tuple[list[UsageRecord], str]:
        v = ViolationCollector()
        if meter_key and not KEY.match(meter_key):
            v.add("meter_key", "is not a meter key", reasons.INVALID_FORMAT)
        if start and end and end <= start:
            v.add("end_time", "is after start_time", reasons.OUT_OF_RANGE)
        v.raise_if_any()
        page = page_request(page_size, page_token, "usage", meter_key, start, end)
        with self._deps.uow(read_only=True) as uow:
            rows = uow.usage.list(caller.organization_id, meter_key, start, end, page.after,
                                  page.size + 1)
        return page.slice(rows, key=lambda r: (r.occur_time, r.id))

    def summary(self, caller: Caller, day: date | None, meter_keys: list[str]
                ) -> tuple[date, date, list[MeterUsage], datetime]:
        v = ViolationCollector()
        for index, key in enumerate(meter_keys):
            if not KEY.match(key):
                v.add(f"meter_keys[{index}]", "is not a meter key", reasons.INVALID_FORMAT)
        v.raise_if_any()
        now = self._deps.clock()
        with self._deps.uow(read_only=True) as uow:
            subscription = uow.subscriptions.for_organization(caller.organization_id)
            start, end = current_period(subscription, day or now.date())
            meters = uow.usage.summary(caller.organization_id, midnight(start), midnight(end))
        if meter_keys:
            by_key = {meter.meter_key: meter for meter in meters}
            meters = [by_key.get(key) or MeterUsage(key, 0, Decimal(0), Decimal(0), None, None)
                      for key in sorted(set(meter_keys))]
        return start, end, meters, now
