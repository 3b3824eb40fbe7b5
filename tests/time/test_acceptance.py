"""Time's acceptance: entries priced exactly from the quote's pinned rates and fed to the
project's actuals on approval; the workflow's refusals (own entries, locked periods); the
entry checks; a replica that keeps time working without the project service; summaries and
the CSV export; another tenant's entry is NOT_FOUND."""

from __future__ import annotations

import csv
import io
import json
import uuid
from decimal import Decimal

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.timestamp_pb2 import Timestamp
from pivotal.project.v1 import events_pb2 as project_events
from pivotal.project.v1 import member_pb2, project_pb2, project_service_pb2
from pivotal.time.v1 import (
    events_pb2,
    time_entry_pb2,
    time_entry_service_pb2,
    time_settings_service_pb2,
)

from tests.support.domains import running_stack, settings_for, wait_until
from tests.support.project_time import (
    T,
    accept_quote,
    add_member,
    amount,
    day,
    entries,
    log,
    projects,
    replicated,
    time_settings,
)
from tests.support.rpc_errors import details, fields, reason


def team(stack):
    """A manager, an active project from the quote, a lead and a developer linked to their
    quote lines, all replicated into time."""
    manager = stack.user("manager")
    org = manager.organization_id
    lead = stack.user("member", org)
    dev = stack.user("member", org)
    project = accept_quote(stack, manager)
    add_member(stack, manager, project.project_id, lead.subject, "Lead consultant", "line-lead")
    add_member(stack, manager, project.project_id, dev.subject, "Developer", "line-dev")
    add_member(stack, manager, project.project_id, manager.subject, "Developer")
    for person in (lead, dev, manager):
        replicated(stack, org, project.project_id, person.subject)
    return manager, lead, dev, project


def submit(stack, user, entry):
    return entries(stack).SubmitTimeEntry(time_entry_service_pb2.SubmitTimeEntryRequest(
        time_entry_id=entry.time_entry_id), metadata=user.metadata, timeout=T).time_entry


def approve(stack, user, entry):
    return entries(stack).ApproveTimeEntry(time_entry_service_pb2.ApproveTimeEntryRequest(
        time_entry_id=entry.time_entry_id), metadata=user.metadata, timeout=T).time_entry


def metrics(stack, user, project_id):
    return projects(stack).GetProjectMetrics(project_service_pb2.GetProjectMetricsRequest(
        project_id=project_id), metadata=user.metadata, timeout=T).metrics


