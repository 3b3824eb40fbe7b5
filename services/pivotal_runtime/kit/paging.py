"""Keyset page tokens bound to the listing's filter (AIP-158). Pure code.

A token holds the sort key of the last row returned and a hash of the filter it was made
for; it is opaque to clients (base64url JSON). A token from another filter, a forged one or
plain garbage is INVALID_ARGUMENT on `page_token`, never INTERNAL. A forged position is
harmless: it is only a bound in the next query's WHERE clause, checked for type here.

    page = page_request(request.page_size, request.page_token, state, query)
    rows = repository.list(..., after=page.after, limit=page.size + 1)
    items, token = page.slice(rows, key=lambda row: (row.display_name, row.id))
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from pivotal_runtime.errors import ViolationCollector
from pivotal_runtime.kit import field_reasons

DEFAULT_PAGE_SIZE = 50
# A larger page_size is clamped to this (AIP-158 allows coercing), not refused.
MAX_PAGE_SIZE = 200
MAX_TOKEN_LENGTH = 2048
_DATETIME = "$dt"

Position = tuple[str | int | datetime | None, ...]
T = TypeVar("T")


def filter_digest(*filters: object) -> str:
    return hashlib.sha256(json.dumps(filters, default=str, sort_keys=True).encode()
                          ).hexdigest()[:16]


def _encode_value(value: object) -> object:
    if isinstance(value, datetime):
        return {_DATETIME: value.isoformat()}
    if value is None or isinstance(value, str) or (isinstance(value, int)
                                                   and not isinstance(value, bool)):
        return value
    raise TypeError(f"a page position holds str, int, datetime or None, not {type(value)}")


def _decode_value(value: object) -> str | int | datetime | None:
    if isinstance(value, dict) and set(value) == {_DATETIME} and isinstance(value[_DATETIME], str):
        parsed = datetime.fromisoformat(value[_DATETIME])
        if parsed.tzinfo is None:
            raise ValueError("naive datetime")
        return parsed
    if value is None or isinstance(value, str) or (isinstance(value, int)
                                                   and not isinstance(value, bool)):
        return value
    raise ValueError("not a position value")


def _no_constants(name: str) -> object:
    raise ValueError(f"{name} is not allowed in a page token")


def encode_token(position: Position, digest: str) -> str:
    raw = json.dumps({"k": [_encode_value(v) for v in position], "f": digest},
                     separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, digest: str) -> Position:
    """The position in `token`; ValueError with a client-facing description otherwise."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise ValueError("is too long to be a page token")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw, parse_constant=_no_constants,
                          parse_float=lambda _: _no_constants("a number with a fraction"))
        if not isinstance(data, dict) or not isinstance(data.get("k"), list):
            raise TypeError("no position")
        if data.get("f") != digest:
            raise LookupError
        return tuple(_decode_value(v) for v in data["k"])
    except LookupError:
        raise ValueError("belongs to a listing with other filters") from None
    except (ValueError, TypeError, binascii.Error, RecursionError):
        raise ValueError("is not a page token of this listing") from None


@dataclass(frozen=True)
class PageRequest:
    size: int
    after: Position | None
    digest: str

    def slice(self, rows: Sequence[T], key: Callable[[T], Position]) -> tuple[list[T], str]:
        """The page out of up to `size + 1` rows fetched after `after`, and the next token
        (empty on the last page)."""
        page = list(rows[: self.size])
        if len(rows) <= self.size or not page:
            return page, ""
        return page, encode_token(key(page[-1]), self.digest)


def page_request(page_size: int, page_token: str, *filters: object,
                 default_size: int = DEFAULT_PAGE_SIZE, max_size: int = MAX_PAGE_SIZE
                 ) -> PageRequest:
    """Validates `page_size` (negative: violation; 0: the default; above max: clamped) and
    `page_token` (must come from a listing with the same `filters`)."""
    digest = filter_digest(*filters)
    v = ViolationCollector()
    if page_size < 0:
        v.add("page_size", "must not be negative", field_reasons.PAGE_SIZE_OUT_OF_RANGE)
    after = None
    if page_token:
        try:
            after = decode_token(page_token, digest)
        except ValueError as error:
            v.add("page_token", str(error), field_reasons.PAGE_TOKEN_INVALID)
    v.raise_if_any()
    return PageRequest(min(page_size or default_size, max_size), after, digest)


def after_in_memory(items: Sequence[T], page: PageRequest, key: Callable[[T], Position]
                    ) -> list[T]:
    """Keyset paging over a list already sorted by `key`: the next `size + 1` items."""
    start = [item for item in items if page.after is None or key(item) > page.after]
    return start[: page.size + 1]
