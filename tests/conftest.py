"""Shared fixtures: a throwaway PostgreSQL database for the session, and settings for each mode.

Every test also gets the marker of its kind from its folder (docs/testing.md): `pytest -m unit`
runs what touches nothing, in seconds.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from _pytest.mark.expression import Expression
from pivotal_runtime.settings import SERVICE_NAMES, Settings

# The kind of every test folder: what its tests touch. A new folder must be listed here.
KIND_BY_FOLDER = {
    "unit": "unit",  # nothing: no server, no subprocess, no network
    "architecture": "unit",  # the source files, read with ast
    "contracts": "contracts",  # the real buf and the descriptor set
    "integration": "integration",  # real PostgreSQL / RabbitMQ, servers in the test process
    "bus": "integration",
    "identity": "integration",
    "e2e": "e2e",  # real processes: pivotal up, Envoy, a built wheel
    "gateway": "e2e",
}
KINDS = frozenset(KIND_BY_FOLDER.values())
TESTS = Path(__file__).resolve().parent


def kind_of(path: Path) -> str:
    folder = path.resolve().relative_to(TESTS).parts[0]  # tests live under tests/ (testpaths)
    if folder not in KIND_BY_FOLDER:
        raise pytest.UsageError(f"tests/{folder}/ has no kind: add it to KIND_BY_FOLDER in "
                                "tests/conftest.py")
    return KIND_BY_FOLDER[folder]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each test gets the kind of its folder, and only that one."""
    for item in items:
        kind = kind_of(item.path)
        other = {m.name for m in item.iter_markers()} & KINDS - {kind}
        if other:
            raise pytest.UsageError(f"{item.nodeid} is marked {sorted(other)} but its folder "
                                    f"makes it {kind!r}: move it, or drop the marker")
        item.add_marker(kind)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """With `-m`, a folder whose kind cannot match is not even imported (importing the whole
    suite is most of the time of `pytest -m unit`)."""
    expression = config.getoption("markexpr")
    kind = KIND_BY_FOLDER.get(collection_path.name)
    if not expression or kind is None or collection_path.parent != TESTS:
        return None
    compiled = Expression.compile(expression)

    def outcome(others: bool) -> bool:
        # Kinds are known from the folder; any other marker may or may not be on a test.
        return compiled.evaluate(lambda name, /, **_: name == kind if name in KINDS else others)

    return True if not outcome(True) and not outcome(False) else None


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
