"""Project's resources as protobuf messages (responses and event payloads)."""

from __future__ import annotations

from pivotal.common.v1 import pricing_pb2, types_pb2
from pivotal.project.v1 import member_pb2, milestone_pb2, project_metrics_pb2, project_pb2, task_pb2
from pivotal_runtime.kit.proto_values import (
    date_or_none,
    decimal_or_none,
    money_or_none,
    timestamp_or_none,
)

from pivotal_project.domain.members import Member
from pivotal_project.domain.metrics import Metrics, Spend
from pivotal_project.domain.projects import PinnedRate, Project, ProjectState, Transition
from pivotal_project.domain.tasks import Milestone, Task


def project_state(state: ProjectState) -> int:
    return project_pb2.ProjectState.Value(f"PROJECT_STATE_{state.value}")


def transition(value: Transition) -> types_pb2.StateTransition:
    return types_pb2.StateTransition(
        from_state=f"PROJECT_STATE_{value.from_state.value}",
        to_state=f"PROJECT_STATE_{value.to_state.value}", actor_id=value.actor_id,
        reason=value.reason, time=timestamp_or_none(value.time))


def pinned_rate(rate: PinnedRate, currency: str) -> project_pb2.PinnedRate:
    return project_pb2.PinnedRate(
        role=rate.role, quote_line_item_id=rate.quote_line_item_id,
        rate_card_item_id=rate.rate_card_item_id, rate_card_version=rate.rate_card_version,
        unit=pricing_pb2.Unit.Value(f"UNIT_{rate.unit.value}"),
        unit_price=money_or_none(rate.unit_price, currency),
        hours_per_unit=decimal_or_none(rate.hours_per_unit),
        hourly_rate=money_or_none(rate.hourly_rate, currency),
        quantity=decimal_or_none(rate.quantity),
        net_amount=money_or_none(rate.net_amount, currency), description=rate.description,
        tax_rate_id=rate.tax_rate_id, tax_rate_name=rate.tax_rate_name,
        tax_rate_percent=decimal_or_none(rate.tax_rate_percent))


def project(value: Project) -> project_pb2.Project:
    f = value.fields
    return project_pb2.Project(
        project_id=value.id, organization_id=value.organization_id, name=f.name,
        description=f.description, customer_id=f.customer_id, currency_code=f.currency_code,
        state=project_state(value.state),
        billing_model=project_pb2.ProjectBillingModel.Value(
            f"PROJECT_BILLING_MODEL_{f.billing_model.value}"),
        budget=money_or_none(f.budget, f.currency_code),
        budget_hours=decimal_or_none(f.budget_hours), start_date=date_or_none(f.start_date),
        end_date=date_or_none(f.end_date), manager_user_id=f.manager_user_id,
        source_quote_id=value.source_quote_id, source_quote_number=value.source_quote_number,
        pinned_rates=[pinned_rate(r, f.currency_code) for r in f.pinned_rates],
        transitions=[transition(t) for t in value.transitions],
        created=types_pb2.AuditStamp(actor_id=value.creator_id,
                                     time=timestamp_or_none(value.create_time)),
        create_time=timestamp_or_none(value.create_time),
        update_time=timestamp_or_none(value.update_time), etag=value.etag)


def member(value: Member, currency: str) -> member_pb2.Member:
    f, allocation = value.fields, value.fields.allocation
    return member_pb2.Member(
        member_id=value.id, project_id=value.project_id, organization_id=value.organization_id,
        user_id=f.user_id, project_role=f.project_role,
        hourly_rate=money_or_none(f.hourly_rate, currency),
        allocation=None if allocation is None else member_pb2.Allocation(
            percent=decimal_or_none(allocation.percent),
            start_date=date_or_none(allocation.start_date),
            end_date=date_or_none(allocation.end_date)),
        create_time=timestamp_or_none(value.create_time),
        update_time=timestamp_or_none(value.update_time), etag=value.etag,
        quote_line_item_id=f.quote_line_item_id)


