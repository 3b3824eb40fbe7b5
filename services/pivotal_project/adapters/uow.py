"""Project's unit of work: the runtime's (one transaction, outbox and kit tables included)
plus project's repositories bound to its session."""

from __future__ import annotations

from pivotal_runtime.uow import UnitOfWork
from sqlalchemy.orm import Session

from pivotal_project.adapters import repositories as r


class ProjectUnitOfWork(UnitOfWork):
    def bind(self, session: Session) -> None:
        super().bind(session)
        self.projects = r.ProjectRepository(session)
        self.members = r.MemberRepository(session)
        self.tasks = r.TaskRepository(session)
        self.milestones = r.MilestoneRepository(session)
        self.actuals = r.ActualsRepository(session)
