"""Customer invoices: drafts filled by approved billable time and completed milestones (each
billed once), issue with a gap-free number, payment, void with a credit note, PDFs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime

from pivotal_runtime.errors import AlreadyExists, FieldViolation, InvalidArgument
from pivotal_runtime.kit.caller import Caller
from pivotal_runtime.kit.idempotency import RequestKey, fingerprint
from pivotal_runtime.kit.listing import parse_order
from pivotal_runtime.kit.masks import UpdateMask
from pivotal_runtime.kit.money import Money, minor_units
from pivotal_runtime.kit.paging import page_request

from pivotal_billing.application import events
from pivotal_billing.application.common import Deps, found
from pivotal_billing.domain import reasons
from pivotal_billing.domain.invoice_settings import InvoiceSettings, Seller
from pivotal_billing.domain.invoices import (
    DEFAULT_ORDER,
    ORDER_FIELDS,
    UPDATABLE,
    ApprovedTime,
    CompletedMilestone,
    CreditNote,
    Invoice,
    InvoiceFields,
    InvoiceFilter,
    InvoiceState,
    Payment,
    check_fields,
    new_draft,
    sort_key,
)

INVOICE_SERIES, CREDIT_NOTE_SERIES = "INV", "CN"
# render(document, seller, settings) -> PDF bytes
Renderer = Callable[[Invoice | CreditNote, Seller, InvoiceSettings], bytes]


def settings_of(uow, organization_id: str) -> InvoiceSettings:
    return uow.settings.get(organization_id) or InvoiceSettings(organization_id)


def _draft_for(uow, organization_id: str, customer_id: str, project_id: str, currency: str,
               now: datetime, new_id: str) -> tuple[Invoice, bool]:
    """The open draft for the customer, project and currency, or a new one (not stored yet;
    the bool says it is new)."""
    draft = uow.invoices.open_draft(organization_id, customer_id, project_id, currency)
    if draft is not None:
        return draft, False
    draft = new_draft(new_id, organization_id, customer_id, project_id, currency, now)
    draft.customer_name = uow.directory.name(organization_id, "customer", customer_id)
    draft.project_name = uow.directory.name(organization_id, "project", project_id)
    return draft, True


def _store(uow, draft: Invoice, is_new: bool) -> None:
    draft.pending.clear()
    if is_new:
        uow.invoices.add(draft)
    else:
        uow.invoices.update(draft)


def bill_time(uow, organization_id: str, customer_id: str, project_id: str,
              time: ApprovedTime, now: datetime, new_id: Callable[[], str]) -> bool:
    """Adds an approved entry to its open draft; False when it is billed already."""
    draft, is_new = _draft_for(uow, organization_id, customer_id, project_id,
                               time.currency_code, now, new_id())
    if not uow.invoices.claim(organization_id, f"time:{time.entry_id}", draft.id):
        return False
    draft.add_time(time, settings_of(uow, organization_id).default_tax, new_id(), now)
    _store(uow, draft, is_new)
    return True


def bill_milestone(uow, organization_id: str, customer_id: str, project_id: str,
                   milestone: CompletedMilestone, now: datetime, new_id: Callable[[], str]
                   ) -> bool:
    draft, is_new = _draft_for(uow, organization_id, customer_id, project_id,
                               milestone.currency_code, now, new_id())
    if not uow.invoices.claim(organization_id, f"milestone:{milestone.milestone_id}", draft.id):
        return False
    draft.add_milestone(milestone, settings_of(uow, organization_id).default_tax, new_id(), now)
    _store(uow, draft, is_new)
    return True


class InvoicesService:
    def __init__(self, deps: Deps, render: Renderer) -> None:
        self._deps = deps
        self._render = render

    def get(self, caller: Caller, invoice_id: str) -> Invoice:
        with self._deps.uow(read_only=True) as uow:
            return found(uow.invoices.get_in(caller.organization_id, invoice_id)
                         if invoice_id else None, "invoice", invoice_id)

    def list(self, caller: Caller, page_size: int, page_token: str, where: InvoiceFilter,
             order_by: str) -> tuple[list[Invoice], str, int]:
        order = parse_order(order_by, ORDER_FIELDS, DEFAULT_ORDER)
        if where.issued_from and where.issued_to and where.issued_to < where.issued_from:
            raise InvalidArgument([FieldViolation("issue_date_to", "is not before "
                                                  "issue_date_from", reasons.OUT_OF_RANGE)])
        page = page_request(page_size, page_token, "invoices", repr(where), order)
        with self._deps.uow(read_only=True) as uow:
            rows, total = uow.invoices.list(caller.organization_id, where, order, page.after,
                                            page.size + 1)
        items, token = page.slice(rows, key=lambda i: sort_key(i, order))
        return items, token, total

    def create_draft(self, caller: Caller, customer_id: str, project_id: str,
                     currency_code: str, fields: InvoiceFields, names: list[str],
                     request_id: str) -> Invoice:
        violations = [FieldViolation(f"invoice.{name}", "is required", reasons.REQUIRED)
                      for name, value in (("customer_id", customer_id),
                                          ("project_id", project_id)) if not value]
        try:
            minor_units(currency_code)
        except ValueError as error:
            violations.append(FieldViolation("invoice.currency_code", str(error),
                                             reasons.INVALID_FORMAT))
        if violations:
            raise InvalidArgument(violations)
        check_fields(fields, names)
        org, now = caller.organization_id, self._deps.clock()
        key = RequestKey(f"invoice:{org}", request_id,
                         fingerprint(customer_id, project_id, currency_code, repr(fields)))
        with self._deps.uow() as uow:
            earlier = uow.requests.reserve(key, now)
            if earlier:
                return found(uow.invoices.get_in(org, earlier), "invoice", earlier)
            draft, is_new = _draft_for(uow, org, customer_id, project_id, currency_code, now,
                                       self._deps.new_id())
            if not is_new:
                raise AlreadyExists(f"draft {draft.id} is open for this customer, project and "
                                    "currency", reason=reasons.DRAFT_ALREADY_OPEN,
                                    metadata={"invoice_id": draft.id})
            draft.fields = fields
            _store(uow, draft, True)
            uow.requests.complete(key, draft.id)
            uow.commit()
        return draft

    def update(self, caller: Caller, invoice_id: str, fields: InvoiceFields, mask: UpdateMask,
               etag: str) -> Invoice:
        names = mask.fields(UPDATABLE)
        now = self._deps.clock()
        with self._deps.uow() as uow:
            invoice = self._load(uow, caller, invoice_id, etag)
            invoice.update(fields, names, now)
            uow.invoices.update(invoice)
            uow.commit()
        return invoice

    @staticmethod
    def _load(uow, caller: Caller, invoice_id: str, etag: str) -> Invoice:
        return found(uow.invoices.get_in(caller.organization_id, invoice_id)
                     if invoice_id else None, "invoice", invoice_id, etag)

    def issue(self, caller: Caller, invoice_id: str, etag: str, due_date: date | None
              ) -> Invoice:
        now = self._deps.clock()
        today = now.date()
        with self._deps.uow() as uow:
            invoice = self._load(uow, caller, invoice_id, etag)
            settings = settings_of(uow, caller.organization_id)
            invoice.require_state((InvoiceState.DRAFT,), "issue")
            if invoice.lines:  # numbers are taken only by an issue that can succeed
                number = uow.numbers.next_formatted(caller.organization_id, INVOICE_SERIES,
                                                    today.year)
            else:
                number = ""
            invoice.issue(number, today, settings.fields.default_payment_terms_days, due_date,
                          now, caller.subject)
            invoice.customer_name = invoice.customer_name or uow.directory.name(
                invoice.organization_id, "customer", invoice.customer_id)
            invoice.project_name = invoice.project_name or uow.directory.name(
                invoice.organization_id, "project", invoice.project_id)
            events.invoice_issued(uow, invoice, caller.subject)
            uow.invoices.update(invoice)
            uow.commit()
        return invoice

    def mark_paid(self, caller: Caller, invoice_id: str, etag: str, paid_date: date | None,
                  amount: Money | None, reference: str) -> Invoice:
        now = self._deps.clock()
        with self._deps.uow() as uow:
            invoice = self._load(uow, caller, invoice_id, etag)
            problems = []
            if paid_date is None:
                problems.append(FieldViolation("paid_date", "is required", reasons.REQUIRED))
            if amount is None:
                problems.append(FieldViolation("amount", "is required", reasons.REQUIRED))
            elif amount.currency_code != invoice.currency_code:
                problems.append(FieldViolation("amount.currency_code",
                                               f"is the invoice's {invoice.currency_code}",
                                               reasons.CURRENCY_MISMATCH))
            if len(reference) > 200:
                problems.append(FieldViolation("reference", "has at most 200 characters",
                                               reasons.TOO_LONG))
            if problems:
                raise InvalidArgument(problems)
            payment = Payment(self._deps.new_id(), paid_date, amount.amount, reference,
                              caller.subject, now)
            invoice.mark_paid(payment, now.date())
            events.invoice_paid(uow, invoice, payment)
            uow.invoices.update(invoice)
            uow.commit()
        return invoice

    def void(self, caller: Caller, invoice_id: str, etag: str, reason: str,
             release_work: bool) -> tuple[Invoice, CreditNote]:
        now = self._deps.clock()
        org = caller.organization_id
        with self._deps.uow() as uow:
            invoice = self._load(uow, caller, invoice_id, etag)
            invoice.require_state((InvoiceState.ISSUED, InvoiceState.PAID), "void")
            number = uow.numbers.next_formatted(org, CREDIT_NOTE_SERIES, now.date().year) \
                if reason.strip() else ""
            note = invoice.void(self._deps.new_id(), number, reason, now.date(), now,
                                caller.subject, release_work)
            uow.credit_notes.add(note)
            events.invoice_voided(uow, invoice, note)
            uow.invoices.update(invoice)
            if release_work:
                self._release(uow, invoice, now)
            uow.commit()
        return invoice, note

    def _release(self, uow, invoice: Invoice, now: datetime) -> None:
        """The voided invoice's work goes back to the project's open draft."""
        draft, is_new = _draft_for(uow, invoice.organization_id, invoice.customer_id,
                                   invoice.project_id, invoice.currency_code, now,
                                   self._deps.new_id())
        draft.lines.extend(replace(line, id=self._deps.new_id(), entries=list(line.entries))
                           for line in invoice.lines)
        draft._order_lines()
        if not is_new:
            draft.touch(now)
        _store(uow, draft, is_new)
        sources = [f"time:{e}" for e in invoice.entry_ids] + [
            f"milestone:{m}" for m in invoice.milestone_ids]
        uow.invoices.move_claims(invoice.organization_id, sources, draft.id)

    def get_credit_note(self, caller: Caller, note_id: str) -> CreditNote:
        with self._deps.uow(read_only=True) as uow:
            return found(uow.credit_notes.get_in(caller.organization_id, note_id)
                         if note_id else None, "creditNote", note_id)

    def list_credit_notes(self, caller: Caller, page_size: int, page_token: str,
                          invoice_id: str, customer_id: str, project_id: str
                          ) -> tuple[list[CreditNote], str, int]:
        page = page_request(page_size, page_token, "credit-notes", invoice_id, customer_id,
                            project_id)
        with self._deps.uow(read_only=True) as uow:
            rows, total = uow.credit_notes.list(caller.organization_id, invoice_id,
                                                customer_id, project_id, page.after,
                                                page.size + 1)
        items, token = page.slice(rows, key=lambda n: (n.create_time, n.id))
        return items, token, total

    def pdf(self, caller: Caller, invoice_id: str) -> tuple[bytes, str]:
        with self._deps.uow(read_only=True) as uow:
            invoice = found(uow.invoices.get_in(caller.organization_id, invoice_id)
                            if invoice_id else None, "invoice", invoice_id)
            if not invoice.customer_name:
                invoice.customer_name = uow.directory.name(
                    invoice.organization_id, "customer", invoice.customer_id)
            seller = uow.directory.seller(caller.organization_id)
            settings = settings_of(uow, caller.organization_id)
        return self._render(invoice, seller, settings), f"{invoice.number or invoice.id}.pdf"

    def credit_note_pdf(self, caller: Caller, note_id: str) -> tuple[bytes, str]:
        with self._deps.uow(read_only=True) as uow:
            note = found(uow.credit_notes.get_in(caller.organization_id, note_id)
                         if note_id else None, "creditNote", note_id)
            seller = uow.directory.seller(caller.organization_id)
            settings = settings_of(uow, caller.organization_id)
        return self._render(note, seller, settings), f"{note.number}.pdf"
