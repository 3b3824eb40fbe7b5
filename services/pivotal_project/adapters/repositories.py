"""Project's repositories: every read is scoped to the organization, every update writes only
over the version read in the same unit of work."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from pivotal_runtime.kit.document_repository import DocumentRepository
from pivotal_runtime.kit.documents import from_document, to_document
from pivotal_runtime.kit.listing import page_rows
from pivotal_runtime.kit.locks import hold_key
from pivotal_runtime.kit.paging import Position
from pivotal_runtime.kit.repository import insert_ignore
from sqlalchemy.orm import Session

from pivotal_project.adapters import tables as t
from pivotal_project.domain.members import Member, MemberFields, OtherAllocation
from pivotal_project.domain.metrics import Actual
from pivotal_project.domain.projects import Project, ProjectFields, ProjectState, Transition
from pivotal_project.domain.tasks import (
    Milestone,
    MilestoneFields,
    MilestoneState,
    Task,
    TaskFields,
)

OPEN_STATES = [s.value for s in ProjectState if s.open]


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class ProjectRepository(DocumentRepository[Project]):
    table = t.projects
    resource_type = "project"

    def columns(self, project: Project) -> dict[str, Any]:
        return {"name": project.fields.name, "customer_id": project.fields.customer_id,
                "source_quote_id": project.source_quote_id or None,
                "document": {"fields": to_document(project.fields),
                             "creator_id": project.creator_id,
                             "source_quote_number": project.source_quote_number,
                             "transitions": to_document(project.transitions)}}

    def load(self, row) -> Project:
        doc = row.document
        return Project(
            row.id, row.organization_id, from_document(ProjectFields, doc["fields"]),
            row.create_time, row.update_time, creator_id=doc["creator_id"],
            state=ProjectState(row.state), source_quote_id=row.source_quote_id or "",
            source_quote_number=doc["source_quote_number"],
            transitions=[from_document(Transition, x) for x in doc["transitions"]],
            revision=row.revision, version=row.version)

    def get(self, organization_id: str, project_id: str) -> Project | None:
        return self.get_in(organization_id, project_id)

    def lock(self, organization_id: str, project_id: str) -> Project | None:
        """The project, its row locked until the commit (child changes of one project are
        serialized: allocation checks and revisions stay consistent)."""
        row = self._s.execute(sa.select(self.table).where(
            self.table.c.id == project_id, self.table.c.organization_id == organization_id
        ).with_for_update()).first()
        return self._from_row(row) if row is not None else None

    def by_quote(self, organization_id: str, quote_id: str) -> Project | None:
        found = self.select(self.table.c.organization_id == organization_id,
                            self.table.c.source_quote_id == quote_id)
        return found[0] if found else None

    def add_from_quote(self, project: Project) -> bool:
        """Inserts a project made from a quote unless one already exists for that quote
        (a concurrent copy of the event waits here for the first, then finds its row)."""
        row = self._row(project)
        inserted = insert_ignore(self._s, self.table, vars(row),
                                 ["organization_id", "source_quote_id"])
        if inserted:
            self._seen(project)
        return inserted

    def next_revision(self, project: Project) -> int:
        """Bumps the project's revision for a change to one of its children."""
        project.revision += 1
        self._s.execute(sa.update(self.table).where(self.table.c.id == project.id)
                        .values(revision=project.revision))
        return project.revision

    def list(self, organization_id: str, *, states: list[ProjectState], customer_id: str,
             source_quote_id: str, member_user_id: str, after: Position | None, limit: int
             ) -> tuple[list[Project], int]:
        c = self.table.c
        statement = sa.select(self.table).where(c.organization_id == organization_id)
        if states:
            statement = statement.where(c.state.in_([s.value for s in states]))
        if customer_id:
            statement = statement.where(c.customer_id == customer_id)
        if source_quote_id:
            statement = statement.where(c.source_quote_id == source_quote_id)
        if member_user_id:
            statement = statement.where(c.id.in_(sa.select(t.members.c.project_id).where(
                t.members.c.user_id == member_user_id,
                t.members.c.organization_id == organization_id)))
        rows, total = page_rows(self._s, statement, [(c.create_time, False), (c.id, False)],
                            after, limit)
        return [self._from_row(row) for row in rows], total


