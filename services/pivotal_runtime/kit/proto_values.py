"""Optional values to protobuf: an unset Python value leaves the field unset (None for the
message constructor). For servicers and event builders, beside `proto_types`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from google.protobuf.timestamp_pb2 import Timestamp
from google.type import date_pb2, decimal_pb2, money_pb2

from pivotal_runtime.kit.money import Money
from pivotal_runtime.kit.proto_types import date_to_proto, decimal_to_proto, money_to_proto


def timestamp_or_none(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def money_or_none(amount: Decimal | None, currency_code: str) -> money_pb2.Money | None:
    return None if amount is None else money_to_proto(Money(amount, currency_code))


def decimal_or_none(value: Decimal | None) -> decimal_pb2.Decimal | None:
    return None if value is None else decimal_to_proto(value)


def date_or_none(value: date | None) -> date_pb2.Date | None:
    return None if value is None else date_to_proto(value)
