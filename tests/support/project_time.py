"""The steps from an accepted quote to logged time, over gRPC against project and time in the
test process (tests/support/domains.py)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import sqlalchemy as sa
from google.type import date_pb2, decimal_pb2
from pivotal.project.v1 import (
    member_pb2,
    member_service_pb2,
    member_service_pb2_grpc,
    project_service_pb2,
    project_service_pb2_grpc,
    task_service_pb2_grpc,
)
from pivotal.time.v1 import (
    time_entry_pb2,
    time_entry_service_pb2,
    time_entry_service_pb2_grpc,
    time_settings_service_pb2_grpc,
)

from tests.support.accepted_quote import quote_accepted
from tests.support.domains import Stack, User, wait_until

T = 10  # seconds, the deadline of every call


def projects(stack: Stack):
    return project_service_pb2_grpc.ProjectServiceStub(stack["project"].channel)


def members(stack: Stack):
    return member_service_pb2_grpc.MemberServiceStub(stack["project"].channel)


def tasks(stack: Stack):
    return task_service_pb2_grpc.TaskServiceStub(stack["project"].channel)


def entries(stack: Stack):
    return time_entry_service_pb2_grpc.TimeEntryServiceStub(stack["time"].channel)


def time_settings(stack: Stack):
    return time_settings_service_pb2_grpc.TimeSettingsServiceStub(stack["time"].channel)


def amount(money) -> Decimal:
    return Decimal(money.units) + Decimal(money.nanos) / Decimal(1_000_000_000)


def day(text: str) -> date_pb2.Date:
    year, month, dom = (int(x) for x in text.split("-"))
    return date_pb2.Date(year=year, month=month, day=dom)


def project_of_quote(stack: Stack, user: User, quote_id: str):
    """The project created from the quote, once the consumer has made it."""
    def found():
        listed = projects(stack).ListProjects(project_service_pb2.ListProjectsRequest(
            source_quote_id=quote_id), metadata=user.metadata, timeout=T)
        return listed.projects[0] if listed.projects else None
    return wait_until(found, what=f"the project of quote {quote_id}")


def accept_quote(stack: Stack, user: User):
    """Delivers a QuoteAccepted and returns the project made of it, activated."""
    quote_id = str(uuid.uuid4())
    stack.deliver(quote_accepted(user.organization_id, quote_id),
                  organization_id=user.organization_id, subject=quote_id)
    project = project_of_quote(stack, user, quote_id)
    return projects(stack).ActivateProject(project_service_pb2.ActivateProjectRequest(
        project_id=project.project_id), metadata=user.metadata, timeout=T).project


def add_member(stack: Stack, user: User, project_id: str, person: str, role: str,
               line: str = "", percent: str = "", start: str = "2026-01-01",
               end: str = ""):
    allocation = None
    if percent:
        allocation = member_pb2.Allocation(percent=decimal_pb2.Decimal(value=percent),
                                           start_date=day(start),
                                           end_date=day(end) if end else None)
    return members(stack).AddMember(member_service_pb2.AddMemberRequest(
        project_id=project_id, member=member_pb2.Member(
            user_id=person, project_role=role, quote_line_item_id=line,
            allocation=allocation)), metadata=user.metadata, timeout=T).member


def replicated(stack: Stack, organization_id: str, project_id: str, user_id: str = ""):
    """Waits until time's replica holds the project (and the membership)."""
    def there():
        with stack["time"].database.engine.connect() as connection:
            found = connection.execute(sa.text(
                "SELECT count(*) FROM project_copies WHERE id = :id"),
                {"id": project_id}).scalar_one()
            if user_id:
                found = found and connection.execute(sa.text(
                    "SELECT count(*) FROM member_copies WHERE project_id = :p AND user_id = :u"),
                    {"p": project_id, "u": user_id}).scalar_one()
        return found
    wait_until(there, what=f"time's copy of project {project_id}")


def log(stack: Stack, user: User, project_id: str, date: str, hours: str = "", **extra):
    entry = time_entry_pb2.TimeEntry(project_id=project_id, date=day(date), **extra)
    if hours:
        entry.hours.value = hours
    return entries(stack).CreateTimeEntry(time_entry_service_pb2.CreateTimeEntryRequest(
        time_entry=entry), metadata=user.metadata, timeout=T).time_entry
