"""Subscriptions and entitlements over gRPC on SQLite and PostgreSQL: the trial from
OrganizationCreated (once), activation, cancellation, the period clock moved by a fake
clock, EntitlementsChanged, CheckEntitlement for workloads only."""

from __future__ import annotations

import uuid
from datetime import timedelta

import grpc
import pytest
from pivotal.billing.v1 import entitlement_pb2, plan_pb2, subscription_pb2
from pivotal.billing.v1 import entitlement_service_pb2 as ent
from pivotal.billing.v1 import subscription_service_pb2 as sub

from tests.billing.helpers import new_organization, organization_created, reason

TRIALING = subscription_pb2.SUBSCRIPTION_STATE_TRIALING
ACTIVE = subscription_pb2.SUBSCRIPTION_STATE_ACTIVE
PAST_DUE = subscription_pb2.SUBSCRIPTION_STATE_PAST_DUE
CANCELED = subscription_pb2.SUBSCRIPTION_STATE_CANCELED


def get(server, user):
    return server.subscriptions.GetSubscription(sub.GetSubscriptionRequest(),
                                                metadata=user.metadata, timeout=10).subscription


def limits(entitlements) -> dict:
    return {e.key: (e.limit, e.unlimited, e.enabled) for e in entitlements}


def test_organization_created_starts_one_trial_on_the_default_plan(server):
    user = server.user("owner")
    org = user.organization_id
    event = organization_created(org)
    event_id = server.deliver(event, org)
    server.deliver(event, org, event_id)  # redelivered: the inbox answers
    server.deliver(event, org)            # published twice (another event id): still one
    subscription = get(server, user)
    assert subscription.plan_code == "starter" and subscription.state == TRIALING
    assert subscription.organization_id == org
    start, end = subscription.current_period_start, subscription.current_period_end
    assert (subscription.trial_end.year, subscription.trial_end.month,
            subscription.trial_end.day) == (end.year, end.month, end.day)
    import datetime as dt
    assert dt.date(end.year, end.month, end.day) - dt.date(start.year, start.month,
                                                           start.day) == timedelta(days=14)
    activated = server.outbox_events("pivotal.billing.v1.SubscriptionActivated", org)
    assert len(activated) == 1 and activated[0].state == TRIALING
    changed = server.outbox_events("pivotal.billing.v1.EntitlementsChanged", org)
    assert len(changed) == 1 and changed[0].version == 1
    assert limits(changed[0].entitlements)["max_users"] == (3, False, False)

    got = server.entitlements.GetEntitlements(ent.GetEntitlementsRequest(),
                                              metadata=user.metadata, timeout=10).entitlements
    assert got.plan_code == "starter" and got.subscription_state == TRIALING
    assert limits(got.entitlements)["max_projects"] == (5, False, False)


def test_the_trial_is_on_the_plan_chosen_at_registration(server):
    user = new_organization(server, plan_code="professional")
    subscription = get(server, user)
    assert subscription.plan_code == "professional" and subscription.state == TRIALING
    unknown = new_organization(server, plan_code="no-such-plan")
    assert get(server, unknown).plan_code == "starter"


