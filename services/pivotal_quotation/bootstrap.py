"""Builds quotation's application from the service deps, once per host. Nothing connects
here: the database is first used by the first call."""

from __future__ import annotations

from dataclasses import dataclass

from pivotal_runtime.kit.domain import ServiceDeps
from pivotal_runtime.settings import load_settings

from pivotal_quotation.adapters.quote_pdf import render_quote_pdf
from pivotal_quotation.adapters.uow import QuotationUnitOfWork
from pivotal_quotation.application.common import Deps
from pivotal_quotation.application.customers import CustomersService
from pivotal_quotation.application.quote_settings import QuoteSettingsService
from pivotal_quotation.application.quotes import QuotesService
from pivotal_quotation.application.rate_cards import RateCardsService
from pivotal_quotation.application.tax_rates import TaxRatesService
from pivotal_quotation.settings import QuotationSettings


@dataclass
class QuotationApp:
    deps: Deps
    settings: QuotationSettings
    customers: CustomersService
    tax_rates: TaxRatesService
    settings_service: QuoteSettingsService
    rate_cards: RateCardsService
    quotes: QuotesService


def build_quotation(service_deps: ServiceDeps, settings: QuotationSettings | None = None, *,
                    clock=None) -> QuotationApp:
    database = service_deps.database
    deps = Deps(uow=lambda read_only=False: QuotationUnitOfWork(database, read_only=read_only),
                clock=clock or service_deps.clock)
    return QuotationApp(
        deps=deps, settings=settings or load_settings(QuotationSettings),
        customers=CustomersService(deps), tax_rates=TaxRatesService(deps),
        settings_service=QuoteSettingsService(deps), rate_cards=RateCardsService(deps),
        quotes=QuotesService(deps, render_quote_pdf))
