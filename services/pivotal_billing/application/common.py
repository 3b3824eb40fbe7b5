"""What every billing use case shares: the wired ports, loading a tenant resource."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pivotal_runtime.errors import NotFound
from pivotal_runtime.kit.resources import check_etag


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Deps:
    """The ports of billing's use cases, built once by `pivotal_billing.bootstrap`."""

    uow: Callable[..., Any]  # uow(read_only=False) -> BillingUnitOfWork
    clock: Callable[[], datetime]
    new_id: Callable[[], str] = field(default=new_id)


def found(resource: Any, resource_type: str, resource_id: str, etag: str = "") -> Any:
    """`resource` as loaded in the caller's organization, or NOT_FOUND (another tenant's is
    loaded as None, so it is NOT_FOUND like a missing one); a stale etag is ABORTED."""
    if resource is None:
        raise NotFound(resource_type, resource_id)
    check_etag(etag, resource.etag, f"{resource_type}s/{resource_id}")
    return resource