def test_check_entitlement_answers_workloads_only(server):
    user = new_organization(server)
    identity = server.workload("identity")
    request = ent.CheckEntitlementRequest(organization_id=user.organization_id,
                                          key="max_users", requested=1, current_usage=2)
    allowed = server.entitlements.CheckEntitlement(request, metadata=identity.metadata,
                                                   timeout=10)
    assert allowed.allowed and allowed.limit == 3 and allowed.remaining == 1
    assert allowed.plan_code == "starter" and allowed.subscription_state == TRIALING
    request.current_usage = 3
    denied = server.entitlements.CheckEntitlement(request, metadata=identity.metadata,
                                                  timeout=10)
    assert not denied.allowed
    assert denied.denial_reason == entitlement_pb2.ENTITLEMENT_DENIAL_REASON_LIMIT_EXCEEDED
    flag = server.entitlements.CheckEntitlement(ent.CheckEntitlementRequest(
        organization_id=user.organization_id, key="feature.pdf_branding"),
        metadata=identity.metadata, timeout=10)
    assert not flag.allowed and flag.kind == plan_pb2.ENTITLEMENT_KIND_FLAG
    missing = server.entitlements.CheckEntitlement(ent.CheckEntitlementRequest(
        organization_id=user.organization_id, key="max_widgets", requested=1),
        metadata=identity.metadata, timeout=10)
    assert missing.denial_reason == entitlement_pb2.ENTITLEMENT_DENIAL_REASON_NOT_IN_PLAN
    # An organization billing has not heard of yet is checked against the default plan.
    early = server.entitlements.CheckEntitlement(ent.CheckEntitlementRequest(
        organization_id=str(uuid.uuid4()), key="max_users", requested=1, current_usage=0),
        metadata=identity.metadata, timeout=10)
    assert early.allowed and early.plan_code == "starter"
    # The remembered usage shows in GetEntitlements.
    got = server.entitlements.GetEntitlements(ent.GetEntitlementsRequest(),
                                              metadata=user.metadata, timeout=10).entitlements
    assert {u.key: u.used for u in got.usage} == {"max_users": 3}

    with pytest.raises(grpc.RpcError) as error:  # an owner's own token: not a workload
        server.entitlements.CheckEntitlement(request, metadata=user.metadata, timeout=10)
    assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_trial_end_renewal_and_cancellation_follow_the_clock(server):
    trial = new_organization(server)
    paying = new_organization(server)
    subscription = get(server, paying)
    activated = server.subscriptions.ActivateSubscription(sub.ActivateSubscriptionRequest(
        etag=subscription.etag), metadata=paying.metadata, timeout=10).subscription
    assert activated.state == ACTIVE
    first_end = activated.current_period_end

    try:
        server.clock.shift = timedelta(days=15)  # past the 14-day trial: no request made
        server.run_jobs()
        assert get(server, trial).state == PAST_DUE
        assert get(server, paying).state == ACTIVE
        states = server.outbox_events("pivotal.billing.v1.SubscriptionStateChanged",
                                      trial.organization_id)
        assert [(s.from_state, s.to_state) for s in states][-1] == (TRIALING, PAST_DUE)

        server.clock.shift = timedelta(days=32)  # past the paid month: renewed
        server.run_jobs()
        renewed = get(server, paying)
        assert renewed.state == ACTIVE
        assert renewed.current_period_start == first_end
        assert renewed.current_period_end != first_end

        canceled = server.subscriptions.CancelSubscription(sub.CancelSubscriptionRequest(
            timing=subscription_pb2.CANCELLATION_TIMING_AT_PERIOD_END, reason="budget",
            etag=renewed.etag), metadata=paying.metadata, timeout=10).subscription
        assert canceled.state == ACTIVE and canceled.cancel_at_period_end
        server.clock.shift = timedelta(days=70)
        server.run_jobs()
        ended = get(server, paying)
        assert ended.state == CANCELED and not ended.cancel_at_period_end
        changed = server.outbox_events("pivotal.billing.v1.EntitlementsChanged",
                                       paying.organization_id)
        assert changed[-1].entitlements == [] and changed[-1].subscription_state == CANCELED
        with pytest.raises(grpc.RpcError) as error:
            server.subscriptions.CancelSubscription(sub.CancelSubscriptionRequest(
                timing=subscription_pb2.CANCELLATION_TIMING_IMMEDIATELY, etag=ended.etag),
                metadata=paying.metadata, timeout=10)
        assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert reason(error.value) == "INVALID_STATE"
        again = server.subscriptions.ActivateSubscription(sub.ActivateSubscriptionRequest(
            etag=ended.etag), metadata=paying.metadata, timeout=10).subscription
        assert again.state == ACTIVE   # re-subscribing after the cancellation
        changed = server.outbox_events("pivotal.billing.v1.EntitlementsChanged",
                                       paying.organization_id)
        assert limits(changed[-1].entitlements)["max_users"] == (3, False, False)
        assert changed[-1].version == changed[-2].version + 1
    finally:
        server.clock.shift = timedelta()


