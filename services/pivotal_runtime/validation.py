"""Validation driven by the contracts, once for every RPC (`ValidationInterceptor`).

It reads the request message's descriptors and reports every violation at once, each with
its snake_case path relative to the request (`quote.line_items[2].quantity`):

- `REQUIRED` (google.api.field_behavior) fields must be set: on the request's own fields
  always; inside nested messages except under the resource of an `Update*` method, where the
  update mask decides what is sent;
- `OUTPUT_ONLY` fields are ignored on input (AIP-203): never validated, and never applied,
  because an update changes only the updatable fields its mask names (`kit.masks`). They are
  not cleared: a contract may still mark an identifier or the etag OUTPUT_ONLY, and both must
  reach the servicer (AIP-154);
- `update_mask` paths must name fields of the resource being updated (`*` alone: full
  replace); `IMMUTABLE` fields need the stored resource: the update use case calls
  `UpdateMask.check_unchanged(stored, requested)` (`pivotal_runtime.kit.masks`);
- `page_size` must not be negative; above `MAX_PAGE_SIZE` it is clamped (AIP-158 allows it);
- `request_id` must be a UUID (AIP-155);
- every enum field holds a value its enum defines (an unknown number is refused, never
  INTERNAL).

The plan of each message type is computed once and cached; the walk only visits set fields.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cache

from google.api import field_behavior_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from pivotal_runtime.errors import FieldViolation, InvalidArgument
from pivotal_runtime.interceptors import _WrappingInterceptor
from pivotal_runtime.kit import field_reasons
from pivotal_runtime.kit.paging import MAX_PAGE_SIZE

REQUIRED = field_behavior_pb2.REQUIRED
OUTPUT_ONLY = field_behavior_pb2.OUTPUT_ONLY
_SKIPPED_PACKAGES = ("google.protobuf.", "google.type.")


@dataclass(frozen=True)
class _Field:
    """What the walk needs of one field, computed once per message type."""

    descriptor: FieldDescriptor
    name: str
    required: bool
    output_only: bool
    repeated: bool
    is_message: bool
    is_map: bool
    is_enum: bool
    walked: bool  # a message field whose type is walked (not a well-known type)


def _behaviors(field: FieldDescriptor) -> set[int]:
    return set(field.GetOptions().Extensions[field_behavior_pb2.field_behavior])


@cache
def _plan(descriptor: Descriptor) -> tuple[_Field, ...]:
    fields = []
    for field in descriptor.fields:
        behaviors = _behaviors(field)
        is_message = field.type == FieldDescriptor.TYPE_MESSAGE
        is_map = is_message and field.message_type.GetOptions().map_entry
        fields.append(_Field(
            field, field.name, REQUIRED in behaviors,
            OUTPUT_ONLY in behaviors,
            field.is_repeated, is_message, is_map,
            field.type == FieldDescriptor.TYPE_ENUM,
            is_message and not is_map and _walked(field.message_type)))
    return tuple(fields)


def _walked(descriptor: Descriptor) -> bool:
    return not descriptor.full_name.startswith(_SKIPPED_PACKAGES)


def _is_set(message: Message, field: _Field) -> bool:
    if field.repeated:
        return len(getattr(message, field.name)) > 0
    if field.is_message or field.descriptor.has_presence:
        return message.HasField(field.name)
    return getattr(message, field.name) != field.descriptor.default_value


class _Walk:
    def __init__(self, update_resource: str | None) -> None:
        self.violations: list[FieldViolation] = []
        self._update_resource = update_resource

    def add(self, path: str, description: str, reason: str) -> None:
        self.violations.append(FieldViolation(path, description, reason))

    def message(self, message: Message, prefix: str, check_required: bool) -> None:
        for field in _plan(message.DESCRIPTOR):
            path = f"{prefix}{field.name}"
            if field.output_only:
                continue
            present = _is_set(message, field)
            if field.required and check_required and not present:
                self.add(path, "is required", field_reasons.REQUIRED)
            if not present:
                continue
            if field.is_enum:
                self._enum(message, field, path)
            elif field.walked:
                nested_required = check_required and not (
                    prefix == "" and field.name == self._update_resource)
                values = getattr(message, field.name)
                if field.repeated:
                    for index, value in enumerate(values):
                        self.message(value, f"{path}[{index}].", nested_required)
                else:
                    self.message(values, f"{path}.", nested_required)

    def _enum(self, message: Message, field: _Field, path: str) -> None:
        known = field.descriptor.enum_type.values_by_number
        values = getattr(message, field.name)
        for index, value in enumerate(values if field.repeated else [values]):
            if value not in known:
                where = f"{path}[{index}]" if field.repeated else path
                self.add(where, f"{value} is not a value of {field.descriptor.enum_type.name}",
                         field_reasons.UNKNOWN_ENUM_VALUE)


def _resource_field(request: Message) -> FieldDescriptor | None:
    """The resource of an update request: the message field beside `update_mask`."""
    for field in request.DESCRIPTOR.fields:
        if (field.type == FieldDescriptor.TYPE_MESSAGE and field.name != "update_mask"
                and _walked(field.message_type)):
            return field
    return None


def _path_exists(descriptor: Descriptor, path: str) -> bool:
    for part in path.split("."):
        field = descriptor.fields_by_name.get(part) if descriptor else None
        if field is None:
            return False
        descriptor = field.message_type
    return True


def _check_mask(request: Message, walk: _Walk) -> None:
    mask = request.update_mask
    resource = _resource_field(request)
    if resource is None:
        return
    paths = list(mask.paths)
    if "*" in paths:
        if paths != ["*"]:
            walk.add("update_mask", "`*` cannot be combined with other paths",
                     field_reasons.UNKNOWN_MASK_PATH)
        return
    for path in paths:
        if not _path_exists(resource.message_type, path):
            walk.add("update_mask", f"{path!r} is not a field of "
                     f"{resource.message_type.name}", field_reasons.UNKNOWN_MASK_PATH)


def validate_request(request: Message, method_name: str = "") -> None:
    """Checks (and cleans) `request` as described above; INVALID_ARGUMENT with every
    violation. Clamps `page_size`."""
    fields = request.DESCRIPTOR.fields_by_name
    has_mask = "update_mask" in fields and fields["update_mask"].message_type is not None \
        and fields["update_mask"].message_type.full_name == "google.protobuf.FieldMask"
    resource = _resource_field(request) if has_mask and method_name.startswith("Update") \
        else None
    walk = _Walk(resource.name if resource is not None else None)
    walk.message(request, "", True)
    if has_mask:
        _check_mask(request, walk)
    if "page_size" in fields and fields["page_size"].type in (
            FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64):
        if request.page_size < 0:
            walk.add("page_size", "must not be negative",
                     field_reasons.PAGE_SIZE_OUT_OF_RANGE)
        elif request.page_size > MAX_PAGE_SIZE:
            request.page_size = MAX_PAGE_SIZE
    if "request_id" in fields and fields["request_id"].type == FieldDescriptor.TYPE_STRING \
            and request.request_id and not _is_uuid(request.request_id):
        walk.add("request_id", "must be a UUID such as 123e4567-e89b-12d3-a456-426614174000",
                 field_reasons.REQUEST_ID_INVALID)
    if walk.violations:
        raise InvalidArgument(walk.violations)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


class ValidationInterceptor(_WrappingInterceptor):
    """Runs `validate_request` on every request to an implemented service (`implemented`
    holds their full names, filled once the domain registered); a contract method without
    an implementation still answers UNIMPLEMENTED."""

    def __init__(self, implemented: set[str]) -> None:
        self._implemented = implemented

    def wrap(self, behavior, method, streaming_response):
        service, _, method_name = method.lstrip("/").rpartition("/")
        if service not in self._implemented:
            return behavior

        def validated(request, context):
            if isinstance(request, Message):
                validate_request(request, method_name)
            return behavior(request, context)

        return validated
