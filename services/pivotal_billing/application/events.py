"""Billing's events, staged in the unit of work's outbox with the state change they report."""

from __future__ import annotations

from pivotal.billing.v1 import events_pb2 as ev
from pivotal_runtime.kit.money import Money
from pivotal_runtime.kit.proto_types import date_to_proto, money_to_proto

from pivotal_billing.application import messages as m
from pivotal_billing.domain import invoices as inv
from pivotal_billing.domain import subscriptions as subs


def _add(uow, subscription: subs.Subscription, message) -> None:
    uow.add_event(message, aggregate_id=subscription.id,
                  organization_id=subscription.organization_id)


def subscription_changes(uow, s: subs.Subscription) -> None:
    """Stages the events of the subscription's recorded changes, in order, and clears them."""
    about = {"organization_id": s.organization_id, "subscription_id": s.id}
    plan, terms = s.plan, s.plan.terms
    for change in s.changes:
        if isinstance(change, subs.Activated):
            _add(uow, s, ev.SubscriptionActivated(
                **about, plan_id=plan.id, plan_version=plan.current_version, plan_code=plan.code,
                state=s.state.value, previous_state=m.state(change.previous_state),
                price=money_to_proto(terms.price), billing_period=terms.period.value,
                current_period_start=date_to_proto(s.period_start),
                current_period_end=date_to_proto(s.period_end),
                trial_end=date_to_proto(s.trial_end if s.state is subs.SubscriptionState.TRIALING
                                        else None), actor_id=change.actor_id))
        elif isinstance(change, subs.Transition):
            _add(uow, s, ev.SubscriptionStateChanged(
                **about, from_state=m.state(change.from_state), to_state=change.to_state.value,
                plan_code=plan.code, current_period_start=date_to_proto(s.period_start),
                current_period_end=date_to_proto(s.period_end), reason=change.reason,
                actor_id=change.actor_id, version=s.version, transition=m.transition(change)))
        elif isinstance(change, subs.PlanChanged):
            _add(uow, s, ev.SubscriptionChanged(
                **about, from_plan_code=change.from_plan.code, to_plan_code=plan.code,
                proration=m.proration(change.proration, change.from_plan, plan),
                state=s.state.value, actor_id=change.actor_id))
        elif isinstance(change, subs.Canceled):
            _add(uow, s, ev.SubscriptionCanceled(
                **about, plan_id=plan.id, plan_version=plan.current_version, plan_code=plan.code,
                timing=change.timing.value, effective_date=date_to_proto(s.cancel_effective_date),
                previous_state=change.previous_state.value, reason=s.cancel_reason,
                credit_amount=money_to_proto(change.credit), actor_id=change.actor_id))
        elif isinstance(change, subs.EntitlementsChanged):
            canceled = s.state is subs.SubscriptionState.CANCELED
            _add(uow, s, ev.EntitlementsChanged(
                **about, plan_id="" if canceled else plan.id,
                plan_version=0 if canceled else plan.current_version,
                plan_code="" if canceled else plan.code, subscription_state=s.state.value,
                entitlements=[m.entitlement(e) for e in s.entitlements],
                version=s.entitlements_version, cause=change.cause.value))
    s.changes.clear()


def _invoice_event(uow, invoice: inv.Invoice, message) -> None:
    uow.add_event(message, aggregate_id=invoice.id, organization_id=invoice.organization_id)


def invoice_issued(uow, i: inv.Invoice, actor_id: str) -> None:
    totals, cur = i.totals, i.currency_code
    _invoice_event(uow, i, ev.InvoiceIssued(
        organization_id=i.organization_id, invoice_id=i.id, number=i.number,
        customer_id=i.customer_id, project_id=i.project_id, quote_id=i.quote_id,
        issue_date=date_to_proto(i.issue_date), due_date=date_to_proto(i.fields.due_date),
        subtotal=m.money(totals.subtotal, cur), tax_total=m.money(totals.tax_total, cur),
        total=m.money(totals.total, cur), line_count=len(i.lines),
        time_entry_ids=i.entry_ids, milestone_ids=i.milestone_ids, actor_id=actor_id))


def invoice_paid(uow, i: inv.Invoice, payment: inv.Payment) -> None:
    cur = i.currency_code
    _invoice_event(uow, i, ev.InvoicePaid(
        organization_id=i.organization_id, invoice_id=i.id, number=i.number,
        customer_id=i.customer_id, project_id=i.project_id,
        total=m.money(i.totals.total, cur), amount=m.money(payment.amount, cur),
        paid_date=date_to_proto(payment.paid_date), reference=payment.reference,
        actor_id=payment.actor_id))


def invoice_voided(uow, i: inv.Invoice, note: inv.CreditNote) -> None:
    cur = i.currency_code
    _invoice_event(uow, i, ev.InvoiceVoided(
        organization_id=i.organization_id, invoice_id=i.id, number=i.number,
        customer_id=i.customer_id, project_id=i.project_id, credit_note_id=note.id,
        credit_note_number=note.number, reason=note.reason,
        credited_total=m.money(note.totals.total, cur),
        refund_due=money_to_proto(Money(note.refund_due, cur)),
        work_released=note.work_released, time_entry_ids=i.entry_ids,
        milestone_ids=i.milestone_ids, actor_id=note.creator_id))
