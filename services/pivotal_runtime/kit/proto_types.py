"""`google.type.Money` / `Decimal` / `Date` ↔ Python (`Money`, `Decimal`, `date`), for
servicers (the proto side is not domain code). A malformed value is INVALID_ARGUMENT naming
the field, never INTERNAL."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache

from google.api import field_behavior_pb2
from google.protobuf import field_mask_pb2
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message
from google.type import date_pb2, decimal_pb2, money_pb2

from pivotal_runtime.errors import FieldViolation, InvalidArgument
from pivotal_runtime.kit import field_reasons
from pivotal_runtime.kit.masks import UpdateMask
from pivotal_runtime.kit.money import CurrencyError, Money

NANOS = Decimal(1_000_000_000)
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _invalid(field: str, description: str) -> InvalidArgument:
    return InvalidArgument([FieldViolation(field, description, field_reasons.INVALID_FORMAT)])


def money_from_proto(value: money_pb2.Money, field: str) -> Money:
    if value.units and value.nanos and (value.units > 0) != (value.nanos > 0):
        raise _invalid(field, "units and nanos must have the same sign")
    if abs(value.nanos) >= 1_000_000_000:
        raise _invalid(field, "nanos must be within ±999,999,999")
    try:
        return Money(Decimal(value.units) + Decimal(value.nanos) / NANOS, value.currency_code)
    except CurrencyError as error:
        raise _invalid(f"{field}.currency_code", str(error)) from None


def money_to_proto(value: Money) -> money_pb2.Money:
    units = int(value.amount)  # truncates toward zero, so nanos shares the sign
    nanos = int(((value.amount - units) * NANOS).to_integral_value())
    return money_pb2.Money(currency_code=value.currency_code, units=units, nanos=nanos)


def decimal_from_proto(value: decimal_pb2.Decimal, field: str) -> Decimal:
    """`google.type.Decimal`; an empty value is zero."""
    text = value.value.strip()
    if not text:
        return Decimal(0)
    if not _DECIMAL.match(text):
        raise _invalid(field, f"{text[:40]!r} is not a decimal number")
    try:
        parsed = Decimal(text)
    except InvalidOperation:
        raise _invalid(field, "is not a decimal number") from None
    if not parsed.is_finite() or abs(parsed.adjusted()) > 30:
        raise _invalid(field, "is out of range")
    return parsed


def decimal_to_proto(value: Decimal) -> decimal_pb2.Decimal:
    return decimal_pb2.Decimal(value=format(value, "f"))


def date_from_proto(value: date_pb2.Date, field: str) -> date | None:
    """A full date, or None when unset (all zero); partial dates are refused."""
    if (value.year, value.month, value.day) == (0, 0, 0):
        return None
    try:
        return date(value.year, value.month, value.day)
    except ValueError:
        raise _invalid(field, "is not a valid calendar date") from None


def date_to_proto(value: date | None) -> date_pb2.Date:
    if value is None:
        return date_pb2.Date()
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


@cache
def _immutable_fields(descriptor: Descriptor) -> tuple[str, ...]:
    return tuple(field.name for field in descriptor.fields if field_behavior_pb2.IMMUTABLE in
                 field.GetOptions().Extensions[field_behavior_pb2.field_behavior])


def update_mask_of(mask: field_mask_pb2.FieldMask, resource: Message) -> UpdateMask:
    """The mask of an update request with the fields set in its `resource` (AIP-134: an
    empty mask updates the populated fields) and the resource's IMMUTABLE fields."""
    return UpdateMask(tuple(mask.paths), tuple(f.name for f, _ in resource.ListFields()),
                      _immutable_fields(resource.DESCRIPTOR))
