"""A read is a read: a read-only unit of work takes no write lock (SQLite) and may not write
(PostgreSQL); writes keep their lock. And a database that dropped its connections answers
UNAVAILABLE (then serves again), never INTERNAL, without a pre-ping per checkout."""

from __future__ import annotations

import sqlite3

import grpc
import pytest
import sqlalchemy as sa
from pivotal_runtime.auth import StaticKeySource, TokenVerifier
from pivotal_runtime.db import open_database
from pivotal_runtime.kit.domain import ServiceDeps
from pivotal_runtime.server import ServiceHost
from pivotal_runtime.settings import Settings
from sqlalchemy.exc import DBAPIError

from tests.support.contract_calls import call, find_rule, implement
from tests.support.hosts import FakeDatabase

metadata = sa.MetaData()
notes = sa.Table("perf_notes", metadata, sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("text", sa.String(50)))


@pytest.fixture
def sqlite_database(sqlite_settings):
    database = open_database(sqlite_settings, "identity")
    metadata.create_all(database.engine)
    with database.unit_of_work() as uow:
        uow.session.execute(notes.insert().values(id=1, text="committed"))
        uow.commit()
    yield database
    database.dispose()


def _raw_connection(database) -> sqlite3.Connection:
    """A second, real connection to the same file, outside the engine's pool."""
    return sqlite3.connect(database.engine.url.database, timeout=0, isolation_level=None)


def test_a_read_only_unit_of_work_reads_while_another_connection_holds_the_write_lock(
        sqlite_database):
    writer = _raw_connection(sqlite_database)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO perf_notes (id, text) VALUES (2, 'uncommitted')")
    try:
        with sqlite_database.unit_of_work(read_only=True) as uow:
            texts = uow.session.execute(sa.select(notes.c.text)).scalars().all()
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert texts == ["committed"]


def test_a_read_only_unit_of_work_leaves_the_write_lock_free_and_a_write_takes_it(
        sqlite_database):
    other = _raw_connection(sqlite_database)
    try:
        with sqlite_database.unit_of_work(read_only=True) as uow:
            uow.session.execute(sa.select(notes.c.text)).all()
            other.execute("BEGIN IMMEDIATE")  # free: would raise "database is locked"
            other.execute("ROLLBACK")
        with sqlite_database.unit_of_work() as uow:
            uow.session.execute(sa.select(notes.c.text)).all()
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()


@pytest.fixture
def postgres_database(postgres_settings):
    settings = Settings(database_url=postgres_settings.database_url, max_workers=1,
                        state_dir=postgres_settings.state_dir)
    database = open_database(settings, "identity")
    with database.engine.begin() as connection:
        connection.exec_driver_sql('CREATE SCHEMA IF NOT EXISTS "identity"')
    metadata.create_all(database.engine)
    yield database
    database.dispose()


@pytest.mark.integration
def test_a_read_only_transaction_on_postgresql_refuses_a_write_and_the_next_write_works(
        postgres_database):
    with (postgres_database.unit_of_work(read_only=True) as uow,
          pytest.raises(DBAPIError, match="read-only transaction")):
        uow.session.execute(notes.insert().values(id=1, text="refused"))
    # The same pooled connection (pool of one) serves a write afterwards.
    with postgres_database.unit_of_work() as uow:
        uow.session.execute(notes.insert().values(id=1, text="written"))
        uow.commit()
    with postgres_database.unit_of_work(read_only=True) as uow:
        assert uow.session.execute(sa.select(notes.c.text)).scalars().all() == ["written"]


def _terminate_backends(database) -> int:
    """pg_terminate_backend on every other connection to this (test-only) database."""
    admin = sa.create_engine(database.engine.url, poolclass=sa.NullPool)
    with admin.connect() as connection:
        killed = connection.exec_driver_sql(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()").scalar_one()
    admin.dispose()
    return killed


@pytest.mark.integration
def test_killed_connections_answer_unavailable_or_ok_never_internal(postgres_database):
    rule = find_rule("identity", public=True, empty_request_valid=True)
    registration = None

    def read(request, context):
        with postgres_database.unit_of_work(read_only=True) as uow:
            uow.session.execute(sa.select(notes.c.id)).all()
        return registration.response_class()

    registration = implement(rule, read)
    deps = ServiceDeps(settings=Settings(grace_period_seconds=2), name="identity",
                       database=FakeDatabase())
    host = ServiceHost(deps, TokenVerifier(StaticKeySource({}), issuer="x", audience="y"),
                       port=0, extra_registrations=[registration])
    host.start()
    codes = []
    try:
        with grpc.insecure_channel(f"127.0.0.1:{host.port}") as channel:
            call(channel, rule.full_method)
            assert _terminate_backends(postgres_database) >= 1
            for _ in range(3):
                try:
                    call(channel, rule.full_method)
                    codes.append(grpc.StatusCode.OK)
                except grpc.RpcError as error:
                    codes.append(error.code())
    finally:
        host.drain().wait(5)
    assert set(codes) <= {grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE}
    assert codes[-1] == grpc.StatusCode.OK
