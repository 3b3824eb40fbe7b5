"""Services mode: migrate PostgreSQL, then one service per process on its own schema."""

import subprocess

import pytest
import sqlalchemy as sa

from tests.support.net import free_port
from tests.support.processes import VENV_BIN, spawn, stop, wait_for_health

pytestmark = [pytest.mark.e2e]


def test_migrate_then_serve_one_service_on_postgres(postgres_url, tmp_path):
    env = {"PIVOTAL_MODE": "services", "PIVOTAL_DATABASE_URL": postgres_url,
           "PIVOTAL_STATE_DIR": str(tmp_path)}
    import os

    migrated = subprocess.run([str(VENV_BIN / "pivotal"), "migrate"], capture_output=True,
                              text=True, timeout=120, env={**os.environ, **env})
    assert migrated.returncode == 0, migrated.stderr
    for service in ("identity", "quotation", "project", "time", "billing"):
        assert f"{service}: at revision" in migrated.stdout

    engine = sa.create_engine(postgres_url, poolclass=sa.NullPool)
    with engine.connect() as connection:
        schemas = set(connection.exec_driver_sql(
            "select schema_name from information_schema.schemata").scalars())
        outbox_tables = connection.exec_driver_sql(
            "select table_schema from information_schema.tables where table_name = 'outbox'"
        ).scalars().all()
    engine.dispose()
    assert {"identity", "quotation", "project", "time", "billing"} <= schemas
    assert sorted(outbox_tables) == ["billing", "identity", "project", "quotation", "time"]

    port = free_port()
    process = spawn([str(VENV_BIN / "pivotal"), "serve", "quotation"],
                    env={**env, "PIVOTAL_QUOTATION_PORT": str(port)})
    try:
        assert wait_for_health(f"127.0.0.1:{port}", timeout=30), stop(process)
        assert not (tmp_path / "quotation.db").exists()  # PostgreSQL, not SQLite
    finally:
        output = stop(process)
    assert process.returncode == 0, output
