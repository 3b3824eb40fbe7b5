"""The plan catalog: public reads, operator changes (a price or entitlement change is a new
version)."""

from __future__ import annotations

from pivotal_runtime.errors import (
    AlreadyExists,
    FieldViolation,
    InvalidArgument,
    ViolationCollector,
)
from pivotal_runtime.kit.caller import Caller
from pivotal_runtime.kit.idempotency import RequestKey, fingerprint
from pivotal_runtime.kit.masks import UpdateMask
from pivotal_runtime.kit.money import Money
from pivotal_runtime.kit.paging import page_request

from pivotal_billing.application.common import Deps, found
from pivotal_billing.domain import reasons
from pivotal_billing.domain.periods import BillingPeriod
from pivotal_billing.domain.plans import (
    PLAN_WIDE,
    Entitlement,
    Plan,
    PlanInput,
    check_entitlements,
    check_plan_wide,
    check_price,
    new_plan,
    sorted_entitlements,
)


class PlansService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def list(self, caller: Caller | None, page_size: int, page_token: str, currency_code: str,
             show_inactive: bool) -> tuple[list[Plan], str, int]:
        show_inactive = show_inactive and caller is not None and caller.has_permission(
            "plans:write")
        page = page_request(page_size, page_token, "plans", currency_code, show_inactive)
        with self._deps.uow(read_only=True) as uow:
            plans, total = uow.plans.list(show_inactive=show_inactive,
                                          currency_code=currency_code, after=page.after,
                                          limit=page.size + 1)
        items, token = page.slice(plans, key=lambda p: (p.display_order, p.code))
        return items, token, total

    def get(self, plan_id: str, version: int = 0) -> Plan:
        with self._deps.uow(read_only=True) as uow:
            return found(uow.plans.get(plan_id, version) if plan_id else None, "plan", plan_id)

    def create(self, caller: Caller, data: PlanInput, request_id: str) -> Plan:
        key = RequestKey("plan", request_id, fingerprint(repr(data)))
        now = self._deps.clock()
        plan = new_plan(self._deps.new_id(), data, now)
        with self._deps.uow() as uow:
            earlier = uow.requests.reserve(key, now)
            if earlier:
                return found(uow.plans.get(earlier), "plan", earlier)
            if uow.plans.get_by_code(plan.code) is not None:
                raise AlreadyExists(f"a plan with code {plan.code!r} exists",
                                    reason=reasons.DUPLICATE_CODE)
            if plan.default_plan:
                uow.plans.clear_default(plan.id, now)
            uow.plans.add(plan)
            uow.requests.complete(key, plan.id)
            uow.commit()
        return plan

    def update(self, caller: Caller, plan_id: str, data: PlanInput, mask: UpdateMask,
               etag: str) -> Plan:
        names = mask.fields(PLAN_WIDE)
        v = ViolationCollector()
        check_plan_wide(v, data, names)
        v.raise_if_any()
        now = self._deps.clock()
        with self._deps.uow() as uow:
            plan = found(uow.plans.get(plan_id) if plan_id else None, "plan", plan_id, etag)
            values = {name: getattr(data, name) for name in names}
            if "active" in values and values["active"] is None:
                values["active"] = True
            plan.change(values, now)
            if values.get("default_plan"):
                uow.plans.clear_default(plan.id, now)
            uow.plans.update(plan)
            uow.commit()
        return plan

    def update_price(self, caller: Caller, plan_id: str, price: Money | None,
                     period: BillingPeriod | None, etag: str) -> Plan:
        v = ViolationCollector()
        if price is None:
            v.add("price", "is required", reasons.REQUIRED)
        else:
            check_price(v, "price", price)
        v.raise_if_any()
        now = self._deps.clock()
        with self._deps.uow() as uow:
            plan = found(uow.plans.get(plan_id) if plan_id else None, "plan", plan_id, etag)
            if price.currency_code != plan.terms.price.currency_code:
                raise InvalidArgument([FieldViolation(
                    "price.currency_code", f"is the plan's {plan.terms.price.currency_code}",
                    reasons.CURRENCY_MISMATCH)], reason=reasons.CURRENCY_MISMATCH)
            plan.add_terms(now, price=price, period=period)
            uow.plans.update(plan)
            uow.commit()
        return plan

    def update_entitlements(self, caller: Caller, plan_id: str,
                            entitlements: tuple[Entitlement, ...], etag: str) -> Plan:
        v = ViolationCollector()
        check_entitlements(v, "entitlements", entitlements)
        v.raise_if_any()
        now = self._deps.clock()
        with self._deps.uow() as uow:
            plan = found(uow.plans.get(plan_id) if plan_id else None, "plan", plan_id, etag)
            plan.add_terms(now, entitlements=sorted_entitlements(entitlements))
            uow.plans.update(plan)
            uow.commit()
        return plan
