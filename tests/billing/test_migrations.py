"""Billing's migrations create exactly the tables the adapters define, on SQLite and
PostgreSQL, and seed the plan catalog."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from pivotal_billing.adapters import tables
from pivotal_runtime.db import open_database
from pivotal_runtime.migrations import upgrade

from tests.billing.conftest import _billing_settings


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres",
                                                            marks=pytest.mark.integration)])
def test_migrated_tables_match_the_table_definitions(backend, tmp_path, request):
    postgres_url = request.getfixturevalue("postgres_url") if backend == "postgres" else None
    settings = _billing_settings(backend, tmp_path, postgres_url)
    upgrade(settings, "billing")
    database = open_database(settings, "billing")
    try:
        with database.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection),
                                           tables.metadata)
            defaults = connection.execute(tables.plans.select().where(
                tables.plans.c.default_plan.is_(True))).all()
    finally:
        database.dispose()
    relevant = [d for d in differences
                if not (d[0] == "remove_table" and d[1].name == "alembic_version")]
    assert relevant == []
    assert [row.code for row in defaults] == ["starter"]
