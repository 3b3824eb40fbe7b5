"""Projects: what a project holds, its checks and its lifecycle. Plain Python."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from pivotal_runtime.errors import FailedPrecondition, InvalidState, PreconditionViolation
from pivotal_runtime.kit.money import round_half_even
from pivotal_runtime.kit.resources import Versioned

from pivotal_project.domain import reasons
from pivotal_project.domain.checks import Checks

UPDATABLE = ("name", "description", "billing_model", "budget", "budget_hours", "start_date",
             "end_date", "manager_user_id")
RATE_PLACES = 4


class ProjectState(str, Enum):
    PLANNED = "PLANNED"
    ACTIVE = "ACTIVE"
    ON_HOLD = "ON_HOLD"
    COMPLETED = "COMPLETED"
    ARCHIVED = "ARCHIVED"

    @property
    def open(self) -> bool:
        return self in (ProjectState.PLANNED, ProjectState.ACTIVE, ProjectState.ON_HOLD)


class BillingModel(str, Enum):
    TIME_AND_MATERIALS = "TIME_AND_MATERIALS"
    FIXED_PRICE = "FIXED_PRICE"
    NON_BILLABLE = "NON_BILLABLE"


class Unit(str, Enum):
    HOUR = "HOUR"
    DAY = "DAY"
    EACH = "EACH"


# action → (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[tuple[ProjectState, ...], ProjectState]] = {
    "activate": ((ProjectState.PLANNED,), ProjectState.ACTIVE),
    "hold": ((ProjectState.ACTIVE,), ProjectState.ON_HOLD),
    "resume": ((ProjectState.ON_HOLD,), ProjectState.ACTIVE),
    "complete": ((ProjectState.ACTIVE, ProjectState.ON_HOLD), ProjectState.COMPLETED),
    "archive": ((ProjectState.COMPLETED, ProjectState.PLANNED), ProjectState.ARCHIVED),
}


@dataclass(frozen=True)
class PinnedRate:
    """A price agreed in the accepted quote (see the contract's PinnedRate)."""

    unit: Unit
    unit_price: Decimal
    role: str = ""
    quote_line_item_id: str = ""
    rate_card_item_id: str = ""
    rate_card_version: int = 0
    hours_per_unit: Decimal | None = None
    hourly_rate: Decimal | None = None
    quantity: Decimal | None = None
    net_amount: Decimal | None = None
    description: str = ""
    tax_rate_id: str = ""
    tax_rate_name: str = ""
    tax_rate_percent: Decimal | None = None

    @property
    def prices_time(self) -> bool:
        return self.unit is not Unit.EACH

    @property
    def hours(self) -> Decimal:
        """The line's hours (quantity × hours per unit); 0 for a fixed price."""
        if not self.prices_time or self.quantity is None:
            return Decimal(0)
        return self.quantity * (self.hours_per_unit or Decimal(1))

    def completed(self) -> PinnedRate:
        """With the defaults of a rate given by hand: hours per unit (1 an hour, 8 a day) and
        the hourly rate (net amount ÷ hours when both are known, else the unit price ÷ hours
        per unit), half-even to 4 places."""
        if not self.prices_time:
            return replace(self, hours_per_unit=None, hourly_rate=None)
        per_unit = self.hours_per_unit or (Decimal(1) if self.unit is Unit.HOUR else Decimal(8))
        rate = self.hourly_rate
        if rate is None:
            hours = (self.quantity or Decimal(0)) * per_unit
            rate = (self.net_amount / hours if self.net_amount is not None and hours
                    else self.unit_price / per_unit)
        return replace(self, hours_per_unit=per_unit,
                       hourly_rate=round_half_even(rate, RATE_PLACES))


@dataclass(frozen=True)
class ProjectFields:
    """What a client sets on a project."""

    name: str = ""
    description: str = ""
    customer_id: str = ""
    currency_code: str = ""
    billing_model: BillingModel | None = None
    budget: Decimal | None = None
    budget_hours: Decimal | None = None
    start_date: date | None = None
    end_date: date | None = None
    manager_user_id: str = ""
    pinned_rates: tuple[PinnedRate, ...] = ()

    def normalized(self) -> ProjectFields:
        model = self.billing_model or (BillingModel.TIME_AND_MATERIALS if self.customer_id
                                       else BillingModel.NON_BILLABLE)
        return replace(self, name=self.name.strip(), currency_code=self.currency_code.strip(),
                       billing_model=model,
                       pinned_rates=tuple(rate.completed() for rate in self.pinned_rates))

    def rate_of_line(self, quote_line_item_id: str) -> PinnedRate | None:
        return next((rate for rate in self.pinned_rates
                     if rate.quote_line_item_id == quote_line_item_id), None)


def check_project(fields: ProjectFields, at: str = "project") -> None:
    checks = Checks()
    checks.text(f"{at}.name", fields.name, 200, required=True)
    checks.text(f"{at}.description", fields.description, 4000)
    checks.currency(f"{at}.currency_code", fields.currency_code)
    if fields.billing_model is not BillingModel.NON_BILLABLE and not fields.customer_id:
        checks.add(f"{at}.billing_model", "a project without a customer is non-billable",
                   reasons.INVALID_FIELD)
    checks.not_negative(f"{at}.budget", fields.budget)
    checks.hours(f"{at}.budget_hours", fields.budget_hours)
    if fields.start_date and fields.end_date and fields.end_date < fields.start_date:
        checks.add(f"{at}.end_date", "is on or after start_date", reasons.OUT_OF_RANGE)
    for index, rate in enumerate(fields.pinned_rates):
        path = f"{at}.pinned_rates[{index}]"
        checks.not_negative(f"{path}.unit_price", rate.unit_price)
        checks.text(f"{path}.role", rate.role, 100)
        if rate.hours_per_unit is not None and rate.hours_per_unit <= 0:
            checks.add(f"{path}.hours_per_unit", "is positive", reasons.OUT_OF_RANGE)
    checks.raise_if_any()


@dataclass(frozen=True)
class Transition:
    from_state: ProjectState
    to_state: ProjectState
    actor_id: str
    reason: str
    time: datetime


@dataclass
class Project(Versioned):
    """The aggregate root. `version` (the etag) follows the project's own fields and state;
    `revision` grows with every change to the project or its tasks, milestones and members,
    and is the `version` its replicating events carry (docs/project.md)."""

    id: str
    organization_id: str
    fields: ProjectFields
    create_time: datetime
    update_time: datetime
    creator_id: str = ""
    state: ProjectState = ProjectState.PLANNED
    source_quote_id: str = ""
    source_quote_number: str = ""
    transitions: list[Transition] = field(default_factory=list)
    revision: int = 1

    @property
    def resource(self) -> str:
        return f"projects/{self.id}"

    def check_open(self) -> None:
        """Tasks, milestones, members and the project itself change only while open."""
        if not self.state.open:
            raise FailedPrecondition(
                f"{self.resource} is {self.state.value} and can no longer change",
                [PreconditionViolation("STATE", self.resource,
                                       f"the project is PROJECT_STATE_{self.state.value}")],
                reason=reasons.PROJECT_CLOSED)

    def change(self, fields: ProjectFields, names: list[str], now: datetime) -> list[str]:
        self.check_open()
        changed = [name for name in names
                   if getattr(fields, name) != getattr(self.fields, name)]
        if changed:
            self.fields = fields
            self.touch(now)
        return changed

    def move(self, action: str, actor_id: str, reason: str, now: datetime) -> Transition:
        sources, target = TRANSITIONS[action]
        if self.state not in sources:
            raise InvalidState(self.resource, f"PROJECT_STATE_{self.state.value}", action)
        transition = Transition(self.state, target, actor_id, reason, now)
        self.state = target
        self.transitions.append(transition)
        self.touch(now)
        return transition

    def touch(self, now: datetime) -> None:
        super().touch(now)
        self.revision += 1