def refusal(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as refused:
        call()
    return refused.value


def test_approved_time_is_priced_to_the_cent_and_becomes_the_projects_actuals(stack):
    manager, lead, dev, project = team(stack)
    day_rate = log(stack, lead, project.project_id, "2026-03-02", "7.5",
                   description="Workshop day")
    assert amount(day_rate.rate) == Decimal("160") and amount(day_rate.amount) == Decimal("1200")
    assert day_rate.rate_source == 1  # RATE_SOURCE_QUOTE_PINNED
    assert day_rate.quote_line_item_id == "line-lead" and day_rate.tax_rate_id == "tax-19"
    assert Decimal(day_rate.tax_rate_percent.value) == 19
    # 2 × 81.6525 = 163.305: half-even to the cent is 163.30 (half-up would say 163.31).
    discounted = log(stack, dev, project.project_id, "2026-03-02", "2")
    assert amount(discounted.rate) == Decimal("81.6525")
    assert amount(discounted.amount) == Decimal("163.30")
    assert discounted.state == time_entry_pb2.TIME_ENTRY_STATE_DRAFT

    for person, entry in ((lead, day_rate), (dev, discounted)):
        assert submit(stack, person, entry).state == time_entry_pb2.TIME_ENTRY_STATE_SUBMITTED
        approved = approve(stack, manager, entry)
        assert approved.state == time_entry_pb2.TIME_ENTRY_STATE_APPROVED and approved.locked

    published = {e.time_entry_id: e for e in stack["time"].outbox_events(
        events_pb2.TimeEntryApproved, manager.organization_id)}
    event = published[discounted.time_entry_id]
    assert amount(event.amount) == Decimal("163.30") and event.quote_line_item_id == "line-dev"
    assert event.tax_rate_id == "tax-19" and event.approver_id == manager.subject

    def actuals():
        found = metrics(stack, manager, project.project_id)
        return found if found.actual_hours.value == "9.5" else None
    found = wait_until(actuals, what="the project's actuals")
    assert amount(found.actual_cost) == Decimal("1363.30")
    assert amount(found.remaining_budget) == Decimal("9503.60") - Decimal("1363.30")

    with pytest.raises(grpc.RpcError) as final:
        entries(stack).UpdateTimeEntry(time_entry_service_pb2.UpdateTimeEntryRequest(
            time_entry=time_entry_pb2.TimeEntry(time_entry_id=discounted.time_entry_id,
                                                description="changed"),
            update_mask=FieldMask(paths=["description"])), metadata=dev.metadata, timeout=T)
    assert final.value.code() == grpc.StatusCode.FAILED_PRECONDITION  # approved is final


def test_an_approver_cannot_approve_their_own_time(stack):
    manager, _lead, dev, project = team(stack)
    own = log(stack, manager, project.project_id, "2026-03-03", "4")
    submit(stack, manager, own)
    error = refusal(lambda: approve(stack, manager, own))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert reason(error) == "SELF_APPROVAL_FORBIDDEN"
    without_permission = refusal(lambda: approve(stack, dev, own))
    assert without_permission.code() == grpc.StatusCode.PERMISSION_DENIED  # no time:approve


def test_nothing_in_a_locked_period_changes(stack):
    manager, lead, dev, project = team(stack)
    draft = log(stack, dev, project.project_id, "2026-02-02", "3")
    to_approve = log(stack, lead, project.project_id, "2026-02-03", "3")
    submit(stack, lead, to_approve)
    unapproved = refusal(lambda: time_settings(stack).LockPeriod(
        time_settings_service_pb2.LockPeriodRequest(locked_until=day("2026-02-28")),
        metadata=manager.metadata, timeout=T))
    assert reason(unapproved) == "UNAPPROVED_ENTRIES_IN_PERIOD"
    locked = time_settings(stack).LockPeriod(time_settings_service_pb2.LockPeriodRequest(
        locked_until=day("2026-02-28"), allow_unapproved=True, reason="February closed"),
        metadata=manager.metadata, timeout=T)
    assert locked.time_settings.locked_until == day("2026-02-28")

    attempts = [
        lambda: submit(stack, dev, draft),
        lambda: approve(stack, manager, to_approve),
        lambda: entries(stack).UpdateTimeEntry(time_entry_service_pb2.UpdateTimeEntryRequest(
            time_entry=time_entry_pb2.TimeEntry(time_entry_id=draft.time_entry_id,
                                                description="later"),
            update_mask=FieldMask(paths=["description"])), metadata=dev.metadata, timeout=T),
        lambda: entries(stack).DeleteTimeEntry(time_entry_service_pb2.DeleteTimeEntryRequest(
            time_entry_id=draft.time_entry_id), metadata=dev.metadata, timeout=T),
        lambda: log(stack, dev, project.project_id, "2026-02-27", "1"),
    ]
    for attempt in attempts:
        error = refusal(attempt)
        assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert reason(error) == "PERIOD_LOCKED"
        assert details(error)["ErrorInfo"].metadata["locked_until"] == "2026-02-28"
    got = entries(stack).GetTimeEntry(time_entry_service_pb2.GetTimeEntryRequest(
        time_entry_id=draft.time_entry_id), metadata=dev.metadata, timeout=T).time_entry
    assert got.locked and got.description == draft.description
    assert log(stack, dev, project.project_id, "2026-03-01", "1").amount  # after the lock


def _at(text: str) -> Timestamp:
    stamp = Timestamp()
    stamp.FromJsonString(text)
    return stamp


def test_entries_are_checked_against_the_day_the_clock_the_project_and_the_team(stack):
    manager, _lead, dev, project = team(stack)
    log(stack, dev, project.project_id, "2026-04-06", start_time=_at("2026-04-06T08:00:00Z"),
        end_time=_at("2026-04-06T12:00:00Z"))
    overlap = refusal(lambda: log(stack, dev, project.project_id, "2026-04-06",
                                  start_time=_at("2026-04-06T11:00:00Z"),
                                  end_time=_at("2026-04-06T13:00:00Z")))
    assert overlap.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason(overlap) == "TIME_ENTRY_OVERLAP"
    assert fields(overlap) == {"time_entry.start_time"}

    log(stack, dev, project.project_id, "2026-04-06", "18")
    too_long = refusal(lambda: log(stack, dev, project.project_id, "2026-04-06", "2.5"))
    assert too_long.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason(too_long) == "DAILY_HOURS_EXCEEDED"
    assert fields(too_long) == {"time_entry.hours"}
    zero = refusal(lambda: log(stack, dev, project.project_id, "2026-04-07", "0"))
    assert reason(zero) == "DURATION_INVALID" and fields(zero) == {"time_entry.hours"}

    outsider = stack.user("member", manager.organization_id)
    not_member = refusal(lambda: log(stack, outsider, project.project_id, "2026-04-07", "1"))
    assert not_member.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(not_member) == "NOT_PROJECT_MEMBER"
    assert details(not_member)["PreconditionFailure"].violations[0].subject == "user_id"

    projects(stack).HoldProject(project_service_pb2.HoldProjectRequest(
        project_id=project.project_id), metadata=manager.metadata, timeout=T)
    inactive = wait_until(lambda: _refused_or_none(
        lambda: log(stack, dev, project.project_id, "2026-04-08", "1")),
        what="time's copy of the project on hold")
    assert inactive.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(inactive) == "PROJECT_NOT_ACTIVE"
    assert "PROJECT_STATE_ON_HOLD" in details(inactive)["PreconditionFailure"].violations[0] \
        .description


def _refused_or_none(call):
    try:
        call()
    except grpc.RpcError as error:
        return error
    return None


def test_summaries_and_an_export_that_spreadsheets_do_not_run(stack):
    manager, _lead, dev, project = team(stack)
    log(stack, dev, project.project_id, "2026-05-04", "2", description="=HYPERLINK(\"x\")")
    log(stack, dev, project.project_id, "2026-05-05", "3", description="+cmd|' /C calc'!A0")
    log(stack, dev, project.project_id, "2026-05-12", "1", billable=False)
    summary = entries(stack).GetTimeSummary(time_entry_service_pb2.GetTimeSummaryRequest(
        start_date=day("2026-05-01"), end_date=day("2026-05-31"), user_id=dev.subject,
        group_by=[time_entry_service_pb2.TIME_SUMMARY_DIMENSION_USER],
        period=time_entry_service_pb2.TIME_SUMMARY_PERIOD_WEEK),
        metadata=manager.metadata, timeout=T)
    weeks = [(r.period_start, r.total_hours.value, r.billable_hours.value) for r in summary.rows]
    assert weeks == [(day("2026-05-04"), "5", "5"), (day("2026-05-11"), "1", "0")]
    assert [(m.currency_code, amount(m)) for m in summary.total.billable_amounts] == [
        ("EUR", Decimal("408.26"))]  # 5 × 81.6525 = 408.2625
    exported = entries(stack).ExportTimeEntries(time_entry_service_pb2.ExportTimeEntriesRequest(
        start_date=day("2026-05-01"), end_date=day("2026-05-31"), user_id=dev.subject),
        metadata=manager.metadata, timeout=T)
    assert exported.content_type.startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.data.decode())))
    assert sorted(r["description"] for r in rows) == [
        "", "'+cmd|' /C calc'!A0", "'=HYPERLINK(\"x\")"]


