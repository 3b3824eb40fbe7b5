"""Usage over gRPC on SQLite and PostgreSQL: a repeated idempotency key counts once, the same
key with other content is refused, the period summary aggregates count, sum and max."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.type import decimal_pb2
from pivotal.billing.v1 import usage_pb2
from pivotal.billing.v1 import usage_service_pb2 as use

from tests.billing.helpers import new_organization, reason


def record(server, user, key: str, quantity: str, meter: str = "api_calls"):
    return server.usage.RecordUsage(use.RecordUsageRequest(
        usage_record=usage_pb2.UsageRecord(meter_key=meter,
                                           quantity=decimal_pb2.Decimal(value=quantity)),
        request_id=key), metadata=user.metadata, timeout=10)


def summary(server, user, *meters):
    return server.usage.GetUsageSummary(use.GetUsageSummaryRequest(meter_keys=list(meters)),
                                        metadata=user.metadata, timeout=10).usage_summary


def test_a_repeated_key_counts_once(server):
    user = new_organization(server)
    key = str(uuid.uuid4())
    first = record(server, user, key, "2.5")
    again = record(server, user, key, "2.5")
    assert not first.duplicate and again.duplicate
    assert again.usage_record.usage_record_id == first.usage_record.usage_record_id
    record(server, user, str(uuid.uuid4()), "4")
    record(server, user, str(uuid.uuid4()), "1", meter="pdf_renders")
    with pytest.raises(grpc.RpcError) as error:
        record(server, user, key, "3")
    assert error.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert reason(error.value) == "REQUEST_ID_REUSED"
    got = summary(server, user, "api_calls", "storage_gb")
    meters = {m.meter_key: m for m in got.meters}
    assert (meters["api_calls"].count, meters["api_calls"].sum.value,
            meters["api_calls"].max.value) == (2, "6.5", "4")
    assert meters["storage_gb"].count == 0 and meters["storage_gb"].sum.value == "0"
    assert got.period_start == first.usage_record.period_start
    listed = server.usage.ListUsageRecords(use.ListUsageRecordsRequest(meter_key="api_calls"),
                                           metadata=user.metadata, timeout=10).usage_records
    assert len(listed) == 2
    stranger = new_organization(server)
    assert summary(server, stranger).meters == []


def test_bad_usage_is_refused_naming_the_field(server):
    user = new_organization(server)
    with pytest.raises(grpc.RpcError) as error:
        record(server, user, str(uuid.uuid4()), "-1", meter="API calls")
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
