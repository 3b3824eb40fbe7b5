"""What time's use cases share: the wired ports, who may read whose time, paging a listing
sorted in memory."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pivotal_runtime.errors import PermissionDenied
from pivotal_runtime.kit.caller import Caller
from pivotal_runtime.kit.paging import encode_token, page_request

READ_ALL = "time:read"
APPROVE = "time:approve"


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Deps:
    uow: Callable[..., Any]  # uow(read_only=False) -> TimeUnitOfWork
    clock: Callable[[], datetime]
    new_id: Callable[[], str] = field(default=new_id)


def readable_user(caller: Caller, user_id: str) -> str:
    """The person filter of a read: anyone's with `time:read`, else only the caller's own."""
    if caller.has_permission(READ_ALL):
        return user_id.strip()
    if user_id and user_id != caller.subject:
        raise PermissionDenied("reading another person's time needs time:read")
    return caller.subject


def person_of(caller: Caller, user_id: str) -> str:
    """Whose time a change is about: the caller's by default; someone else's needs
    `time:approve` (a manager entering time for their team)."""
    user_id = user_id.strip() or caller.subject
    if user_id != caller.subject and not caller.has_permission(APPROVE):
        raise PermissionDenied("entering time for another person needs time:approve")
    return user_id


def offset_page(items: list, page_size: int, page_token: str, *filters
                ) -> tuple[list, str]:
    """One page of a listing sorted in memory; the token holds the offset (bound to the
    filters, like every page token)."""
    page = page_request(page_size, page_token, *filters)
    start = page.after[0] if page.after and isinstance(page.after[0], int) else 0
    found = items[start:start + page.size]
    more = start + page.size < len(items)
    return found, encode_token((start + page.size,), page.digest) if more else ""