class MemberRepository(DocumentRepository[Member]):
    table = t.members
    resource_type = "member"

    def columns(self, member: Member) -> dict[str, Any]:
        return {"user_id": member.fields.user_id, "document": to_document(member.fields)}

    def load(self, row) -> Member:
        return Member(row.id, row.organization_id, row.project_id,
                      from_document(MemberFields, row.document), row.create_time,
                      row.update_time, revision=row.revision, version=row.version)

    def get(self, organization_id: str, project_id: str, member_id: str) -> Member | None:
        found = self.select(self.table.c.id == member_id, self.table.c.project_id == project_id,
                            self.table.c.organization_id == organization_id)
        return found[0] if found else None

    def of_project(self, project_id: str) -> list[Member]:
        return self.select(self.table.c.project_id == project_id,
                           order=[self.table.c.create_time, self.table.c.id])

    def of_user(self, project_id: str, user_id: str) -> Member | None:
        found = self.select(self.table.c.project_id == project_id,
                            self.table.c.user_id == user_id)
        return found[0] if found else None

    def other_allocations(self, organization_id: str, user_id: str, except_member: str
                          ) -> list[OtherAllocation]:
        """The person's allocations in the organization's open projects, but one; the
        person's allocation changes are serialized until the commit (two projects adding the
        same person at once cannot both pass the 100% rule)."""
        hold_key(self._s, "allocations", organization_id, user_id)
        m, p = self.table.c, t.projects.c
        rows = self._s.execute(sa.select(m.id, m.project_id, m.document, p.name).join(
            t.projects, p.id == m.project_id).where(
            m.organization_id == organization_id, m.user_id == user_id, m.id != except_member,
            p.state.in_(OPEN_STATES))).all()
        found = []
        for row in rows:
            fields = from_document(MemberFields, row.document)
            if fields.allocation is not None:
                found.append(OtherAllocation(row.project_id, row.id, row.name,
                                             fields.allocation))
        return found


class TaskRepository(DocumentRepository[Task]):
    table = t.tasks
    resource_type = "task"

    def columns(self, task: Task) -> dict[str, Any]:
        return {"document": {"fields": to_document(task.fields),
                             "complete_time": to_document(task.complete_time)}}

    def load(self, row) -> Task:
        doc = row.document
        return Task(row.id, row.organization_id, row.project_id,
                    from_document(TaskFields, doc["fields"]), row.create_time, row.update_time,
                    assignee_user_id=row.assignee_user_id,
                    complete_time=_time(doc["complete_time"]),
                    revision=row.revision, version=row.version)

    def get(self, organization_id: str, project_id: str, task_id: str) -> Task | None:
        found = self.select(self.table.c.id == task_id, self.table.c.project_id == project_id,
                            self.table.c.organization_id == organization_id)
        return found[0] if found else None

    def of_project(self, project_id: str) -> list[Task]:
        return self.select(self.table.c.project_id == project_id,
                           order=[self.table.c.create_time, self.table.c.id])

    def of_assignee(self, organization_id: str, user_id: str) -> list[Task]:
        return self.select(self.table.c.organization_id == organization_id,
                           self.table.c.assignee_user_id == user_id,
                           order=[self.table.c.create_time, self.table.c.id])

    def unassign_all(self, project_id: str, user_id: str) -> list[Task]:
        return self.select(self.table.c.project_id == project_id,
                           self.table.c.assignee_user_id == user_id)


class MilestoneRepository(DocumentRepository[Milestone]):
    table = t.milestones
    resource_type = "milestone"

    def columns(self, milestone: Milestone) -> dict[str, Any]:
        return {"document": {"fields": to_document(milestone.fields),
                             "completed_by": milestone.completed_by,
                             "complete_time": to_document(milestone.complete_time)}}

    def load(self, row) -> Milestone:
        doc = row.document
        return Milestone(row.id, row.organization_id, row.project_id,
                         from_document(MilestoneFields, doc["fields"]), row.create_time,
                         row.update_time, state=MilestoneState(row.state),
                         completed_by=doc["completed_by"],
                         complete_time=_time(doc["complete_time"]),
                         version=row.version)

    def get(self, organization_id: str, project_id: str, milestone_id: str
            ) -> Milestone | None:
        found = self.select(self.table.c.id == milestone_id,
                            self.table.c.project_id == project_id,
                            self.table.c.organization_id == organization_id)
        return found[0] if found else None

    def of_project(self, project_id: str) -> list[Milestone]:
        return self.select(self.table.c.project_id == project_id,
                           order=[self.table.c.create_time, self.table.c.id])


class ActualsRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def record(self, organization_id: str, actual: Actual) -> bool:
        return insert_ignore(self._s, t.actuals, {
            "time_entry_id": actual.time_entry_id, "organization_id": organization_id,
            "project_id": actual.project_id, "task_id": actual.task_id,
            "user_id": actual.user_id, "hours": format(actual.hours, "f"),
            "amount": format(actual.amount, "f"), "billable": actual.billable,
            "approve_time": actual.approve_time}, ["time_entry_id"])

    def of_project(self, project_id: str) -> list[Actual]:
        rows = self._s.execute(sa.select(t.actuals).where(t.actuals.c.project_id == project_id))
        return [Actual(r.time_entry_id, r.project_id, r.task_id, r.user_id, Decimal(r.hours),
                       Decimal(r.amount), r.billable, r.approve_time) for r in rows]

    def has_time(self, task_id: str) -> bool:
        return self._s.execute(sa.select(t.actuals.c.time_entry_id).where(
            t.actuals.c.task_id == task_id).limit(1)).first() is not None
