"""Time's replica of project's resources (and of the organization's time zone), fed by
project's (and identity's) events: every copy takes only a
newer version, so an event that arrives late (retried, or overtaken) changes nothing."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from pivotal.identity.v1 import events_pb2 as identity_events
from pivotal.project.v1 import events_pb2 as project_events
from pivotal.project.v1 import project_pb2
from pivotal_runtime.bus.dispatch import Subscription
from pivotal_runtime.kit.proto_types import decimal_from_proto, money_from_proto

from pivotal_time.domain.replica import (
    MemberCopy,
    OrganizationCopy,
    PinnedRateCopy,
    ProjectCopy,
    TaskCopy,
)

_EACH = 3  # pivotal.common.v1.Unit.UNIT_EACH


def _state(value: int) -> str:
    return project_pb2.ProjectState.Name(value).removeprefix("PROJECT_STATE_")


def _decimal(message, name: str) -> Decimal | None:
    return decimal_from_proto(getattr(message, name), name) if message.HasField(name) else None


def _money(message, name: str) -> Decimal | None:
    return money_from_proto(getattr(message, name), name).amount \
        if message.HasField(name) else None


def project_copy(organization_id: str, p, version: int) -> ProjectCopy:
    return ProjectCopy(
        id=p.project_id, organization_id=organization_id, name=p.name, state=_state(p.state),
        customer_id=p.customer_id, currency_code=p.currency_code,
        billing_model=project_pb2.ProjectBillingModel.Name(p.billing_model).removeprefix(
            "PROJECT_BILLING_MODEL_"), source_quote_id=p.source_quote_id,
        pinned_rates=tuple(PinnedRateCopy(
            quote_line_item_id=r.quote_line_item_id, role=r.role, prices_time=r.unit != _EACH,
            hourly_rate=_money(r, "hourly_rate"), tax_rate_id=r.tax_rate_id,
            tax_rate_name=r.tax_rate_name, tax_rate_percent=_decimal(r, "tax_rate_percent"))
            for r in p.pinned_rates), version=version)


def member_copy(organization_id: str, project_id: str, m, version: int) -> MemberCopy:
    return MemberCopy(organization_id, project_id, m.member_id, m.user_id, m.project_role,
                      _money(m, "hourly_rate"), m.quote_line_item_id, version)


def _apply_project(uow, copy: ProjectCopy) -> None:
    uow.replica.projects.apply(copy, id=copy.id)


def _apply_member(uow, copy: MemberCopy) -> None:
    uow.replica.members.apply(copy, project_id=copy.project_id, user_id=copy.user_id)


def _apply_task(uow, organization_id: str, project_id: str, task, version: int,
                deleted: bool = False) -> None:
    uow.replica.tasks.apply(TaskCopy(organization_id, project_id, task.task_id,
                                     task.quote_line_item_id, version, deleted), id=task.task_id)


def project_created(uow, event, envelope) -> None:
    _apply_project(uow, project_copy(event.organization_id, event.project, event.version))
    for member in event.members:
        _apply_member(uow, member_copy(event.organization_id, event.project_id, member,
                                       event.version))


def project_updated(uow, event, envelope) -> None:
    _apply_project(uow, project_copy(event.organization_id, event.project, event.version))


def project_state_changed(uow, event, envelope) -> None:
    current = uow.replica.project(event.organization_id, event.project_id)
    if current is not None and event.version > current.version:
        _apply_project(uow, replace(current, state=_state(event.to_state),
                                    version=event.version))


def project_archived(uow, event, envelope) -> None:
    """Archived is final: whatever the order, the copy ends archived."""
    current = uow.replica.project(event.organization_id, event.project_id)
    if current is not None and current.state != "ARCHIVED":
        _apply_project(uow, replace(current, state="ARCHIVED", version=current.version + 1))


def member_changed(uow, event, envelope) -> None:
    _apply_member(uow, member_copy(event.organization_id, event.project_id, event.member,
                                   event.version))


def member_removed(uow, event, envelope) -> None:
    """MemberRemoved carries no version: the removal is stored one above the copy's, so an
    older MemberAdded or MemberUpdated cannot bring the member back."""
    current = uow.replica.members.get(event.organization_id, project_id=event.project_id,
                                      user_id=event.user_id)
    if current is None:
        current = MemberCopy(event.organization_id, event.project_id, event.member_id,
                             event.user_id, "", None, "", 0)
    _apply_member(uow, replace(current, removed=True, version=current.version + 1))


def task_changed(uow, event, envelope) -> None:
    _apply_task(uow, event.organization_id, event.project_id, event.task, event.version)


def task_deleted(uow, event, envelope) -> None:
    current = uow.replica.tasks.get(event.organization_id, id=event.task_id)
    version = (current.version if current is not None else 0) + 1
    uow.replica.tasks.apply(TaskCopy(event.organization_id, event.project_id, event.task_id,
                                     "", version, deleted=True), id=event.task_id)


def organization_changed(uow, event, envelope) -> None:
    uow.replica.organizations.apply(OrganizationCopy(event.organization_id, event.time_zone,
                                                     event.version), id=event.organization_id)


SUBSCRIPTIONS = [
    Subscription(identity_events.OrganizationCreated, organization_changed),
    Subscription(identity_events.OrganizationUpdated, organization_changed),
    Subscription(project_events.ProjectCreated, project_created),
    Subscription(project_events.ProjectUpdated, project_updated),
    Subscription(project_events.ProjectStateChanged, project_state_changed),
    Subscription(project_events.ProjectArchived, project_archived),
    Subscription(project_events.MemberAdded, member_changed),
    Subscription(project_events.MemberUpdated, member_changed),
    Subscription(project_events.MemberRemoved, member_removed),
    Subscription(project_events.TaskCreated, task_changed),
    Subscription(project_events.TaskUpdated, task_changed),
    Subscription(project_events.TaskDeleted, task_deleted),
]
