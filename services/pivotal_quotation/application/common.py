"""What every quotation use case shares: the wired ports, loading a resource of the caller's
organization, idempotent creates."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pivotal_runtime.errors import NotFound
from pivotal_runtime.kit.caller import Caller
from pivotal_runtime.kit.idempotency import RequestKey, fingerprint
from pivotal_runtime.kit.resources import check_etag


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Deps:
    """The ports of quotation's use cases, built once by `pivotal_quotation.bootstrap`."""

    uow: Callable[..., Any]  # uow(read_only=False) -> QuotationUnitOfWork
    clock: Callable[[], datetime]
    new_id: Callable[[], str] = field(default=new_id)


def found(resource: Any, resource_type: str, resource_id: str, etag: str = "") -> Any:
    """`resource` as loaded in the caller's organization, or NOT_FOUND (another tenant's
    resource is loaded as None, so it is NOT_FOUND like a missing one); a stale etag is
    ABORTED."""
    if resource is None:
        raise NotFound(resource_type, resource_id)
    check_etag(etag, resource.etag, f"{resource_type}s/{resource_id}")
    return resource


def request_key(kind: str, caller: Caller, request_id: str, *content: object) -> RequestKey:
    return RequestKey(f"{kind}:{caller.organization_id}", request_id,
                      fingerprint(*content))