def task(value: Task) -> task_pb2.Task:
    f = value.fields
    return task_pb2.Task(
        task_id=value.id, project_id=value.project_id, organization_id=value.organization_id,
        title=f.title, description=f.description,
        state=task_pb2.TaskState.Value(f"TASK_STATE_{f.state.value}"),
        assignee_user_id=value.assignee_user_id,
        estimate_hours=decimal_or_none(f.estimate_hours),
        quote_line_item_id=f.quote_line_item_id, milestone_id=f.milestone_id,
        due_date=date_or_none(f.due_date), complete_time=timestamp_or_none(value.complete_time),
        create_time=timestamp_or_none(value.create_time),
        update_time=timestamp_or_none(value.update_time), etag=value.etag)


def milestone(value: Milestone, currency: str) -> milestone_pb2.Milestone:
    f = value.fields
    return milestone_pb2.Milestone(
        milestone_id=value.id, project_id=value.project_id,
        organization_id=value.organization_id, name=f.name, description=f.description,
        due_date=date_or_none(f.due_date), amount=money_or_none(f.amount, currency),
        quote_line_item_id=f.quote_line_item_id,
        state=milestone_pb2.MilestoneState.Value(f"MILESTONE_STATE_{value.state.value}"),
        completed=None if value.complete_time is None else types_pb2.AuditStamp(
            actor_id=value.completed_by, time=timestamp_or_none(value.complete_time)),
        create_time=timestamp_or_none(value.create_time),
        update_time=timestamp_or_none(value.update_time), etag=value.etag)


def metrics(value: Metrics) -> project_metrics_pb2.ProjectMetrics:
    p = value.project
    currency = p.fields.currency_code

    def cost(spend: Spend):
        return money_or_none(spend.cost, currency)

    return project_metrics_pb2.ProjectMetrics(
        project_id=p.id, currency_code=currency,
        budget=money_or_none(p.fields.budget, currency),
        budget_hours=decimal_or_none(p.fields.budget_hours),
        actual_hours=decimal_or_none(value.spend.hours),
        billable_hours=decimal_or_none(value.billable.hours), actual_cost=cost(value.spend),
        billable_amount=cost(value.billable),
        remaining_budget=money_or_none(value.remaining_budget, currency),
        remaining_hours=decimal_or_none(value.remaining_hours),
        burn_percent=decimal_or_none(value.burn_percent),
        hours_burn_percent=decimal_or_none(value.hours_burn_percent),
        percent_complete=decimal_or_none(value.percent_complete),
        estimate_hours=decimal_or_none(value.estimate_hours), task_count=len(value.tasks),
        done_task_count=value.done_task_count, milestone_count=value.milestone_count,
        completed_milestone_count=len(value.completed_milestones),
        completed_milestone_amount=money_or_none(value.completed_amount, currency),
        tasks=[project_metrics_pb2.TaskMetrics(
            task_id=row.task.id, title=row.task.fields.title,
            state=task_pb2.TaskState.Value(f"TASK_STATE_{row.task.fields.state.value}"),
            quote_line_item_id=row.task.fields.quote_line_item_id,
            estimate_hours=decimal_or_none(row.task.fields.estimate_hours),
            actual_hours=decimal_or_none(row.spend.hours), actual_cost=cost(row.spend),
            remaining_hours=decimal_or_none(row.remaining_hours),
            burn_percent=decimal_or_none(row.burn_percent)) for row in value.tasks],
        unassigned=project_metrics_pb2.TaskMetrics(
            title="Without task", actual_hours=decimal_or_none(value.unassigned.hours),
            actual_cost=cost(value.unassigned)),
        members=[project_metrics_pb2.MemberMetrics(
            user_id=user, project_role=role, actual_hours=decimal_or_none(spend.hours),
            actual_cost=cost(spend)) for user, role, spend in value.members],
        actuals_time=timestamp_or_none(value.actuals_time))