def test_no_subscription_yet(server):
    user = server.user("owner")
    with pytest.raises(grpc.RpcError) as error:
        get(server, user)
    assert error.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as error:
        server.subscriptions.ActivateSubscription(sub.ActivateSubscriptionRequest(etag="x"),
                                                  metadata=user.metadata, timeout=10)
    assert reason(error.value) == "SUBSCRIPTION_NOT_STARTED"


def plan_id(server, code: str) -> str:
    from pivotal.billing.v1 import plan_service_pb2 as plan_service
    plans = server.plans.ListPlans(plan_service.ListPlansRequest(), timeout=10).plans
    return next(p.plan_id for p in plans if p.code == code)


def test_the_preview_equals_what_the_change_charges(server):
    from tests.billing.helpers import amount
    user = new_organization(server)
    subscription = get(server, user)
    active = server.subscriptions.ActivateSubscription(sub.ActivateSubscriptionRequest(
        etag=subscription.etag), metadata=user.metadata, timeout=10).subscription
    professional = plan_id(server, "professional")
    try:
        server.clock.shift = timedelta(days=10)
        preview = server.subscriptions.PreviewPlanChange(sub.PreviewPlanChangeRequest(
            plan_id=professional), metadata=user.metadata, timeout=10)
        p = preview.proration
        assert p.unused_days == p.current_period_days - 10 and p.charged_days == p.unused_days
        assert amount(p.credit_amount) == (amount(active.price) * p.unused_days
                                           / p.current_period_days).quantize(amount(p.net_amount))
        stale = preview.proration.net_amount
        stale.units += 1
        with pytest.raises(grpc.RpcError) as error:
            server.subscriptions.ChangePlan(sub.ChangePlanRequest(
                plan_id=professional, etag=preview.etag, expected_net_amount=stale),
                metadata=user.metadata, timeout=10)
        assert error.value.code() == grpc.StatusCode.ABORTED
        assert reason(error.value) == "PRORATION_CHANGED"
        preview = server.subscriptions.PreviewPlanChange(sub.PreviewPlanChangeRequest(
            plan_id=professional), metadata=user.metadata, timeout=10)
        changed = server.subscriptions.ChangePlan(sub.ChangePlanRequest(
            plan_id=professional, etag=preview.etag,
            expected_net_amount=preview.proration.net_amount), metadata=user.metadata,
            timeout=10)
        assert changed.proration == preview.proration
        assert changed.subscription.plan_code == "professional"
        event = server.outbox_events("pivotal.billing.v1.SubscriptionChanged",
                                     user.organization_id)[-1]
        assert event.proration == preview.proration and event.to_plan_code == "professional"
        entitlements = server.outbox_events("pivotal.billing.v1.EntitlementsChanged",
                                            user.organization_id)[-1]
        assert limits(entitlements.entitlements)["max_users"] == (25, False, False)
        with pytest.raises(grpc.RpcError) as error:
            server.subscriptions.PreviewPlanChange(sub.PreviewPlanChangeRequest(
                plan_id=professional), metadata=user.metadata, timeout=10)
        assert reason(error.value) == "PLAN_UNCHANGED"
    finally:
        server.clock.shift = timedelta()


def test_a_plan_below_the_known_usage_is_refused(server):
    from tests.billing.helpers import details
    user = new_organization(server, plan_code="professional")
    server.entitlements.CheckEntitlement(ent.CheckEntitlementRequest(
        organization_id=user.organization_id, key="max_users", requested=1, current_usage=10),
        metadata=server.workload("identity").metadata, timeout=10)
    subscription = get(server, user)
    with pytest.raises(grpc.RpcError) as error:
        server.subscriptions.ChangePlan(sub.ChangePlanRequest(
            plan_id=plan_id(server, "starter"), etag=subscription.etag),
            metadata=user.metadata, timeout=10)
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    found = details(error.value)
    assert found["ErrorInfo"].reason == "LIMIT_BELOW_USAGE"
    assert found["ErrorInfo"].metadata["limit"] == "max_users"
    assert [v.subject for v in found["PreconditionFailure"].violations] == ["max_users"]
    assert get(server, user).plan_code == "professional"   # nothing changed
