"""Shared fixtures: a throwaway PostgreSQL database for the session, and settings for each mode."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from pivotal_runtime.settings import SERVICE_NAMES, Settings

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
POSTGRES_START_HINT = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"


def _admin_engine() -> sa.Engine:
    return sa.create_engine(
        POSTGRES_ADMIN_URL,
        isolation_level="AUTOCOMMIT",
        poolclass=sa.NullPool,
        connect_args={"connect_timeout": 3},
    )


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, uniquely named database on 127.0.0.1:5432, dropped after the session."""
    admin = _admin_engine()
    name = f"pivotal_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as error:
        unreachable: BaseException | None = error.orig
    else:
        unreachable = None
    if unreachable is not None:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} ({unreachable}); "
            f"start it with: {POSTGRES_START_HINT}",
            pytrace=False,
        )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def postgres_settings(postgres_url: str, tmp_path: Path) -> Settings:
    """Settings on the session database, with every service schema dropped first."""
    engine = sa.create_engine(postgres_url, poolclass=sa.NullPool)
    with engine.begin() as connection:
        for service in SERVICE_NAMES:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{service}" CASCADE')
    engine.dispose()
    return Settings(database_url=postgres_url, state_dir=tmp_path / "state")


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    """Embedded-mode settings: SQLite files in a fresh state folder."""
    return Settings(database_url=None, state_dir=tmp_path / "state")
