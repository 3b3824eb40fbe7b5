"""Each service's alembic migrations create exactly its table definitions: after
`upgrade head`, alembic's autogenerate comparison finds no difference, on PostgreSQL (one
schema per service) and on SQLite (one file per service).

A service's table definitions are every `MetaData` its modules define, plus the runtime's
tables (outbox, inbox, ...) that its migrations created: not every service needs every
runtime table, but one that has it has it exactly as the runtime defines it. Both sets are
found by walking the packages, so a new service or a new runtime table is covered without
editing this test.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from pivotal_runtime.db import open_database
from pivotal_runtime.migrations import VERSION_TABLE, upgrade
from pivotal_runtime.settings import Settings

from tests.support.processes import ROOT

pytestmark = [pytest.mark.integration]

SERVICES = sorted(p.parent.name.removeprefix("pivotal_")
                  for p in (ROOT / "services").glob("pivotal_*/migrations"))


def module_metadata(package_name: str) -> list[sa.MetaData]:
    """The MetaData objects defined at module level anywhere in a package."""
    package = importlib.import_module(package_name)
    found: dict[int, sa.MetaData] = {}
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
        if ".migrations" in info.name:
            continue
        for value in vars(importlib.import_module(info.name)).values():
            if isinstance(value, sa.MetaData):
                found[id(value)] = value
    return list(found.values())


def target_metadata(service: str, present: set[str]) -> sa.MetaData:
    target = sa.MetaData()
    for metadata in module_metadata(f"pivotal_{service}"):
        for table in metadata.tables.values():
            table.to_metadata(target)
    for metadata in module_metadata("pivotal_runtime"):
        for table in metadata.tables.values():
            if table.name in present and table.name not in target.tables:
                table.to_metadata(target)
    return target


def differences(settings: Settings, service: str) -> list:
    upgrade(settings, service)
    database = open_database(settings, service)
    try:
        with database.engine.connect() as connection:
            present = set(sa.inspect(connection).get_table_names()) - {VERSION_TABLE}
            context = MigrationContext.configure(connection, opts={
                "compare_type": True,
                "compare_server_default": True if database.is_postgres else _sqlite_default,
                "include_name": lambda name, kind, _: not (kind == "table"
                                                           and name == VERSION_TABLE),
            })
            return compare_metadata(context, target_metadata(service, present))
    finally:
        database.dispose()


def _sqlite_default(context, inspected, column, *_):
    # SQLite has no IDENTITY (the rowid is one): the column's Identity() is not a default there.
    # (Only used on SQLite: alembic cannot call a comparison function for a PostgreSQL
    # identity column.)
    if column.identity is not None:
        return False
    return None  # alembic's own comparison


def test_every_service_with_migrations_is_compared():
    assert {"identity", "quotation", "project", "time", "billing"} <= set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_match_tables_on_postgres(postgres_settings, service):
    assert differences(postgres_settings, service) == []


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_match_tables_on_sqlite(sqlite_settings, service):
    assert differences(sqlite_settings, service) == []


def test_a_table_definition_the_migrations_lack_is_a_difference(sqlite_settings, monkeypatch):
    extra = sa.MetaData()
    sa.Table("not_migrated", extra, sa.Column("id", sa.Integer, primary_key=True))
    real = module_metadata

    def with_extra(package_name: str) -> list[sa.MetaData]:
        return [*real(package_name), *([extra] if package_name == "pivotal_billing" else [])]

    monkeypatch.setattr(sys.modules[__name__], "module_metadata", with_extra)
    found = differences(sqlite_settings, "billing")
    assert [(d[0], d[1].name) for d in found] == [("add_table", "not_migrated")]

