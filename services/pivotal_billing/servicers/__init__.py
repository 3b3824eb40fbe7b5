"""gRPC servicers: proto in → use case → proto out. Authentication, authorization, contract
validation, error mapping and logging happen once, in the runtime's interceptors."""

from __future__ import annotations

from google.api import httpbody_pb2
from pivotal.billing.v1 import entitlement_service_pb2 as ent_pb
from pivotal.billing.v1 import entitlement_service_pb2_grpc as ent_grpc
from pivotal.billing.v1 import invoice_service_pb2 as inv_pb
from pivotal.billing.v1 import invoice_service_pb2_grpc as inv_grpc
from pivotal.billing.v1 import invoice_settings_service_pb2 as set_pb
from pivotal.billing.v1 import invoice_settings_service_pb2_grpc as set_grpc
from pivotal.billing.v1 import plan_service_pb2 as plan_pb
from pivotal.billing.v1 import plan_service_pb2_grpc as plan_grpc
from pivotal.billing.v1 import subscription_service_pb2 as sub_pb
from pivotal.billing.v1 import subscription_service_pb2_grpc as sub_grpc
from pivotal.billing.v1 import usage_pb2
from pivotal.billing.v1 import usage_service_pb2 as use_pb
from pivotal.billing.v1 import usage_service_pb2_grpc as use_grpc
from pivotal_runtime.context import current_principal
from pivotal_runtime.kit.caller import Caller, caller_of_call
from pivotal_runtime.kit.listing import add_servicers
from pivotal_runtime.kit.proto_types import (
    date_from_proto,
    date_to_proto,
    decimal_from_proto,
    money_from_proto,
    update_mask_of,
)

from pivotal_billing.application import messages as m
from pivotal_billing.servicers import inputs

FULL_VIEW = 2  # INVOICE_VIEW_FULL


def _optional_caller() -> Caller | None:
    principal = current_principal()
    return Caller.of(principal) if principal is not None else None


def _pdf(context, data: bytes, name: str) -> httpbody_pb2.HttpBody:
    context.set_trailing_metadata((("content-disposition", f'attachment; filename="{name}"'),))
    return httpbody_pb2.HttpBody(content_type="application/pdf", data=data)


class PlanServicer(plan_grpc.PlanServiceServicer):
    def __init__(self, app) -> None:
        self.plans = app.plans

    def ListPlans(self, request, context):
        plans, token, total = self.plans.list(_optional_caller(), request.page_size,
                                              request.page_token,
                                              request.currency_code.strip().upper(),
                                              request.show_inactive)
        return plan_pb.ListPlansResponse(plans=[m.plan(p) for p in plans],
                                         next_page_token=token, total_size=total)

    def GetPlan(self, request, context):
        return plan_pb.GetPlanResponse(plan=m.plan(self.plans.get(request.plan_id,
                                                                  request.version)))

    def CreatePlan(self, request, context):
        return plan_pb.CreatePlanResponse(plan=m.plan(self.plans.create(
            caller_of_call(), inputs.plan(request.plan), request.request_id)))

    def UpdatePlan(self, request, context):
        return plan_pb.UpdatePlanResponse(plan=m.plan(self.plans.update(
            caller_of_call(), request.plan.plan_id, inputs.plan(request.plan),
            update_mask_of(request.update_mask, request.plan), request.plan.etag)))

    def UpdatePlanPrice(self, request, context):
        price = money_from_proto(request.price, "price") if request.HasField("price") else None
        return plan_pb.UpdatePlanPriceResponse(plan=m.plan(self.plans.update_price(
            caller_of_call(), request.plan_id, price,
            inputs.period(request.billing_period, "billing_period", required=False),
            request.etag)))

    def UpdatePlanEntitlements(self, request, context):
        return plan_pb.UpdatePlanEntitlementsResponse(plan=m.plan(
            self.plans.update_entitlements(
                caller_of_call(), request.plan_id,
                inputs.entitlements(request.entitlements, "entitlements"), request.etag)))


