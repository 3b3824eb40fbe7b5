"""Tasks and milestones of a project."""

from __future__ import annotations

from collections.abc import Callable

from pivotal_runtime.errors import (
    FailedPrecondition,
    FieldReason,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PreconditionViolation,
)
from pivotal_runtime.kit.caller import Caller
from pivotal_runtime.kit.idempotency import RequestKey, fingerprint
from pivotal_runtime.kit.masks import UpdateMask
from pivotal_runtime.kit.resources import check_etag
from pivotal_runtime.kit.updates import with_fields

from pivotal_project.application import events
from pivotal_project.application.common import Deps, page_in_memory, project_of
from pivotal_project.domain import reasons
from pivotal_project.domain.projects import Project
from pivotal_project.domain.tasks import (
    MILESTONE_UPDATABLE,
    TASK_UPDATABLE,
    Milestone,
    MilestoneFields,
    MilestoneState,
    Task,
    TaskFields,
    TaskState,
    check_milestone,
    check_task,
)


def _one(found, kind: str, resource_id: str, etag: str = ""):
    if found is None:
        raise NotFound(kind, resource_id)
    check_etag(etag, found.etag, f"{kind}s/{resource_id}")
    return found


EVERY_PROJECT = "-"  # AIP-159: ListTasks across the organization's projects


class TasksService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def create(self, caller: Caller, project_id: str, fields: TaskFields, request_id: str = ""
               ) -> Task:
        fields = fields.normalized()
        now = self._deps.clock()
        key = RequestKey(f"task:{caller.organization_id}:{project_id}", request_id,
                         fingerprint(fields))
        with self._deps.uow() as uow:
            project = project_of(uow, caller.organization_id, project_id, lock=True)
            earlier = uow.requests.reserve(key, now)
            if earlier:
                return uow.tasks.get(caller.organization_id, project.id, earlier)
            project.check_open()
            check_task(fields, project.fields)
            task = Task(self._deps.new_id(), caller.organization_id, project.id, fields, now, now,
                        revision=uow.projects.next_revision(project))
            uow.tasks.add(task)
            events.task_created(uow, project, task, caller.subject)
            uow.requests.complete(key, task.id)
            uow.commit()
        return task

    def get(self, caller: Caller, project_id: str, task_id: str) -> Task:
        with self._deps.uow(read_only=True) as uow:
            project = project_of(uow, caller.organization_id, project_id)
            return _one(uow.tasks.get(caller.organization_id, project.id, task_id), "task",
                        task_id)

    def list(self, caller: Caller, project_id: str, page_size: int, page_token: str,
             states: list[TaskState], assignee: str, milestone_id: str, quote_line: str
             ) -> tuple[list[Task], str, int]:
        with self._deps.uow(read_only=True) as uow:
            if project_id == EVERY_PROJECT:
                if not assignee:
                    raise InvalidArgument([FieldViolation(
                        "assignee_user_id", "is required to list the tasks of every project",
                        FieldReason.REQUIRED)])
                candidates = uow.tasks.of_assignee(caller.organization_id, assignee)
            else:
                candidates = uow.tasks.of_project(
                    project_of(uow, caller.organization_id, project_id).id)
            tasks = [t for t in candidates
                     if (not states or t.fields.state in states)
                     and (not assignee or t.assignee_user_id == assignee)
                     and (not milestone_id or t.fields.milestone_id == milestone_id)
                     and (not quote_line or t.fields.quote_line_item_id == quote_line)]
        return page_in_memory(tasks, page_size, page_token, project_id,
                     sorted(s.value for s in states), assignee, milestone_id, quote_line)

    def _change(self, caller: Caller, project_id: str, task_id: str, etag: str, change, *,
                unchanged=lambda task: False):
        """`change(uow, project, task, now)` under the project's lock; `unchanged(task)`
        answers a retry without a change before the etag is checked."""
        now = self._deps.clock()
        with self._deps.uow() as uow:
            project = project_of(uow, caller.organization_id, project_id, lock=True)
            task = _one(uow.tasks.get(caller.organization_id, project.id, task_id), "task",
                        task_id)
            if unchanged(task):
                return task
            check_etag(etag, task.etag, f"tasks/{task_id}")
            project.check_open()
            if change(uow, project, task, now):
                uow.commit()
        return task

    def update(self, caller: Caller, project_id: str, task_id: str, fields: TaskFields,
               mask: UpdateMask, etag: str) -> Task:
        names = mask.fields(TASK_UPDATABLE)

        def change(uow, project: Project, task: Task, now) -> bool:
            merged = with_fields(task.fields, fields, names).normalized()
            check_task(merged, project.fields)
            previous = task.fields.state
            changed = task.change(merged, names, now)
            if changed:
                task.revision = uow.projects.next_revision(project)
                uow.tasks.update(task)
                events.task_updated(uow, project, task, changed, previous, caller.subject)
            return bool(changed)

        return self._change(caller, project_id, task_id, etag, change)

    def assign(self, caller: Caller, project_id: str, task_id: str, user_id: str, etag: str
               ) -> Task:
        user_id = user_id.strip()

        def change(uow, project: Project, task: Task, now) -> bool:
            if user_id == task.assignee_user_id:
                return False
            if user_id and uow.members.of_user(project.id, user_id) is None:
                raise FailedPrecondition(
                    f"{user_id} is not a member of the project",
                    [PreconditionViolation("MEMBERSHIP", f"users/{user_id}",
                                           "the assignee must be a member of the project")],
                    reason=reasons.ASSIGNEE_NOT_MEMBER)
            previous = task.assign(user_id, now)
            task.revision = uow.projects.next_revision(project)
            uow.tasks.update(task)
            events.task_assigned(uow, project, task, previous or "", caller.subject)
            return True

        return self._change(caller, project_id, task_id, etag, change,
                            unchanged=lambda task: task.assignee_user_id == user_id)

    def delete(self, caller: Caller, project_id: str, task_id: str, etag: str) -> None:
        def change(uow, project: Project, task: Task, now) -> bool:
            if uow.actuals.has_time(task.id):
                raise FailedPrecondition(
                    "the task has approved time; set it to done instead",
                    [PreconditionViolation("TIME", f"projects/{project.id}/tasks/{task.id}",
                                           "approved time was logged on the task")],
                    reason=reasons.TASK_HAS_TIME)
            uow.projects.next_revision(project)
            uow.tasks.delete(task)
            events.task_deleted(uow, project, task, caller.subject)
            return True

        self._change(caller, project_id, task_id, etag, change)


