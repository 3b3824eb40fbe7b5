"""Time's events, staged in the unit of work's outbox with the change they report (aggregate
`time_entry`, the entry id as subject)."""

from __future__ import annotations

from datetime import datetime

from pivotal.time.v1 import events_pb2 as ev
from pivotal_runtime.kit.proto_values import (
    date_or_none,
    decimal_or_none,
    money_or_none,
    timestamp_or_none,
)

from pivotal_time.application import messages as m
from pivotal_time.domain.entries import TimeEntry
from pivotal_time.domain.settings import PeriodLock


def _add(uow, entry: TimeEntry, message) -> None:
    uow.add_event(message, aggregate_id=entry.id, organization_id=entry.organization_id)


def _about(entry: TimeEntry) -> dict:
    return {"organization_id": entry.organization_id, "time_entry_id": entry.id}


def created(uow, entry: TimeEntry, locked_until) -> None:
    _add(uow, entry, ev.TimeEntryCreated(**_about(entry), version=entry.version,
                                         time_entry=m.time_entry(entry, locked_until)))


def updated(uow, entry: TimeEntry, changed: list[str], locked_until) -> None:
    _add(uow, entry, ev.TimeEntryUpdated(**_about(entry), version=entry.version,
                                         time_entry=m.time_entry(entry, locked_until),
                                         updated_paths=changed))


def deleted(uow, entry: TimeEntry, actor_id: str, now: datetime) -> None:
    f = entry.fields
    _add(uow, entry, ev.TimeEntryDeleted(**_about(entry), user_id=f.user_id,
                                         project_id=f.project_id, date=date_or_none(f.date),
                                         deleter_id=actor_id,
                                         delete_time=timestamp_or_none(now)))


def submitted(uow, entry: TimeEntry, actor_id: str) -> None:
    f, p = entry.fields, entry.pricing
    _add(uow, entry, ev.TimeEntrySubmitted(
        **_about(entry), user_id=f.user_id, project_id=f.project_id, task_id=f.task_id,
        customer_id=p.customer_id, date=date_or_none(f.date), hours=decimal_or_none(f.hours),
        billable=f.billable, amount=money_or_none(p.amount, p.currency_code),
        submitter_id=actor_id, submit_time=timestamp_or_none(entry.submit_time)))


def approved(uow, entry: TimeEntry) -> None:
    f, p, r = entry.fields, entry.pricing, entry.pricing.resolved
    _add(uow, entry, ev.TimeEntryApproved(
        **_about(entry), user_id=f.user_id, project_id=f.project_id, task_id=f.task_id,
        customer_id=p.customer_id, date=date_or_none(f.date), hours=decimal_or_none(f.hours),
        billable=f.billable, rate=money_or_none(r.rate, p.currency_code),
        amount=money_or_none(p.amount, p.currency_code), currency_code=p.currency_code,
        quote_id=p.quote_id, quote_line_item_id=r.quote_line_item_id,
        rate_source=m.time_entry(entry, None).rate_source, description=f.description,
        approver_id=entry.approver_id, approve_time=timestamp_or_none(entry.approve_time),
        project_role=p.project_role, tax_rate_id=r.tax_rate_id, tax_rate_name=r.tax_rate_name,
        tax_rate_percent=decimal_or_none(r.tax_rate_percent)))


def rejected(uow, entry: TimeEntry, now: datetime) -> None:
    f = entry.fields
    _add(uow, entry, ev.TimeEntryRejected(
        **_about(entry), user_id=f.user_id, project_id=f.project_id, date=date_or_none(f.date),
        hours=decimal_or_none(f.hours), reason=entry.rejection_reason,
        rejecter_id=entry.approver_id, reject_time=timestamp_or_none(now)))


def period_changed(uow, lock: PeriodLock, *, locked: bool) -> None:
    kind, stamp = (ev.PeriodLocked, "lock_time") if locked else (ev.PeriodUnlocked,
                                                                 "unlock_time")
    uow.add_event(kind(organization_id=lock.organization_id, period_lock_id=lock.id,
                       locked_until=date_or_none(lock.locked_until),
                       previous_locked_until=date_or_none(lock.previous_locked_until),
                       actor_id=lock.actor_id, reason=lock.reason,
                       **{stamp: timestamp_or_none(lock.create_time)}),
                  aggregate_id=lock.organization_id, organization_id=lock.organization_id)
