"""gRPC servicers: proto in → use case → proto out. Authentication, authorization, contract
validation, error mapping and logging happen once, in the runtime's interceptors."""

from __future__ import annotations

from google.api import httpbody_pb2
from pivotal.quotation.v1 import customer_service_pb2 as cust_pb
from pivotal.quotation.v1 import customer_service_pb2_grpc as cust_grpc
from pivotal.quotation.v1 import quote_service_pb2 as quote_pb
from pivotal.quotation.v1 import quote_service_pb2_grpc as quote_grpc
from pivotal.quotation.v1 import quote_settings_service_pb2 as settings_pb
from pivotal.quotation.v1 import quote_settings_service_pb2_grpc as settings_grpc
from pivotal.quotation.v1 import rate_card_service_pb2 as card_pb
from pivotal.quotation.v1 import rate_card_service_pb2_grpc as card_grpc
from pivotal.quotation.v1 import tax_rate_service_pb2 as tax_pb
from pivotal.quotation.v1 import tax_rate_service_pb2_grpc as tax_grpc
from pivotal_runtime.kit.caller import caller_of_call
from pivotal_runtime.kit.listing import add_servicers
from pivotal_runtime.kit.proto_types import update_mask_of

from pivotal_quotation.application import messages as m
from pivotal_quotation.application.quotes import QuoteView
from pivotal_quotation.servicers import inputs

FULL_VIEW = 2  # QUOTE_VIEW_FULL


def _quote(view: QuoteView, full: bool = True):
    return m.quote(view.quote, approval_required=view.approval_required, full=full)


class CustomerServicer(cust_grpc.CustomerServiceServicer):
    def __init__(self, app) -> None:
        self.customers = app.customers

    def CreateCustomer(self, request, context):
        created = self.customers.create(caller_of_call(), inputs.customer(request.customer),
                                        request.request_id)
        return cust_pb.CreateCustomerResponse(customer=m.customer(created))

    def GetCustomer(self, request, context):
        found = self.customers.get(caller_of_call(), request.customer_id)
        return cust_pb.GetCustomerResponse(customer=m.customer(found))

    def ListCustomers(self, request, context):
        found, token, total = self.customers.list(caller_of_call(), request.page_size,
                                                  request.page_token, request.query,
                                                  request.include_archived)
        return cust_pb.ListCustomersResponse(customers=[m.customer(c) for c in found],
                                             next_page_token=token, total_size=total)

    def UpdateCustomer(self, request, context):
        changed = self.customers.update(
            caller_of_call(), request.customer.customer_id, inputs.customer(request.customer),
            update_mask_of(request.update_mask, request.customer), request.customer.etag)
        return cust_pb.UpdateCustomerResponse(customer=m.customer(changed))

    def ArchiveCustomer(self, request, context):
        changed = self.customers.archive(caller_of_call(), request.customer_id, request.etag)
        return cust_pb.ArchiveCustomerResponse(customer=m.customer(changed))

    def UnarchiveCustomer(self, request, context):
        changed = self.customers.unarchive(caller_of_call(), request.customer_id, request.etag)
        return cust_pb.UnarchiveCustomerResponse(customer=m.customer(changed))


class TaxRateServicer(tax_grpc.TaxRateServiceServicer):
    def __init__(self, app) -> None:
        self.rates = app.tax_rates

    def CreateTaxRate(self, request, context):
        created = self.rates.create(caller_of_call(), inputs.tax_rate(request.tax_rate),
                                    request.request_id)
        return tax_pb.CreateTaxRateResponse(tax_rate=m.tax_rate(created))

    def GetTaxRate(self, request, context):
        return tax_pb.GetTaxRateResponse(tax_rate=m.tax_rate(
            self.rates.get(caller_of_call(), request.tax_rate_id)))

    def ListTaxRates(self, request, context):
        found, token, total = self.rates.list(caller_of_call(), request.page_size,
                                              request.page_token)
        return tax_pb.ListTaxRatesResponse(tax_rates=[m.tax_rate(r) for r in found],
                                           next_page_token=token, total_size=total)

    def UpdateTaxRate(self, request, context):
        changed = self.rates.update(
            caller_of_call(), request.tax_rate.tax_rate_id, inputs.tax_rate(request.tax_rate),
            update_mask_of(request.update_mask, request.tax_rate), request.tax_rate.etag)
        return tax_pb.UpdateTaxRateResponse(tax_rate=m.tax_rate(changed))

    def DeleteTaxRate(self, request, context):
        self.rates.delete(caller_of_call(), request.tax_rate_id, request.etag)
        return tax_pb.DeleteTaxRateResponse()


