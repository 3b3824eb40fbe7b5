"""Time's resources as protobuf messages (responses and event payloads)."""

from __future__ import annotations

from datetime import date

from pivotal.common.v1 import pricing_pb2, types_pb2
from pivotal.time.v1 import time_entry_pb2, time_entry_service_pb2, time_settings_pb2, user_rate_pb2
from pivotal_runtime.kit.proto_types import date_to_proto
from pivotal_runtime.kit.proto_values import (
    date_or_none,
    decimal_or_none,
    money_or_none,
    timestamp_or_none,
)

from pivotal_time.domain.entries import EntryState, TimeEntry, Transition
from pivotal_time.domain.settings import PeriodLock, TimeSettings, UserRate
from pivotal_time.domain.summaries import SummaryRow


def entry_state(state: EntryState) -> int:
    return time_entry_pb2.TimeEntryState.Value(f"TIME_ENTRY_STATE_{state.value}")


def _state_name(state: EntryState | None) -> str:
    return f"TIME_ENTRY_STATE_{state.value}" if state is not None else ""


def transition(t: Transition) -> types_pb2.StateTransition:
    return types_pb2.StateTransition(from_state=_state_name(t.from_state),
                                     to_state=_state_name(t.to_state), actor_id=t.actor_id,
                                     reason=t.reason, time=timestamp_or_none(t.time))


def time_entry(e: TimeEntry, locked_until: date | None) -> time_entry_pb2.TimeEntry:
    f, p, r = e.fields, e.pricing, e.pricing.resolved
    return time_entry_pb2.TimeEntry(
        time_entry_id=e.id, organization_id=e.organization_id, user_id=f.user_id,
        project_id=f.project_id, task_id=f.task_id, date=date_or_none(f.date),
        hours=decimal_or_none(f.hours), start_time=timestamp_or_none(f.start_time),
        end_time=timestamp_or_none(f.end_time), description=f.description,
        billable=f.billable, rate=money_or_none(r.rate, p.currency_code),
        amount=money_or_none(p.amount, p.currency_code),
        rate_source=pricing_pb2.RateSource.Value(f"RATE_SOURCE_{r.source.value}"),
        quote_id=p.quote_id, quote_line_item_id=r.quote_line_item_id,
        customer_id=p.customer_id, project_role=p.project_role, state=entry_state(e.state),
        rejection_reason=e.rejection_reason, approver_id=e.approver_id,
        submit_time=timestamp_or_none(e.submit_time),
        approve_time=timestamp_or_none(e.approve_time),
        transitions=[transition(t) for t in e.transitions], locked=e.locked(locked_until),
        creator_id=e.creator_id, create_time=timestamp_or_none(e.create_time),
        update_time=timestamp_or_none(e.update_time), etag=e.etag,
        tax_rate_id=r.tax_rate_id, tax_rate_name=r.tax_rate_name,
        tax_rate_percent=decimal_or_none(r.tax_rate_percent),
        rate_matched_by_role=r.matched_by_role)


def time_settings(s: TimeSettings) -> time_settings_pb2.TimeSettings:
    return time_settings_pb2.TimeSettings(
        organization_id=s.organization_id, currency_code=s.currency_code,
        default_rate=money_or_none(s.default_rate, s.currency_code) if s.currency_code
        else None, locked_until=date_or_none(s.locked_until),
        update_time=timestamp_or_none(s.update_time), etag=s.etag)


def period_lock(lock: PeriodLock) -> time_settings_pb2.PeriodLock:
    return time_settings_pb2.PeriodLock(
        period_lock_id=lock.id, organization_id=lock.organization_id,
        action=time_settings_pb2.PeriodLockAction.Value(
            f"PERIOD_LOCK_ACTION_{lock.action.value}"),
        locked_until=date_or_none(lock.locked_until),
        previous_locked_until=date_or_none(lock.previous_locked_until), reason=lock.reason,
        actor_id=lock.actor_id, create_time=timestamp_or_none(lock.create_time))


def user_rate(rate: UserRate) -> user_rate_pb2.UserRate:
    return user_rate_pb2.UserRate(
        user_rate_id=rate.id, organization_id=rate.organization_id, user_id=rate.user_id,
        rate=money_or_none(rate.rate, rate.currency_code),
        effective_from=date_to_proto(rate.effective_from),
        effective_until=date_or_none(rate.effective_until), creator_id=rate.creator_id,
        create_time=timestamp_or_none(rate.create_time),
        update_time=timestamp_or_none(rate.update_time), etag=rate.etag)


def summary_row(row: SummaryRow) -> time_entry_service_pb2.TimeSummaryRow:
    return time_entry_service_pb2.TimeSummaryRow(
        user_id=row.user_id, project_id=row.project_id, task_id=row.task_id,
        customer_id=row.customer_id,
        period_start=date_or_none(row.period[0] if row.period else None),
        period_end=date_or_none(row.period[1] if row.period else None),
        total_hours=decimal_or_none(row.total_hours),
        billable_hours=decimal_or_none(row.billable_hours),
        non_billable_hours=decimal_or_none(row.non_billable_hours),
        billable_amounts=[money_or_none(v, c) for c, v in sorted(row.billable_amounts.items())],
        total_amounts=[money_or_none(v, c) for c, v in sorted(row.total_amounts.items())],
        approved_billable_hours=decimal_or_none(row.approved_billable_hours),
        entry_count=row.entry_count)
