"""Time's entry point: `build(deps) -> Domain` (servicers, the replica's subscriptions, its
unit of work)."""

from __future__ import annotations

from pivotal_runtime.kit.domain import Domain, ServiceDeps

from pivotal_time.application.replica import SUBSCRIPTIONS
from pivotal_time.bootstrap import build_time
from pivotal_time.servicers import add_all


def build(deps: ServiceDeps, **overrides) -> Domain:
    app = build_time(deps, **overrides)
    return Domain(registrations=[lambda server: add_all(server, app)],
                  subscriptions=SUBSCRIPTIONS, unit_of_work=app.deps.uow, application=app)
