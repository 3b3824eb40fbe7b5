"""The quote aggregate: its content, its pricing, and the approval workflow.

    DRAFT ──submit──▶ PENDING_APPROVAL ──approve──▶ APPROVED ──send──▶ SENT ──accept──▶ ACCEPTED
      ▲     (below the threshold: APPROVED at once)  │                    ├──decline─▶ DECLINED
      └── REJECTED ◀──reject──────────────────────┘    APPROVED/SENT ──(after valid_until)─▶ EXPIRED
    SENT, DECLINED, EXPIRED ──revise──▶ SUPERSEDED (+ a new DRAFT revision)

Every transition is appended to `transitions` (who, when, why) and to `pending` until the
unit of work has turned it into events. A transition the state forbids raises InvalidState
(FAILED_PRECONDITION naming the current state); content changes outside DRAFT and REJECTED
raise QUOTE_LOCKED.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from pivotal_runtime.errors import (
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    InvalidState,
    PermissionDenied,
    PreconditionViolation,
)
from pivotal_runtime.kit.money import Money
from pivotal_runtime.kit.resources import etag_of

from pivotal_quotation.domain import reasons
from pivotal_quotation.domain.pricing import (
    NO_TAX,
    AppliedTax,
    Discount,
    PricedLineInput,
    Pricing,
    Unit,
    price_quote,
)

APPROVE_PERMISSION = "quotes:approve"
MAX_TITLE = 200
MAX_NOTES = 4000
MAX_DESCRIPTION = 1000
MAX_NOTE = 2000


class QuoteState(str, Enum):
    DRAFT = "DRAFT"
    PENDING_APPROVAL = "PENDING_APPROVAL"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    SENT = "SENT"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    EXPIRED = "EXPIRED"
    SUPERSEDED = "SUPERSEDED"

    @property
    def wire_name(self) -> str:
        return f"QUOTE_STATE_{self.value}"


EDITABLE = frozenset({QuoteState.DRAFT, QuoteState.REJECTED})
EXPIRABLE = frozenset({QuoteState.APPROVED, QuoteState.SENT})
REVISABLE = frozenset({QuoteState.SENT, QuoteState.DECLINED, QuoteState.EXPIRED})


@dataclass(frozen=True)
class Transition:
    """One recorded state change; `from_state` is None for the creation, `actor_id` empty
    for the system (automatic approval, expiry)."""

    from_state: QuoteState | None
    to_state: QuoteState
    actor_id: str
    reason: str
    time: datetime


@dataclass(frozen=True)
class RateCardPin:
    """The rate-card item a line was priced from, pinned with its version."""

    rate_card_id: str
    version: int
    rate_card_item_id: str
    item_name: str


@dataclass(frozen=True)
class QuoteLine:
    line_item_id: str
    description: str
    quantity: Decimal
    unit: Unit
    unit_price: Money
    discount: Discount = None
    tax: AppliedTax = NO_TAX
    rate_card: RateCardPin | None = None

    def pricing_input(self) -> PricedLineInput:
        return PricedLineInput(self.quantity, self.unit, self.unit_price, self.discount, self.tax)


@dataclass(frozen=True)
class QuoteContent:
    """What an author edits; frozen from submission on."""

    title: str
    customer_id: str
    customer_display_name: str
    currency_code: str
    valid_from: date
    valid_until: date
    notes: str
    lines: tuple[QuoteLine, ...]
    discount: Discount = None


@dataclass(frozen=True)
class CustomerDecision:
    recorded_by: str
    customer_reference: str
    contact_name: str
    note: str
    decide_time: datetime


@dataclass(frozen=True)
class ProjectCreation:
    """What became of an accepted quote on the project side: the project created from it, or
    why none was (for example a plan limit), as the project service's events said."""

    time: datetime
    project_id: str = ""
    rejection_reason: str = ""
    rejection_limit: str = ""
    rejection_message: str = ""


def price_content(content: QuoteContent, *, at: str = "quote") -> Pricing:
    """Checks the content and prices it; every problem (content and pricing) is reported in
    one InvalidArgument."""
    violations = content_problems(content, at=at)
    try:
        pricing = price_quote(content.currency_code,
                              [line.pricing_input() for line in content.lines],
                              content.discount, at=at)
    except InvalidArgument as error:
        raise InvalidArgument(violations + error.violations) from None
    if violations:
        raise InvalidArgument(violations)
    return pricing