class SubscriptionServicer(sub_grpc.SubscriptionServiceServicer):
    def __init__(self, app) -> None:
        self.subscriptions = app.subscriptions

    def GetSubscription(self, request, context):
        return sub_pb.GetSubscriptionResponse(subscription=m.subscription(
            self.subscriptions.get(caller_of_call())))

    def ActivateSubscription(self, request, context):
        return sub_pb.ActivateSubscriptionResponse(subscription=m.subscription(
            self.subscriptions.activate(caller_of_call(), request.plan_id, request.etag)))

    def PreviewPlanChange(self, request, context):
        proration, subscription, plan = self.subscriptions.preview(caller_of_call(),
                                                                   request.plan_id)
        return sub_pb.PreviewPlanChangeResponse(
            proration=m.proration(proration, subscription.plan, plan), plan=m.plan(plan),
            etag=subscription.etag)

    def ChangePlan(self, request, context):
        expected = money_from_proto(request.expected_net_amount, "expected_net_amount") \
            if request.HasField("expected_net_amount") else None
        caller = caller_of_call()
        before = self.subscriptions.get(caller).plan
        subscription, proration = self.subscriptions.change_plan(caller, request.plan_id,
                                                                 request.etag, expected)
        return sub_pb.ChangePlanResponse(subscription=m.subscription(subscription),
                                         proration=m.proration(proration, before,
                                                               subscription.plan))

    def CancelSubscription(self, request, context):
        return sub_pb.CancelSubscriptionResponse(subscription=m.subscription(
            self.subscriptions.cancel(caller_of_call(), inputs.timing(request.timing),
                                      request.reason, request.etag)))


class EntitlementServicer(ent_grpc.EntitlementServiceServicer):
    def __init__(self, app) -> None:
        self.entitlements = app.entitlements

    def GetEntitlements(self, request, context):
        caller = caller_of_call()
        subscription, default, usage = self.entitlements.get(caller)
        return ent_pb.GetEntitlementsResponse(entitlements=m.organization_entitlements(
            caller.organization_id, subscription, default, usage))

    def CheckEntitlement(self, request, context):
        decision, subscription, plan = self.entitlements.check(
            request.organization_id, request.key, request.requested,
            request.current_usage if request.HasField("current_usage") else None)
        return ent_pb.CheckEntitlementResponse(
            **m.decision_fields(decision), plan_code=plan.code if plan else "",
            subscription_state=m.state(subscription.state if subscription else None),
            entitlements_version=subscription.entitlements_version if subscription else 0)


class UsageServicer(use_grpc.UsageServiceServicer):
    def __init__(self, app) -> None:
        self.usage = app.usage

    def RecordUsage(self, request, context):
        record = request.usage_record
        stored, duplicate = self.usage.record(
            caller_of_call(), record.meter_key,
            decimal_from_proto(record.quantity, "usage_record.quantity"),
            inputs.occur_time(record), request.request_id)
        return use_pb.RecordUsageResponse(usage_record=m.usage_record(stored),
                                          duplicate=duplicate)

    def ListUsageRecords(self, request, context):
        records, token = self.usage.list(
            caller_of_call(), request.page_size, request.page_token, request.meter_key,
            inputs.optional_time(request, "start_time"), inputs.optional_time(request, "end_time"))
        return use_pb.ListUsageRecordsResponse(usage_records=[m.usage_record(r) for r in records],
                                               next_page_token=token)

    def GetUsageSummary(self, request, context):
        caller = caller_of_call()
        start, end, meters, now = self.usage.summary(
            caller, date_from_proto(request.date, "date"), list(request.meter_keys))
        return use_pb.GetUsageSummaryResponse(usage_summary=usage_pb2.UsageSummary(
            organization_id=caller.organization_id, period_start=date_to_proto(start),
            period_end=date_to_proto(end), meters=[m.meter_usage(x) for x in meters],
            compute_time=m.timestamp(now)))


