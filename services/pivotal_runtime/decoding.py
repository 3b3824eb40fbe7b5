"""A request that cannot be decoded is the caller's mistake: INVALID_ARGUMENT naming the field.

gRPC's own handling of a request that fails to deserialize (a corrupt or truncated protobuf
message, a string field that is not UTF-8) is INTERNAL "Exception deserializing request!"
with a traceback in the log. This interceptor wraps the request deserializer of unary
requests: a decode failure becomes a marker the handler turns into `InvalidArgument` (reason
`MALFORMED_REQUEST`), with a field violation naming the field when the wire format shows which
one (`invitation.email`), before anything else reads the request. No traceback is logged.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import DecodeError

from pivotal_runtime.errors import FieldReason, FieldViolation, InvalidArgument

MALFORMED_REQUEST = "MALFORMED_REQUEST"
_VARINT, _FIXED64, _LENGTH_DELIMITED, _FIXED32 = 0, 1, 2, 5


@dataclass(frozen=True)
class Undecodable:
    """Stands in for a request that could not be decoded."""

    type_name: str
    violation: FieldViolation


def _varint(data: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if position >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[position]
        result |= (byte & 0x7F) << shift
        position, shift = position + 1, shift + 7
        if not byte & 0x80:
            return result, position


def find_problem(descriptor: Descriptor, data: bytes, prefix: str = "") -> FieldViolation | None:
    """Walks the wire format: the first field that is truncated, badly encoded, or a string
    that is not UTF-8, as a violation with its proto path (`line_items[1].description`)."""
    position, seen = 0, {}
    while position < len(data):
        field, path = None, prefix.rstrip(".")
        try:
            key, position = _varint(data, position)
            number, wire_type = key >> 3, key & 7
            field = descriptor.fields_by_number.get(number)
            if field is not None:
                index = seen.get(number, 0)
                seen[number] = index + 1
                path = prefix + field.name + (f"[{index}]" if field.is_repeated else "")
            if wire_type == _VARINT:
                _, position = _varint(data, position)
            elif wire_type in (_FIXED64, _FIXED32):
                position += 8 if wire_type == _FIXED64 else 4
                if position > len(data):
                    raise ValueError("truncated")
            elif wire_type == _LENGTH_DELIMITED:
                length, position = _varint(data, position)
                value, position = data[position:position + length], position + length
                if position > len(data):
                    raise ValueError("truncated")
                problem = _problem_in(field, value, path) if field is not None else None
                if problem:
                    return problem
            else:
                raise ValueError(f"wire type {wire_type}")
        except ValueError:
            return FieldViolation(path, "not a valid protobuf encoding", FieldReason.INVALID_FORMAT)
    return None


def _problem_in(field: FieldDescriptor, value: bytes, path: str) -> FieldViolation | None:
    if field.type == FieldDescriptor.TYPE_STRING:
        try:
            value.decode("utf-8")
        except UnicodeDecodeError:
            return FieldViolation(path, "must be valid UTF-8", FieldReason.INVALID_FORMAT)
    elif field.type == FieldDescriptor.TYPE_MESSAGE:
        return find_problem(field.message_type, value, path + ".")
    return None


def _decoding(deserializer):
    message_class = getattr(deserializer, "__self__", None)
    descriptor = getattr(message_class, "DESCRIPTOR", None)
    if descriptor is None:
        return deserializer

    def decode(data: bytes):
        try:
            return deserializer(data)
        except DecodeError:
            violation = find_problem(descriptor, data) or FieldViolation(
                "", "not a valid protobuf encoding", FieldReason.INVALID_FORMAT)
            return Undecodable(descriptor.full_name, violation)

    return decode


def _refusing(behavior):
    def refuse_undecodable(request, context):
        if isinstance(request, Undecodable):
            raise InvalidArgument(
                [request.violation],
                message=f"the request is not a valid {request.type_name}: "
                        f"{request.violation.field or 'message'} {request.violation.description}",
                reason=MALFORMED_REQUEST)
        return behavior(request, context)

    return refuse_undecodable


class DecodingInterceptor(grpc.ServerInterceptor):
    """Place it after the error interceptor and before anything that reads the request."""

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None or handler.request_streaming or handler.request_deserializer is None:
            return handler
        kind = "unary_stream" if handler.response_streaming else "unary_unary"
        return handler._replace(
            request_deserializer=_decoding(handler.request_deserializer),
            **{kind: _refusing(getattr(handler, kind))})
