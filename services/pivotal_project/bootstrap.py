"""Builds project's application from the service deps, once per host. Nothing connects here:
the database is first used by the first call, billing by the first entitlement check."""

from __future__ import annotations

from dataclasses import dataclass

from pivotal_runtime.kit.domain import ServiceDeps
from pivotal_runtime.kit.workload import entitlement_client

from pivotal_project.adapters.uow import ProjectUnitOfWork
from pivotal_project.application.common import Deps, Entitlements
from pivotal_project.application.members import MembersService
from pivotal_project.application.projects import ProjectsService
from pivotal_project.application.tasks import MilestonesService, TasksService


@dataclass
class ProjectApp:
    deps: Deps
    projects: ProjectsService
    members: MembersService
    tasks: TasksService
    milestones: MilestonesService


def build_project(service_deps: ServiceDeps, *, clock=None,
                  entitlements: Entitlements | None = None) -> ProjectApp:
    database = service_deps.database
    clock = clock or service_deps.clock
    deps = Deps(uow=lambda read_only=False: ProjectUnitOfWork(database, read_only=read_only),
                clock=clock,
                entitlements=entitlements or entitlement_client(service_deps))
    return ProjectApp(deps, ProjectsService(deps), MembersService(deps), TasksService(deps),
                      MilestonesService(deps))
