"""Quotation's events, staged in the unit of work's outbox with the state change they report.

A quote's transitions become events when it is saved: each pending transition publishes its
specific event (QuoteCreated, QuoteSubmitted, ... QuoteRevised) and then QuoteStateChanged.
"""

from __future__ import annotations

from decimal import Decimal

from google.protobuf.field_mask_pb2 import FieldMask
from pivotal.quotation.v1 import events_pb2 as ev
from pivotal_runtime.kit.proto_types import date_to_proto

from pivotal_quotation.application import messages as m
from pivotal_quotation.domain.customers import Customer
from pivotal_quotation.domain.quotes import Quote, QuoteState, Transition
from pivotal_quotation.domain.rate_cards import RateCard


def customer_event(uow, kind: type, customer: Customer, changed: list[str] | None = None
                   ) -> None:
    extra = {"changed_fields": FieldMask(paths=changed)} if changed is not None else {}
    if kind in (ev.CustomerCreated, ev.CustomerUpdated):
        extra["version"] = customer.version
    uow.add_event(kind(organization_id=customer.organization_id, customer_id=customer.id,
                       customer=m.customer(customer), **extra),
                  aggregate_id=customer.id, organization_id=customer.organization_id)


def rate_card_published(uow, card: RateCard, new_version: bool) -> None:
    uow.add_event(ev.RateCardPublished(
        organization_id=card.organization_id, rate_card_id=card.id,
        version=card.current.number, new_version=new_version, rate_card=m.rate_card(card)),
        aggregate_id=card.id, organization_id=card.organization_id)


def quote_deleted(uow, quote: Quote, actor_id: str) -> None:
    uow.add_event(ev.QuoteDeleted(
        organization_id=quote.organization_id, quote_id=quote.id,
        quote_number=quote.quote_number, revision=quote.revision, actor_id=actor_id),
        aggregate_id=quote.id, organization_id=quote.organization_id)


def quote_transitions(uow, quote: Quote, *, approval_required: bool,
                      hours_per_day: Decimal) -> None:
    """Stages the events of the quote's pending transitions (call before saving it)."""
    for transition in quote.pending:
        specific = _specific(quote, transition, approval_required, hours_per_day)
        if specific is not None:
            _add(uow, quote, specific)
        if transition.from_state is not None:
            _add(uow, quote, ev.QuoteStateChanged(
                **_about(quote), customer_id=quote.content.customer_id,
                from_state=m.quote_state(transition.from_state),
                to_state=m.quote_state(transition.to_state),
                transition=m.transition(transition), version=quote.version))


def _add(uow, quote: Quote, message) -> None:
    uow.add_event(message, aggregate_id=quote.id, organization_id=quote.organization_id)


def _about(quote: Quote) -> dict:
    return {"organization_id": quote.organization_id, "quote_id": quote.id,
            "quote_number": quote.quote_number, "revision": quote.revision}


def _specific(quote: Quote, t: Transition, approval_required: bool, hours_per_day: Decimal):
    about, content = _about(quote), quote.content
    to = t.to_state
    if t.from_state is None:
        return ev.QuoteCreated(
            **about, previous_revision_id=quote.previous_revision_id,
            customer_id=content.customer_id, currency_code=content.currency_code,
            title=content.title, author_id=quote.author_id, totals=m.quote_totals(quote),
            version=quote.version)
    if to is QuoteState.PENDING_APPROVAL:
        return ev.QuoteSubmitted(**about, customer_id=content.customer_id, actor_id=t.actor_id,
                                 approval_required=approval_required,
                                 totals=m.quote_totals(quote), note=t.reason)
    if to is QuoteState.APPROVED:
        return ev.QuoteApproved(**about, approver_id=t.actor_id, automatic=not t.actor_id,
                                author_id=quote.author_id, note=t.reason)
    if to is QuoteState.REJECTED:
        return ev.QuoteRejected(**about, approver_id=t.actor_id, author_id=quote.author_id,
                                reason=t.reason)
    if to is QuoteState.SENT:
        return ev.QuoteSent(**about, customer_id=content.customer_id, actor_id=t.actor_id,
                            valid_until=date_to_proto(content.valid_until),
                            totals=m.quote_totals(quote))
    if to is QuoteState.ACCEPTED:
        decision = quote.decision
        assert decision is not None
        return ev.QuoteAccepted(
            **about, customer_id=content.customer_id,
            customer_display_name=content.customer_display_name,
            currency_code=content.currency_code, title=content.title,
            valid_from=date_to_proto(content.valid_from),
            valid_until=date_to_proto(content.valid_until), author_id=quote.author_id,
            approver_id=quote.approver_id, recorded_by=decision.recorded_by,
            customer_reference=decision.customer_reference, contact_name=decision.contact_name,
            note=decision.note, notes=content.notes, totals=m.quote_totals(quote),
            line_items=[m.accepted_line(line, amounts, hours_per_day)
                        for line, amounts in zip(content.lines, quote.pricing.lines, strict=False)])
    if to is QuoteState.DECLINED:
        decision = quote.decision
        return ev.QuoteDeclined(**about, customer_id=content.customer_id,
                                recorded_by=t.actor_id, reason=t.reason,
                                contact_name=decision.contact_name if decision else "")
    if to is QuoteState.EXPIRED:
        return ev.QuoteExpired(**about, customer_id=content.customer_id,
                               valid_until=date_to_proto(content.valid_until),
                               previous_state=m.quote_state(t.from_state))
    if to is QuoteState.SUPERSEDED:
        return ev.QuoteRevised(**about, next_revision_id=quote.next_revision_id,
                               next_revision=quote.revision + 1,
                               previous_state=m.quote_state(t.from_state), actor_id=t.actor_id,
                               reason=t.reason)
    return None  # a restore after a discarded revision: QuoteStateChanged only