class QuoteSettingsServicer(settings_grpc.QuoteSettingsServiceServicer):
    def __init__(self, app) -> None:
        self.settings = app.settings_service

    def GetQuoteSettings(self, request, context):
        return settings_pb.GetQuoteSettingsResponse(quote_settings=m.quote_settings(
            self.settings.get(caller_of_call())))

    def UpdateQuoteSettings(self, request, context):
        changed = self.settings.update(
            caller_of_call(), inputs.settings(request.quote_settings),
            update_mask_of(request.update_mask, request.quote_settings),
            request.quote_settings.etag)
        return settings_pb.UpdateQuoteSettingsResponse(quote_settings=m.quote_settings(changed))


class RateCardServicer(card_grpc.RateCardServiceServicer):
    def __init__(self, app) -> None:
        self.cards = app.rate_cards

    def CreateRateCard(self, request, context):
        created = self.cards.create(caller_of_call(), inputs.rate_card(request.rate_card),
                                    request.request_id)
        return card_pb.CreateRateCardResponse(rate_card=m.rate_card(created))

    def GetRateCard(self, request, context):
        return card_pb.GetRateCardResponse(rate_card=m.rate_card(
            self.cards.get(caller_of_call(), request.rate_card_id)))

    def ListRateCards(self, request, context):
        found, token, total = self.cards.list(
            caller_of_call(), request.page_size, request.page_token, request.query,
            request.currency_code.strip().upper(), request.include_archived)
        return card_pb.ListRateCardsResponse(rate_cards=[m.rate_card(c) for c in found],
                                             next_page_token=token, total_size=total)

    def UpdateRateCard(self, request, context):
        changed = self.cards.update(
            caller_of_call(), request.rate_card.rate_card_id, inputs.rate_card(request.rate_card),
            update_mask_of(request.update_mask, request.rate_card), request.rate_card.etag)
        return card_pb.UpdateRateCardResponse(rate_card=m.rate_card(changed))

    def ListRateCardVersions(self, request, context):
        card, versions, token, total = self.cards.list_versions(
            caller_of_call(), request.rate_card_id, request.page_size, request.page_token)
        return card_pb.ListRateCardVersionsResponse(
            rate_cards=[m.rate_card(card, v) for v in versions], next_page_token=token,
            total_size=total)

    def GetRateCardVersion(self, request, context):
        card, version = self.cards.get_version(caller_of_call(), request.rate_card_id,
                                               request.version)
        return card_pb.GetRateCardVersionResponse(rate_card=m.rate_card(card, version))

    def ArchiveRateCard(self, request, context):
        return card_pb.ArchiveRateCardResponse(rate_card=m.rate_card(
            self.cards.archive(caller_of_call(), request.rate_card_id, request.etag)))

    def UnarchiveRateCard(self, request, context):
        return card_pb.UnarchiveRateCardResponse(rate_card=m.rate_card(
            self.cards.unarchive(caller_of_call(), request.rate_card_id, request.etag)))


