"""Versioned aggregates and loading one for a change: tenant scope, NOT_FOUND, etag.

Pure code: a domain's aggregates may subclass `Versioned`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar

from pivotal_runtime.errors import EtagMismatch, NotFound


def etag_of(version: int) -> str:
    """The etag clients see: derived from the version (a weak HTTP entity tag)."""
    return f'W/"{version}"'


@dataclass
class Versioned:
    """An aggregate with optimistic concurrency: `version` grows by one with every change
    (`touch`), its etag follows, and the repository writes only over the version it read.
    A subclass declares its own `update_time`."""

    version: int = field(default=1, kw_only=True)

    @property
    def etag(self) -> str:
        return etag_of(self.version)

    def touch(self, now: datetime) -> None:
        self.version += 1
        self.update_time = now  # type: ignore[attr-defined]


class Tenanted(Protocol):
    organization_id: str
    etag: str


T = TypeVar("T", bound=Tenanted)


def check_etag(given: str, current: str, resource: str) -> None:
    """ABORTED (reason ETAG_MISMATCH) when the client sent an etag that is not the current
    one; an empty etag means "whatever the current version is"."""
    if given and given != current:
        raise EtagMismatch(resource)


def load_for_change(get: Callable[[str], T | None], organization_id: str, resource_type: str,
                    resource_id: str, etag: str = "") -> T:
    """The resource `get(resource_id)` finds, if it belongs to `organization_id` and `etag`
    (when given) is current. Another tenant's resource is NOT_FOUND like a missing one (with
    ResourceInfo), so ids cannot be probed across tenants."""
    found = get(resource_id) if resource_id else None
    if found is None or found.organization_id != organization_id:
        raise NotFound(resource_type, resource_id)
    check_etag(etag, found.etag, f"{resource_type}/{resource_id}")
    return found
