"""The kit modules project and time added: JSON documents of dataclasses, field checks,
applying a mask to frozen fields, optional proto values, entitlements without a workload
secret. Pure (unit) tests."""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum

import pytest
from pivotal_runtime.errors import InvalidArgument
from pivotal_runtime.kit.checks import FieldChecks, decimal_places
from pivotal_runtime.kit.documents import from_document, to_document
from pivotal_runtime.kit.domain import ServiceDeps
from pivotal_runtime.kit.entitlements import EntitlementClient
from pivotal_runtime.kit.proto_values import money_or_none, timestamp_or_none
from pivotal_runtime.kit.updates import with_fields
from pivotal_runtime.kit.workload import UncheckedEntitlements, entitlement_client
from pivotal_runtime.settings import Settings

pytestmark = pytest.mark.unit


class Color(str, Enum):
    RED = "RED"


@dataclasses.dataclass(frozen=True)
class Inner:
    when: date
    amount: Decimal | None = None


@dataclasses.dataclass
class Outer:
    name: str
    color: Color
    inners: tuple[Inner, ...] = ()
    optional: Inner | None = None
    at: datetime | None = None
    tags: list[str] = dataclasses.field(default_factory=list)


def test_a_document_round_trips_nested_optional_and_exact_values():
    value = Outer("x", Color.RED, (Inner(date(2026, 1, 2), Decimal("0.10")),),
                  Inner(date(2026, 3, 4)), datetime(2026, 1, 1, 9, tzinfo=UTC), ["a"])
    document = to_document(value)
    assert document["inners"][0] == {"when": "2026-01-02", "amount": "0.10"}
    assert from_document(Outer, document) == value
    assert from_document(Outer, {"name": "old", "color": "RED"}) == Outer("old", Color.RED)


def test_field_checks_collect_every_problem():
    checks = FieldChecks()
    checks.text("a", " ", 5, required=True)
    checks.text("b", "toolong", 3)
    checks.currency("c", "eur")
    checks.decimal("d", Decimal("1.234"), places=2)
    checks.decimal("e", Decimal(0), places=2, positive=True)
    checks.decimal("f", Decimal(101), places=2, maximum=Decimal(100))
    checks.decimal("g", None, places=2)
    with pytest.raises(InvalidArgument) as refused:
        checks.raise_if_any()
    assert [(v.field, v.reason) for v in refused.value.violations] == [
        ("a", "REQUIRED"), ("b", "TOO_LONG"), ("c", "INVALID_FORMAT"), ("d", "INVALID_FORMAT"),
        ("e", "OUT_OF_RANGE"), ("f", "OUT_OF_RANGE")]
    assert decimal_places(Decimal("1.500")) == 1 and decimal_places(Decimal("1E+2")) == 0


def test_with_fields_takes_only_the_masked_fields():
    current, given = Inner(date(2026, 1, 1), Decimal(1)), Inner(date(2027, 1, 1), Decimal(2))
    assert with_fields(current, given, ["amount"]) == Inner(date(2026, 1, 1), Decimal(2))


def test_optional_proto_values_stay_unset():
    assert money_or_none(None, "EUR") is None and timestamp_or_none(None) is None
    assert money_or_none(Decimal("1.50"), "EUR").nanos == 500_000_000


def test_without_a_workload_secret_plan_limits_are_not_checked(caplog, tmp_path):
    deps = ServiceDeps(settings=Settings(state_dir=tmp_path), name="project", database=None)
    client = entitlement_client(deps)
    assert isinstance(client, UncheckedEntitlements)
    with caplog.at_level(logging.WARNING, "pivotal.entitlements"):
        client.check("org", "max_projects", 10)
        client.check("org", "max_projects", 11)
    assert len([r for r in caplog.records if "not checked" in r.message]) == 1
    with_secret = ServiceDeps(settings=Settings(state_dir=tmp_path, workload_client_secret="s"),
                              name="project", database=None, channels=object())
    assert isinstance(entitlement_client(with_secret), EntitlementClient)


def test_lock_keys_are_stable_64_bit_and_tell_keys_apart():
    from pivotal_runtime.kit.locks import key_of

    key = key_of("allocations", "org", "user")
    assert key == key_of("allocations", "org", "user") and -2**63 <= key < 2**63
    assert key != key_of("allocations", "org", "user2")
    assert key_of("a", "bc") != key_of("ab", "c")  # parts are separated
