"""Protobuf requests → project's domain values. A malformed value (money, decimal, date) is
INVALID_ARGUMENT naming the field (the kit's converters)."""

from __future__ import annotations

from decimal import Decimal

from pivotal.common.v1 import pricing_pb2
from pivotal.project.v1 import milestone_pb2, project_pb2, task_pb2
from pivotal_runtime.errors import FieldViolation, InvalidArgument
from pivotal_runtime.kit.field_reasons import UNKNOWN_ENUM_VALUE
from pivotal_runtime.kit.proto_types import date_from_proto, decimal_from_proto, money_from_proto

from pivotal_project.domain import reasons
from pivotal_project.domain.members import Allocation, MemberFields
from pivotal_project.domain.projects import (
    BillingModel,
    PinnedRate,
    ProjectFields,
    ProjectState,
    Unit,
)
from pivotal_project.domain.tasks import MilestoneFields, MilestoneState, TaskFields, TaskState


def _decimal(message, name: str, path: str) -> Decimal | None:
    return decimal_from_proto(getattr(message, name), path) if message.HasField(name) else None


def _money(message, name: str, path: str, currency: str) -> Decimal | None:
    """An amount that must be in the project's currency (`currency`, when known)."""
    if not message.HasField(name):
        return None
    money = money_from_proto(getattr(message, name), path)
    if currency and money.currency_code != currency:
        raise InvalidArgument([FieldViolation(
            f"{path}.currency_code", f"must be the project's currency {currency}")],
            reason=reasons.CURRENCY_MISMATCH)
    return money.amount


def _enum(enum_type, value: int, prefix: str, target, path: str):
    if value == 0:
        return None
    name = enum_type.Name(value) if value in enum_type.values() else ""
    if not name:
        raise InvalidArgument([FieldViolation(path, f"{value} is not a known value",
                                              UNKNOWN_ENUM_VALUE)])
    return target(name.removeprefix(prefix))


def pinned_rate(rate: project_pb2.PinnedRate, path: str, currency: str) -> PinnedRate:
    unit = _enum(pricing_pb2.Unit, rate.unit, "UNIT_", Unit, f"{path}.unit")
    if unit is None:
        raise InvalidArgument([FieldViolation(f"{path}.unit", "is required", reasons.REQUIRED)])
    return PinnedRate(
        unit=unit, unit_price=_money(rate, "unit_price", f"{path}.unit_price", currency)
        or Decimal(0), role=rate.role.strip(), quote_line_item_id=rate.quote_line_item_id,
        rate_card_item_id=rate.rate_card_item_id, rate_card_version=rate.rate_card_version,
        hours_per_unit=_decimal(rate, "hours_per_unit", f"{path}.hours_per_unit"),
        quantity=_decimal(rate, "quantity", f"{path}.quantity"),
        net_amount=_money(rate, "net_amount", f"{path}.net_amount", currency),
        description=rate.description, tax_rate_id=rate.tax_rate_id,
        tax_rate_name=rate.tax_rate_name,
        tax_rate_percent=_decimal(rate, "tax_rate_percent", f"{path}.tax_rate_percent"))


def project(p: project_pb2.Project, at: str = "project") -> ProjectFields:
    currency = p.currency_code.strip()
    return ProjectFields(
        name=p.name, description=p.description, customer_id=p.customer_id.strip(),
        currency_code=currency,
        billing_model=_enum(project_pb2.ProjectBillingModel, p.billing_model,
                            "PROJECT_BILLING_MODEL_", BillingModel, f"{at}.billing_model"),
        budget=_money(p, "budget", f"{at}.budget", currency),
        budget_hours=_decimal(p, "budget_hours", f"{at}.budget_hours"),
        start_date=date_from_proto(p.start_date, f"{at}.start_date"),
        end_date=date_from_proto(p.end_date, f"{at}.end_date"),
        manager_user_id=p.manager_user_id.strip(),
        pinned_rates=tuple(pinned_rate(r, f"{at}.pinned_rates[{i}]", currency)
                           for i, r in enumerate(p.pinned_rates)))


def member(m, currency: str, at: str = "member") -> MemberFields:
    allocation = None
    if m.HasField("allocation"):
        a = m.allocation
        start = date_from_proto(a.start_date, f"{at}.allocation.start_date")
        if start is None:
            raise InvalidArgument([FieldViolation(f"{at}.allocation.start_date", "is required",
                                                  reasons.REQUIRED)])
        allocation = Allocation(_decimal(a, "percent", f"{at}.allocation.percent") or Decimal(0),
                                start, date_from_proto(a.end_date, f"{at}.allocation.end_date"))
    return MemberFields(user_id=m.user_id, project_role=m.project_role,
                        hourly_rate=_money(m, "hourly_rate", f"{at}.hourly_rate", currency),
                        allocation=allocation, quote_line_item_id=m.quote_line_item_id.strip())


def task(t: task_pb2.Task, at: str = "task") -> TaskFields:
    return TaskFields(
        title=t.title, description=t.description,
        state=_enum(task_pb2.TaskState, t.state, "TASK_STATE_", TaskState, f"{at}.state"),
        estimate_hours=_decimal(t, "estimate_hours", f"{at}.estimate_hours"),
        quote_line_item_id=t.quote_line_item_id.strip(), milestone_id=t.milestone_id.strip(),
        due_date=date_from_proto(t.due_date, f"{at}.due_date"))


def milestone(m: milestone_pb2.Milestone, currency: str, at: str = "milestone"
              ) -> MilestoneFields:
    return MilestoneFields(name=m.name, description=m.description,
                           due_date=date_from_proto(m.due_date, f"{at}.due_date"),
                           amount=_money(m, "amount", f"{at}.amount", currency),
                           quote_line_item_id=m.quote_line_item_id.strip())


def states(values, enum_type, prefix: str, target, path: str) -> list:
    return [s for s in (_enum(enum_type, v, prefix, target, path) for v in values) if s]


def project_states(values) -> list:
    return states(values, project_pb2.ProjectState, "PROJECT_STATE_", ProjectState, "states")


def task_states(values) -> list:
    return states(values, task_pb2.TaskState, "TASK_STATE_", TaskState, "states")


def milestone_states(values) -> list:
    return states(values, milestone_pb2.MilestoneState, "MILESTONE_STATE_", MilestoneState,
                  "states")
