"""Protobuf requests → time's domain values (malformed values are INVALID_ARGUMENT naming the
field, via the kit's converters)."""

from __future__ import annotations

from datetime import UTC

from pivotal.time.v1 import time_entry_pb2
from pivotal_runtime.errors import FieldReason, FieldViolation, InvalidArgument
from pivotal_runtime.kit.proto_types import date_from_proto, decimal_from_proto, money_from_proto

from pivotal_time.domain.entries import EntryFields

_DIMENSIONS = {1: "user", 2: "project", 3: "task", 4: "customer"}
_PERIODS = {0: "", 1: "DAY", 2: "WEEK", 3: "MONTH"}


def entry(e: time_entry_pb2.TimeEntry, at: str = "time_entry") -> EntryFields:
    return EntryFields(
        user_id=e.user_id.strip(), project_id=e.project_id.strip(), task_id=e.task_id.strip(),
        date=date_from_proto(e.date, f"{at}.date"),
        hours=decimal_from_proto(e.hours, f"{at}.hours") if e.HasField("hours") else None,
        start_time=e.start_time.ToDatetime(tzinfo=UTC) if e.HasField("start_time") else None,
        end_time=e.end_time.ToDatetime(tzinfo=UTC) if e.HasField("end_time") else None,
        description=e.description, billable=e.billable if e.HasField("billable") else True)


def money(message, name: str):
    return money_from_proto(getattr(message, name), name) if message.HasField(name) else None


def states(values) -> list[str]:
    names = []
    for value in values:
        if value not in time_entry_pb2.TimeEntryState.values():
            raise InvalidArgument([FieldViolation("states", f"{value} is not a state",
                                                  FieldReason.UNKNOWN_ENUM_VALUE)])
        if value:
            names.append(time_entry_pb2.TimeEntryState.Name(value).removeprefix(
                "TIME_ENTRY_STATE_"))
    return names


def filters(request, *names: str) -> dict:
    """The listing filters a request carries (empty ones left out)."""
    found = {}
    for name in names:
        if name == "states":
            found["states"] = states(request.states)
        elif name == "billable":
            if request.HasField("billable"):
                found["billable"] = request.billable
        elif getattr(request, name):
            found[name] = getattr(request, name).strip()
    return found


def group_by(values) -> list[str]:
    found = []
    for value in values:
        if value not in _DIMENSIONS:
            raise InvalidArgument([FieldViolation("group_by", f"{value} is not a dimension",
                                                  FieldReason.UNKNOWN_ENUM_VALUE)])
        found.append(_DIMENSIONS[value])
    return found


def period(value: int) -> str:
    if value not in _PERIODS:
        raise InvalidArgument([FieldViolation("period", f"{value} is not a period",
                                              FieldReason.UNKNOWN_ENUM_VALUE)])
    return _PERIODS[value]