def test_another_tenant_sees_not_found(stack):
    _manager, _lead, dev, project = team(stack)
    entry = log(stack, dev, project.project_id, "2026-06-01", "1")
    stranger = stack.user("manager")
    calls = [
        lambda: entries(stack).GetTimeEntry(time_entry_service_pb2.GetTimeEntryRequest(
            time_entry_id=entry.time_entry_id), metadata=stranger.metadata, timeout=T),
        lambda: submit(stack, stranger, entry),
        lambda: approve(stack, stranger, entry),
        lambda: entries(stack).DeleteTimeEntry(time_entry_service_pb2.DeleteTimeEntryRequest(
            time_entry_id=entry.time_entry_id), metadata=stranger.metadata, timeout=T),
    ]
    for call in calls:
        error = refusal(call)
        assert error.code() == grpc.StatusCode.NOT_FOUND and "ResourceInfo" in details(error)
    listed = entries(stack).ListTimeEntries(time_entry_service_pb2.ListTimeEntriesRequest(),
                                            metadata=stranger.metadata, timeout=T)
    assert listed.total_size == 0
    # Nor does the other tenant's project exist for time.
    assert reason(refusal(lambda: log(stack, stranger, project.project_id, "2026-06-01", "1"))
                  ) == "PROJECT_NOT_FOUND"


