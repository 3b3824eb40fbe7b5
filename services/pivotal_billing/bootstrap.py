"""Builds billing's application from the service deps, once per host. Nothing connects here:
the database is first used by the first call."""

from __future__ import annotations

from dataclasses import dataclass

from pivotal_runtime.kit.domain import ServiceDeps
from pivotal_runtime.settings import load_settings

from pivotal_billing.adapters.invoice_pdf import render_document
from pivotal_billing.adapters.uow import BillingUnitOfWork
from pivotal_billing.application.common import Deps
from pivotal_billing.application.entitlements import EntitlementsService
from pivotal_billing.application.invoice_settings import InvoiceSettingsService
from pivotal_billing.application.invoices import InvoicesService
from pivotal_billing.application.plans import PlansService
from pivotal_billing.application.subscriptions import SubscriptionsService
from pivotal_billing.application.usage import UsageService
from pivotal_billing.settings import BillingSettings


@dataclass
class BillingApp:
    deps: Deps
    settings: BillingSettings
    plans: PlansService
    subscriptions: SubscriptionsService
    entitlements: EntitlementsService
    usage: UsageService
    invoices: InvoicesService
    invoice_settings: InvoiceSettingsService


def build_billing(service_deps: ServiceDeps, settings: BillingSettings | None = None, *,
                  clock=None) -> BillingApp:
    database = service_deps.database
    deps = Deps(uow=lambda read_only=False: BillingUnitOfWork(database, read_only=read_only),
                clock=clock or service_deps.clock)
    return BillingApp(
        deps=deps, settings=settings or load_settings(BillingSettings),
        plans=PlansService(deps), subscriptions=SubscriptionsService(deps),
        entitlements=EntitlementsService(deps), usage=UsageService(deps),
        invoices=InvoicesService(deps, render_document),
        invoice_settings=InvoiceSettingsService(deps))
