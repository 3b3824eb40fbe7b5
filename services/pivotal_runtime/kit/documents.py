"""Dataclasses ↔ JSON documents, for the nested parts of an aggregate stored in one JSON column
(pinned rates, transitions, allocations). Pure code: a domain may import it.

    to_document(rate)                       # {"unit": "HOUR", "unit_price": "95.5", ...}
    from_document(PinnedRate, document)     # the dataclass again, by its type hints

Decimals are stored as strings (exact), dates and datetimes as ISO strings, enums by value,
tuples and lists as lists; nested dataclasses and `X | None` follow their type hints.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


def to_document(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_document(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [to_document(item) for item in value]
    if isinstance(value, dict):
        return {key: to_document(item) for key, item in value.items()}
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_document(cls: type[T], document: Any) -> T:
    """The dataclass `cls` out of `to_document`'s output; fields missing from an older
    document take their defaults."""
    hints = _hints(cls)
    values = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in document:
            values[f.name] = _value(hints[f.name], document[f.name])
    return cls(**values)


def _value(hint: Any, raw: Any) -> Any:
    if raw is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _value(options[0], raw)
    if origin in (tuple, list):
        args = typing.get_args(hint)
        items = [_value(args[0], item) for item in raw] if args else list(raw)
        return tuple(items) if origin is tuple else items
    if origin is dict:
        _, item_hint = typing.get_args(hint)
        return {key: _value(item_hint, item) for key, item in raw.items()}
    if isinstance(hint, type):
        if dataclasses.is_dataclass(hint):
            return from_document(hint, raw)
        if issubclass(hint, Enum):
            return hint(raw)
        if hint is Decimal:
            return Decimal(raw)
        if hint is datetime:
            return datetime.fromisoformat(raw)
        if hint is date:
            return date.fromisoformat(raw)
    return raw
