"""A process-local cache for data that changes rarely (an organization, a role's
permissions, signing keys), kept per tenant and invalidated by the changes themselves.

    organizations = TenantCache("identity.organizations", ttl=30)
    org = organizations.get(org_id, "profile", lambda: load_organization(org_id))
    ...
    with database.unit_of_work() as uow:            # the write that changes it
        ...
        uow.after_commit(organizations.invalidator(org_id))
        uow.commit()

Rules that keep it from serving a revoked grant:
- a value lives at most `ttl` seconds, whatever happens (the bound for other processes);
- `invalidate(tenant)` (called after the commit that changed the data, in this process, or
  by the event subscription that learns of it, see `invalidate_on`) drops the tenant's values
  at once, and a load that was in flight when it happened does not store its result;
- values are never shared across tenants.

Several worker processes each have their own cache: an after-commit invalidation reaches the
process that committed, an event reaches the one worker that consumed it; every other
process relies on the TTL. Keep the TTL short for anything that grants access, or check a
version the writer bumps (docs/performance.md, "Caching").
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pivotal_runtime.metrics import cache_counters

V = TypeVar("V")
DEFAULT_MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class _Entry(Generic[V]):
    value: V
    expires_at: float
    version: int


class TenantCache(Generic[V]):
    def __init__(self, name: str, *, ttl: float, max_entries: int = DEFAULT_MAX_ENTRIES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        self.name = name
        self._ttl = ttl
        self._max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, Hashable], _Entry[V]] = {}
        # Bumped by every invalidation of a tenant; a global bump covers all tenants.
        self._versions: dict[str, int] = {}
        self._generation = 0
        self._hits, self._misses = cache_counters(name)

    def _version(self, tenant: str) -> int:
        return self._generation + self._versions.get(tenant, 0)

    def get(self, tenant: str, key: Hashable, load: Callable[[], V]) -> V:
        """The cached value of `(tenant, key)`, or `load()`'s (stored for `ttl` seconds unless
        the tenant was invalidated while it loaded)."""
        now = self._clock()
        with self._lock:
            version = self._version(tenant)
            entry = self._entries.get((tenant, key))
            if entry is not None and entry.version == version and now < entry.expires_at:
                self._hits.inc()
                return entry.value
        self._misses.inc()
        value = load()
        with self._lock:
            if self._version(tenant) == version:
                if len(self._entries) >= self._max_entries:
                    self._entries.pop(next(iter(self._entries)))  # the oldest stored
                self._entries[(tenant, key)] = _Entry(value, now + self._ttl, version)
        return value

    def invalidate(self, tenant: str) -> None:
        """Drops every value of `tenant`, including those being loaded right now."""
        with self._lock:
            self._versions[tenant] = self._versions.get(tenant, 0) + 1
            for cached in [k for k in self._entries if k[0] == tenant]:
                del self._entries[cached]

    def invalidate_all(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def invalidator(self, tenant: str) -> Callable[[], None]:
        """A callback for `uow.after_commit`: invalidates `tenant` once the change is durable."""
        return lambda: self.invalidate(tenant)

    def __len__(self) -> int:
        return len(self._entries)


def invalidate_on(cache: TenantCache[Any], tenant_of: Callable[[Any], str]
                  ) -> Callable[[Any, Any, Any], None]:
    """A bus subscription handler (`Subscription(Event, invalidate_on(cache, lambda e: ...))`)
    that invalidates the event's tenant once the consumer's transaction commits."""

    def handler(uow: Any, event: Any, _envelope: Any) -> None:
        uow.after_commit(cache.invalidator(tenant_of(event)))

    return handler