class MilestonesService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def create(self, caller: Caller, project_id: str,
               parse: Callable[[str], MilestoneFields], request_id: str = ""
               ) -> tuple[Project, Milestone]:
        """`parse(currency)` reads the milestone, its amount in the project's currency."""
        now = self._deps.clock()
        with self._deps.uow() as uow:
            project = project_of(uow, caller.organization_id, project_id, lock=True)
            fields = parse(project.fields.currency_code).normalized()
            key = RequestKey(f"milestone:{caller.organization_id}:{project_id}", request_id,
                             fingerprint(fields))
            earlier = uow.requests.reserve(key, now)
            if earlier:
                return project, uow.milestones.get(caller.organization_id, project.id, earlier)
            project.check_open()
            check_milestone(fields, project.fields)
            milestone = Milestone(self._deps.new_id(), caller.organization_id, project.id,
                                  fields, now, now)
            uow.milestones.add(milestone)
            uow.requests.complete(key, milestone.id)
            uow.commit()
        return project, milestone

    def get(self, caller: Caller, project_id: str, milestone_id: str
            ) -> tuple[Project, Milestone]:
        with self._deps.uow(read_only=True) as uow:
            project = project_of(uow, caller.organization_id, project_id)
            return project, _one(uow.milestones.get(caller.organization_id, project.id,
                                                    milestone_id), "milestone", milestone_id)

    def list(self, caller: Caller, project_id: str, page_size: int, page_token: str,
             states: list[MilestoneState]) -> tuple[Project, list[Milestone], str, int]:
        with self._deps.uow(read_only=True) as uow:
            project = project_of(uow, caller.organization_id, project_id)
            found = [m for m in uow.milestones.of_project(project.id)
                     if not states or m.state in states]
        return (project, *page_in_memory(found, page_size, page_token, project_id,
                                sorted(s.value for s in states)))

    def _change(self, caller: Caller, project_id: str, milestone_id: str, etag: str, change
                ) -> tuple[Project, Milestone]:
        now = self._deps.clock()
        with self._deps.uow() as uow:
            project = project_of(uow, caller.organization_id, project_id, lock=True)
            milestone = _one(uow.milestones.get(caller.organization_id, project.id,
                                                milestone_id), "milestone", milestone_id, etag)
            project.check_open()
            if change(uow, project, milestone, now):
                uow.commit()
        return project, milestone

    def update(self, caller: Caller, project_id: str, milestone_id: str,
               parse: Callable[[str], MilestoneFields], mask: UpdateMask, etag: str
               ) -> tuple[Project, Milestone]:
        names = mask.fields(MILESTONE_UPDATABLE)

        def change(uow, project, milestone: Milestone, now) -> bool:
            fields = parse(project.fields.currency_code)
            merged = with_fields(milestone.fields, fields, names).normalized()
            check_milestone(merged, project.fields)
            if milestone.change(merged, names, now):
                uow.milestones.update(milestone)
                return True
            return False

        return self._change(caller, project_id, milestone_id, etag, change)

    def complete(self, caller: Caller, project_id: str, milestone_id: str, etag: str
                 ) -> tuple[Project, Milestone]:
        def change(uow, project, milestone: Milestone, now) -> bool:
            milestone.complete(caller.subject, now)
            uow.milestones.update(milestone)
            events.milestone_completed(uow, project, milestone)
            return True

        return self._change(caller, project_id, milestone_id, etag, change)

    def delete(self, caller: Caller, project_id: str, milestone_id: str, etag: str) -> None:
        def change(uow, project, milestone: Milestone, now) -> bool:
            milestone.check_open()
            uow.milestones.delete(milestone)
            return True

        self._change(caller, project_id, milestone_id, etag, change)
