"""Unit tests of the runtime kit's pure pieces (no I/O)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from google.protobuf import field_mask_pb2
from hypothesis import given
from hypothesis import strategies as st
from pivotal.identity.v1 import user_pb2
from pivotal.identity.v1 import user_service_pb2 as user_pb
from pivotal_runtime.errors import EtagMismatch, InvalidArgument, NotFound
from pivotal_runtime.kit.masks import mask_fields
from pivotal_runtime.kit.money import Money, allocate, minor_units, round_half_even
from pivotal_runtime.kit.numbering import format_number
from pivotal_runtime.kit.paging import MAX_PAGE_SIZE, page_request
from pivotal_runtime.kit.proto_types import money_from_proto, money_to_proto
from pivotal_runtime.kit.resources import load_for_change
from pivotal_runtime.kit.service_tokens import IssuedToken, ServiceTokens
from pivotal_runtime.validation import validate_request


def test_minor_units_and_half_even_rounding():
    assert (minor_units("JPY"), minor_units("EUR"), minor_units("KWD"), minor_units("BHD")) \
        == (0, 2, 3, 3)
    assert round_half_even(Decimal("2.345"), 2) == Decimal("2.34")
    assert round_half_even(Decimal("2.355"), 2) == Decimal("2.36")
    assert Money.of("1234.5", "JPY").rounded().amount == Decimal(1234)
    assert Money.of("1.2345", "KWD").rounded().amount == Decimal("1.234")


@given(st.integers(-10**9, 10**9), st.lists(st.integers(0, 1000), min_size=1, max_size=20),
       st.sampled_from([0, 2, 3]))
def test_allocation_always_sums_exactly(units, weights, places):
    if sum(weights) == 0:
        weights[0] = 1
    amount = Decimal(units).scaleb(-places)
    parts = allocate(amount, weights, places)
    assert sum(parts) == amount
    assert all(part == round_half_even(part, places) for part in parts)


@given(st.integers(-10**6, 10**6), st.integers(0, 4))
def test_rounding_is_half_even(value, places):
    exact = Decimal(value).scaleb(-(places + 1))
    rounded = round_half_even(exact, places)
    assert abs(rounded - exact) <= Decimal(5).scaleb(-(places + 1))


def test_money_round_trips_through_google_type_money():
    for text in ("12.34", "-0.5", "0", "1000000.000000001"):
        money = Money.of(text, "EUR")
        assert money_from_proto(money_to_proto(money), "price") == money


def test_page_tokens_are_bound_to_the_filter_and_forgeries_are_invalid_argument():
    first = page_request(2, "", "ACTIVE")
    _, token = first.slice(["a", "b", "c"], key=lambda row: (row,))
    assert page_request(2, token, "ACTIVE").after == ("b",)
    for forged in (token, base64.urlsafe_b64encode(b'{"o":1e999}').decode(), "%%%",
                   base64.urlsafe_b64encode(b'{"k":[1.5],"f":"x"}').decode()):
        with pytest.raises(InvalidArgument) as raised:
            page_request(2, forged, "DELETED")
        assert raised.value.violations[0].field == "page_token"
    assert page_request(10_000, "").size == MAX_PAGE_SIZE
    with pytest.raises(InvalidArgument):
        page_request(-1, "")


def test_update_masks():
    updatable = ["display_name", "locale"]
    assert mask_fields([], updatable, populated=["locale", "user_id"]) == ["locale"]
    assert mask_fields(["*"], updatable) == updatable
    with pytest.raises(InvalidArgument) as raised:
        mask_fields(["state"], updatable)
    assert raised.value.violations[0].field == "update_mask"
    assert "state" in raised.value.violations[0].description


class _Found:
    def __init__(self, organization_id: str, etag: str) -> None:
        self.organization_id, self.etag = organization_id, etag


def test_load_for_change_scopes_by_tenant_and_checks_the_etag():
    found = _Found("org-a", 'W/"2"')
    assert load_for_change(lambda _: found, "org-a", "quote", "q1", 'W/"2"') is found
    with pytest.raises(NotFound):
        load_for_change(lambda _: found, "org-b", "quote", "q1")
    with pytest.raises(EtagMismatch):
        load_for_change(lambda _: found, "org-a", "quote", "q1", 'W/"1"')


def test_service_tokens_are_cached_until_shortly_before_expiry():
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    issued = []

    class Source:
        def issue(self, organization_id):
            issued.append(organization_id)
            return IssuedToken(f"t{len(issued)}", now[0] + timedelta(minutes=15))

    tokens = ServiceTokens(Source(), lambda: now[0], timedelta(seconds=60))
    assert tokens.for_workload("o") == tokens.for_workload("o") == "t1"
    now[0] += timedelta(minutes=14, seconds=1)
    assert tokens.for_workload("o") == "t2"


def test_validation_reports_every_violation_with_its_path():
    request = user_pb.UpdateUserRequest(
        user=user_pb2.User(user_id="u", state=99),
        update_mask=field_mask_pb2.FieldMask(paths=["nope"]))
    with pytest.raises(InvalidArgument) as raised:
        validate_request(request, "UpdateUser")
    fields = {v.field for v in raised.value.violations}
    assert "update_mask" in fields
    with pytest.raises(InvalidArgument) as raised:
        validate_request(user_pb.CreateUserRequest(request_id="x"), "CreateUser")
    assert {"user", "request_id"} <= {v.field for v in raised.value.violations}
    listing = user_pb.ListUsersRequest(page_size=5000)
    validate_request(listing, "ListUsers")
    assert listing.page_size == MAX_PAGE_SIZE


def test_numbers_are_formatted_per_series_and_year():
    assert format_number("Q", 2026, 1) == "Q-2026-0001"
    assert format_number("INV", 2026, 12345) == "INV-2026-12345"


def test_an_update_may_not_change_an_immutable_field():
    from pivotal.quotation.v1 import rate_card_pb2
    from pivotal_runtime.kit.proto_types import update_mask_of

    immutable = "currency_code"  # IMMUTABLE in rate_card.proto
    mask = update_mask_of(field_mask_pb2.FieldMask(paths=[immutable]), rate_card_pb2.RateCard())
    assert immutable in mask.immutable

    class Stored:
        pass

    stored = Stored()
    setattr(stored, immutable, "EUR")
    mask.check_unchanged(stored, {immutable: "EUR"}, "rate_card.")
    with pytest.raises(InvalidArgument) as raised:
        mask.check_unchanged(stored, {immutable: "USD"}, "rate_card.")
    assert raised.value.violations[0].field == f"rate_card.{immutable}"
    assert raised.value.violations[0].reason == "IMMUTABLE"


def test_an_unknown_enum_number_is_invalid_argument_naming_the_field():
    from pivotal.identity.v1 import session_service_pb2

    request = session_service_pb2.ListSessionsRequest(user_id="-")
    field = next(f for f in request.DESCRIPTOR.fields if f.enum_type is not None)
    if field.is_repeated:  # `states` (a filter of several) or `state`
        getattr(request, field.name).append(77)
        expected = f"{field.name}[0]"
    else:
        setattr(request, field.name, 77)
        expected = field.name
    with pytest.raises(InvalidArgument) as raised:
        validate_request(request, "ListSessions")
    assert [(v.field, v.reason) for v in raised.value.violations] == [
        (expected, "UNKNOWN_ENUM_VALUE")]


def test_nested_violations_name_their_snake_case_path_all_at_once():
    from pivotal.quotation.v1 import quote_pb2, quote_service_pb2

    quote = quote_pb2.Quote(line_items=[quote_pb2.QuoteLineItem(description=f"line {i}")
                                        for i in range(3)])
    quote.line_items[0].quantity.value = "1"
    quote.line_items[1].quantity.value = "2"
    with pytest.raises(InvalidArgument) as raised:
        validate_request(quote_service_pb2.CreateQuoteRequest(quote=quote), "CreateQuote")
    fields = [v.field for v in raised.value.violations]
    assert "quote.line_items[2].quantity" in fields
    assert "quote.line_items[0].quantity" not in fields
    assert len(fields) > 1  # every violation at once


def test_dates_convert_and_a_partial_date_is_invalid_argument():
    from datetime import date

    from google.type import date_pb2
    from pivotal_runtime.kit.proto_types import date_from_proto, date_to_proto

    assert date_from_proto(date_to_proto(date(2026, 2, 28)), "valid_until") == date(2026, 2, 28)
    assert date_from_proto(date_pb2.Date(), "valid_until") is None
    with pytest.raises(InvalidArgument) as raised:
        date_from_proto(date_pb2.Date(year=2026, month=2, day=30), "valid_until")
    assert raised.value.violations[0].field == "valid_until"