def content_problems(content: QuoteContent, *, at: str = "quote") -> list[FieldViolation]:
    problems: list[FieldViolation] = []

    def add(path: str, description: str, reason: str) -> None:
        problems.append(FieldViolation(f"{at}.{path}", description, reason))

    title = content.title.strip()
    if not title:
        add("title", "a quote needs a title", reasons.REQUIRED)
    elif len(title) > MAX_TITLE:
        add("title", f"a title has at most {MAX_TITLE} characters", reasons.TOO_LONG)
    if not content.customer_id:
        add("customer_id", "a quote is for a customer", reasons.REQUIRED)
    if content.valid_until < content.valid_from:
        add("valid_until", "valid_until is before valid_from", reasons.VALIDITY_RANGE_INVALID)
    if len(content.notes) > MAX_NOTES:
        add("notes", f"notes have at most {MAX_NOTES} characters", reasons.TOO_LONG)
    for index, line in enumerate(content.lines):
        if not line.description.strip():
            add(f"line_items[{index}].description", "a line needs a description",
                reasons.REQUIRED)
        elif len(line.description) > MAX_DESCRIPTION:
            add(f"line_items[{index}].description",
                f"a description has at most {MAX_DESCRIPTION} characters", reasons.TOO_LONG)
    return problems


def approval_required(net_total: Money, threshold: Money | None) -> bool:
    """Below the organization's threshold for its currency (strictly), a quote approves
    itself; without a threshold it always waits for an approver."""
    return threshold is None or net_total.amount >= threshold.amount


