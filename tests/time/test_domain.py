"""Time's rules without I/O: the money rule (hours × rate, half-even to minor units), the rate
order, durations, the person's day, the workflow, summaries, the CSV export's escaping, and
an entry surviving its JSON document."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pivotal_runtime.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from pivotal_runtime.kit.documents import from_document, to_document
from pivotal_time.domain.entries import (
    EntryFields,
    EntryState,
    Pricing,
    TimeEntry,
    check_day,
    check_overlap,
    check_unlocked,
    settle_fields,
)
from pivotal_time.domain.rates import RateSource, amount_of, resolve_rate
from pivotal_time.domain.replica import MemberCopy, PinnedRateCopy, ProjectCopy, TaskCopy
from pivotal_time.domain.summaries import safe_cell, summarize, to_csv

pytestmark = pytest.mark.unit
NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
hours = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(24), places=2)
rates = st.decimals(min_value=Decimal(0), max_value=Decimal(5000), places=4)


@settings(max_examples=300, deadline=None)
@given(hours=hours, rate=rates, currency=st.sampled_from(["EUR", "JPY", "KWD"]))
def test_the_amount_is_hours_times_rate_half_even_to_the_minor_unit(hours, rate, currency):
    places = {"EUR": 2, "JPY": 0, "KWD": 3}[currency]
    amount = amount_of(hours, rate, currency)
    assert amount == (hours * rate).quantize(Decimal(1).scaleb(-places),
                                             rounding=ROUND_HALF_EVEN)
    assert abs(amount - hours * rate) <= Decimal(1).scaleb(-places) / 2


def test_ties_go_to_the_even_cent():
    assert amount_of(Decimal(2), Decimal("81.6525"), "EUR") == Decimal("163.30")
    assert amount_of(Decimal(2), Decimal("81.6575"), "EUR") == Decimal("163.32")
    assert amount_of(Decimal("7.5"), Decimal("160"), "EUR") == Decimal("1200.00")


PROJECT = ProjectCopy("p", "org", "P", "ACTIVE", "c", "EUR", "TIME_AND_MATERIALS", "q", (
    PinnedRateCopy("line-a", "Developer", True, Decimal("80"), "tax", "VAT", Decimal(19)),
    PinnedRateCopy("line-b", "Developer", True, Decimal("90")),
    PinnedRateCopy("line-c", "", False, None)), 1)


def member(line: str = "", role: str = "Developer", rate: str | None = None) -> MemberCopy:
    return MemberCopy("org", "p", "m", "u", role, Decimal(rate) if rate else None, line, 1)


def test_rates_resolve_in_the_documented_order():
    linked = resolve_rate(PROJECT, member("line-b", rate="70"), None, Decimal(60), Decimal(50),
                          True)
    assert (linked.rate, linked.source, linked.matched_by_role) == (
        Decimal(90), RateSource.QUOTE_PINNED, False)
    by_role = resolve_rate(PROJECT, member(), TaskCopy("org", "p", "t", "line-b", 1), None,
                           None, True)
    assert (by_role.rate, by_role.quote_line_item_id, by_role.matched_by_role) == (
        Decimal(90), "line-b", True)
    first = resolve_rate(PROJECT, member(role=" developer "), None, None, None, True)
    assert (first.rate, first.tax_rate_percent) == (Decimal(80), Decimal(19))
    assert resolve_rate(PROJECT, member(role="Designer", rate="70"), None, Decimal(60),
                        Decimal(50), True).source is RateSource.MEMBER_PROJECT_RATE
    assert resolve_rate(PROJECT, member(role="Designer"), None, Decimal(60), Decimal(50),
                        True).source is RateSource.USER_DEFAULT
    assert resolve_rate(PROJECT, member(role="Designer"), None, None, Decimal(50),
                        True).source is RateSource.ORGANIZATION_DEFAULT
    assert resolve_rate(PROJECT, member(role="Designer"), None, None, None,
                        False).source is RateSource.NONE
    with pytest.raises(FailedPrecondition) as missing:
        resolve_rate(PROJECT, member(role="Designer"), None, None, None, True)
    assert missing.value.reason == "RATE_NOT_FOUND"


def fields(**values) -> EntryFields:
    return EntryFields(**{"user_id": "u", "project_id": "p", "date": date(2026, 3, 2),
                          **values})


def test_durations_come_from_hours_or_the_span_and_must_make_sense():
    start = NOW
    timed = settle_fields(fields(start_time=start, end_time=start + timedelta(minutes=95)))
    assert timed.hours == Decimal("1.58")
    for bad, field in [
            (fields(hours=Decimal(0)), "time_entry.hours"),
            (fields(hours=Decimal("24.5")), "time_entry.hours"),
            (fields(hours=Decimal("1.005")), "time_entry.hours"),
            (fields(start_time=start), "time_entry.end_time"),
            (fields(start_time=start, end_time=start), "time_entry.end_time"),
            (fields(hours=Decimal(2), start_time=start, end_time=start + timedelta(hours=1)),
             "time_entry.hours")]:
        with pytest.raises(InvalidArgument) as refused:
            settle_fields(bad)
        assert refused.value.reason == "DURATION_INVALID"
        assert [v.field for v in refused.value.violations] == [field]


def entry(state=EntryState.DRAFT, user="u", **values) -> TimeEntry:
    settled = settle_fields(fields(user_id=user, **{"hours": Decimal(1), **values}))
    resolved = resolve_rate(PROJECT, member("line-a"), None, None, None, True)
    return TimeEntry("e", "org", settled, Pricing("EUR", resolved, Decimal("80.00"), "c", "q",
                                                  "Developer"), user, NOW, NOW, state=state)


def test_the_day_and_the_clock_of_a_person():
    check_day(Decimal(4), Decimal(20), date(2026, 3, 2))
    with pytest.raises(InvalidArgument) as day:
        check_day(Decimal("4.01"), Decimal(20), date(2026, 3, 2))
    assert day.value.reason == "DAILY_HOURS_EXCEEDED"
    assert day.value.metadata == {"date": "2026-03-02", "booked_hours": "20"}
    other = entry(start_time=NOW, end_time=NOW + timedelta(hours=1), hours=None)
    check_overlap(fields(start_time=NOW + timedelta(hours=1),
                         end_time=NOW + timedelta(hours=2)), [other])  # touching is fine
    with pytest.raises(InvalidArgument) as overlap:
        check_overlap(fields(start_time=NOW + timedelta(minutes=30),
                             end_time=NOW + timedelta(hours=2)), [other])
    assert overlap.value.metadata == {"time_entry_id": "e"}


def test_the_workflow_and_the_lock():
    e = entry()
    e.submit("u", NOW)
    with pytest.raises(PermissionDenied) as own:
        e.approve("u", NOW)
    assert own.value.reason == "SELF_APPROVAL_FORBIDDEN"
    with pytest.raises(InvalidArgument):
        e.reject("boss", "  ", NOW)
    e.reject("boss", "wrong project", NOW)
    assert e.state is EntryState.REJECTED and e.rejection_reason == "wrong project"
    e.submit("u", NOW)
    assert e.rejection_reason == ""
    e.approve("boss", NOW)
    assert e.locked(None) and e.version == 5
    with pytest.raises(FailedPrecondition):
        e.submit("u", NOW)
    with pytest.raises(FailedPrecondition) as locked:
        check_unlocked(date(2026, 3, 2), date(2026, 3, 31), "x")
    assert locked.value.reason == "PERIOD_LOCKED"
    check_unlocked(date(2026, 4, 1), date(2026, 3, 31), "x")


def test_an_entry_survives_its_document():
    e = entry(start_time=NOW, end_time=NOW + timedelta(hours=1), hours=None)
    e.submit("u", NOW)
    assert from_document(TimeEntry, to_document(e)) == e


def test_summaries_bucket_by_iso_week_and_group_by_person():
    monday = entry(date=date(2026, 3, 2))
    sunday = entry(date=date(2026, 3, 8), billable=False)
    next_week = entry(date=date(2026, 3, 9), user="v")
    rows, total = summarize([monday, sunday, next_week], ["user"], "WEEK")
    assert [(r.period[0], r.user_id, r.total_hours, r.billable_hours) for r in rows] == [
        (date(2026, 3, 2), "u", Decimal(2), Decimal(1)),
        (date(2026, 3, 9), "v", Decimal(1), Decimal(1))]
    assert total.entry_count == 3 and total.billable_amounts == {"EUR": Decimal("160.00")}


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_cells_a_spreadsheet_would_run_are_escaped(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0", "@A1"])
def test_the_export_escapes_formulas_in_every_cell(text):
    row = list(csv.reader(io.StringIO(to_csv([entry(description=text)]))))[1]
    assert row[-1] == "'" + text


def test_plain_cells_are_left_alone():
    assert safe_cell("Workshop = done") == "Workshop = done"


def test_user_rate_versions_end_the_day_before_the_next_of_the_same_person_and_currency():
    from pivotal_time.domain.settings import UserRate, rate_on, with_until

    def version(user, currency, start, rate):
        return UserRate(f"{user}{currency}{start}", "org", user, currency, Decimal(rate),
                        date.fromisoformat(start), "boss", NOW, NOW)
    rates = with_until([version("u", "EUR", "2026-03-01", "90"),
                        version("u", "EUR", "2026-01-01", "80"),
                        version("u", "USD", "2026-02-01", "100"),
                        version("v", "EUR", "2026-02-01", "70")])
    assert [(r.user_id, r.currency_code, r.effective_until) for r in rates] == [
        ("u", "EUR", date(2026, 2, 28)), ("u", "EUR", None), ("u", "USD", None),
        ("v", "EUR", None)]
    eur = [r for r in rates if r.user_id == "u" and r.currency_code == "EUR"]
    assert rate_on(eur, date(2026, 2, 28)) == 80 and rate_on(eur, date(2026, 3, 1)) == 90
    assert rate_on(eur, date(2025, 12, 31)) is None and with_until([]) == []
