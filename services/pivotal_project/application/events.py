"""Project's events, staged in the unit of work's outbox with the change they report. Every
event is on the `project` aggregate with the project id as subject; replicating events carry
the project's revision as `version` (docs/project.md)."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.field_mask_pb2 import FieldMask
from pivotal.project.v1 import events_pb2 as ev
from pivotal.project.v1 import task_pb2
from pivotal_runtime.kit.proto_values import date_or_none, money_or_none, timestamp_or_none

from pivotal_project.application import messages as m
from pivotal_project.domain.members import Member
from pivotal_project.domain.projects import BillingModel, Project, ProjectState, Transition
from pivotal_project.domain.tasks import Milestone, Task


def _add(uow, project: Project, message) -> None:
    uow.add_event(message, aggregate_id=project.id, organization_id=project.organization_id)


def _about(project: Project) -> dict:
    return {"organization_id": project.organization_id, "project_id": project.id}


def created(uow, project: Project, members: list[Member], tasks: list[Task], actor_id: str
            ) -> None:
    currency = project.fields.currency_code
    _add(uow, project, ev.ProjectCreated(
        **_about(project), project=m.project(project), actor_id=actor_id,
        members=[m.member(x, currency) for x in members], version=project.revision))
    for task in tasks:
        task_created(uow, project, task, actor_id)


def creation_rejected(uow, organization_id: str, quote_id: str, quote_number: str,
                      reason: str, limit: str, message: str, now: datetime) -> None:
    uow.add_event(ev.ProjectCreationRejected(
        organization_id=organization_id, quote_id=quote_id, quote_number=quote_number,
        reason=reason, limit=limit, message=message, reject_time=timestamp_or_none(now)),
        aggregate_id=quote_id, organization_id=organization_id)


def updated(uow, project: Project, changed: list[str], actor_id: str) -> None:
    _add(uow, project, ev.ProjectUpdated(**_about(project), project=m.project(project),
                                         update_mask=FieldMask(paths=changed),
                                         actor_id=actor_id, version=project.revision))


def state_changed(uow, project: Project, transition: Transition) -> None:
    _add(uow, project, ev.ProjectStateChanged(
        **_about(project), from_state=m.project_state(transition.from_state),
        to_state=m.project_state(transition.to_state), transition=m.transition(transition),
        version=project.revision))
    if transition.to_state is ProjectState.ARCHIVED:
        _add(uow, project, ev.ProjectArchived(
            **_about(project), customer_id=project.fields.customer_id,
            source_quote_id=project.source_quote_id, actor_id=transition.actor_id))


def member_added(uow, project: Project, member: Member, actor_id: str) -> None:
    _add(uow, project, ev.MemberAdded(**_about(project), actor_id=actor_id,
                                      member=m.member(member, project.fields.currency_code),
                                      version=member.revision))


def member_updated(uow, project: Project, member: Member, changed: list[str], actor_id: str
                   ) -> None:
    _add(uow, project, ev.MemberUpdated(**_about(project), actor_id=actor_id,
                                        member=m.member(member, project.fields.currency_code),
                                        update_mask=FieldMask(paths=changed),
                                        version=member.revision))


def member_removed(uow, project: Project, member: Member, actor_id: str) -> None:
    _add(uow, project, ev.MemberRemoved(**_about(project), member_id=member.id,
                                        user_id=member.fields.user_id, actor_id=actor_id))


def task_created(uow, project: Project, task: Task, actor_id: str) -> None:
    _add(uow, project, ev.TaskCreated(**_about(project), task=m.task(task), actor_id=actor_id,
                                      version=task.revision))


def task_updated(uow, project: Project, task: Task, changed: list[str], previous_state,
                 actor_id: str) -> None:
    _add(uow, project, ev.TaskUpdated(
        **_about(project), task=m.task(task), update_mask=FieldMask(paths=changed),
        previous_state=task_pb2.TaskState.Value(f"TASK_STATE_{previous_state.value}"),
        actor_id=actor_id, version=task.revision))


def task_assigned(uow, project: Project, task: Task, previous: str, actor_id: str) -> None:
    _add(uow, project, ev.TaskAssigned(
        **_about(project), task_id=task.id, task_title=task.fields.title,
        assignee_user_id=task.assignee_user_id, previous_assignee_user_id=previous,
        actor_id=actor_id))


def task_deleted(uow, project: Project, task: Task, actor_id: str) -> None:
    _add(uow, project, ev.TaskDeleted(**_about(project), task_id=task.id, actor_id=actor_id))


def milestone_completed(uow, project: Project, milestone: Milestone) -> None:
    f, currency = milestone.fields, project.fields.currency_code
    _add(uow, project, ev.MilestoneCompleted(
        **_about(project), milestone_id=milestone.id, milestone_name=f.name,
        project_name=project.fields.name, customer_id=project.fields.customer_id,
        currency_code=currency, amount=money_or_none(f.amount, currency),
        billable=f.amount is not None and project.fields.billing_model is not
        BillingModel.NON_BILLABLE,
        source_quote_id=project.source_quote_id, quote_line_item_id=f.quote_line_item_id,
        due_date=date_or_none(f.due_date), complete_time=timestamp_or_none(milestone.complete_time),
        actor_id=milestone.completed_by))
