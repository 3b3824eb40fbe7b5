"""Protobuf requests → domain inputs (malformed money, decimals and dates are
INVALID_ARGUMENT naming the field, by the kit's converters)."""

from __future__ import annotations

from datetime import UTC

from pivotal_runtime.errors import FieldViolation, InvalidArgument
from pivotal_runtime.kit import field_reasons
from pivotal_runtime.kit.proto_types import date_from_proto, decimal_from_proto, money_from_proto

from pivotal_billing.domain.invoice_settings import SettingsFields
from pivotal_billing.domain.invoices import InvoiceFields, InvoiceFilter
from pivotal_billing.domain.periods import BillingPeriod
from pivotal_billing.domain.plans import Entitlement, EntitlementKind, PlanInput
from pivotal_billing.domain.subscriptions import CancellationTiming


def _enum(enum, value: int, path: str, *, required: bool = True):
    if value == 0:
        if required:
            raise InvalidArgument([FieldViolation(path, "is required", field_reasons.REQUIRED)])
        return None
    try:
        return enum(value)
    except ValueError:
        raise InvalidArgument([FieldViolation(path, f"{value} is not a known value",
                                              field_reasons.UNKNOWN_ENUM_VALUE)]) from None


def period(value: int, path: str, *, required: bool = True) -> BillingPeriod | None:
    return _enum(BillingPeriod, value, path, required=required)


def entitlements(items, path: str) -> tuple[Entitlement, ...]:
    return tuple(Entitlement(e.key, _enum(EntitlementKind, e.kind, f"{path}[{i}].kind"),
                             e.limit, e.unlimited, e.enabled, e.display_name)
                 for i, e in enumerate(items))


def plan(message) -> PlanInput:
    return PlanInput(
        code=message.code, name=message.name, description=message.description,
        price=money_from_proto(message.price, "plan.price") if message.HasField("price")
        else None,
        period=period(message.billing_period, "plan.billing_period", required=False),
        trial_days=message.trial_days,
        entitlements=entitlements(message.entitlements, "plan.entitlements"),
        default_plan=message.default_plan,
        active=message.active if message.HasField("active") else None,
        display_order=message.display_order)


def timing(value: int) -> CancellationTiming:
    return _enum(CancellationTiming, value, "timing")


def invoice_fields(message) -> InvoiceFields:
    return InvoiceFields(
        date_from_proto(message.due_date, "invoice.due_date"),
        message.payment_terms_days if message.HasField("payment_terms_days") else None,
        message.notes)


def invoice_filter(request) -> InvoiceFilter:
    return InvoiceFilter(tuple(sorted(set(request.states))), request.customer_id,
                         request.project_id,
                         date_from_proto(request.issue_date_from, "issue_date_from"),
                         date_from_proto(request.issue_date_to, "issue_date_to"))


def settings(message) -> SettingsFields:
    percent = None
    if message.HasField("default_tax_rate_percent") and message.default_tax_rate_percent.value:
        percent = decimal_from_proto(message.default_tax_rate_percent,
                                     "invoice_settings.default_tax_rate_percent")
    return SettingsFields(message.payment_instructions, message.default_payment_terms_days,
                          message.default_tax_rate_id, message.default_tax_rate_name, percent)


def occur_time(message):
    return message.occur_time.ToDatetime(tzinfo=UTC) if message.HasField("occur_time") else None


def optional_time(message, name: str):
    return getattr(message, name).ToDatetime(tzinfo=UTC) if message.HasField(name) else None
