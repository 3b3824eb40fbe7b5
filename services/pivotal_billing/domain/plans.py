"""The plan catalog: plans with versioned commercial terms (price, period, entitlements).
Pure code."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum

from pivotal_runtime.errors import FailedPrecondition, ViolationCollector
from pivotal_runtime.kit.money import CurrencyError, Money, minor_units, round_to_minor
from pivotal_runtime.kit.resources import Versioned

from pivotal_billing.domain import reasons
from pivotal_billing.domain.periods import BillingPeriod

CODE = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
KEY = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
PLAN_WIDE = ("name", "description", "trial_days", "active", "default_plan", "display_order")


class EntitlementKind(Enum):
    LIMIT = 1
    FLAG = 2


@dataclass(frozen=True)
class Entitlement:
    key: str
    kind: EntitlementKind
    limit: int = 0
    unlimited: bool = False
    enabled: bool = False
    display_name: str = ""


@dataclass(frozen=True)
class PlanTerms:
    """One version of a plan's commercial terms; never changes once created."""

    number: int
    price: Money
    period: BillingPeriod
    entitlements: tuple[Entitlement, ...]
    create_time: datetime

    def entitlement(self, key: str) -> Entitlement | None:
        return next((e for e in self.entitlements if e.key == key), None)


@dataclass
class Plan(Versioned):
    id: str
    code: str
    name: str
    description: str
    trial_days: int
    active: bool
    default_plan: bool
    display_order: int
    terms: PlanTerms  # the current version
    create_time: datetime
    update_time: datetime
    new_terms: list[PlanTerms] = field(default_factory=list)  # added in this unit of work

    @property
    def current_version(self) -> int:
        return self.terms.number

    def add_terms(self, now: datetime, *, price: Money | None = None,
                  period: BillingPeriod | None = None,
                  entitlements: tuple[Entitlement, ...] | None = None) -> None:
        terms = PlanTerms(self.terms.number + 1, price or self.terms.price,
                          period or self.terms.period,
                          self.terms.entitlements if entitlements is None else entitlements,
                          now)
        self.terms = terms
        self.new_terms.append(terms)
        self.touch(now)

    def change(self, values: dict, now: datetime) -> None:
        if self.default_plan and values.get("default_plan") is False:
            raise FailedPrecondition("the default plan stays the default until another plan "
                                     "is made the default", reason=reasons.DEFAULT_PLAN_REQUIRED)
        active = values.get("active", self.active)
        if (values.get("default_plan") or self.default_plan) and not active:
            raise FailedPrecondition("the default plan must be active",
                                     reason=reasons.DEFAULT_PLAN_REQUIRED
                                     if self.default_plan else reasons.PLAN_INACTIVE)
        for name, value in values.items():
            setattr(self, name, value)
        self.touch(now)


def sorted_entitlements(items: tuple[Entitlement, ...]) -> tuple[Entitlement, ...]:
    return tuple(sorted(items, key=lambda e: e.key))


def check_entitlements(v: ViolationCollector, path: str, items: tuple[Entitlement, ...]) -> None:
    seen: set[str] = set()
    for index, item in enumerate(items):
        at = f"{path}[{index}]"
        if not KEY.match(item.key):
            v.add(f"{at}.key", "is 1 to 64 lower-case letters, digits, `_` and `.`, starting "
                  "with a letter", reasons.INVALID_FORMAT)
        elif item.key in seen:
            v.add(f"{at}.key", f"{item.key!r} is listed twice", reasons.INVALID_FIELD)
        seen.add(item.key)
        if item.kind is None:
            v.add(f"{at}.kind", "is required", reasons.REQUIRED)
        elif item.kind is EntitlementKind.FLAG and (item.limit or item.unlimited):
            v.add(f"{at}.limit", "a flag has no limit", reasons.INVALID_FIELD)
        elif item.kind is EntitlementKind.LIMIT and item.enabled:
            v.add(f"{at}.enabled", "a limit is not a flag", reasons.INVALID_FIELD)
        if item.limit < 0:
            v.add(f"{at}.limit", "is not negative", reasons.OUT_OF_RANGE)
        if len(item.display_name) > 100:
            v.add(f"{at}.display_name", "has at most 100 characters", reasons.TOO_LONG)


def check_price(v: ViolationCollector, path: str, price: Money) -> None:
    try:
        places = minor_units(price.currency_code)
    except CurrencyError as error:
        v.add(f"{path}.currency_code", str(error), reasons.INVALID_FORMAT)
        return
    if price.amount < 0:
        v.add(path, "is not negative", reasons.OUT_OF_RANGE)
    elif round_to_minor(price.amount, price.currency_code) != price.amount:
        v.add(path, f"has at most {places} fraction digits", reasons.INVALID_FIELD)


@dataclass(frozen=True)
class PlanInput:
    code: str = ""
    name: str = ""
    description: str = ""
    price: Money | None = None
    period: BillingPeriod | None = None
    trial_days: int = 0
    entitlements: tuple[Entitlement, ...] = ()
    default_plan: bool = False
    active: bool | None = None
    display_order: int = 0


def check_plan_wide(v: ViolationCollector, data: PlanInput, names: tuple[str, ...] | list[str]
                    ) -> None:
    if "name" in names and not 1 <= len(data.name.strip()) <= 100:
        v.add("plan.name", "is 1 to 100 characters", reasons.REQUIRED if not data.name.strip()
              else reasons.TOO_LONG)
    if "description" in names and len(data.description) > 2000:
        v.add("plan.description", "has at most 2000 characters", reasons.TOO_LONG)
    if "trial_days" in names and not 0 <= data.trial_days <= 365:
        v.add("plan.trial_days", "is from 0 to 365", reasons.OUT_OF_RANGE)


def new_plan(plan_id: str, data: PlanInput, now: datetime) -> Plan:
    v = ViolationCollector()
    if not CODE.match(data.code):
        v.add("plan.code", "is 1 to 40 lower-case letters, digits and `-`, starting with a "
              "letter", reasons.INVALID_FORMAT if data.code else reasons.REQUIRED)
    check_plan_wide(v, data, ("name", "description", "trial_days"))
    if data.price is None:
        v.add("plan.price", "is required", reasons.REQUIRED)
    else:
        check_price(v, "plan.price", data.price)
    if data.period is None:
        v.add("plan.billing_period", "is required", reasons.REQUIRED)
    check_entitlements(v, "plan.entitlements", data.entitlements)
    v.raise_if_any()
    active = True if data.active is None else data.active
    if data.default_plan and not active:
        raise FailedPrecondition("the default plan must be active",
                                 reason=reasons.PLAN_INACTIVE)
    terms = PlanTerms(1, data.price, data.period, sorted_entitlements(data.entitlements), now)
    plan = Plan(plan_id, data.code, data.name.strip(), data.description, data.trial_days,
                active, data.default_plan, data.display_order, terms, now, now)
    plan.new_terms.append(terms)
    return plan


def with_terms(plan: Plan, terms: PlanTerms) -> Plan:
    """The plan as it was at `terms` (a version a subscription keeps)."""
    return replace(plan, terms=terms, new_terms=[])
