"""Billing's unit of work: the runtime's (one transaction, outbox and kit tables included)
plus billing's repositories bound to its session."""

from __future__ import annotations

from pivotal_runtime.uow import UnitOfWork
from sqlalchemy.orm import Session

from pivotal_billing.adapters import repositories as r


class BillingUnitOfWork(UnitOfWork):
    def bind(self, session: Session) -> None:
        super().bind(session)
        self.plans = r.PlanRepository(session)
        self.subscriptions = r.SubscriptionRepository(session, self.plans)
        self.entitlement_usage = r.EntitlementUsageRepository(session)
        self.usage = r.UsageRepository(session)
        self.invoices = r.InvoiceRepository(session)
        self.credit_notes = r.CreditNoteRepository(session)
        self.settings = r.InvoiceSettingsRepository(session)
        self.directory = r.DirectoryRepository(session)
