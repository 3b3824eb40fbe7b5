"""Domain → protobuf messages (the contract's resources), for servicers and events."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from google.protobuf import timestamp_pb2
from pivotal.billing.v1 import (
    credit_note_pb2,
    entitlement_pb2,
    invoice_pb2,
    invoice_settings_pb2,
    plan_pb2,
    subscription_pb2,
    usage_pb2,
)
from pivotal.common.v1 import pricing_pb2, types_pb2
from pivotal_runtime.kit.money import Money
from pivotal_runtime.kit.proto_types import date_to_proto, decimal_to_proto, money_to_proto

from pivotal_billing.domain import invoices as inv
from pivotal_billing.domain.entitlements import Decision
from pivotal_billing.domain.invoice_settings import InvoiceSettings
from pivotal_billing.domain.periods import Proration
from pivotal_billing.domain.plans import Entitlement, Plan
from pivotal_billing.domain.subscriptions import Subscription, SubscriptionState
from pivotal_billing.domain.usage import MeterUsage, UsageRecord


def timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


def money(amount: Decimal, currency_code: str):
    return money_to_proto(Money(amount, currency_code))


def entitlement(e: Entitlement) -> plan_pb2.Entitlement:
    return plan_pb2.Entitlement(key=e.key, kind=e.kind.value, limit=e.limit,
                                unlimited=e.unlimited, enabled=e.enabled,
                                display_name=e.display_name)


def plan(p: Plan) -> plan_pb2.Plan:
    return plan_pb2.Plan(
        plan_id=p.id, version=p.current_version, code=p.code, name=p.name,
        description=p.description, price=money_to_proto(p.terms.price),
        billing_period=p.terms.period.value, trial_days=p.trial_days,
        entitlements=[entitlement(e) for e in p.terms.entitlements],
        default_plan=p.default_plan, active=p.active, display_order=p.display_order,
        create_time=timestamp(p.create_time), version_create_time=timestamp(p.terms.create_time),
        update_time=timestamp(p.update_time), etag=p.etag)


def state(value: SubscriptionState | None) -> int:
    return value.value if value is not None else 0


def state_name(value: SubscriptionState | None) -> str:
    return subscription_pb2.SubscriptionState.Name(state(value))


def transition(t) -> types_pb2.StateTransition:
    """A subscription's recorded transition as the contract's StateTransition."""
    return types_pb2.StateTransition(
        from_state=state_name(t.from_state) if t.from_state else "",
        to_state=state_name(t.to_state), actor_id=t.actor_id, reason=t.reason,
        time=timestamp(t.time))


def subscription(s: Subscription) -> subscription_pb2.Subscription:
    return subscription_pb2.Subscription(
        subscription_id=s.id, organization_id=s.organization_id, plan_id=s.plan.id,
        plan_version=s.plan.current_version, plan_code=s.plan.code, plan_name=s.plan.name,
        price=money_to_proto(s.plan.terms.price), billing_period=s.plan.terms.period.value,
        state=s.state.value, current_period_start=date_to_proto(s.period_start),
        current_period_end=date_to_proto(s.period_end),
        trial_start=date_to_proto(s.trial_start), trial_end=date_to_proto(s.trial_end),
        cancel_at_period_end=s.cancel_at_period_end,
        cancel_effective_date=date_to_proto(s.cancel_effective_date),
        cancel_reason=s.cancel_reason, activate_time=timestamp(s.activate_time),
        cancel_time=timestamp(s.cancel_time),
        transitions=[transition(t) for t in s.transitions],
        create_time=timestamp(s.create_time), update_time=timestamp(s.update_time),
        etag=s.etag)


def proration(p: Proration, from_plan: Plan, to_plan: Plan) -> subscription_pb2.Proration:
    return subscription_pb2.Proration(
        from_plan_id=from_plan.id, from_plan_version=from_plan.current_version,
        from_price=money_to_proto(from_plan.terms.price), to_plan_id=to_plan.id,
        to_plan_version=to_plan.current_version, to_price=money_to_proto(to_plan.terms.price),
        effective_date=date_to_proto(p.effective_date),
        current_period_start=date_to_proto(p.current_start),
        current_period_end=date_to_proto(p.current_end), current_period_days=p.current_days,
        unused_days=p.unused_days, new_period_start=date_to_proto(p.new_start),
        new_period_end=date_to_proto(p.new_end), new_period_days=p.new_days,
        charged_days=p.charged_days, credit_amount=money_to_proto(p.credit),
        charge_amount=money_to_proto(p.charge), net_amount=money_to_proto(p.net))


def organization_entitlements(organization_id: str, s: Subscription | None, p: Plan | None,
                              usage: list[tuple[str, int, datetime]]
                              ) -> entitlement_pb2.OrganizationEntitlements:
    items = s.entitlements if s is not None else (p.terms.entitlements if p else ())
    plan_of = s.plan if s is not None else p
    return entitlement_pb2.OrganizationEntitlements(
        organization_id=organization_id, subscription_id=s.id if s else "",
        plan_id=plan_of.id if plan_of else "",
        plan_version=plan_of.current_version if plan_of else 0,
        plan_code=plan_of.code if plan_of else "", subscription_state=state(s.state if s else None),
        entitlements=[entitlement(e) for e in items],
        usage=[entitlement_pb2.EntitlementUsage(key=k, used=u, observe_time=timestamp(t))
               for k, u, t in usage],
        version=s.entitlements_version if s else 0,
        update_time=timestamp(s.update_time) if s else None)


def decision_fields(d: Decision) -> dict:
    e = d.entitlement
    return {"allowed": d.allowed, "denial_reason": d.denial.value if d.denial else 0,
            "key": d.key, "kind": e.kind.value if e else 0,
            "limit": e.limit if e and not e.unlimited else 0,
            "unlimited": bool(e and e.unlimited), "enabled": bool(e and e.enabled),
            "used": d.used, "requested": d.requested, "remaining": d.remaining}


def usage_record(r: UsageRecord) -> usage_pb2.UsageRecord:
    return usage_pb2.UsageRecord(
        usage_record_id=r.id, organization_id=r.organization_id, meter_key=r.meter_key,
        quantity=decimal_to_proto(r.quantity.normalize() if r.quantity else r.quantity),
        occur_time=timestamp(r.occur_time), request_id=r.request_id,
        period_start=date_to_proto(r.period_start), creator_id=r.creator_id,
        create_time=timestamp(r.create_time), update_time=timestamp(r.create_time),
        etag=r.etag)


def _plain(value: Decimal) -> Decimal:
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral() else normal


def meter_usage(m: MeterUsage) -> usage_pb2.MeterUsage:
    return usage_pb2.MeterUsage(
        meter_key=m.meter_key, count=m.count, sum=decimal_to_proto(_plain(m.sum)),
        max=decimal_to_proto(_plain(m.max)), first_occur_time=timestamp(m.first_occur_time),
        last_occur_time=timestamp(m.last_occur_time))


def invoice_state_name(value: inv.InvoiceState | None) -> str:
    return invoice_pb2.InvoiceState.Name(value.value) if value else ""


def _tax_breakdown(totals: inv.Totals, currency: str) -> list:
    return [pricing_pb2.TaxBreakdown(
        tax_rate_id=g.tax.rate_id, display_name=g.tax.name,
        rate_percent=decimal_to_proto(g.tax.percent), taxable=money(g.taxable, currency),
        tax=money(g.amount, currency)) for g in totals.taxes]


def invoice_line(line: inv.InvoiceLine, tax: Decimal, currency: str) -> invoice_pb2.InvoiceLine:
    return invoice_pb2.InvoiceLine(
        invoice_line_id=line.id, kind=line.kind.value, description=line.description,
        quantity=decimal_to_proto(line.quantity), unit_price=money(line.unit_price, currency),
        amount=money(line.amount, currency), tax_rate_percent=decimal_to_proto(line.tax.percent),
        tax_rate_id=line.tax.rate_id, tax_amount=money(tax, currency),
        total=money(line.amount + tax, currency),
        time_entry_ids=sorted(e.entry_id for e in line.entries), quote_id=line.quote_id,
        quote_line_item_id=line.quote_line_item_id, rate_source=line.rate_source,
        milestone_id=line.milestone_id, project_role=line.project_role,
        first_service_date=date_to_proto(line.first_date),
        last_service_date=date_to_proto(line.last_date))


def invoice(i: inv.Invoice, full: bool = True) -> invoice_pb2.Invoice:
    totals, cur = i.totals, i.currency_code
    dates = [d for line in i.lines for d in (line.first_date, line.last_date) if d]
    message = invoice_pb2.Invoice(
        invoice_id=i.id, organization_id=i.organization_id, number=i.number,
        customer_id=i.customer_id, project_id=i.project_id, currency_code=cur,
        state=i.state.value, customer_name=i.customer_name, project_name=i.project_name,
        quote_id=i.quote_id, issue_date=date_to_proto(i.issue_date),
        due_date=date_to_proto(i.fields.due_date), notes=i.fields.notes,
        tax_breakdown=_tax_breakdown(totals, cur), subtotal=money(totals.subtotal, cur),
        tax_total=money(totals.tax_total, cur), total=money(totals.total, cur),
        amount_paid=money(i.amount_paid, cur), amount_due=money(i.amount_due, cur),
        first_service_date=date_to_proto(min(dates) if dates else None),
        last_service_date=date_to_proto(max(dates) if dates else None),
        credit_note_id=i.credit_note_id, credit_note_number=i.credit_note_number,
        void_reason=i.void_reason, issue_time=timestamp(i.issue_time),
        void_time=timestamp(i.void_time),
        transitions=[types_pb2.StateTransition(
            from_state=invoice_state_name(t.from_state), to_state=invoice_state_name(t.to_state),
            actor_id=t.actor_id, reason=t.reason, time=timestamp(t.time))
            for t in i.transitions],
        create_time=timestamp(i.create_time), update_time=timestamp(i.update_time),
        etag=i.etag)
    if i.fields.payment_terms_days is not None:
        message.payment_terms_days = i.fields.payment_terms_days
    if full:
        message.lines.extend(invoice_line(line, tax, cur)
                             for line, tax in zip(i.lines, totals.line_taxes, strict=True))
        message.payments.extend(invoice_pb2.InvoicePayment(
            payment_id=p.id, paid_date=date_to_proto(p.paid_date), amount=money(p.amount, cur),
            reference=p.reference, recorded=types_pb2.AuditStamp(actor_id=p.actor_id,
                                                                 time=timestamp(p.time)))
            for p in i.payments)
    return message


def credit_note(n: inv.CreditNote) -> credit_note_pb2.CreditNote:
    totals, cur = n.totals, n.currency_code
    return credit_note_pb2.CreditNote(
        credit_note_id=n.id, organization_id=n.organization_id, number=n.number,
        invoice_id=n.invoice_id, invoice_number=n.invoice_number, customer_id=n.customer_id,
        project_id=n.project_id, currency_code=cur, issue_date=date_to_proto(n.issue_date),
        reason=n.reason, lines=[invoice_line(line, tax, cur)
                                for line, tax in zip(n.lines, totals.line_taxes, strict=True)],
        tax_breakdown=_tax_breakdown(totals, cur), subtotal=money(totals.subtotal, cur),
        tax_total=money(totals.tax_total, cur), total=money(totals.total, cur),
        refund_due=money(n.refund_due, cur), work_released=n.work_released,
        creator_id=n.creator_id, create_time=timestamp(n.create_time),
        update_time=timestamp(n.create_time), etag=n.etag)


def invoice_settings(s: InvoiceSettings) -> invoice_settings_pb2.InvoiceSettings:
    f = s.fields
    message = invoice_settings_pb2.InvoiceSettings(
        organization_id=s.organization_id, payment_instructions=f.payment_instructions,
        default_payment_terms_days=f.default_payment_terms_days,
        default_tax_rate_id=f.default_tax_rate_id, default_tax_rate_name=f.default_tax_rate_name,
        update_time=timestamp(s.update_time), etag=s.etag)
    if f.default_tax_rate_percent is not None:
        message.default_tax_rate_percent.CopyFrom(decimal_to_proto(f.default_tax_rate_percent))
    return message
