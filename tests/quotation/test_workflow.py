"""The quote workflow, without I/O: every allowed transition, every illegal one refused with
the current state named, locked content, expiry, revisions."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from pivotal_quotation.domain.pricing import AppliedTax, Unit
from pivotal_quotation.domain.quotes import (
    Quote,
    QuoteContent,
    QuoteLine,
    QuoteState,
    approval_required,
    expiring,
)
from pivotal_runtime.errors import (
    FailedPrecondition,
    InvalidArgument,
    InvalidState,
    PermissionDenied,
)
from pivotal_runtime.kit.money import Money

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AUTHOR, APPROVER, SALES = "user-author", "user-approver", "user-sales"
ids = (f"id-{n}" for n in itertools.count())


def may_approve(permission: str) -> bool:
    return permission == "quotes:approve"


def content(**changes) -> QuoteContent:
    base = QuoteContent(
        title="Website relaunch", customer_id="customer-1", customer_display_name="ACME GmbH",
        currency_code="EUR", valid_from=date(2026, 3, 1), valid_until=date(2026, 3, 31),
        notes="", lines=(QuoteLine("line-1", "Design", Decimal(10), Unit.HOUR,
                                   Money.of("100.00", "EUR"), None,
                                   AppliedTax(Decimal(20), "vat", "VAT 20%")),))
    return QuoteContent(**{**base.__dict__, **changes})


def new_quote() -> Quote:
    return Quote.create(quote_id=next(ids), organization_id="org-1", quote_number="Q-2026-0001",
                        author_id=AUTHOR, content=content(), now=NOW)


# How to bring a quote into each state, and what each action does.
def submit(q, now=NOW):
    q.submit(AUTHOR, now, threshold=None)


def approve(q, now=NOW):
    q.approve(APPROVER, may_approve, now)


def reject(q, now=NOW):
    q.reject(APPROVER, may_approve, now, "too expensive")


def send(q, now=NOW):
    q.send(SALES, now)


def accept(q, now=NOW):
    q.accept(SALES, now, customer_reference="PO-7")


def decline(q, now=NOW):
    q.decline(SALES, now, reason="went elsewhere")


def expire(q, now=NOW):
    q.expire(now + timedelta(days=40))


def revise(q, now=NOW):
    return q.revise(AUTHOR, now, new_id=next(ids), new_line_id=lambda: next(ids))


def restore(q, now=NOW):
    q.restore(AUTHOR, now)


PATHS = {
    QuoteState.DRAFT: [],
    QuoteState.PENDING_APPROVAL: [submit],
    QuoteState.APPROVED: [submit, approve],
    QuoteState.REJECTED: [submit, reject],
    QuoteState.SENT: [submit, approve, send],
    QuoteState.ACCEPTED: [submit, approve, send, accept],
    QuoteState.DECLINED: [submit, approve, send, decline],
    QuoteState.EXPIRED: [submit, approve, send, expire],
    QuoteState.SUPERSEDED: [submit, approve, send, revise],
}
ACTIONS = {"submit": submit, "approve": approve, "reject": reject, "send": send,
           "accept": accept, "decline": decline, "expire": expire, "revise": revise,
           "restore": restore}
ALLOWED = {
    ("submit", QuoteState.DRAFT): QuoteState.PENDING_APPROVAL,
    ("submit", QuoteState.REJECTED): QuoteState.PENDING_APPROVAL,
    ("approve", QuoteState.PENDING_APPROVAL): QuoteState.APPROVED,
    ("reject", QuoteState.PENDING_APPROVAL): QuoteState.REJECTED,
    ("send", QuoteState.APPROVED): QuoteState.SENT,
    ("accept", QuoteState.SENT): QuoteState.ACCEPTED,
    ("decline", QuoteState.SENT): QuoteState.DECLINED,
    ("expire", QuoteState.APPROVED): QuoteState.EXPIRED,
    ("expire", QuoteState.SENT): QuoteState.EXPIRED,
    ("revise", QuoteState.SENT): QuoteState.SUPERSEDED,
    ("revise", QuoteState.DECLINED): QuoteState.SUPERSEDED,
    ("revise", QuoteState.EXPIRED): QuoteState.SUPERSEDED,
    ("restore", QuoteState.SUPERSEDED): QuoteState.SENT,
}


def quote_in(state: QuoteState) -> Quote:
    quote = new_quote()
    for step in PATHS[state]:
        step(quote)
    assert quote.state is state
    return quote


@pytest.mark.parametrize(("action", "state"), list(ALLOWED))
def test_allowed_transition(action, state):
    quote = quote_in(state)
    before = len(quote.transitions)
    ACTIONS[action](quote)
    assert quote.state is ALLOWED[(action, state)]
    last = quote.transitions[-1]
    assert (last.from_state, last.to_state) == (state, quote.state)
    assert len(quote.transitions) == before + 1


ILLEGAL = [(a, s) for a in ACTIONS for s in QuoteState if (a, s) not in ALLOWED]


@pytest.mark.parametrize(("action", "state"), ILLEGAL)
def test_illegal_transition_is_refused_naming_the_current_state(action, state):
    quote = quote_in(state)
    history, version = list(quote.transitions), quote.version
    with pytest.raises(InvalidState) as caught:
        ACTIONS[action](quote)
    error = caught.value
    assert error.code == "FAILED_PRECONDITION" and error.reason == "INVALID_STATE"
    assert error.current_state == f"QUOTE_STATE_{state.value}"
    assert error.violations[0].subject == quote.resource
    assert f"QUOTE_STATE_{state.value}" in error.violations[0].description
    assert quote.state is state and quote.transitions == history and quote.version == version


@pytest.mark.parametrize("state", [s for s in QuoteState
                                   if s not in (QuoteState.DRAFT, QuoteState.REJECTED)])
def test_content_is_locked_from_submission_on(state):
    quote = quote_in(state)
    before = quote.content
    with pytest.raises(FailedPrecondition) as caught:
        quote.change(content(title="Cheaper", lines=()), NOW)
    assert caught.value.reason == "QUOTE_LOCKED"
    assert caught.value.metadata["current_state"] == f"QUOTE_STATE_{state.value}"
    with pytest.raises(FailedPrecondition):
        quote.ensure_deletable()
    assert quote.content == before


def test_every_transition_records_who_when_and_why():
    quote = quote_in(QuoteState.REJECTED)
    later = NOW + timedelta(hours=1)
    quote.change(content(title="Website relaunch, cheaper"), later)
    quote.submit(AUTHOR, later, threshold=None, note="now 10 % less")
    approve(quote, later)
    history = [(t.from_state, t.to_state, t.actor_id, t.reason) for t in quote.transitions]
    assert history == [
        (None, QuoteState.DRAFT, AUTHOR, ""),
        (QuoteState.DRAFT, QuoteState.PENDING_APPROVAL, AUTHOR, ""),
        (QuoteState.PENDING_APPROVAL, QuoteState.REJECTED, APPROVER, "too expensive"),
        (QuoteState.REJECTED, QuoteState.PENDING_APPROVAL, AUTHOR, "now 10 % less"),
        (QuoteState.PENDING_APPROVAL, QuoteState.APPROVED, APPROVER, ""),
    ]
    assert quote.transitions[-1].time == later
    assert quote.rejection_reason == ""  # cleared on resubmission; the history keeps it
    assert quote.approver_id == APPROVER


def test_the_author_cannot_approve_or_reject_their_own_quote():
    quote = quote_in(QuoteState.PENDING_APPROVAL)
    with pytest.raises(PermissionDenied) as caught:
        quote.approve(AUTHOR, may_approve, NOW)
    assert caught.value.reason == "SELF_APPROVAL_FORBIDDEN"
    with pytest.raises(PermissionDenied):
        quote.reject(AUTHOR, may_approve, NOW, "no")
    assert quote.state is QuoteState.PENDING_APPROVAL


def test_an_approver_needs_the_approve_permission():
    quote = quote_in(QuoteState.PENDING_APPROVAL)
    with pytest.raises(PermissionDenied) as caught:
        quote.approve(APPROVER, lambda permission: False, NOW)
    assert caught.value.metadata == {"permission": "quotes:approve"}


def test_a_rejection_needs_a_reason():
    quote = quote_in(QuoteState.PENDING_APPROVAL)
    with pytest.raises(InvalidArgument) as caught:
        quote.reject(APPROVER, may_approve, NOW, "  ")
    assert caught.value.violations[0].field == "reason"


def test_below_the_threshold_a_quote_approves_itself_without_an_approver():
    quote = new_quote()  # net total 1000.00 EUR
    quote.submit(AUTHOR, NOW, threshold=Money.of("1000.01", "EUR"))
    assert quote.state is QuoteState.APPROVED
    assert [t.to_state for t in quote.pending[-2:]] == [QuoteState.PENDING_APPROVAL,
                                                         QuoteState.APPROVED]
    assert quote.transitions[-1].actor_id == "" and quote.approver_id == ""


def test_at_or_above_the_threshold_a_quote_waits_for_an_approver():
    assert approval_required(Money.of("1000.00", "EUR"), Money.of("1000.00", "EUR"))
    assert approval_required(Money.of("1", "EUR"), None)
    assert not approval_required(Money.of("999.99", "EUR"), Money.of("1000.00", "EUR"))


def test_an_expired_quote_cannot_be_sent_accepted_or_submitted():
    after = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)  # valid_until was 2026-03-31
    for state, action in [(QuoteState.APPROVED, send), (QuoteState.SENT, accept),
                          (QuoteState.DRAFT, submit)]:
        quote = quote_in(state)
        with pytest.raises(FailedPrecondition) as caught:
            action(quote, after)
        assert caught.value.reason == "QUOTE_EXPIRED"
        assert quote.state is state
    quote = quote_in(QuoteState.EXPIRED)
    with pytest.raises(InvalidState):
        accept(quote)


def test_the_last_day_of_validity_ends_at_midnight_utc():
    quote = quote_in(QuoteState.SENT)
    last_minute = datetime(2026, 3, 31, 23, 59, tzinfo=UTC)
    assert expiring([quote], last_minute) == []
    with pytest.raises(InvalidState):
        quote.expire(last_minute)
    assert expiring([quote], last_minute + timedelta(minutes=1)) == [quote]
    quote.expire(last_minute + timedelta(minutes=1))
    assert quote.state is QuoteState.EXPIRED and quote.transitions[-1].actor_id == ""


def test_revising_supersedes_the_revision_and_copies_it_into_a_new_draft():
    sent = quote_in(QuoteState.SENT)
    later = NOW + timedelta(days=1)
    successor = sent.revise(AUTHOR, later, new_id="rev-2", new_line_id=lambda: "line-new",
                            reason="scope changed")
    assert sent.state is QuoteState.SUPERSEDED and sent.next_revision_id == "rev-2"
    assert (successor.state, successor.revision, successor.quote_number) == (
        QuoteState.DRAFT, 2, sent.quote_number)
    assert successor.previous_revision_id == sent.id
    assert [line.line_item_id for line in successor.content.lines] == ["line-new"]
    assert successor.content.lines[0].unit_price == sent.content.lines[0].unit_price
    assert successor.pricing == sent.pricing
    assert successor.transitions[0].reason == sent.transitions[-1].reason == "scope changed"
    successor.change(content(title="Phase 1 only"), later)  # the new draft is editable


def test_an_approved_quote_past_validity_can_be_revised_before_the_sweep():
    quote = quote_in(QuoteState.APPROVED)
    quote.revise(AUTHOR, datetime(2026, 4, 2, tzinfo=UTC), new_id="r2",
                 new_line_id=lambda: "l2")
    assert quote.state is QuoteState.SUPERSEDED


def test_deleting_the_next_revision_restores_the_state_it_was_revised_from():
    declined = quote_in(QuoteState.DECLINED)
    revise(declined)
    declined.restore(AUTHOR, NOW)
    assert declined.state is QuoteState.DECLINED and declined.next_revision_id == ""


def test_bad_content_is_reported_field_by_field_with_the_pricing_problems():
    quote = new_quote()
    bad = content(title=" ", customer_id="", valid_until=date(2026, 2, 1),
                  lines=(QuoteLine("l", "", Decimal(-1), Unit.HOUR, Money.of(1, "EUR")),))
    with pytest.raises(InvalidArgument) as caught:
        quote.change(bad, NOW)
    assert {(v.field, v.reason) for v in caught.value.violations} == {
        ("quote.title", "REQUIRED"),
        ("quote.customer_id", "REQUIRED"),
        ("quote.valid_until", "VALIDITY_RANGE_INVALID"),
        ("quote.line_items[0].description", "REQUIRED"),
        ("quote.line_items[0].quantity", "OUT_OF_RANGE"),
    }
    assert quote.content == content()