@dataclass
class Quote:
    id: str
    organization_id: str
    quote_number: str
    revision: int
    author_id: str
    content: QuoteContent
    pricing: Pricing
    create_time: datetime
    update_time: datetime
    state: QuoteState = QuoteState.DRAFT
    transitions: list[Transition] = field(default_factory=list)
    previous_revision_id: str = ""
    next_revision_id: str = ""
    approver_id: str = ""
    rejection_reason: str = ""
    decision: CustomerDecision | None = None
    send_time: datetime | None = None
    project_creation: ProjectCreation | None = None
    version: int = 1
    # Transitions not yet turned into events by the unit of work.
    pending: list[Transition] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def create(cls, *, quote_id: str, organization_id: str, quote_number: str, author_id: str,
               content: QuoteContent, now: datetime, revision: int = 1,
               previous_revision_id: str = "", reason: str = "") -> Quote:
        pricing = price_content(content)
        quote = cls(quote_id, organization_id, quote_number, revision, author_id, content,
                    pricing, now, now, previous_revision_id=previous_revision_id)
        quote._record(None, QuoteState.DRAFT, author_id, reason, now)
        return quote

    @property
    def resource(self) -> str:
        return f"quotes/{self.id}"

    @property
    def etag(self) -> str:
        return etag_of(self.version)

    @property
    def editable(self) -> bool:
        return self.state in EDITABLE

    def past_validity(self, now: datetime) -> bool:
        """valid_until is the last day of the offer; it ends at 24:00 UTC."""
        return now.date() > self.content.valid_until

    # Content -------------------------------------------------------------------------

    def change(self, content: QuoteContent, now: datetime) -> None:
        self._require_editable("update")
        self.pricing = price_content(content)
        self.content = content
        self._touch(now)

    def ensure_editable(self, action: str = "update") -> None:
        self._require_editable(action)

    def ensure_deletable(self) -> None:
        self._require_editable("delete")

    # Workflow ------------------------------------------------------------------------

    def submit(self, actor_id: str, now: datetime, *, threshold: Money | None,
               customer_active: bool = True, note: str = "") -> None:
        self._require(EDITABLE, "submit")
        self._require_valid(now, "submitted")
        if not customer_active:
            raise FailedPrecondition(
                "the quote's customer is archived", [PreconditionViolation(
                    "STATE", f"customers/{self.content.customer_id}", "the customer is archived")],
                reason=reasons.CUSTOMER_ARCHIVED)
        self.rejection_reason = ""
        self._record(self.state, QuoteState.PENDING_APPROVAL, actor_id, note, now)
        if not approval_required(self.pricing.totals.net_total, threshold):
            self._record(self.state, QuoteState.APPROVED, "",
                         "approved automatically: net total below the approval threshold", now)

    def approve(self, approver_id: str, permissions: Callable[[str], bool], now: datetime,
                note: str = "") -> None:
        self._require({QuoteState.PENDING_APPROVAL}, "approve")
        self._require_approver(approver_id, permissions, "approve")
        self.approver_id = approver_id
        self._record(self.state, QuoteState.APPROVED, approver_id, note, now)

    def reject(self, approver_id: str, permissions: Callable[[str], bool], now: datetime,
               reason: str) -> None:
        self._require({QuoteState.PENDING_APPROVAL}, "reject")
        if not reason.strip():
            raise InvalidArgument([FieldViolation("reason", "a rejection needs a reason",
                                                  reasons.REQUIRED)])
        self._require_approver(approver_id, permissions, "reject")
        self.rejection_reason = reason.strip()
        self._record(self.state, QuoteState.REJECTED, approver_id, self.rejection_reason, now)

    def send(self, actor_id: str, now: datetime, note: str = "") -> None:
        self._require({QuoteState.APPROVED}, "send")
        self._require_valid(now, "sent")
        self.send_time = now
        self._record(self.state, QuoteState.SENT, actor_id, note, now)

    def accept(self, actor_id: str, now: datetime, *, customer_reference: str = "",
               contact_name: str = "", note: str = "") -> None:
        self._require({QuoteState.SENT}, "accept")
        self._require_valid(now, "accepted")
        self.decision = CustomerDecision(actor_id, customer_reference, contact_name, note, now)
        self._record(self.state, QuoteState.ACCEPTED, actor_id, note, now)

    def decline(self, actor_id: str, now: datetime, *, reason: str = "",
                contact_name: str = "") -> None:
        self._require({QuoteState.SENT}, "decline")
        self.decision = CustomerDecision(actor_id, "", contact_name, reason, now)
        self._record(self.state, QuoteState.DECLINED, actor_id, reason, now)

    def expire(self, now: datetime) -> None:
        """The system's transition once valid_until has passed without an answer."""
        self._require(EXPIRABLE, "expire")
        if not self.past_validity(now):
            raise InvalidState(self.resource, self.state.wire_name, "expire before valid_until")
        self._record(self.state, QuoteState.EXPIRED, "", "valid_until has passed", now)

    def revise(self, actor_id: str, now: datetime, *, new_id: str,
               new_line_id: Callable[[], str], reason: str = "") -> Quote:
        """Supersedes this revision and returns the next one, a DRAFT with the same number,
        the same content and pinned prices, and new line ids."""
        lapsed = self.state is QuoteState.APPROVED and self.past_validity(now)
        if self.state not in REVISABLE and not lapsed:
            raise InvalidState(self.resource, self.state.wire_name, "revise")
        lines = tuple(replace(line, line_item_id=new_line_id()) for line in self.content.lines)
        successor = Quote(new_id, self.organization_id, self.quote_number, self.revision + 1,
                          actor_id, replace(self.content, lines=lines), self.pricing, now, now,
                          previous_revision_id=self.id)
        successor._record(None, QuoteState.DRAFT, actor_id, reason, now)
        self.next_revision_id = new_id
        self._record(self.state, QuoteState.SUPERSEDED, actor_id, reason, now)
        return successor

    def restore(self, actor_id: str, now: datetime) -> None:
        """The next revision was deleted as a draft: back to the state it was revised from."""
        self._require({QuoteState.SUPERSEDED}, "restore")
        revised_from = next(t.from_state for t in reversed(self.transitions)
                            if t.to_state is QuoteState.SUPERSEDED)
        self.next_revision_id = ""
        assert revised_from is not None
        self._record(self.state, revised_from, actor_id,
                     "the next revision was deleted", now)

    def record_project_creation(self, outcome: ProjectCreation) -> None:
        self.project_creation = outcome
        self._touch(outcome.time)

    # Internals -----------------------------------------------------------------------

    def rate_card_versions(self) -> set[tuple[str, int]]:
        return {(line.rate_card.rate_card_id, line.rate_card.version)
                for line in self.content.lines if line.rate_card is not None}

    def _require(self, allowed: set[QuoteState] | frozenset[QuoteState], action: str) -> None:
        if self.state not in allowed:
            raise InvalidState(self.resource, self.state.wire_name, action)

    def _require_editable(self, action: str) -> None:
        if not self.editable:
            raise FailedPrecondition(
                f"cannot {action} {self.resource}: its content is locked in state "
                f"{self.state.wire_name}",
                [PreconditionViolation("STATE", self.resource,
                                       f"content is locked in state {self.state.wire_name}")],
                reason=reasons.QUOTE_LOCKED, metadata={"current_state": self.state.wire_name})

    def _require_valid(self, now: datetime, done: str) -> None:
        if self.past_validity(now):
            raise FailedPrecondition(
                f"{self.resource} was valid until {self.content.valid_until.isoformat()} and "
                f"cannot be {done}; revise it instead",
                [PreconditionViolation("STATE", self.resource, "valid_until has passed")],
                reason=reasons.QUOTE_EXPIRED, metadata={"current_state": self.state.wire_name})

    def _require_approver(self, approver_id: str, permissions: Callable[[str], bool],
                          action: str) -> None:
        if not permissions(APPROVE_PERMISSION):
            raise PermissionDenied(f"{action} needs the permission {APPROVE_PERMISSION}",
                                   metadata={"permission": APPROVE_PERMISSION})
        if approver_id == self.author_id:
            raise PermissionDenied(f"the author of {self.resource} cannot {action} it",
                                   reason=reasons.SELF_APPROVAL_FORBIDDEN)

    def _record(self, from_state: QuoteState | None, to_state: QuoteState, actor_id: str,
                reason: str, now: datetime) -> None:
        transition = Transition(from_state, to_state, actor_id, reason, now)
        self.state = to_state
        self.transitions.append(transition)
        self.pending.append(transition)
        if from_state is not None:  # a new revision starts at version 1
            self._touch(now)

    def _touch(self, now: datetime) -> None:
        self.update_time = now
        self.version += 1


def expiring(quotes: Sequence[Quote], now: datetime) -> list[Quote]:
    """The quotes the expiry job moves to EXPIRED at `now`."""
    return [quote for quote in quotes if quote.state in EXPIRABLE and quote.past_validity(now)]
