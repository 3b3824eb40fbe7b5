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

# The kinds of test, by what a test touches (docs/testing.md), in the order of their weight.
KINDS = ("unit", "contracts", "integration", "e2e")
# Every test folder: the kind its tests get, then the other kinds a test in it may declare
# with a marker (feature folders mix them). A new folder must be listed here. Some folders
# arrive with other branches (kit, perf, quotation).
KINDS_BY_FOLDER: dict[str, tuple[str, ...]] = {
    "unit": ("unit",),  # nothing: no server, no subprocess, no network
    "architecture": ("unit",),  # the source files, read with ast
    "contracts": ("contracts",),  # the real buf and the descriptor set
    "integration": ("integration",),  # real PostgreSQL / RabbitMQ, servers in the test process
    "e2e": ("e2e",),  # real processes: pivotal up, Envoy, a built wheel
    "bus": ("integration",),
    "identity": ("integration",),
    "gateway": ("e2e",),
    "kit": ("integration", "unit"),
    "perf": ("integration", "unit", "e2e"),
    "helm": ("e2e",),  # Helm's engine and `envoy --mode validate` run as processes
    "mesh": ("e2e",),  # real Envoy sidecars
    "quotation": ("integration", "unit", "e2e"),
    "project": ("integration", "unit", "e2e"),
    "time": ("integration", "unit", "e2e"),
    "billing": ("integration", "unit", "e2e"),
}
TESTS = Path(__file__).resolve().parent


def kinds_of(path: Path) -> tuple[str, ...]:
    folder = path.resolve().relative_to(TESTS).parts[0]  # tests live under tests/ (testpaths)
    if folder not in KINDS_BY_FOLDER:
        raise pytest.UsageError(f"tests/{folder}/ has no kind: add it to KINDS_BY_FOLDER in "
                                "tests/conftest.py")
    return KINDS_BY_FOLDER[folder]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test's kind is its folder's, unless it declares one its folder allows."""
    for item in items:
        allowed = kinds_of(item.path)
        declared = {m.name for m in item.iter_markers()} & set(KINDS)
        if declared - set(allowed):
            raise pytest.UsageError(
                f"{item.nodeid} is marked {sorted(declared)} but tests/"
                f"{item.path.resolve().relative_to(TESTS).parts[0]}/ holds {list(allowed)} "
                "tests: move it, or drop the marker")
        if not declared:
            item.add_marker(allowed[0])


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """With `-m`, a folder none of whose kinds can match is not even imported (importing the
    whole suite is most of the time of `pytest -m unit`)."""
    expression = config.getoption("markexpr")
    allowed = KINDS_BY_FOLDER.get(collection_path.name)
    if not expression or allowed is None or collection_path.parent != TESTS:
        return None
    compiled = Expression.compile(expression)
    # The kind of a test is one of the folder's; any other marker may or may not be on it.
    possible = [_markers(kind, others) for kind in allowed for others in (True, False)]
    return True if not any(compiled.evaluate(markers) for markers in possible) else None


def _markers(kind: str, others: bool):
    def has(name: str, /, **_: object) -> bool:
        return name == kind if name in KINDS else others

    return has


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
