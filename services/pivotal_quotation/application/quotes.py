"""Quotes: create (numbered, idempotent), read, list, update, delete, the workflow's custom
methods, the expiry sweep, and the PDF. The domain decides; this layer loads, pins prices and
taxes, stores, and stages the events in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pivotal_runtime.errors import (
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    PreconditionViolation,
)
from pivotal_runtime.kit import field_reasons
from pivotal_runtime.kit.caller import Caller
from pivotal_runtime.kit.listing import parse_order as parse_listing_order
from pivotal_runtime.kit.masks import UpdateMask
from pivotal_runtime.kit.money import Money, minor_units
from pivotal_runtime.kit.paging import page_request

from pivotal_quotation.application.common import Deps, found, request_key
from pivotal_quotation.application.events import quote_deleted, quote_transitions
from pivotal_quotation.application.quote_settings import settings_of
from pivotal_quotation.domain import reasons
from pivotal_quotation.domain.document import Party, QuoteDocument, document_of
from pivotal_quotation.domain.listing import ORDER_FIELDS, Order, QuoteFilter, sort_key
from pivotal_quotation.domain.pricing import AppliedTax, Discount, Unit
from pivotal_quotation.domain.quote_settings import QuoteSettings
from pivotal_quotation.domain.quotes import (
    Quote,
    QuoteContent,
    QuoteLine,
    approval_required,
    price_content,
)

SERIES = "Q"
UPDATABLE = ("title", "customer_id", "currency_code", "valid_from", "valid_until", "notes",
             "line_items", "discount")
EXPIRY_BATCH = 200


@dataclass(frozen=True)
class RateCardReference:
    rate_card_id: str
    version: int
    rate_card_item_id: str


@dataclass(frozen=True)
class LineInput:
    line_item_id: str = ""
    description: str = ""
    quantity: Decimal = Decimal(0)
    unit: Unit | None = None
    unit_price: Money | None = None
    rate_card_item: RateCardReference | None = None
    discount: Discount = None
    tax_rate_id: str | None = None
    tax_rate_percent: Decimal | None = None


@dataclass(frozen=True)
class QuoteInput:
    title: str = ""
    customer_id: str = ""
    currency_code: str = ""
    valid_from: date | None = None
    valid_until: date | None = None
    notes: str | None = None
    line_items: tuple[LineInput, ...] = ()
    discount: Discount = None


@dataclass(frozen=True)
class QuoteView:
    """A quote as its readers see it, with `approval_required` under the current settings."""

    quote: Quote
    approval_required: bool


class QuotesService:
    def __init__(self, deps: Deps, render_pdf: Callable[[QuoteDocument], bytes]) -> None:
        self._deps = deps
        self._render_pdf = render_pdf

    # Create, read, list --------------------------------------------------------------

    def create(self, caller: Caller, data: QuoteInput, request_id: str = "") -> QuoteView:
        now = self._deps.clock()
        key = request_key("quote", caller, request_id, data)
        with self._deps.uow() as uow:
            earlier = uow.requests.find(key)
            if earlier:
                return self._view(uow, uow.quotes.get(caller.organization_id, earlier))
            settings = settings_of(uow, caller.organization_id)
            content = self._content(uow, caller, data, settings, now)
            earlier = uow.requests.reserve(key, now)
            if earlier:
                return self._view(uow, uow.quotes.get(caller.organization_id, earlier))
            number = uow.numbers.next_formatted(caller.organization_id, SERIES, now.year)
            quote = Quote.create(quote_id=self._deps.new_id(),
                                 organization_id=caller.organization_id, quote_number=number,
                                 author_id=caller.subject, content=content, now=now)
            view = self._save_new(uow, quote, settings)
            uow.requests.complete(key, quote.id)
            uow.commit()
        return view

    def preview(self, caller: Caller, data: QuoteInput) -> QuoteView:
        now = self._deps.clock()
        with self._deps.uow(read_only=True) as uow:
            settings = settings_of(uow, caller.organization_id)
            content = self._content(uow, caller, data, settings, now, pricing_only=True)
        quote = Quote("", caller.organization_id, "", 0, caller.subject, content,
                      price_content(content), now, now)
        return self._viewed(quote, settings)

    def get(self, caller: Caller, quote_id: str) -> QuoteView:
        with self._deps.uow(read_only=True) as uow:
            return self._view(uow, found(uow.quotes.get(caller.organization_id, quote_id),
                                         "quote", quote_id))

    def list(self, caller: Caller, page_size: int, page_token: str, where: QuoteFilter,
             order_by: str) -> tuple[list[QuoteView], str, int]:
        if len(where.query) > 200:
            raise InvalidArgument([FieldViolation("query", "has at most 200 characters",
                                                  field_reasons.TOO_LONG)])
        order = parse_order(order_by)
        page = page_request(page_size, page_token, where, order)
        with self._deps.uow(read_only=True) as uow:
            quotes, total = uow.quotes.list(caller.organization_id, where, order,
                                            after=page.after, limit=page.size + 1)
            settings = settings_of(uow, caller.organization_id)
        quotes, token = page.slice(quotes, key=lambda q: sort_key(q, order))
        return [self._viewed(q, settings) for q in quotes], token, total

    # Content changes -----------------------------------------------------------------

    def update(self, caller: Caller, quote_id: str, data: QuoteInput, mask: UpdateMask,
               etag: str) -> QuoteView:
        names = mask.fields(UPDATABLE)
        now = self._deps.clock()
        with self._deps.uow() as uow:
            quote = self._load(uow, caller, quote_id, etag)
            quote.ensure_editable("update")
            settings = settings_of(uow, caller.organization_id)
            current = quote.content
            merged = QuoteInput(
                title=data.title if "title" in names else current.title,
                customer_id=data.customer_id if "customer_id" in names else current.customer_id,
                currency_code=(data.currency_code if "currency_code" in names
                               else current.currency_code),
                valid_from=data.valid_from if "valid_from" in names else current.valid_from,
                valid_until=data.valid_until if "valid_until" in names else current.valid_until,
                notes=(data.notes or "") if "notes" in names else current.notes,
                discount=data.discount if "discount" in names else current.discount)
            keep_lines = None if "line_items" in names else current.lines
            content = self._content(uow, caller, replace(merged, line_items=data.line_items),
                                    settings, now, keep_lines=keep_lines,
                                    known_line_ids={line.line_item_id for line in current.lines})
            quote.change(content, now)
            return self._save(uow, quote, settings)

    def delete(self, caller: Caller, quote_id: str, etag: str) -> None:
        now = self._deps.clock()
        with self._deps.uow() as uow:
            quote = self._load(uow, caller, quote_id, etag)
            quote.ensure_deletable()
            if quote.previous_revision_id:
                previous = uow.quotes.get(caller.organization_id, quote.previous_revision_id)
                if previous is not None:
                    previous.restore(caller.subject, now)
                    self._save(uow, previous, settings_of(uow, caller.organization_id),
                               commit=False)
            uow.quotes.delete(quote)
            quote_deleted(uow, quote, caller.subject)
            uow.commit()

    # Workflow ------------------------------------------------------------------------

    def submit(self, caller: Caller, quote_id: str, etag: str, note: str = "") -> QuoteView:
        def act(uow, quote: Quote, settings: QuoteSettings, now: datetime) -> None:
            customer = uow.customers.get(caller.organization_id, quote.content.customer_id)
            quote.submit(caller.subject, now,
                         threshold=settings.threshold_for(quote.content.currency_code),
                         customer_active=customer is not None and customer.active, note=note)
        return self._transition(caller, quote_id, etag, act)

    def approve(self, caller: Caller, quote_id: str, etag: str, note: str = "") -> QuoteView:
        return self._transition(caller, quote_id, etag, lambda uow, quote, settings, now:
                                quote.approve(caller.subject, caller.has_permission, now, note))

    def reject(self, caller: Caller, quote_id: str, etag: str, reason: str) -> QuoteView:
        return self._transition(caller, quote_id, etag, lambda uow, quote, settings, now:
                                quote.reject(caller.subject, caller.has_permission, now, reason))

    def send(self, caller: Caller, quote_id: str, etag: str, note: str = "") -> QuoteView:
        def act(uow, quote: Quote, settings: QuoteSettings, now: datetime) -> None:
            quote.send(caller.subject, now, note)
            for rate_card_id, number in sorted(quote.rate_card_versions()):
                card = uow.rate_cards.get(caller.organization_id, rate_card_id,
                                          for_update=True)
                if card is not None and number in card.versions:
                    card.lock(number)
                    uow.rate_cards.update(card, check_version=False)
        return self._transition(caller, quote_id, etag, act)

    def accept(self, caller: Caller, quote_id: str, etag: str, *, customer_reference: str = "",
               contact_name: str = "", note: str = "") -> QuoteView:
        return self._transition(caller, quote_id, etag, lambda uow, quote, settings, now:
                                quote.accept(caller.subject, now,
                                             customer_reference=customer_reference,
                                             contact_name=contact_name, note=note))

    def decline(self, caller: Caller, quote_id: str, etag: str, *, reason: str = "",
                contact_name: str = "") -> QuoteView:
        return self._transition(caller, quote_id, etag, lambda uow, quote, settings, now:
                                quote.decline(caller.subject, now, reason=reason,
                                              contact_name=contact_name))

    def revise(self, caller: Caller, quote_id: str, etag: str, request_id: str = "",
               reason: str = "") -> QuoteView:
        now = self._deps.clock()
        key = request_key("quote_revision", caller, request_id, quote_id, reason)
        with self._deps.uow() as uow:
            earlier = uow.requests.reserve(key, now)
            if earlier:
                return self._view(uow, uow.quotes.get(caller.organization_id, earlier))
            quote = self._load(uow, caller, quote_id, etag)
            settings = settings_of(uow, caller.organization_id)
            successor = quote.revise(caller.subject, now, new_id=self._deps.new_id(),
                                     new_line_id=self._deps.new_id, reason=reason)
            self._save(uow, quote, settings, commit=False)
            view = self._save_new(uow, successor, settings)
            uow.requests.complete(key, successor.id)
            uow.commit()
        return view

    def expire_due(self, now: datetime) -> int:
        """The expiry job: every approved or sent quote past its valid_until becomes
        EXPIRED (QuoteExpired published); returns how many did."""
        expired = 0
        while True:
            with self._deps.uow(read_only=True) as uow:
                due = [(q.organization_id, q.id)
                       for q in uow.quotes.expiring(now.date(), EXPIRY_BATCH)]
            if not due:
                return expired
            for organization_id, quote_id in due:
                with self._deps.uow() as uow:
                    quote = uow.quotes.get(organization_id, quote_id)
                    if quote is None or not quote.past_validity(now):
                        continue
                    quote.expire(now)
                    self._save(uow, quote, settings_of(uow, organization_id))
                    expired += 1
            if len(due) < EXPIRY_BATCH:
                return expired

    # PDF -----------------------------------------------------------------------------

    def pdf(self, caller: Caller, quote_id: str) -> tuple[bytes, str]:
        """The quote as `application/pdf`, and a file name for it."""
        with self._deps.uow(read_only=True) as uow:
            quote = found(uow.quotes.get(caller.organization_id, quote_id), "quote", quote_id)
            customer = uow.customers.get(caller.organization_id, quote.content.customer_id)
            seller = uow.sellers.get(caller.organization_id)
        buyer = Party(quote.content.customer_display_name)
        if customer is not None:
            f = customer.fields
            buyer = Party(f.legal_name or quote.content.customer_display_name,
                          f.billing_address.printed_lines(), f.tax_id, f.contact_name, f.email,
                          f.billing_address.region_code)
        seller_party = Party("")
        locale, zone = "en", "UTC"
        if seller is not None:
            seller_party = Party(seller.printed_name, seller.address.printed_lines(),
                                 seller.tax_id, country_code=seller.address.region_code)
            locale, zone = seller.locale or "en", seller.time_zone or "UTC"
        issued = (quote.send_time or quote.update_time).astimezone(_zone(zone)).date()
        document = document_of(quote, seller=seller_party, customer=buyer, issue_date=issued,
                               locale=locale)
        name = f"{quote.quote_number}-r{quote.revision}.pdf"
        return self._render_pdf(document), name

    # Internals -----------------------------------------------------------------------

    def _transition(self, caller: Caller, quote_id: str, etag: str,
                    act: Callable[[object, Quote, QuoteSettings, datetime], None]) -> QuoteView:
        now = self._deps.clock()
        with self._deps.uow() as uow:
            quote = self._load(uow, caller, quote_id, etag)
            settings = settings_of(uow, caller.organization_id)
            act(uow, quote, settings, now)
            return self._save(uow, quote, settings)

    @staticmethod
    def _load(uow, caller: Caller, quote_id: str, etag: str) -> Quote:
        return found(uow.quotes.get(caller.organization_id, quote_id), "quote", quote_id, etag)

    def _save(self, uow, quote: Quote, settings: QuoteSettings, *, commit: bool = True
              ) -> QuoteView:
        view = self._viewed(quote, settings)
        quote_transitions(uow, quote, approval_required=view.approval_required,
                          hours_per_day=settings.fields.hours_per_day)
        uow.quotes.update(quote)
        if commit:
            uow.commit()
        return view

    def _save_new(self, uow, quote: Quote, settings: QuoteSettings) -> QuoteView:
        view = self._viewed(quote, settings)
        quote_transitions(uow, quote, approval_required=view.approval_required,
                          hours_per_day=settings.fields.hours_per_day)
        uow.quotes.add(quote)
        return view

    def _view(self, uow, quote: Quote) -> QuoteView:
        return self._viewed(quote, settings_of(uow, quote.organization_id))

    @staticmethod
    def _viewed(quote: Quote, settings: QuoteSettings) -> QuoteView:
        threshold = settings.threshold_for(quote.content.currency_code)
        return QuoteView(quote, approval_required(quote.pricing.totals.net_total, threshold))

    def _content(self, uow, caller: Caller, data: QuoteInput, settings: QuoteSettings,
                 now: datetime, *, pricing_only: bool = False,
                 keep_lines: tuple[QuoteLine, ...] | None = None,
                 known_line_ids: set[str] = frozenset()) -> QuoteContent:
        """Resolves references (customer, rate cards, tax rates), fills defaults and pins
        prices and taxes; every problem is one field violation, all raised together with the
        domain's own checks."""
        problems: list[FieldViolation] = []
        org = caller.organization_id
        customer_name, archived = "", False
        if data.customer_id:
            customer = uow.customers.get(org, data.customer_id)
            if customer is None:
                problems.append(FieldViolation("quote.customer_id", "no such customer",
                                               reasons.REFERENCE_NOT_FOUND))
            else:
                customer_name, archived = customer.fields.display_name, not customer.active
        elif not pricing_only:
            problems.append(FieldViolation("quote.customer_id", "a quote is for a customer",
                                           field_reasons.REQUIRED))
        valid_from = data.valid_from or (now.date() if pricing_only else None)
        if valid_from is None:
            problems.append(FieldViolation("quote.valid_from", "is required",
                                           field_reasons.REQUIRED))
            valid_from = now.date()
        valid_until = data.valid_until or valid_from + timedelta(
            days=settings.fields.default_validity_days)
        lines = keep_lines if keep_lines is not None else tuple(
            self._line(uow, org, data.currency_code, index, line, known_line_ids, problems)
            for index, line in enumerate(data.line_items))
        content = QuoteContent(
            title=data.title.strip() if not pricing_only else data.title.strip() or "preview",
            customer_id=data.customer_id or ("preview" if pricing_only else ""),
            customer_display_name=customer_name, currency_code=data.currency_code,
            valid_from=valid_from, valid_until=valid_until,
            notes=settings.fields.default_notes if data.notes is None else data.notes,
            lines=lines, discount=data.discount)
        try:
            price_content(content)
        except InvalidArgument as error:
            problems.extend(error.violations)
        if problems:
            raise InvalidArgument(_unique(problems))
        if archived and not pricing_only:
            raise FailedPrecondition(
                "the customer is archived",
                [PreconditionViolation("STATE", f"customers/{data.customer_id}",
                                       "the customer is archived")],
                reason=reasons.CUSTOMER_ARCHIVED)
        return content

    def _line(self, uow, org: str, currency: str, index: int, data: LineInput,
              known_ids: set[str], problems: list[FieldViolation]) -> QuoteLine:
        at = f"quote.line_items[{index}]"
        line_id = data.line_item_id
        if line_id and line_id not in known_ids:
            problems.append(FieldViolation(f"{at}.line_item_id",
                                           "is not the id of one of this quote's lines",
                                           reasons.REFERENCE_NOT_FOUND))
        line_id = line_id or self._deps.new_id()
        unit, price, pin, description = data.unit, data.unit_price, None, data.description
        if data.rate_card_item is not None:
            ref = data.rate_card_item
            card = uow.rate_cards.get(org, ref.rate_card_id) if ref.rate_card_id else None
            if card is None:
                problems.append(FieldViolation(f"{at}.rate_card_item.rate_card_id",
                                               "no such rate card", reasons.REFERENCE_NOT_FOUND))
                description = description or "(unpriced)"
            else:
                try:
                    priced = card.price(version=ref.version, item_id=ref.rate_card_item_id,
                                        unit=unit, currency_code=currency,
                                        at=f"{at}.rate_card_item")
                    unit, price, pin = priced.unit, priced.unit_price, priced.pin
                    description = description or priced.description
                except InvalidArgument as error:
                    problems.extend(error.violations)
                    description = description or "(unpriced)"
        elif price is None:
            problems.append(FieldViolation(f"{at}.unit_price",
                                           "a line needs a unit price or a rate-card item",
                                           field_reasons.REQUIRED))
        elif unit is None:
            problems.append(FieldViolation(f"{at}.unit", "a priced line needs a unit",
                                           field_reasons.REQUIRED))
        tax = AppliedTax(Decimal(0))
        if data.tax_rate_id:
            rate = uow.tax_rates.get(org, data.tax_rate_id)
            if rate is None:
                problems.append(FieldViolation(f"{at}.tax_rate_id", "no such tax rate",
                                               reasons.REFERENCE_NOT_FOUND))
            else:
                tax = rate.applied
        elif data.tax_rate_percent is not None:
            tax = AppliedTax(data.tax_rate_percent)
        else:
            default = uow.tax_rates.default(org)
            tax = default.applied if default is not None else tax
        return QuoteLine(line_id, description, data.quantity, unit or Unit.HOUR,
                         price if price is not None else _zero(currency), data.discount, tax,
                         pin)


def parse_order(order_by: str) -> Order:
    """The listing's order; default newest first."""
    return parse_listing_order(order_by, ORDER_FIELDS, [("create_time", True)])


def _zero(currency: str) -> Money:
    try:
        minor_units(currency)
        return Money.zero(currency)
    except ValueError:
        return Money.zero("XXX")


def _unique(problems: list[FieldViolation]) -> list[FieldViolation]:
    seen, unique = set(), []
    for problem in problems:
        if (problem.field, problem.reason) not in seen:
            seen.add((problem.field, problem.reason))
            unique.append(problem)
    return unique


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
