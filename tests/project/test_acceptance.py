"""Project's acceptance: an accepted quote becomes exactly one project (however often and
however concurrently QuoteAccepted arrives), the plan's limit is asked of billing before any
transaction opens, the allocation rule names its conflicts, actuals come from approved time,
and another tenant's project is NOT_FOUND."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from decimal import Decimal

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf.field_mask_pb2 import FieldMask
from pivotal.project.v1 import (
    events_pb2,
    member_service_pb2,
    project_pb2,
    project_service_pb2,
    task_service_pb2,
)
from pivotal_runtime.bus.dispatch import Delivery, Dispatcher

from tests.support.accepted_quote import quote_accepted
from tests.support.domains import event_message, wait_until
from tests.support.project_time import (
    T,
    accept_quote,
    add_member,
    amount,
    members,
    project_of_quote,
    projects,
    tasks,
)
from tests.support.rpc_errors import details, reason


def inbox_count(stack, event_ids) -> int:
    with stack["project"].database.engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(sa.table(
            "inbox", sa.column("event_id"))).where(sa.column("event_id").in_(event_ids))
        ).scalar_one()


def test_an_accepted_quote_becomes_one_project_with_its_budget_lines_and_rates(stack):
    user = stack.user()
    quote_id = str(uuid.uuid4())
    event = quote_accepted(user.organization_id, quote_id)
    first = stack.deliver(event, organization_id=user.organization_id, subject=quote_id)
    stack.broker.route([first, first])  # redelivered: the same event id twice more
    replay = stack.deliver(event, organization_id=user.organization_id, subject=quote_id)
    wait_until(lambda: inbox_count(stack, [first.message_id, replay.message_id]) == 2,
               what="both event ids handled")

    listed = projects(stack).ListProjects(project_service_pb2.ListProjectsRequest(
        source_quote_id=quote_id), metadata=user.metadata, timeout=T)
    assert listed.total_size == 1
    project = listed.projects[0]
    assert project.state == project_pb2.PROJECT_STATE_PLANNED
    assert project.customer_id == "customer-1" and project.currency_code == "EUR"
    assert amount(project.budget) == Decimal("9503.60")
    assert Decimal(project.budget_hours.value) == Decimal("77.5")  # 5 × 7.5 + 40
    rates = {r.quote_line_item_id: r for r in project.pinned_rates}
    assert amount(rates["line-lead"].hourly_rate) == Decimal("160")
    assert amount(rates["line-dev"].hourly_rate) == Decimal("81.6525")
    assert Decimal(rates["line-dev"].tax_rate_percent.value) == 19
    assert not rates["line-doc"].HasField("hourly_rate")  # a fixed price prices no time
    found = tasks(stack).ListTasks(task_service_pb2.ListTasksRequest(
        project_id=project.project_id), metadata=user.metadata, timeout=T)
    assert sorted((t.quote_line_item_id, t.estimate_hours.value) for t in found.tasks) == [
        ("line-dev", "40"), ("line-lead", "37.5")]
    created = stack["project"].outbox_events(events_pb2.ProjectCreated, user.organization_id)
    assert [e.project.source_quote_id for e in created] == [quote_id]
    assert created[0].version == 1


@pytest.mark.integration
@pytest.mark.parametrize("same_event", [True, False], ids=["one-event-twice", "two-events"])
def test_two_copies_arriving_at_once_make_one_project(stack, same_event):
    if stack.backend != "postgres":
        pytest.skip("concurrent transactions: PostgreSQL")
    user = stack.user()
    quote_id = str(uuid.uuid4())
    event = quote_accepted(user.organization_id, quote_id)
    shared_id = str(uuid.uuid4())
    copies = [event_message(event, organization_id=user.organization_id, subject=quote_id,
                            event_id=shared_id if same_event else None) for _ in range(2)]
    app = stack["project"].app
    from pivotal_project.application.subscriptions import subscriptions
    dispatcher = Dispatcher("project-race", stack["project"].database,
                            subscriptions(app.projects), unit_of_work=app.deps.uow)
    start = threading.Barrier(2)
    outcomes = []

    def handle(message):
        start.wait()
        outcomes.extend(dispatcher.process([Delivery(message)]))

    threads = [threading.Thread(target=handle, args=(c,)) for c in copies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(outcomes) == 2 and all(type(o).__name__ == "Ack" for o in outcomes), outcomes
    assert stack["project"].count("projects", source_quote_id=quote_id) == 1
    created = stack["project"].outbox_events(events_pb2.ProjectCreated, user.organization_id)
    assert len(created) == 1


def _locks_free(stack) -> bool:
    """Whether another connection can take the projects table for itself while billing is
    being asked: false when the caller holds a transaction on it across the call (it waits
    for billing's answer, so it cannot release it; short reads of the relay pass)."""
    database = stack["project"].database
    if database.is_postgres:
        with database.engine.connect() as connection:
            try:
                with connection.begin():
                    connection.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
                    connection.exec_driver_sql("LOCK TABLE projects IN ACCESS EXCLUSIVE MODE")
            except sa.exc.OperationalError:
                return False
        return True
    connection = sqlite3.connect(database.engine.url.database, timeout=2,
                                 isolation_level=None)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        connection.execute("ROLLBACK")
    except sqlite3.OperationalError:
        return False
    finally:
        connection.close()
    return True


def create_request(name: str = "Internal tooling") -> project_service_pb2.CreateProjectRequest:
    return project_service_pb2.CreateProjectRequest(project=project_pb2.Project(
        name=name, currency_code="EUR", customer_id="customer-1"))


def test_over_the_plan_limit_is_resource_exhausted_asked_outside_any_transaction(
        stack, billing):
    user = stack.user()
    seen = []
    billing.billing.mode = "deny"
    billing.billing.on_call = lambda: seen.append(_locks_free(stack))
    try:
        with pytest.raises(grpc.RpcError) as refused:
            projects(stack).CreateProject(create_request(), metadata=user.metadata, timeout=T)
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert reason(refused.value) == "QUOTA_EXCEEDED"
        assert details(refused.value)["ErrorInfo"].metadata["limit"] == "max_projects"
        request, metadata = billing.billing.requests[-1]
        assert request.key == "max_projects" and request.organization_id == user.organization_id
        assert metadata["authorization"] == "Bearer workload-token"  # as the workload

        quote_id = str(uuid.uuid4())
        stack.deliver(quote_accepted(user.organization_id, quote_id),
                      organization_id=user.organization_id, subject=quote_id)
        rejected = wait_until(lambda: stack["project"].outbox_events(
            events_pb2.ProjectCreationRejected, user.organization_id), what="the rejection")
        assert rejected[0].quote_id == quote_id and rejected[0].reason == "QUOTA_EXCEEDED"
        assert rejected[0].limit == "max_projects"
    finally:
        billing.billing.mode, billing.billing.on_call = "allow", None
    # Asked twice (CreateProject, then the QuoteAccepted consumer), never inside a transaction.
    assert seen == [True, True], "a transaction was open while billing was asked"
    assert stack["project"].count("projects", organization_id=user.organization_id) == 0


def test_with_billing_stopped_creation_is_unavailable_and_nothing_is_written(stack, billing):
    user = stack.user()
    billing.stop()
    try:
        with pytest.raises(grpc.RpcError) as refused:
            projects(stack).CreateProject(create_request(), metadata=user.metadata, timeout=T)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "billing" in refused.value.details()
        quote_id = str(uuid.uuid4())
        message = stack.deliver(quote_accepted(user.organization_id, quote_id),
                                organization_id=user.organization_id, subject=quote_id)
        queue = stack.broker.queue("project")
        dead = wait_until(lambda: [d for d in queue.dead_letters
                                   if d.message.message_id == message.message_id],
                          what="the dead-lettered QuoteAccepted")
        assert "billing" in dead[0].error
    finally:
        billing.start()
    assert stack["project"].count("projects", organization_id=user.organization_id) == 0
    assert stack["project"].count("projects", source_quote_id=quote_id) == 0


def test_an_allocation_over_100_percent_is_refused_naming_the_conflicts(stack):
    user = stack.user()
    person = f"person-{uuid.uuid4().hex[:6]}"
    first = accept_quote(stack, user)
    second = accept_quote(stack, user)
    add_member(stack, user, first.project_id, person, "Developer", "line-dev", "60",
               "2026-03-01", "2026-06-30")
    with pytest.raises(grpc.RpcError) as refused:
        add_member(stack, user, second.project_id, person, "Developer", "line-dev", "50",
                   "2026-06-01")
    error = refused.value
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason(error) == "OVER_ALLOCATION"
    violation, = details(error)["PreconditionFailure"].violations
    assert violation.type == "ALLOCATION"
    assert violation.subject.startswith(f"projects/{first.project_id}/members/")
    assert "60% from 2026-03-01 to 2026-06-30" in violation.description
    info = details(error)["ErrorInfo"].metadata
    assert (info["peak_percent"], info["peak_date"]) == ("110", "2026-06-01")
    # After the first allocation ends, the second fits.
    add_member(stack, user, second.project_id, person, "Developer", "line-dev", "50",
               "2026-07-01")


def test_member_changes_and_states_are_published_with_the_project_revision(stack):
    user = stack.user()
    project = accept_quote(stack, user)
    member = add_member(stack, user, project.project_id, "someone", "Developer", "line-dev")
    changed = members(stack).UpdateMember(member_service_pb2.UpdateMemberRequest(
        member=member.__class__(project_id=project.project_id, member_id=member.member_id,
                                project_role="Lead consultant"),
        update_mask=FieldMask(paths=["project_role"])), metadata=user.metadata, timeout=T)
    assert changed.member.project_role == "Lead consultant"
    outbox = stack["project"]
    added = [e for e in outbox.outbox_events(events_pb2.MemberAdded, user.organization_id)
             if e.project_id == project.project_id]
    updated = [e for e in outbox.outbox_events(events_pb2.MemberUpdated, user.organization_id)
               if e.project_id == project.project_id]
    states = [e for e in outbox.outbox_events(events_pb2.ProjectStateChanged,
                                              user.organization_id)
              if e.project_id == project.project_id]
    assert states[0].version < added[0].version < updated[0].version


def test_another_tenant_sees_not_found(stack):
    owner, stranger = stack.user(), stack.user()
    project = accept_quote(stack, owner)
    calls = [
        lambda: projects(stack).GetProject(project_service_pb2.GetProjectRequest(
            project_id=project.project_id), metadata=stranger.metadata, timeout=T),
        lambda: projects(stack).ArchiveProject(project_service_pb2.ArchiveProjectRequest(
            project_id=project.project_id), metadata=stranger.metadata, timeout=T),
        lambda: projects(stack).GetProjectMetrics(project_service_pb2.GetProjectMetricsRequest(
            project_id=project.project_id), metadata=stranger.metadata, timeout=T),
        lambda: members(stack).ListMembers(member_service_pb2.ListMembersRequest(
            project_id=project.project_id), metadata=stranger.metadata, timeout=T),
        lambda: add_member(stack, stranger, project.project_id, stranger.subject, "Developer"),
        lambda: tasks(stack).ListTasks(task_service_pb2.ListTasksRequest(
            project_id=project.project_id), metadata=stranger.metadata, timeout=T),
    ]
    for call in calls:
        with pytest.raises(grpc.RpcError) as refused:
            call()
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND
        assert "ResourceInfo" in details(refused.value)
    listed = projects(stack).ListProjects(project_service_pb2.ListProjectsRequest(),
                                          metadata=stranger.metadata, timeout=T)
    assert listed.total_size == 0
    assert project_of_quote(stack, owner, project.source_quote_id).project_id == \
        project.project_id


def test_tasks_are_assigned_to_members_and_listed_across_projects(stack):
    user = stack.user()
    person = f"person-{uuid.uuid4().hex[:6]}"
    project = accept_quote(stack, user)
    task = tasks(stack).ListTasks(task_service_pb2.ListTasksRequest(
        project_id=project.project_id), metadata=user.metadata, timeout=T).tasks[0]
    with pytest.raises(grpc.RpcError) as refused:
        tasks(stack).AssignTask(task_service_pb2.AssignTaskRequest(
            project_id=project.project_id, task_id=task.task_id, user_id=person),
            metadata=user.metadata, timeout=T)
    assert reason(refused.value) == "ASSIGNEE_NOT_MEMBER"
    add_member(stack, user, project.project_id, person, "Developer", "line-dev")
    assigned = tasks(stack).AssignTask(task_service_pb2.AssignTaskRequest(
        project_id=project.project_id, task_id=task.task_id, user_id=person, etag=task.etag),
        metadata=user.metadata, timeout=T).task
    assert assigned.assignee_user_id == person
    again = tasks(stack).AssignTask(task_service_pb2.AssignTaskRequest(
        project_id=project.project_id, task_id=task.task_id, user_id=person, etag=task.etag),
        metadata=user.metadata, timeout=T).task  # a retry with the old etag: no change
    assert again.etag == assigned.etag
    mine = tasks(stack).ListTasks(task_service_pb2.ListTasksRequest(
        project_id="-", assignee_user_id=person), metadata=user.metadata, timeout=T)
    assert [t.task_id for t in mine.tasks] == [task.task_id]
    events = [e for e in stack["project"].outbox_events(events_pb2.TaskAssigned,
                                                         user.organization_id)
              if e.task_id == task.task_id]
    assert [e.assignee_user_id for e in events] == [person]


def test_the_customer_and_currency_of_a_project_cannot_change(stack):
    user = stack.user()
    project = accept_quote(stack, user)
    with pytest.raises(grpc.RpcError) as refused:
        projects(stack).UpdateProject(project_service_pb2.UpdateProjectRequest(
            project=project_pb2.Project(project_id=project.project_id, currency_code="USD",
                                        name="Renamed")), metadata=user.metadata, timeout=T)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert {(v.field, v.reason) for v in details(refused.value)["BadRequest"].field_violations
            } == {("project.currency_code", "IMMUTABLE")}
    renamed = projects(stack).UpdateProject(project_service_pb2.UpdateProjectRequest(
        project=project_pb2.Project(project_id=project.project_id, name="Renamed",
                                    etag=project.etag)), metadata=user.metadata, timeout=T)
    assert renamed.project.name == "Renamed" and renamed.project.etag != project.etag
    updated = [e for e in stack["project"].outbox_events(events_pb2.ProjectUpdated,
                                                         user.organization_id)
               if e.project_id == project.project_id]
    assert [list(e.update_mask.paths) for e in updated] == [["name"]]


def test_milestones_complete_once_and_count_in_the_metrics(stack):
    from google.type import date_pb2
    from pivotal.project.v1 import milestone_pb2, milestone_service_pb2, milestone_service_pb2_grpc

    user = stack.user()
    project = accept_quote(stack, user)
    stub = milestone_service_pb2_grpc.MilestoneServiceStub(stack["project"].channel)
    listed = stub.ListMilestones(milestone_service_pb2.ListMilestonesRequest(
        project_id=project.project_id), metadata=user.metadata, timeout=T).milestones
    assert [(m.quote_line_item_id, amount(m.amount)) for m in listed] == [
        ("line-doc", Decimal("237.50"))]
    wrong_currency = milestone_pb2.Milestone(name="Go-live", amount={"currency_code": "USD",
                                                                      "units": 1})
    with pytest.raises(grpc.RpcError) as refused:
        stub.CreateMilestone(milestone_service_pb2.CreateMilestoneRequest(
            project_id=project.project_id, milestone=wrong_currency), metadata=user.metadata,
            timeout=T)
    assert reason(refused.value) == "CURRENCY_MISMATCH"
    go_live = stub.CreateMilestone(milestone_service_pb2.CreateMilestoneRequest(
        project_id=project.project_id, milestone=milestone_pb2.Milestone(
            name="Go-live", due_date=date_pb2.Date(year=2026, month=6, day=30),
            amount={"currency_code": "EUR", "units": 500})), metadata=user.metadata,
        timeout=T).milestone
    done = stub.CompleteMilestone(milestone_service_pb2.CompleteMilestoneRequest(
        project_id=project.project_id, milestone_id=go_live.milestone_id),
        metadata=user.metadata, timeout=T).milestone
    assert done.state == milestone_pb2.MILESTONE_STATE_COMPLETED
    assert done.completed.actor_id == user.subject
    with pytest.raises(grpc.RpcError) as again:
        stub.CompleteMilestone(milestone_service_pb2.CompleteMilestoneRequest(
            project_id=project.project_id, milestone_id=go_live.milestone_id),
            metadata=user.metadata, timeout=T)
    assert reason(again.value) == "MILESTONE_COMPLETED"
    event, = [e for e in stack["project"].outbox_events(events_pb2.MilestoneCompleted,
                                                         user.organization_id)
              if e.milestone_id == go_live.milestone_id]
    assert event.billable and amount(event.amount) == 500 and event.source_quote_id
    metrics = projects(stack).GetProjectMetrics(project_service_pb2.GetProjectMetricsRequest(
        project_id=project.project_id), metadata=user.metadata, timeout=T).metrics
    assert (metrics.milestone_count, metrics.completed_milestone_count) == (2, 1)
    assert amount(metrics.completed_milestone_amount) == 500
    assert (metrics.task_count, metrics.percent_complete.value) == (2, "0")


def test_two_projects_adding_the_same_person_at_once_cannot_both_pass_the_rule(stack):
    user = stack.user()
    person = f"person-{uuid.uuid4().hex[:6]}"
    first, second = accept_quote(stack, user), accept_quote(stack, user)
    start = threading.Barrier(2)
    outcomes = []

    def add(project):
        start.wait()
        try:
            add_member(stack, user, project.project_id, person, "Developer", "line-dev", "60",
                       "2026-03-01")
            outcomes.append("added")
        except grpc.RpcError as error:
            outcomes.append(reason(error))

    threads = [threading.Thread(target=add, args=(p,)) for p in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["OVER_ALLOCATION", "added"]
