"""Budget against actuals: approved time (from the time service's TimeEntryApproved), burn
and percent complete. Plain Python."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from pivotal_runtime.kit.money import round_half_even

from pivotal_project.domain.members import Member
from pivotal_project.domain.projects import Project
from pivotal_project.domain.tasks import Milestone, MilestoneState, Task, TaskState

HUNDRED = Decimal(100)
ZERO = Decimal(0)


@dataclass(frozen=True)
class Actual:
    """One approved time entry, as the project counts it."""

    time_entry_id: str
    project_id: str
    task_id: str
    user_id: str
    hours: Decimal
    amount: Decimal
    billable: bool
    approve_time: datetime


@dataclass(frozen=True)
class Spend:
    hours: Decimal = ZERO
    cost: Decimal = ZERO

    def plus(self, actual: Actual) -> Spend:
        return Spend(self.hours + actual.hours, self.cost + actual.amount)


@dataclass(frozen=True)
class TaskSpend:
    task: Task
    spend: Spend
    remaining_hours: Decimal | None
    burn_percent: Decimal | None


@dataclass(frozen=True)
class Metrics:
    project: Project
    spend: Spend
    billable: Spend
    remaining_budget: Decimal | None
    remaining_hours: Decimal | None
    burn_percent: Decimal | None
    hours_burn_percent: Decimal | None
    percent_complete: Decimal
    estimate_hours: Decimal
    tasks: list[TaskSpend]
    done_task_count: int
    unassigned: Spend
    members: list[tuple[str, str, Spend]]
    milestone_count: int
    completed_milestones: list[Milestone]
    actuals_time: datetime | None

    @property
    def completed_amount(self) -> Decimal:
        return sum((m.fields.amount or ZERO for m in self.completed_milestones), ZERO)


def percent(part: Decimal, whole: Decimal | None) -> Decimal | None:
    if not whole:
        return None
    return round_half_even(part * HUNDRED / whole, 2)


def compute(project: Project, tasks: list[Task], milestones: list[Milestone],
            members: list[Member], actuals: list[Actual]) -> Metrics:
    total, billable, unassigned = Spend(), Spend(), Spend()
    by_task: dict[str, Spend] = {}
    by_user: dict[str, Spend] = {}
    for actual in actuals:
        total = total.plus(actual)
        if actual.billable:
            billable = billable.plus(actual)
        if actual.task_id:
            by_task[actual.task_id] = by_task.get(actual.task_id, Spend()).plus(actual)
        else:
            unassigned = unassigned.plus(actual)
        by_user[actual.user_id] = by_user.get(actual.user_id, Spend()).plus(actual)
    budget, budget_hours = project.fields.budget, project.fields.budget_hours
    task_rows = []
    for task in tasks:
        spend, estimate = by_task.get(task.id, Spend()), task.fields.estimate_hours
        task_rows.append(TaskSpend(task, spend,
                                   estimate - spend.hours if estimate is not None else None,
                                   percent(spend.hours, estimate)))
    roles = {m.fields.user_id: m.fields.project_role for m in members}
    users = sorted(set(roles) | set(by_user))
    return Metrics(
        project=project, spend=total, billable=billable,
        remaining_budget=budget - total.cost if budget is not None else None,
        remaining_hours=budget_hours - total.hours if budget_hours is not None else None,
        burn_percent=percent(total.cost, budget),
        hours_burn_percent=percent(total.hours, budget_hours),
        percent_complete=percent_complete(tasks),
        estimate_hours=sum((t.fields.estimate_hours or ZERO for t in tasks), ZERO),
        tasks=task_rows, done_task_count=sum(t.fields.state is TaskState.DONE for t in tasks),
        unassigned=unassigned,
        members=[(user, roles.get(user, ""), by_user.get(user, Spend())) for user in users],
        milestone_count=len(milestones),
        completed_milestones=[m for m in milestones if m.state is MilestoneState.COMPLETED],
        actuals_time=max((a.approve_time for a in actuals), default=None))


def percent_complete(tasks: list[Task]) -> Decimal:
    """Done tasks over all tasks, weighted by their estimates (by count when none has one)."""
    if not tasks:
        return ZERO
    weights = [t.fields.estimate_hours or ZERO for t in tasks]
    if not any(weights):
        weights = [Decimal(1)] * len(tasks)
    done = sum((w for t, w in zip(tasks, weights, strict=True)
                if t.fields.state is TaskState.DONE), ZERO)
    return percent(done, sum(weights, ZERO)) or ZERO
