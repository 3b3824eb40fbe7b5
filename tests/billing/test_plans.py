"""The plan catalog over gRPC on SQLite and PostgreSQL: public reads, operator-only changes,
versions (a price change is a new version; subscriptions keep theirs until moved), one
default plan."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.type import money_pb2
from pivotal.billing.v1 import plan_pb2
from pivotal.billing.v1 import plan_service_pb2 as ps
from pivotal.billing.v1 import subscription_service_pb2 as sub

from tests.billing.helpers import new_organization, reason


def new_plan(code: str, **extra) -> plan_pb2.Plan:
    return plan_pb2.Plan(
        code=code, name=code.title(), price=money_pb2.Money(currency_code="EUR", units=49),
        billing_period=plan_pb2.BILLING_PERIOD_MONTHLY, trial_days=7,
        entitlements=[plan_pb2.Entitlement(key="max_users", kind=plan_pb2.ENTITLEMENT_KIND_LIMIT,
                                           limit=10)], **extra)


def test_operators_change_the_catalog_and_versions_keep_subscriptions(server):
    operator = server.operator()
    code = f"team-{uuid.uuid4().hex[:6]}"
    request_id = str(uuid.uuid4())
    created = server.plans.CreatePlan(ps.CreatePlanRequest(plan=new_plan(code),
                                                           request_id=request_id),
                                      metadata=operator.metadata, timeout=10).plan
    again = server.plans.CreatePlan(ps.CreatePlanRequest(plan=new_plan(code),
                                                         request_id=request_id),
                                    metadata=operator.metadata, timeout=10).plan
    assert again.plan_id == created.plan_id and created.version == 1
    with pytest.raises(grpc.RpcError) as error:
        server.plans.CreatePlan(ps.CreatePlanRequest(plan=new_plan(code)),
                                metadata=operator.metadata, timeout=10)
    assert error.value.code() == grpc.StatusCode.ALREADY_EXISTS

    owner = new_organization(server, plan_code=code)   # a trial on the chosen plan
    subscription = server.subscriptions.GetSubscription(
        sub.GetSubscriptionRequest(), metadata=owner.metadata, timeout=10).subscription
    assert (subscription.plan_code, subscription.plan_version) == (code, 1)

    repriced = server.plans.UpdatePlanPrice(ps.UpdatePlanPriceRequest(
        plan_id=created.plan_id, price=money_pb2.Money(currency_code="EUR", units=59),
        etag=created.etag), metadata=operator.metadata, timeout=10).plan
    assert repriced.version == 2 and repriced.price.units == 59
    old = server.plans.GetPlan(ps.GetPlanRequest(plan_id=created.plan_id, version=1),
                               timeout=10).plan
    assert old.price.units == 49
    kept = server.subscriptions.GetSubscription(
        sub.GetSubscriptionRequest(), metadata=owner.metadata, timeout=10).subscription
    assert (kept.plan_version, kept.price.units) == (1, 49)   # until moved
    moved = server.subscriptions.ChangePlan(sub.ChangePlanRequest(
        plan_id=created.plan_id, etag=kept.etag), metadata=owner.metadata,
        timeout=10).subscription
    assert (moved.plan_version, moved.price.units) == (2, 59)

    with pytest.raises(grpc.RpcError) as error:
        server.plans.UpdatePlanPrice(ps.UpdatePlanPriceRequest(
            plan_id=created.plan_id, price=money_pb2.Money(currency_code="USD", units=59),
            etag=repriced.etag), metadata=operator.metadata, timeout=10)
    assert reason(error.value) == "CURRENCY_MISMATCH"

    # A member of an organization cannot change the catalog.
    with pytest.raises(grpc.RpcError) as error:
        server.plans.CreatePlan(ps.CreatePlanRequest(plan=new_plan(f"x-{code}")),
                                metadata=owner.metadata, timeout=10)
    assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_one_default_plan(server):
    operator = server.operator()
    plans = {p.code: p for p in server.plans.ListPlans(ps.ListPlansRequest(), timeout=10).plans}
    starter = plans["starter"]
    with pytest.raises(grpc.RpcError) as error:
        server.plans.UpdatePlan(ps.UpdatePlanRequest(
            plan=plan_pb2.Plan(plan_id=starter.plan_id, default_plan=False, etag=starter.etag),
            update_mask={"paths": ["default_plan"]}), metadata=operator.metadata, timeout=10)
    assert reason(error.value) == "DEFAULT_PLAN_REQUIRED"
    with pytest.raises(grpc.RpcError) as error:
        server.plans.UpdatePlan(ps.UpdatePlanRequest(
            plan=plan_pb2.Plan(plan_id=starter.plan_id, active=False, etag=starter.etag),
            update_mask={"paths": ["active"]}), metadata=operator.metadata, timeout=10)
    assert reason(error.value) == "DEFAULT_PLAN_REQUIRED"
    professional = plans["professional"]
    made = server.plans.UpdatePlan(ps.UpdatePlanRequest(
        plan=plan_pb2.Plan(plan_id=professional.plan_id, default_plan=True,
                           etag=professional.etag), update_mask={"paths": ["default_plan"]}),
        metadata=operator.metadata, timeout=10).plan
    assert made.default_plan
    listed = {p.code: p for p in server.plans.ListPlans(ps.ListPlansRequest(), timeout=10).plans}
    assert not listed["starter"].default_plan
    assert new_organization_plan(server) == "professional"
    server.plans.UpdatePlan(ps.UpdatePlanRequest(   # back, for the other tests
        plan=plan_pb2.Plan(plan_id=starter.plan_id, default_plan=True),
        update_mask={"paths": ["default_plan"]}), metadata=operator.metadata, timeout=10)


def new_organization_plan(server) -> str:
    user = new_organization(server)
    return server.subscriptions.GetSubscription(
        sub.GetSubscriptionRequest(), metadata=user.metadata, timeout=10).subscription.plan_code
