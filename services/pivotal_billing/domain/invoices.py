"""Customer invoices built from approved billable time and completed milestones; totals with
taxes per rate; issue (numbered, locked), payment, void with a credit note. Pure code."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum

from pivotal_runtime.errors import FailedPrecondition, FieldViolation, InvalidArgument, InvalidState
from pivotal_runtime.kit.money import allocate, minor_units, round_half_even
from pivotal_runtime.kit.resources import Versioned

from pivotal_billing.domain import reasons

HUNDRED = Decimal(100)
MILESTONE_RATE_SOURCE = 6  # pivotal.common.v1.RateSource RATE_SOURCE_MILESTONE_AMOUNT
UPDATABLE = ("due_date", "payment_terms_days", "notes")
ORDER_FIELDS = ("issue_date", "due_date", "create_time", "invoice_number", "total")
DEFAULT_ORDER = [("issue_date", True), ("create_time", True)]
NOT_YET = "9999-12-31"  # the sort value of a date a draft does not have yet


class InvoiceState(Enum):
    DRAFT = 1
    ISSUED = 2
    PAID = 3
    VOID = 4


class LineKind(Enum):
    TIME = 1
    MILESTONE = 2


@dataclass(frozen=True)
class Tax:
    """The tax applied to a line: a percentage, the organization tax rate it came from (may
    be empty) and its printed name."""

    percent: Decimal = Decimal(0)
    rate_id: str = ""
    name: str = ""


@dataclass(frozen=True)
class ApprovedTime:
    """One approved billable time entry (TimeEntryApproved)."""

    entry_id: str
    work_date: date
    hours: Decimal
    rate: Decimal
    amount: Decimal
    currency_code: str
    tax: Tax | None  # None: the entry stored no tax rate (the default applies)
    quote_id: str = ""
    quote_line_item_id: str = ""
    rate_source: int = 0
    project_role: str = ""
    description: str = ""


@dataclass(frozen=True)
class CompletedMilestone:
    milestone_id: str
    name: str
    amount: Decimal
    currency_code: str
    complete_date: date
    quote_id: str = ""
    quote_line_item_id: str = ""


@dataclass(frozen=True)
class BilledEntry:
    entry_id: str
    work_date: date
    hours: Decimal
    amount: Decimal


@dataclass
class InvoiceLine:
    id: str
    kind: LineKind
    description: str
    unit_price: Decimal
    tax: Tax
    entries: list[BilledEntry] = field(default_factory=list)
    milestone_id: str = ""
    milestone_amount: Decimal = Decimal(0)
    milestone_date: date | None = None
    quote_id: str = ""
    quote_line_item_id: str = ""
    rate_source: int = 0
    project_role: str = ""

    @property
    def quantity(self) -> Decimal:
        if self.kind is LineKind.MILESTONE:
            return Decimal(1)
        return sum((e.hours for e in self.entries), Decimal(0))

    @property
    def amount(self) -> Decimal:
        """The sum of the entries' amounts (each rounded by time), never quantity × price."""
        if self.kind is LineKind.MILESTONE:
            return self.milestone_amount
        return sum((e.amount for e in self.entries), Decimal(0))

    @property
    def first_date(self) -> date | None:
        dates = [e.work_date for e in self.entries] or [self.milestone_date]
        return min(d for d in dates if d is not None) if any(dates) else None

    @property
    def last_date(self) -> date | None:
        dates = [e.work_date for e in self.entries] or [self.milestone_date]
        return max(d for d in dates if d is not None) if any(dates) else None

    def groups_with(self, time: ApprovedTime, tax: Tax) -> bool:
        return (self.kind is LineKind.TIME and self.quote_line_item_id == time.quote_line_item_id
                and self.project_role == time.project_role and self.unit_price == time.rate
                and self.rate_source == time.rate_source and self.tax == tax)


@dataclass(frozen=True)
class TaxGroup:
    tax: Tax
    taxable: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    taxes: tuple[TaxGroup, ...]
    line_taxes: tuple[Decimal, ...]  # per line, in line order

    @property
    def tax_total(self) -> Decimal:
        return sum((g.amount for g in self.taxes), Decimal(0))

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax_total


def totals_of(lines: list[InvoiceLine], currency_code: str) -> Totals:
    """Tax per rate on the sum of the line amounts at that rate, rounded half-even, then
    allocated to those lines by amount so the line taxes add up to it exactly."""
    places = minor_units(currency_code)
    line_taxes = [Decimal(0)] * len(lines)
    groups = []
    for tax in sorted({line.tax for line in lines}, key=lambda t: (t.percent, t.rate_id, t.name)):
        members = [i for i, line in enumerate(lines) if line.tax == tax]
        taxable = sum((lines[i].amount for i in members), Decimal(0))
        amount = round_half_even(taxable * tax.percent / HUNDRED, places)
        weights = [abs(lines[i].amount) for i in members]
        if sum(weights) == 0:
            weights = [1] * len(members)
        for index, share in zip(members, allocate(amount, weights, places), strict=True):
            line_taxes[index] = share
        groups.append(TaxGroup(tax, taxable, amount))
    subtotal = sum((line.amount for line in lines), Decimal(0))
    return Totals(subtotal, tuple(groups), tuple(line_taxes))