@pytest.fixture(scope="module")
def time_alone(tmp_path_factory):
    """The time service without the project service: its replica is all it knows."""
    settings = settings_for(tmp_path_factory.mktemp("time-alone"), None, ())
    with running_stack(settings, {"time": None}) as running:
        yield running


def _copy_of(stack, project_id: str):
    with stack["time"].database.engine.connect() as connection:
        return connection.execute(sa.text("SELECT version, document FROM project_copies "
                                          "WHERE id = :id"), {"id": project_id}).first()


def test_time_works_with_the_project_service_stopped_and_keeps_the_newest_version(time_alone):
    stack = time_alone
    manager = stack.user("manager")
    org, person = manager.organization_id, stack.user("member", manager.organization_id)
    project_id = str(uuid.uuid4())

    def project(version: int, name: str, state=project_pb2.PROJECT_STATE_ACTIVE):
        return project_pb2.Project(project_id=project_id, organization_id=org, name=name,
                                   customer_id="customer-1", currency_code="EUR", state=state,
                                   billing_model=1)

    def send(event):
        stack.deliver(event, organization_id=org, subject=project_id)

    send(project_events.ProjectCreated(organization_id=org, project_id=project_id,
                                       project=project(1, "Launch"), version=1))
    send(project_events.MemberAdded(
        organization_id=org, project_id=project_id, version=2, member=member_pb2.Member(
            member_id="m-1", user_id=person.subject, project_role="Developer",
            hourly_rate=amount_money("90.00"))))
    send(project_events.ProjectUpdated(organization_id=org, project_id=project_id,
                                       project=project(4, "Launch, newer"), version=4))
    send(project_events.ProjectUpdated(organization_id=org, project_id=project_id,
                                       project=project(3, "Launch, older"), version=3))
    replicated(stack, org, project_id, person.subject)
    wait_until(lambda: _copy_of(stack, project_id).version == 4, what="version 4")
    entry = wait_until(lambda: _logged(stack, person, project_id),
                       what="an entry accepted without the project service")
    assert amount(entry.amount) == Decimal("135.00") and entry.rate_source == 2  # member rate
    handled = wait_until(lambda: _inbox_size(stack) >= 4, what="every event handled")
    assert handled
    copy = _copy_of(stack, project_id)
    document = json.loads(copy.document) if isinstance(copy.document, str) else copy.document
    assert copy.version == 4 and document["name"] == "Launch, newer"


def amount_money(text: str):
    from tests.support.accepted_quote import money
    return money(text)


def _logged(stack, person, project_id):
    try:
        return log(stack, person, project_id, "2026-03-02", "1.5")
    except grpc.RpcError:
        return None


def _inbox_size(stack) -> int:
    with stack["time"].database.engine.connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM inbox")).scalar_one()


def test_changing_the_hours_keeps_the_stored_rate_and_reprices_the_amount(stack):
    _manager, _lead, dev, project = team(stack)
    entry = log(stack, dev, project.project_id, "2026-07-06", "1")
    changed = entries(stack).UpdateTimeEntry(time_entry_service_pb2.UpdateTimeEntryRequest(
        time_entry=time_entry_pb2.TimeEntry(time_entry_id=entry.time_entry_id, etag=entry.etag,
                                            hours={"value": "3"}),
        update_mask=FieldMask(paths=["hours"])), metadata=dev.metadata, timeout=T).time_entry
    assert amount(changed.rate) == Decimal("81.6525")
    assert amount(changed.amount) == Decimal("244.96")  # 244.9575
    stale = refusal(lambda: entries(stack).UpdateTimeEntry(
        time_entry_service_pb2.UpdateTimeEntryRequest(
            time_entry=time_entry_pb2.TimeEntry(time_entry_id=entry.time_entry_id,
                                                etag=entry.etag, description="x"),
            update_mask=FieldMask(paths=["description"])), metadata=dev.metadata, timeout=T))
    assert stale.code() == grpc.StatusCode.ABORTED and reason(stale) == "ETAG_MISMATCH"