class QuoteServicer(quote_grpc.QuoteServiceServicer):
    def __init__(self, app) -> None:
        self.quotes = app.quotes

    def CreateQuote(self, request, context):
        view = self.quotes.create(caller_of_call(), inputs.quote(request.quote),
                                  request.request_id)
        return quote_pb.CreateQuoteResponse(quote=_quote(view))

    def GetQuote(self, request, context):
        return quote_pb.GetQuoteResponse(quote=_quote(
            self.quotes.get(caller_of_call(), request.quote_id)))

    def ListQuotes(self, request, context):
        views, token, total = self.quotes.list(caller_of_call(), request.page_size,
                                               request.page_token, inputs.quote_filter(request),
                                               request.order_by)
        full = request.view == FULL_VIEW
        return quote_pb.ListQuotesResponse(quotes=[_quote(v, full) for v in views],
                                           next_page_token=token, total_size=total)

    def UpdateQuote(self, request, context):
        view = self.quotes.update(caller_of_call(), request.quote.quote_id,
                                  inputs.quote(request.quote),
                                  update_mask_of(request.update_mask, request.quote),
                                  request.quote.etag)
        return quote_pb.UpdateQuoteResponse(quote=_quote(view))

    def DeleteQuote(self, request, context):
        self.quotes.delete(caller_of_call(), request.quote_id, request.etag)
        return quote_pb.DeleteQuoteResponse()

    def SubmitQuote(self, request, context):
        return quote_pb.SubmitQuoteResponse(quote=_quote(self.quotes.submit(
            caller_of_call(), request.quote_id, request.etag, request.note)))

    def ApproveQuote(self, request, context):
        return quote_pb.ApproveQuoteResponse(quote=_quote(self.quotes.approve(
            caller_of_call(), request.quote_id, request.etag, request.note)))

    def RejectQuote(self, request, context):
        return quote_pb.RejectQuoteResponse(quote=_quote(self.quotes.reject(
            caller_of_call(), request.quote_id, request.etag, request.reason)))

    def SendQuote(self, request, context):
        return quote_pb.SendQuoteResponse(quote=_quote(self.quotes.send(
            caller_of_call(), request.quote_id, request.etag, request.note)))

    def AcceptQuote(self, request, context):
        return quote_pb.AcceptQuoteResponse(quote=_quote(self.quotes.accept(
            caller_of_call(), request.quote_id, request.etag,
            customer_reference=request.customer_reference, contact_name=request.contact_name,
            note=request.note)))

    def DeclineQuote(self, request, context):
        return quote_pb.DeclineQuoteResponse(quote=_quote(self.quotes.decline(
            caller_of_call(), request.quote_id, request.etag, reason=request.reason,
            contact_name=request.contact_name)))

    def ReviseQuote(self, request, context):
        return quote_pb.ReviseQuoteResponse(quote=_quote(self.quotes.revise(
            caller_of_call(), request.quote_id, request.etag, request.request_id,
            request.reason)))

    def GetQuotePdf(self, request, context):
        data, name = self.quotes.pdf(caller_of_call(), request.quote_id)
        context.set_trailing_metadata((("content-disposition",
                                        f'inline; filename="{name}"'),))
        return httpbody_pb2.HttpBody(content_type="application/pdf", data=data)

    def PreviewQuotePricing(self, request, context):
        view = self.quotes.preview(caller_of_call(), inputs.quote(request.quote))
        return quote_pb.PreviewQuotePricingResponse(quote=_quote(view))


REGISTRATIONS = [
    (CustomerServicer, cust_grpc.add_CustomerServiceServicer_to_server, cust_pb),
    (TaxRateServicer, tax_grpc.add_TaxRateServiceServicer_to_server, tax_pb),
    (QuoteSettingsServicer, settings_grpc.add_QuoteSettingsServiceServicer_to_server,
     settings_pb),
    (RateCardServicer, card_grpc.add_RateCardServiceServicer_to_server, card_pb),
    (QuoteServicer, quote_grpc.add_QuoteServiceServicer_to_server, quote_pb),
]


def add_all(server, app) -> set[str]:
    return add_servicers(server, app, REGISTRATIONS)
