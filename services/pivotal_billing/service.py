"""Billing's entry point: `build(deps) -> Domain` (servicers, subscriptions, the period job,
its unit of work)."""

from __future__ import annotations

from datetime import timedelta

from pivotal_runtime.kit.domain import Domain, ServiceDeps
from pivotal_runtime.kit.jobs import Job

from pivotal_billing.application.consumers import SUBSCRIPTIONS
from pivotal_billing.bootstrap import BillingApp, build_billing
from pivotal_billing.servicers import add_all
from pivotal_billing.settings import BillingSettings

PERIOD_JOB = "subscription-periods"


def domain_of(app: BillingApp) -> Domain:
    periods = Job(PERIOD_JOB, timedelta(seconds=app.settings.period_job_interval_seconds),
                  app.subscriptions.advance_due)
    return Domain(registrations=[lambda server: add_all(server, app)],
                  subscriptions=SUBSCRIPTIONS, unit_of_work=app.deps.uow, jobs=[periods],
                  application=app)


def build(deps: ServiceDeps, settings: BillingSettings | None = None, **overrides) -> Domain:
    return domain_of(build_billing(deps, settings, **overrides))