def test_a_timed_entry_counts_on_its_day_in_the_organizations_time_zone(time_alone):
    from pivotal.identity.v1 import events_pb2 as identity_events

    stack = time_alone
    manager = stack.user("manager")
    org, person = manager.organization_id, stack.user("member", manager.organization_id)
    project_id = str(uuid.uuid4())
    stack.deliver(identity_events.OrganizationCreated(organization_id=org, display_name="Acme",
                                                      time_zone="Europe/Berlin", version=1),
                  organization_id=org, subject=org)
    stack.deliver(project_events.ProjectCreated(
        organization_id=org, project_id=project_id, version=1, project=project_pb2.Project(
            project_id=project_id, name="Night shift", currency_code="EUR",
            state=project_pb2.PROJECT_STATE_ACTIVE, billing_model=3),
        members=[member_pb2.Member(member_id="m", user_id=person.subject,
                                   project_role="Operator")]),
        organization_id=org, subject=project_id)
    replicated(stack, org, project_id, person.subject)
    wait_until(lambda: _inbox_has_organization(stack, org), what="the organization's zone")
    start, end = _at("2026-03-02T23:30:00Z"), _at("2026-03-03T01:00:00Z")  # 00:30 in Berlin
    wrong_day = refusal(lambda: log(stack, person, project_id, "2026-03-02", start_time=start,
                                    end_time=end))
    assert wrong_day.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert fields(wrong_day) == {"time_entry.date"} and "2026-03-03" in wrong_day.details()
    logged = log(stack, person, project_id, "2026-03-03", start_time=start, end_time=end)
    assert logged.hours.value == "1.50" and not logged.billable  # a non-billable project


def _inbox_has_organization(stack, org: str) -> bool:
    with stack["time"].database.engine.connect() as connection:
        return bool(connection.execute(sa.text(
            "SELECT count(*) FROM organization_copies WHERE id = :id"), {"id": org}).scalar_one())


def test_without_a_pinned_or_member_rate_the_persons_then_the_organizations_default_applies(
        time_alone):
    from pivotal.time.v1 import time_settings_pb2, user_rate_service_pb2, user_rate_service_pb2_grpc

    stack = time_alone
    manager = stack.user("manager")
    org = manager.organization_id
    rated, unrated = (stack.user("member", org) for _ in range(2))
    project_id = str(uuid.uuid4())
    stack.deliver(project_events.ProjectCreated(
        organization_id=org, project_id=project_id, version=1, project=project_pb2.Project(
            project_id=project_id, name="Internal", customer_id="c", currency_code="EUR",
            state=project_pb2.PROJECT_STATE_ACTIVE, billing_model=1),
        members=[member_pb2.Member(member_id=f"m{i}", user_id=p.subject, project_role="Dev")
                 for i, p in enumerate((rated, unrated))]),
        organization_id=org, subject=project_id)
    replicated(stack, org, project_id, unrated.subject)
    rates = user_rate_service_pb2_grpc.UserRateServiceStub(stack["time"].channel)
    rates.SetUserRate(user_rate_service_pb2.SetUserRateRequest(
        user_id=rated.subject, rate=amount_money("100.00"), effective_from=day("2026-01-01")),
        metadata=manager.metadata, timeout=T)
    rates.SetUserRate(user_rate_service_pb2.SetUserRateRequest(
        user_id=rated.subject, rate=amount_money("110.00"), effective_from=day("2026-04-01")),
        metadata=manager.metadata, timeout=T)
    time_settings(stack).UpdateTimeSettings(time_settings_service_pb2.UpdateTimeSettingsRequest(
        time_settings=time_settings_pb2.TimeSettings(currency_code="EUR",
                                                     default_rate=amount_money("55.55"))),
        metadata=manager.metadata, timeout=T)

    march = log(stack, rated, project_id, "2026-03-31", "1")
    april = log(stack, rated, project_id, "2026-04-01", "1")
    fallback = log(stack, unrated, project_id, "2026-04-01", "0.5")
    assert (amount(march.rate), march.rate_source) == (Decimal(100), 3)  # USER_DEFAULT
    assert amount(april.rate) == Decimal(110)
    assert (amount(fallback.rate), fallback.rate_source) == (Decimal("55.55"), 4)
    assert amount(fallback.amount) == Decimal("27.78")  # 27.775, half-even
    listed = rates.ListUserRates(user_rate_service_pb2.ListUserRatesRequest(
        user_id=rated.subject), metadata=manager.metadata, timeout=T)
    first, latest = listed.user_rates
    assert (first.effective_from, first.effective_until) == (day("2026-01-01"),
                                                             day("2026-03-31"))
    assert latest.effective_from == day("2026-04-01")
    assert not latest.HasField("effective_until")


