"""Quotation's unit of work: the runtime's (one transaction, outbox and kit tables included)
plus quotation's repositories bound to its session."""

from __future__ import annotations

from pivotal_runtime.uow import UnitOfWork
from sqlalchemy.orm import Session

from pivotal_quotation.adapters import repositories as r


class QuotationUnitOfWork(UnitOfWork):
    def bind(self, session: Session) -> None:
        super().bind(session)
        self.customers = r.CustomerRepository(session)
        self.tax_rates = r.TaxRateRepository(session)
        self.settings = r.QuoteSettingsRepository(session)
        self.rate_cards = r.RateCardRepository(session)
        self.quotes = r.QuoteRepository(session)
        self.sellers = r.SellerProfileRepository(session)