class InvoiceServicer(inv_grpc.InvoiceServiceServicer):
    def __init__(self, app) -> None:
        self.invoices = app.invoices

    def GetInvoice(self, request, context):
        return inv_pb.GetInvoiceResponse(invoice=m.invoice(
            self.invoices.get(caller_of_call(), request.invoice_id)))

    def ListInvoices(self, request, context):
        found, token, total = self.invoices.list(
            caller_of_call(), request.page_size, request.page_token,
            inputs.invoice_filter(request), request.order_by)
        full = request.view == FULL_VIEW
        return inv_pb.ListInvoicesResponse(invoices=[m.invoice(i, full) for i in found],
                                           next_page_token=token, total_size=total)

    def CreateDraftInvoice(self, request, context):
        invoice = request.invoice
        return inv_pb.CreateDraftInvoiceResponse(invoice=m.invoice(self.invoices.create_draft(
            caller_of_call(), invoice.customer_id, invoice.project_id,
            invoice.currency_code.strip().upper(), inputs.invoice_fields(invoice),
            ["payment_terms_days", "notes"], request.request_id)))

    def UpdateInvoice(self, request, context):
        return inv_pb.UpdateInvoiceResponse(invoice=m.invoice(self.invoices.update(
            caller_of_call(), request.invoice.invoice_id, inputs.invoice_fields(request.invoice),
            update_mask_of(request.update_mask, request.invoice), request.invoice.etag)))

    def IssueInvoice(self, request, context):
        return inv_pb.IssueInvoiceResponse(invoice=m.invoice(self.invoices.issue(
            caller_of_call(), request.invoice_id, request.etag,
            date_from_proto(request.due_date, "due_date"))))

    def MarkInvoicePaid(self, request, context):
        amount = money_from_proto(request.amount, "amount") if request.HasField("amount") \
            else None
        return inv_pb.MarkInvoicePaidResponse(invoice=m.invoice(self.invoices.mark_paid(
            caller_of_call(), request.invoice_id, request.etag,
            date_from_proto(request.paid_date, "paid_date"), amount, request.reference)))

    def VoidInvoice(self, request, context):
        invoice, note = self.invoices.void(caller_of_call(), request.invoice_id, request.etag,
                                           request.reason, request.release_work)
        return inv_pb.VoidInvoiceResponse(invoice=m.invoice(invoice),
                                          credit_note=m.credit_note(note))

    def GetInvoicePdf(self, request, context):
        return _pdf(context, *self.invoices.pdf(caller_of_call(), request.invoice_id))

    def GetCreditNote(self, request, context):
        return inv_pb.GetCreditNoteResponse(credit_note=m.credit_note(
            self.invoices.get_credit_note(caller_of_call(), request.credit_note_id)))

    def GetCreditNotePdf(self, request, context):
        return _pdf(context, *self.invoices.credit_note_pdf(caller_of_call(),
                                                           request.credit_note_id))

    def ListCreditNotes(self, request, context):
        notes, token, total = self.invoices.list_credit_notes(
            caller_of_call(), request.page_size, request.page_token, request.invoice_id,
            request.customer_id, request.project_id)
        return inv_pb.ListCreditNotesResponse(credit_notes=[m.credit_note(n) for n in notes],
                                              next_page_token=token, total_size=total)


class InvoiceSettingsServicer(set_grpc.InvoiceSettingsServiceServicer):
    def __init__(self, app) -> None:
        self.settings = app.invoice_settings

    def GetInvoiceSettings(self, request, context):
        return set_pb.GetInvoiceSettingsResponse(invoice_settings=m.invoice_settings(
            self.settings.get(caller_of_call())))

    def UpdateInvoiceSettings(self, request, context):
        return set_pb.UpdateInvoiceSettingsResponse(invoice_settings=m.invoice_settings(
            self.settings.update(
                caller_of_call(), inputs.settings(request.invoice_settings),
                update_mask_of(request.update_mask, request.invoice_settings),
                request.invoice_settings.etag)))


REGISTRATIONS = [
    (PlanServicer, plan_grpc.add_PlanServiceServicer_to_server, plan_pb),
    (SubscriptionServicer, sub_grpc.add_SubscriptionServiceServicer_to_server, sub_pb),
    (EntitlementServicer, ent_grpc.add_EntitlementServiceServicer_to_server, ent_pb),
    (UsageServicer, use_grpc.add_UsageServiceServicer_to_server, use_pb),
    (InvoiceServicer, inv_grpc.add_InvoiceServiceServicer_to_server, inv_pb),
    (InvoiceSettingsServicer, set_grpc.add_InvoiceSettingsServiceServicer_to_server, set_pb),
]


def add_all(server, app) -> set[str]:
    return add_servicers(server, app, REGISTRATIONS)
