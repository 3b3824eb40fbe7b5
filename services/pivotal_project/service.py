"""Project's entry point: `build(deps) -> Domain` (servicers, subscriptions, its unit of
work)."""

from __future__ import annotations

from pivotal_runtime.kit.domain import Domain, ServiceDeps

from pivotal_project.application.subscriptions import subscriptions
from pivotal_project.bootstrap import build_project
from pivotal_project.servicers import add_all


def build(deps: ServiceDeps, **overrides) -> Domain:
    app = build_project(deps, **overrides)
    return Domain(registrations=[lambda server: add_all(server, app)],
                  subscriptions=subscriptions(app.projects), unit_of_work=app.deps.uow,
                  application=app)
