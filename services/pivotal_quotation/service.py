"""Quotation's entry point: `build(deps) -> Domain` (servicers, subscriptions, the expiry
job, its unit of work)."""

from __future__ import annotations

from datetime import timedelta

from pivotal_runtime.kit.domain import Domain, ServiceDeps
from pivotal_runtime.kit.jobs import Job

from pivotal_quotation.application.subscriptions import SUBSCRIPTIONS
from pivotal_quotation.bootstrap import QuotationApp, build_quotation
from pivotal_quotation.servicers import add_all
from pivotal_quotation.settings import QuotationSettings


def domain_of(app: QuotationApp) -> Domain:
    expiry = Job("quote-expiry", timedelta(seconds=app.settings.expiry_interval_seconds),
                 app.quotes.expire_due)
    return Domain(registrations=[lambda server: add_all(server, app)],
                  subscriptions=SUBSCRIPTIONS, unit_of_work=app.deps.uow, jobs=[expiry],
                  application=app)


def build(deps: ServiceDeps, settings: QuotationSettings | None = None, **overrides) -> Domain:
    return domain_of(build_quotation(deps, settings, **overrides))