@dataclass(frozen=True)
class InvoiceFilter:
    states: tuple[int, ...] = ()
    customer_id: str = ""
    project_id: str = ""
    issued_from: date | None = None
    issued_to: date | None = None


def sort_key(invoice: Invoice, order: list[tuple[str, bool]]) -> tuple:
    """The keyset position of `invoice` in a listing ordered by `order` (then by id)."""
    values = {"issue_date": invoice.issue_date.isoformat() if invoice.issue_date else NOT_YET,
              "due_date": invoice.fields.due_date.isoformat() if invoice.fields.due_date
              else NOT_YET, "create_time": invoice.create_time,
              "invoice_number": invoice.number, "total": int(invoice.totals.total.scaleb(4))}
    return (*(values[name] for name, _ in order), invoice.id)


@dataclass(frozen=True)
class Payment:
    id: str
    paid_date: date
    amount: Decimal
    reference: str
    actor_id: str
    time: datetime


@dataclass(frozen=True)
class Transition:
    from_state: InvoiceState | None
    to_state: InvoiceState
    time: datetime
    actor_id: str = ""
    reason: str = ""


@dataclass(frozen=True)
class InvoiceFields:
    due_date: date | None = None
    payment_terms_days: int | None = None
    notes: str = ""


def check_fields(fields: InvoiceFields, names: list[str] | tuple[str, ...]) -> None:
    violations = []
    if "payment_terms_days" in names and fields.payment_terms_days is not None \
            and not 0 <= fields.payment_terms_days <= 365:
        violations.append(FieldViolation("invoice.payment_terms_days", "is from 0 to 365",
                                         reasons.OUT_OF_RANGE))
    if "notes" in names and len(fields.notes) > 2000:
        violations.append(FieldViolation("invoice.notes", "has at most 2000 characters",
                                         reasons.TOO_LONG))
    if violations:
        raise InvalidArgument(violations)


