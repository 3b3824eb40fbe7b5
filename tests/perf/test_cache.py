"""The process-local tenant cache: values live at most their TTL, an invalidation drops a
tenant's values at once (even one being loaded), and a revoked grant is never served once the
revoking transaction committed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from pivotal_runtime.cache import TenantCache, invalidate_on
from pivotal_runtime.db import open_database


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Loader:
    def __init__(self, value) -> None:
        self.value = value
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return self.value


def test_a_value_is_loaded_once_within_its_ttl_and_again_after_it():
    clock = Clock()
    cache = TenantCache("test.ttl", ttl=30, clock=clock)
    load = Loader("acme")
    assert cache.get("org-1", "name", load) == "acme"
    clock.now += 29
    assert cache.get("org-1", "name", load) == "acme"
    assert load.calls == 1
    clock.now += 2
    load.value = "acme renamed"
    assert cache.get("org-1", "name", load) == "acme renamed"
    assert load.calls == 2


def test_invalidating_a_tenant_drops_its_values_only():
    cache = TenantCache("test.tenants", ttl=300, clock=Clock())
    first, second = Loader("one"), Loader("two")
    cache.get("org-1", "k", first)
    cache.get("org-2", "k", second)
    cache.invalidate("org-1")
    cache.get("org-1", "k", first)
    cache.get("org-2", "k", second)
    assert (first.calls, second.calls) == (2, 1)


def test_values_are_never_shared_between_tenants():
    cache = TenantCache("test.isolation", ttl=300, clock=Clock())
    assert cache.get("org-1", "roles", lambda: {"admin"}) == {"admin"}
    assert cache.get("org-2", "roles", lambda: set()) == set()


def test_a_load_overtaken_by_an_invalidation_is_not_stored():
    cache = TenantCache("test.inflight", ttl=300, clock=Clock())

    def load_while_revoked():
        cache.invalidate("org-1")  # the revoking transaction commits while this load runs
        return "stale grant"

    assert cache.get("org-1", "perms", load_while_revoked) == "stale grant"
    fresh = Loader("current")
    assert cache.get("org-1", "perms", fresh) == "current"
    assert fresh.calls == 1


def test_invalidate_all_and_the_size_bound():
    cache = TenantCache("test.bound", ttl=300, max_entries=2, clock=Clock())
    for tenant in ("a", "b", "c"):
        cache.get(tenant, "k", Loader(tenant))
    assert len(cache) == 2
    cache.invalidate_all()
    assert len(cache) == 0


def test_ttl_must_be_positive():
    with pytest.raises(ValueError):
        TenantCache("test.bad", ttl=0)


metadata = sa.MetaData()
grants = sa.Table("perf_grants", metadata, sa.Column("org", sa.String(20), primary_key=True),
                  sa.Column("permission", sa.String(50), primary_key=True))


def test_a_revoked_grant_is_not_served_after_the_revoking_commit(sqlite_settings):
    database = open_database(sqlite_settings, "identity")
    metadata.create_all(database.engine)
    cache = TenantCache("test.grants", ttl=3600)

    def permissions(org: str) -> frozenset[str]:
        def load():
            with database.unit_of_work(read_only=True) as uow:
                rows = uow.session.execute(sa.select(grants.c.permission)
                                           .where(grants.c.org == org)).scalars()
                return frozenset(rows)
        return cache.get(org, "permissions", load)

    try:
        with database.unit_of_work() as uow:
            uow.session.execute(grants.insert().values(org="org-1", permission="quotes.approve"))
            uow.commit()
        assert permissions("org-1") == {"quotes.approve"}
        with database.unit_of_work() as uow:  # rolled back: nothing changes, cache kept
            uow.session.execute(grants.delete())
            uow.after_commit(cache.invalidator("org-1"))
        assert permissions("org-1") == {"quotes.approve"}
        with database.unit_of_work() as uow:
            uow.session.execute(grants.delete().where(grants.c.org == "org-1"))
            uow.after_commit(cache.invalidator("org-1"))
            uow.commit()
        assert permissions("org-1") == frozenset()
    finally:
        database.dispose()


def test_an_event_handler_invalidates_the_events_tenant_after_its_commit():
    cache = TenantCache("test.events", ttl=300, clock=Clock())
    load = Loader("v1")
    cache.get("org-9", "k", load)

    class Uow:
        def __init__(self) -> None:
            self.callbacks: list = []

        def after_commit(self, callback):
            self.callbacks.append(callback)

    class Event:
        organization_id = "org-9"

    uow = Uow()
    invalidate_on(cache, lambda event: event.organization_id)(uow, Event(), None)
    cache.get("org-9", "k", load)
    assert load.calls == 1  # not before the consumer's commit
    for callback in uow.callbacks:
        callback()
    cache.get("org-9", "k", load)
    assert load.calls == 2
