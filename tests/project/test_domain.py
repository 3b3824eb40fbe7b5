"""Project's rules without I/O: the allocation rule (checked against brute force), what an
accepted quote becomes, hand-given pinned rates, the lifecycle, percent complete."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pivotal_project.domain.from_quote import AcceptedLine, AcceptedQuote, plan_from_quote
from pivotal_project.domain.members import Allocation, OtherAllocation, check_allocation
from pivotal_project.domain.metrics import percent_complete
from pivotal_project.domain.projects import (
    BillingModel,
    PinnedRate,
    Project,
    ProjectFields,
    ProjectState,
    Unit,
)
from pivotal_project.domain.tasks import Task, TaskFields, TaskState
from pivotal_runtime.errors import FailedPrecondition, InvalidState

pytestmark = pytest.mark.unit
BASE = date(2026, 1, 1)
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@st.composite
def allocations(draw) -> Allocation:
    start = BASE + timedelta(days=draw(st.integers(0, 40)))
    length = draw(st.one_of(st.none(), st.integers(0, 40)))
    percent = Decimal(draw(st.integers(1, 100)))
    return Allocation(percent, start, None if length is None else start + timedelta(length))


@settings(max_examples=300, deadline=None)
@given(requested=allocations(), others=st.lists(allocations(), max_size=5))
def test_the_allocation_rule_refuses_exactly_when_some_day_goes_over_100(requested, others):
    existing = [OtherAllocation(f"p{i}", f"m{i}", f"Project {i}", a)
                for i, a in enumerate(others)]
    horizon = [BASE + timedelta(days=d) for d in range(120)]
    over = [d for d in horizon if requested.covers(d) and requested.percent + sum(
        (a.percent for a in others if a.covers(d)), Decimal(0)) > 100]
    if not over:
        check_allocation("u", requested, existing)
        return
    with pytest.raises(FailedPrecondition) as refused:
        check_allocation("u", requested, existing)
    error = refused.value
    assert error.reason == "OVER_ALLOCATION"
    assert error.metadata["peak_date"] == over[0].isoformat()
    named = {v.subject for v in error.violations}
    assert named == {f"projects/p{i}/members/m{i}" for i, a in enumerate(others)
                     if any(a.covers(d) for d in over)}


def line(line_id: str, unit: Unit, quantity: str, net: str, rate: str | None = None,
         per_unit: str | None = None) -> AcceptedLine:
    return AcceptedLine(line_id, f"Line {line_id}", Decimal(quantity), unit, Decimal(100),
                        Decimal(net), role=f"Role {line_id}",
                        hours_per_unit=Decimal(per_unit) if per_unit else None,
                        hourly_rate=Decimal(rate) if rate else None)


def test_an_accepted_quote_plans_tasks_milestones_budget_and_hours():
    quote = AcceptedQuote("org", "q", "Q-1", "c", "EUR", "Phase 1", Decimal("9503.60"), (
        line("a", Unit.DAY, "5", "6000", "160", "7.5"), line("b", Unit.HOUR, "40", "3266.10",
                                                              "81.6525", "1"),
        line("c", Unit.EACH, "1", "237.50")))
    plan = plan_from_quote(quote)
    assert plan.fields.budget == Decimal("9503.60")
    assert plan.fields.budget_hours == Decimal("77.5")
    assert plan.fields.billing_model is BillingModel.TIME_AND_MATERIALS
    assert [(t.quote_line_item_id, t.estimate_hours) for t in plan.tasks] == [
        ("a", Decimal("37.5")), ("b", Decimal(40))]
    assert [(m.quote_line_item_id, m.amount) for m in plan.milestones] == [
        ("c", Decimal("237.50"))]
    fixed = plan_from_quote(AcceptedQuote("org", "q", "Q-1", "c", "EUR", "T", Decimal(1), (
        line("c", Unit.EACH, "1", "1"),)))
    assert fixed.fields.billing_model is BillingModel.FIXED_PRICE


def test_a_rate_given_by_hand_gets_its_hourly_rate_half_even_to_4_places():
    by_net = PinnedRate(Unit.DAY, Decimal(1000), quantity=Decimal(3),
                        net_amount=Decimal("2000.00")).completed()
    assert by_net.hours_per_unit == 8 and by_net.hourly_rate == Decimal("83.3333")
    by_price = PinnedRate(Unit.DAY, Decimal("1000.01"), hours_per_unit=Decimal("7.5")).completed()
    assert by_price.hourly_rate == Decimal("133.3347")
    assert PinnedRate(Unit.EACH, Decimal(5)).completed().hourly_rate is None


def test_the_lifecycle_allows_only_its_transitions_and_freezes_a_closed_project():
    project = Project("p", "org", ProjectFields(name="P", currency_code="EUR"), NOW, NOW)
    with pytest.raises(InvalidState):
        project.move("complete", "u", "", NOW)
    for action, state in (("activate", ProjectState.ACTIVE), ("hold", ProjectState.ON_HOLD),
                          ("resume", ProjectState.ACTIVE), ("complete", ProjectState.COMPLETED)):
        project.move(action, "u", "", NOW)
        assert project.state is state
    assert (project.version, project.revision) == (5, 5)
    with pytest.raises(FailedPrecondition) as closed:
        project.check_open()
    assert closed.value.reason == "PROJECT_CLOSED"
    project.move("archive", "u", "done", NOW)
    assert [t.to_state for t in project.transitions][-1] is ProjectState.ARCHIVED


def test_percent_complete_weighs_tasks_by_their_estimates():
    def task(estimate, state):
        return Task("t", "org", "p", TaskFields("T", state=state, estimate_hours=estimate),
                    NOW, NOW)
    assert percent_complete([task(Decimal(30), TaskState.DONE),
                             task(Decimal(10), TaskState.TODO)]) == Decimal("75.00")
    assert percent_complete([task(None, TaskState.DONE), task(None, TaskState.TODO),
                             task(None, TaskState.TODO)]) == Decimal("33.33")
    assert percent_complete([]) == 0