def test_a_week_is_submitted_and_approved_in_bulk_reporting_what_could_not_change(stack):
    manager, _lead, dev, project = team(stack)
    monday = log(stack, dev, project.project_id, "2026-08-03", "8")
    sunday = log(stack, dev, project.project_id, "2026-08-09", "2")
    next_week = log(stack, dev, project.project_id, "2026-08-10", "1")
    not_monday = refusal(lambda: entries(stack).BulkSubmitTimeEntries(
        time_entry_service_pb2.BulkSubmitTimeEntriesRequest(week_start_date=day("2026-08-04")),
        metadata=dev.metadata, timeout=T))
    assert fields(not_monday) == {"week_start_date"}
    submitted = entries(stack).BulkSubmitTimeEntries(
        time_entry_service_pb2.BulkSubmitTimeEntriesRequest(week_start_date=day("2026-08-03")),
        metadata=dev.metadata, timeout=T)
    assert {e.time_entry_id for e in submitted.time_entries} == {monday.time_entry_id,
                                                                 sunday.time_entry_id}
    approved = entries(stack).BulkApproveTimeEntries(
        time_entry_service_pb2.BulkApproveTimeEntriesRequest(
            user_id=dev.subject, week_start_date=day("2026-08-03"),
            time_entry_ids=[monday.time_entry_id, next_week.time_entry_id]),
        metadata=manager.metadata, timeout=T)
    assert [e.time_entry_id for e in approved.time_entries] == [monday.time_entry_id]
    assert [(f.time_entry_id, f.code) for f in approved.failures] == [
        (next_week.time_entry_id, "NOT_FOUND")]
    own = log(stack, manager, project.project_id, "2026-08-04", "1")
    submit(stack, manager, own)
    mine = entries(stack).BulkApproveTimeEntries(
        time_entry_service_pb2.BulkApproveTimeEntriesRequest(
            user_id=manager.subject, week_start_date=day("2026-08-03")),
        metadata=manager.metadata, timeout=T)
    assert not mine.time_entries
    assert [(f.code, f.reason) for f in mine.failures] == [
        ("PERMISSION_DENIED", "SELF_APPROVAL_FORBIDDEN")]


def test_a_rejected_entry_is_edited_and_submitted_again(stack):
    manager, _lead, dev, project = team(stack)
    entry = submit(stack, dev, log(stack, dev, project.project_id, "2026-09-01", "2"))

    def reject(reason: str):
        return entries(stack).RejectTimeEntry(time_entry_service_pb2.RejectTimeEntryRequest(
            time_entry_id=entry.time_entry_id, reason=reason), metadata=manager.metadata,
            timeout=T).time_entry
    assert refusal(lambda: reject("   ")).code() == grpc.StatusCode.INVALID_ARGUMENT
    rejected = reject("Wrong day: that was the workshop")
    assert rejected.state == time_entry_pb2.TIME_ENTRY_STATE_REJECTED
    assert rejected.rejection_reason == "Wrong day: that was the workshop"
    event, = [e for e in stack["time"].outbox_events(events_pb2.TimeEntryRejected,
                                                      manager.organization_id)
              if e.time_entry_id == entry.time_entry_id]
    assert event.rejecter_id == manager.subject and event.reason == rejected.rejection_reason
    moved = entries(stack).UpdateTimeEntry(time_entry_service_pb2.UpdateTimeEntryRequest(
        time_entry=time_entry_pb2.TimeEntry(time_entry_id=entry.time_entry_id,
                                            date=day("2026-09-02")),
        update_mask=FieldMask(paths=["date"])), metadata=dev.metadata, timeout=T).time_entry
    again = submit(stack, dev, moved)
    assert again.state == time_entry_pb2.TIME_ENTRY_STATE_SUBMITTED
    assert again.rejection_reason == "" and again.date == day("2026-09-02")
    assert [t.to_state for t in again.transitions] == [
        "TIME_ENTRY_STATE_SUBMITTED", "TIME_ENTRY_STATE_REJECTED", "TIME_ENTRY_STATE_SUBMITTED"]


def test_two_entries_of_one_person_created_at_once_keep_the_day_within_24_hours(stack):
    import threading

    _manager, _lead, dev, project = team(stack)
    start = threading.Barrier(2)
    outcomes = []

    def create():
        start.wait()
        try:
            log(stack, dev, project.project_id, "2026-10-05", "15")
            outcomes.append("logged")
        except grpc.RpcError as error:
            outcomes.append(reason(error))

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["DAILY_HOURS_EXCEEDED", "logged"]
