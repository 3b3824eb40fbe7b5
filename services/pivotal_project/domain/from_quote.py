"""What an accepted quote becomes: the project's fields, one task per hour or day line and
one milestone per fixed-price line. Plain Python."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pivotal_project.domain.projects import BillingModel, PinnedRate, ProjectFields, Unit
from pivotal_project.domain.tasks import MilestoneFields, TaskFields


@dataclass(frozen=True)
class AcceptedLine:
    line_item_id: str
    description: str
    quantity: Decimal
    unit: Unit
    unit_price: Decimal
    net_amount: Decimal
    role: str = ""
    rate_card_item_id: str = ""
    rate_card_version: int = 0
    hours_per_unit: Decimal | None = None
    hourly_rate: Decimal | None = None
    tax_rate_id: str = ""
    tax_rate_name: str = ""
    tax_rate_percent: Decimal | None = None

    def pinned(self) -> PinnedRate:
        return PinnedRate(
            unit=self.unit, unit_price=self.unit_price, role=self.role,
            quote_line_item_id=self.line_item_id, rate_card_item_id=self.rate_card_item_id,
            rate_card_version=self.rate_card_version, hours_per_unit=self.hours_per_unit,
            hourly_rate=self.hourly_rate, quantity=self.quantity, net_amount=self.net_amount,
            description=self.description, tax_rate_id=self.tax_rate_id,
            tax_rate_name=self.tax_rate_name, tax_rate_percent=self.tax_rate_percent)


@dataclass(frozen=True)
class AcceptedQuote:
    organization_id: str
    quote_id: str
    quote_number: str
    customer_id: str
    currency_code: str
    title: str
    net_total: Decimal
    lines: tuple[AcceptedLine, ...]
    actor_id: str = ""


@dataclass(frozen=True)
class QuotePlan:
    fields: ProjectFields
    tasks: tuple[TaskFields, ...]
    milestones: tuple[MilestoneFields, ...]


def plan_from_quote(quote: AcceptedQuote) -> QuotePlan:
    rates = tuple(line.pinned().completed() for line in quote.lines)
    timed = [rate for rate in rates if rate.prices_time]
    model = BillingModel.FIXED_PRICE if rates and not timed else BillingModel.TIME_AND_MATERIALS
    fields = ProjectFields(
        name=quote.title[:200] or quote.quote_number, customer_id=quote.customer_id,
        currency_code=quote.currency_code, billing_model=model, budget=quote.net_total,
        budget_hours=sum((rate.hours for rate in timed), Decimal(0)), pinned_rates=rates)
    tasks = tuple(TaskFields(title=(rate.description or rate.role or "Work")[:200],
                             estimate_hours=rate.hours,
                             quote_line_item_id=rate.quote_line_item_id).normalized()
                  for rate in timed)
    milestones = tuple(MilestoneFields(name=(rate.description or "Milestone")[:200],
                                       amount=rate.net_amount,
                                       quote_line_item_id=rate.quote_line_item_id)
                       for rate in rates if not rate.prices_time)
    return QuotePlan(fields.normalized(), tasks, milestones)