@dataclass
class Invoice(Versioned):
    id: str
    organization_id: str
    customer_id: str
    project_id: str
    currency_code: str
    create_time: datetime
    update_time: datetime
    state: InvoiceState = InvoiceState.DRAFT
    number: str = ""
    customer_name: str = ""
    project_name: str = ""
    quote_id: str = ""
    fields: InvoiceFields = field(default_factory=InvoiceFields)
    issue_date: date | None = None
    lines: list[InvoiceLine] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)
    credit_note_id: str = ""
    credit_note_number: str = ""
    void_reason: str = ""
    issue_time: datetime | None = None
    void_time: datetime | None = None
    pending: list[Transition] = field(default_factory=list, repr=False)

    @property
    def totals(self) -> Totals:
        return totals_of(self.lines, self.currency_code)

    @property
    def amount_paid(self) -> Decimal:
        return sum((p.amount for p in self.payments), Decimal(0))

    @property
    def amount_due(self) -> Decimal:
        if self.state in (InvoiceState.PAID, InvoiceState.VOID):
            return Decimal(0)
        return self.totals.total - self.amount_paid

    @property
    def due_date(self) -> date | None:
        return self.fields.due_date

    @property
    def entry_ids(self) -> list[str]:
        return sorted(e.entry_id for line in self.lines for e in line.entries)

    @property
    def milestone_ids(self) -> list[str]:
        return sorted(line.milestone_id for line in self.lines if line.milestone_id)

    def _move(self, to: InvoiceState, now: datetime, actor_id: str = "", reason: str = ""
              ) -> None:
        transition = Transition(self.state if self.transitions else None, to, now, actor_id,
                                reason)
        self.state = to
        self.transitions.append(transition)
        self.pending.append(transition)
        self.touch(now)

    def require_state(self, allowed: tuple[InvoiceState, ...], action: str) -> None:
        if self.state not in allowed:
            raise InvalidState(f"invoice {self.id}", self.state.name, action)

    # --- drafts -------------------------------------------------------------------------------
    def add_time(self, time: ApprovedTime, default_tax: Tax, new_line_id: str, now: datetime
                 ) -> None:
        self.require_state((InvoiceState.DRAFT,), "add time to")
        tax = time.tax if time.tax is not None else default_tax
        line = next((line for line in self.lines if line.groups_with(time, tax)), None)
        if line is None:
            line = InvoiceLine(new_line_id, LineKind.TIME, time.project_role or time.description
                               or "Time", time.rate, tax, quote_id=time.quote_id,
                               quote_line_item_id=time.quote_line_item_id,
                               rate_source=time.rate_source, project_role=time.project_role)
            self.lines.append(line)
        line.entries.append(BilledEntry(time.entry_id, time.work_date, time.hours, time.amount))
        line.entries.sort(key=lambda e: (e.work_date, e.entry_id))
        self.quote_id = self.quote_id or time.quote_id
        self._order_lines()
        self.touch(now)

    def add_milestone(self, milestone: CompletedMilestone, default_tax: Tax, new_line_id: str,
                      now: datetime) -> None:
        self.require_state((InvoiceState.DRAFT,), "add a milestone to")
        self.lines.append(InvoiceLine(
            new_line_id, LineKind.MILESTONE, milestone.name, milestone.amount, default_tax,
            milestone_id=milestone.milestone_id, milestone_amount=milestone.amount,
            milestone_date=milestone.complete_date, quote_id=milestone.quote_id,
            quote_line_item_id=milestone.quote_line_item_id,
            rate_source=MILESTONE_RATE_SOURCE))
        self.quote_id = self.quote_id or milestone.quote_id
        self._order_lines()
        self.touch(now)

    def _order_lines(self) -> None:
        """Time lines by first service date, then milestone lines by completion."""
        self.lines.sort(key=lambda line: (line.kind.value, line.first_date or date.min))

    def update(self, fields: InvoiceFields, names: list[str], now: datetime) -> None:
        self.require_state((InvoiceState.DRAFT,), "update")
        check_fields(fields, names)
        self.fields = replace(self.fields, **{name: getattr(fields, name) for name in names})
        self.touch(now)

    # --- lifecycle ----------------------------------------------------------------------------
    def issue(self, number: str, today: date, default_terms_days: int, due_date: date | None,
              now: datetime, actor_id: str) -> None:
        self.require_state((InvoiceState.DRAFT,), "issue")
        if not self.lines:
            raise FailedPrecondition("an invoice without lines is not issued",
                                     reason=reasons.INVOICE_EMPTY)
        due = due_date or self.fields.due_date
        if due is not None and due < today:
            raise InvalidArgument([FieldViolation("due_date", "is not before the issue date",
                                                  reasons.OUT_OF_RANGE)])
        if due is None:
            terms = self.fields.payment_terms_days
            due = today + timedelta(days=default_terms_days if terms is None else terms)
        self.fields = replace(self.fields, due_date=due)
        self.number, self.issue_date, self.issue_time = number, today, now
        self._move(InvoiceState.ISSUED, now, actor_id)

    def mark_paid(self, payment: Payment, today: date) -> None:
        self.require_state((InvoiceState.ISSUED,), "mark paid")
        if payment.paid_date > today or (self.issue_date and payment.paid_date < self.issue_date):
            raise InvalidArgument([FieldViolation(
                "paid_date", "is between the issue date and today", reasons.OUT_OF_RANGE)])
        due = self.amount_due
        if payment.amount != due:
            raise InvalidArgument([FieldViolation(
                "amount", f"must equal the amount due {due}", reasons.PAYMENT_AMOUNT_MISMATCH)],
                reason=reasons.PAYMENT_AMOUNT_MISMATCH, metadata={"amount_due": str(due)})
        self.payments.append(payment)
        self._move(InvoiceState.PAID, payment.time, payment.actor_id)

    def void(self, credit_note_id: str, credit_note_number: str, reason: str, today: date,
             now: datetime, actor_id: str, release_work: bool) -> CreditNote:
        self.require_state((InvoiceState.ISSUED, InvoiceState.PAID), "void")
        if not 1 <= len(reason.strip()) <= 1000:
            raise InvalidArgument([FieldViolation("reason", "is 1 to 1000 characters",
                                                  reasons.REQUIRED)])
        note = CreditNote(credit_note_id, self.organization_id, credit_note_number, self.id,
                          self.number, self.customer_id, self.project_id, self.currency_code,
                          today, reason, [replace(line) for line in self.lines],
                          self.amount_paid, release_work, actor_id, now,
                          self.customer_name, self.project_name)
        self.credit_note_id, self.credit_note_number = credit_note_id, credit_note_number
        self.void_reason, self.void_time = reason, now
        self._move(InvoiceState.VOID, now, actor_id, reason)
        return note


@dataclass
class CreditNote:
    id: str
    organization_id: str
    number: str
    invoice_id: str
    invoice_number: str
    customer_id: str
    project_id: str
    currency_code: str
    issue_date: date
    reason: str
    lines: list[InvoiceLine]
    refund_due: Decimal
    work_released: bool
    creator_id: str
    create_time: datetime
    customer_name: str = ""
    project_name: str = ""
    version: int = 1

    @property
    def totals(self) -> Totals:
        return totals_of(self.lines, self.currency_code)

    @property
    def etag(self) -> str:
        return f'W/"{self.version}"'


def new_draft(invoice_id: str, organization_id: str, customer_id: str, project_id: str,
              currency_code: str, now: datetime, fields: InvoiceFields | None = None) -> Invoice:
    invoice = Invoice(invoice_id, organization_id, customer_id, project_id, currency_code,
                      now, now, fields=fields or InvoiceFields())
    invoice.transitions.append(Transition(None, InvoiceState.DRAFT, now))
    invoice.pending.append(invoice.transitions[-1])
    return invoice
