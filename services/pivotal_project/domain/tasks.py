"""Tasks and milestones of a project. Plain Python."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from pivotal_runtime.errors import (
    FailedPrecondition,
    FieldReason,
    FieldViolation,
    InvalidArgument,
    PreconditionViolation,
)
from pivotal_runtime.kit.resources import Versioned

from pivotal_project.domain import reasons
from pivotal_project.domain.checks import Checks
from pivotal_project.domain.projects import ProjectFields

TASK_UPDATABLE = ("title", "description", "state", "estimate_hours", "quote_line_item_id",
                  "milestone_id", "due_date")
MILESTONE_UPDATABLE = ("name", "description", "due_date", "amount", "quote_line_item_id")


class TaskState(str, Enum):
    TODO = "TODO"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"


class MilestoneState(str, Enum):
    OPEN = "OPEN"
    COMPLETED = "COMPLETED"


@dataclass(frozen=True)
class TaskFields:
    title: str = ""
    description: str = ""
    state: TaskState | None = None
    estimate_hours: Decimal | None = None
    quote_line_item_id: str = ""
    milestone_id: str = ""
    due_date: date | None = None

    def normalized(self) -> TaskFields:
        return replace(self, title=self.title.strip(), state=self.state or TaskState.TODO)


@dataclass(frozen=True)
class MilestoneFields:
    name: str = ""
    description: str = ""
    due_date: date | None = None
    amount: Decimal | None = None
    quote_line_item_id: str = ""

    def normalized(self) -> MilestoneFields:
        return replace(self, name=self.name.strip())


def _unknown_line(path: str) -> InvalidArgument:
    return InvalidArgument([FieldViolation(path, "is not one of the project's pinned rates",
                                           FieldReason.UNKNOWN_REFERENCE)],
                           reason=reasons.UNKNOWN_QUOTE_LINE)


def check_task(fields: TaskFields, project: ProjectFields, at: str = "task") -> None:
    checks = Checks()
    checks.text(f"{at}.title", fields.title, 200, required=True)
    checks.text(f"{at}.description", fields.description, 4000)
    checks.hours(f"{at}.estimate_hours", fields.estimate_hours)
    checks.raise_if_any()
    if fields.quote_line_item_id:
        rate = project.rate_of_line(fields.quote_line_item_id)
        if rate is None or not rate.prices_time:
            raise _unknown_line(f"{at}.quote_line_item_id")


def check_milestone(fields: MilestoneFields, project: ProjectFields, at: str = "milestone"
                    ) -> None:
    checks = Checks()
    checks.text(f"{at}.name", fields.name, 200, required=True)
    checks.text(f"{at}.description", fields.description, 4000)
    checks.not_negative(f"{at}.amount", fields.amount)
    checks.raise_if_any()
    if fields.quote_line_item_id and project.rate_of_line(fields.quote_line_item_id) is None:
        raise _unknown_line(f"{at}.quote_line_item_id")


@dataclass
class Task(Versioned):
    id: str
    organization_id: str
    project_id: str
    fields: TaskFields
    create_time: datetime
    update_time: datetime
    assignee_user_id: str = ""
    complete_time: datetime | None = None
    revision: int = 1

    def change(self, fields: TaskFields, names: list[str], now: datetime) -> list[str]:
        changed = [n for n in names if getattr(fields, n) != getattr(self.fields, n)]
        if changed:
            if fields.state is TaskState.DONE and self.fields.state is not TaskState.DONE:
                self.complete_time = now
            elif fields.state is not TaskState.DONE:
                self.complete_time = None
            self.fields = fields
            self.touch(now)
        return changed

    def assign(self, user_id: str, now: datetime) -> str | None:
        """The previous assignee when the assignee changes; None when it is the same."""
        if user_id == self.assignee_user_id:
            return None
        previous, self.assignee_user_id = self.assignee_user_id, user_id
        self.touch(now)
        return previous


@dataclass
class Milestone(Versioned):
    id: str
    organization_id: str
    project_id: str
    fields: MilestoneFields
    create_time: datetime
    update_time: datetime
    state: MilestoneState = MilestoneState.OPEN
    completed_by: str = ""
    complete_time: datetime | None = None

    @property
    def resource(self) -> str:
        return f"projects/{self.project_id}/milestones/{self.id}"

    def check_open(self) -> None:
        if self.state is MilestoneState.COMPLETED:
            raise FailedPrecondition(
                f"{self.resource} is completed", [PreconditionViolation(
                    "STATE", self.resource, "the milestone is MILESTONE_STATE_COMPLETED")],
                reason=reasons.MILESTONE_COMPLETED)

    def change(self, fields: MilestoneFields, names: list[str], now: datetime) -> list[str]:
        self.check_open()
        changed = [n for n in names if getattr(fields, n) != getattr(self.fields, n)]
        if changed:
            self.fields = fields
            self.touch(now)
        return changed

    def complete(self, actor_id: str, now: datetime) -> None:
        self.check_open()
        self.state, self.completed_by, self.complete_time = MilestoneState.COMPLETED, actor_id, now
        self.touch(now)
