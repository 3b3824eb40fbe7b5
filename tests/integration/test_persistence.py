"""Persistence runtime: migrations, unit of work with outbox, inbox idempotency, health ping.

Every behaviour runs on embedded SQLite and on real PostgreSQL (marked `integration`).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from datetime import UTC

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message
from google.protobuf.wrappers_pb2 import StringValue
from pivotal.options.v1 import options_pb2
from pivotal_runtime import uow as uow_module
from pivotal_runtime.db import Database, open_database
from pivotal_runtime.kit.tables import add_runtime_tables
from pivotal_runtime.migrations import current_revision, head_revision, upgrade, upgrade_all
from pivotal_runtime.outbox import outbox
from pivotal_runtime.settings import SERVICE_NAMES, Settings

SERVICE = "quotation"
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

test_metadata = sa.MetaData()
widgets = sa.Table(
    "widgets",
    test_metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
)


def _widget_created_class() -> type[Message]:
    pool = descriptor_pool.Default()
    name = "pivotal.testing.v1.WidgetCreated"
    try:
        return message_factory.GetMessageClass(pool.FindMessageTypeByName(name))
    except KeyError:
        pass
    file = descriptor_pb2.FileDescriptorProto(
        name="pivotal/testing/v1/widget_events.proto",
        package="pivotal.testing.v1",
        syntax="proto3",
        dependency=[options_pb2.DESCRIPTOR.name],
    )
    message = file.message_type.add(name="WidgetCreated")
    message.field.add(
        name="widget_id",
        number=1,
        type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
        label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
    )
    message.options.Extensions[options_pb2.event].aggregate = "widget"
    pool.AddSerializedFile(file.SerializeToString())
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(name))


WidgetCreated = _widget_created_class()


@pytest.fixture(
    params=[
        pytest.param("sqlite"),
        pytest.param("postgres", marks=pytest.mark.integration),
    ]
)
def settings(request: pytest.FixtureRequest) -> Settings:
    return request.getfixturevalue(f"{request.param}_settings")


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    upgrade(settings, SERVICE)
    database = open_database(settings, SERVICE)
    test_metadata.create_all(database.engine)
    yield database
    database.dispose()


def _schema_snapshot(settings: Settings, service: str) -> dict[str, list[tuple[str, str, bool]]]:
    database = open_database(settings, service)
    try:
        inspector = sa.inspect(database.engine)
        return {
            table: [
                (column["name"], str(column["type"]), column["nullable"])
                for column in inspector.get_columns(table, schema=database.schema)
            ]
            for table in inspector.get_table_names(schema=database.schema)
        }
    finally:
        database.dispose()


@pytest.fixture
def ddl_statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith(("CREATE", "ALTER", "DROP")):
            seen.append(statement)

    sa.event.listen(sa.Engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(sa.Engine, "before_cursor_execute", record)


def _rows(database: Database, table: str) -> list[sa.Row[object]]:
    with database.engine.connect() as connection:
        return list(connection.execute(sa.text(f"SELECT * FROM {table}")))


def test_migrations_create_runtime_tables_once_for_every_service(
    settings: Settings, ddl_statements: list[str]
) -> None:
    upgrade_all(settings, SERVICE_NAMES)
    first = {service: _schema_snapshot(settings, service) for service in SERVICE_NAMES}
    for service in SERVICE_NAMES:
        # Every service has the runtime tables (revision 0001); domains add their own after.
        assert {"alembic_version", "outbox", "inbox"} <= set(first[service])
        assert current_revision(settings, service) == head_revision(service)
    assert ddl_statements

    ddl_statements.clear()
    upgrade_all(settings, SERVICE_NAMES)

    assert ddl_statements == []
    assert {service: _schema_snapshot(settings, service) for service in SERVICE_NAMES} == first
    assert all(current_revision(settings, s) == head_revision(s) for s in SERVICE_NAMES)


def test_embedded_mode_keeps_one_sqlite_file_per_service(sqlite_settings: Settings) -> None:
    upgrade_all(sqlite_settings, SERVICE_NAMES)

    files = sorted(path.name for path in sqlite_settings.state_dir.glob("*.db"))
    assert files == sorted(f"{service}.db" for service in SERVICE_NAMES)
    database = open_database(sqlite_settings, SERVICE)
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    database.dispose()


@pytest.mark.integration
def test_each_service_gets_its_own_postgres_schema(postgres_settings: Settings) -> None:
    upgrade_all(postgres_settings, SERVICE_NAMES)

    database = open_database(postgres_settings, SERVICE)
    with database.engine.connect() as connection:
        versions = {
            schema: connection.exec_driver_sql(
                f'SELECT version_num FROM "{schema}".alembic_version'
            ).scalar()
            for schema in SERVICE_NAMES
        }
        assert connection.exec_driver_sql("SELECT current_schema()").scalar() == SERVICE
    database.dispose()
    assert versions == {schema: head_revision(schema) for schema in SERVICE_NAMES}


@pytest.mark.integration
def test_concurrent_migrations_of_one_schema_do_not_collide(postgres_settings: Settings) -> None:
    start = threading.Barrier(4)

    def migrate() -> None:
        start.wait()
        upgrade(postgres_settings, SERVICE)

    with ThreadPoolExecutor(4) as pool:
        for future in [pool.submit(migrate) for _ in range(4)]:
            future.result()

    assert current_revision(postgres_settings, SERVICE) == head_revision(SERVICE)


def test_migrated_tables_match_the_runtime_table_definitions(database: Database) -> None:
    metadata = sa.MetaData()
    add_runtime_tables(metadata)
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    # The service's own tables (and their indexes) are not the runtime's to compare.
    relevant = [d for d in differences if d[0] not in ("remove_table", "remove_index")]
    assert relevant == []


def test_commit_writes_state_and_outbox_row_together(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uow_module, "current_traceparent", lambda: TRACEPARENT)
    monkeypatch.setattr(uow_module, "current_request_id", lambda: "req-1")
    woken: list[str] = []

    with database.unit_of_work() as uow:
        uow.session.execute(widgets.insert().values(id="w-1", name="gear"))
        event_id = uow.add_event(
            WidgetCreated(widget_id="w-1"), aggregate_id="w-1", organization_id="org-1"
        )
        uow.after_commit(lambda: woken.append("relay"))
        assert woken == []
        uow.commit()

    assert woken == ["relay"]
    assert [row.name for row in _rows(database, "widgets")] == ["gear"]
    [row] = _rows(database, "outbox")
    assert row.event_id == event_id
    assert row.event_type == "pivotal.testing.v1.WidgetCreated"
    assert (row.aggregate_type, row.aggregate_id, row.subject) == ("widget", "w-1", "w-1")
    assert row.organization_id == "org-1"
    assert WidgetCreated.FromString(row.payload).widget_id == "w-1"
    assert (row.traceparent, row.request_id) == (TRACEPARENT, "req-1")
    assert row.published_at is None and row.attempts == 0

    with database.engine.connect() as connection:
        occurred_at = connection.execute(sa.select(outbox.c.occurred_at)).scalar_one()
    assert occurred_at.tzinfo == UTC


def test_outbox_ids_follow_commit_order(database: Database) -> None:
    for number in range(3):
        with database.unit_of_work() as uow:
            uow.add_event(
                WidgetCreated(widget_id=f"w-{number}"),
                aggregate_id=f"w-{number}",
                organization_id="org-1",
            )
            uow.commit()

    rows = sorted(_rows(database, "outbox"), key=lambda row: row.id)
    assert [row.aggregate_id for row in rows] == ["w-0", "w-1", "w-2"]


@pytest.mark.parametrize("leave", ["raise", "no_commit"])
def test_unit_of_work_without_commit_persists_nothing(database: Database, leave: str) -> None:
    woken: list[str] = []
    expected = pytest.raises(RuntimeError) if leave == "raise" else nullcontext()
    with expected, database.unit_of_work() as uow:
        uow.session.execute(widgets.insert().values(id="w-1", name="gear"))
        uow.add_event(WidgetCreated(widget_id="w-1"), aggregate_id="w-1", organization_id="o")
        uow.after_commit(lambda: woken.append("relay"))
        uow.session.flush()
        if leave == "raise":
            raise RuntimeError("handler failed")

    assert _rows(database, "widgets") == []
    assert _rows(database, "outbox") == []
    assert woken == []


def test_event_without_aggregate_option_needs_an_aggregate_type(database: Database) -> None:
    with database.unit_of_work() as uow:
        with pytest.raises(ValueError, match="aggregate"):
            uow.add_event(StringValue(value="x"), aggregate_id="a", organization_id="o")
        uow.add_event(
            StringValue(value="x"), aggregate_id="a", organization_id="o", aggregate_type="thing"
        )
        uow.commit()

    [row] = _rows(database, "outbox")
    assert (row.event_type, row.aggregate_type) == ("google.protobuf.StringValue", "thing")


def test_record_inbox_accepts_an_event_once_per_consumer(database: Database) -> None:
    with database.unit_of_work() as uow:
        assert uow.record_inbox("billing.on-time", "e-1", "T") is True
        assert uow.record_inbox("billing.on-time", "e-1", "T") is False
        uow.commit()
    with database.unit_of_work() as uow:
        assert uow.record_inbox("billing.on-time", "e-1", "T") is False
        assert uow.record_inbox("project.on-time", "e-1", "T") is True
        uow.commit()
    with database.unit_of_work() as uow:
        assert uow.record_inbox("billing.on-time", "e-2", "T") is True
    with database.unit_of_work() as uow:
        assert uow.record_inbox("billing.on-time", "e-2", "T") is True


def test_concurrent_redelivery_is_processed_exactly_once(database: Database) -> None:
    deliveries = 6
    start = threading.Barrier(deliveries)

    def consume(index: int) -> bool:
        with database.unit_of_work() as uow:
            start.wait()
            first = uow.record_inbox("billing.on-time", "e-1", "T")
            if first:
                uow.session.execute(widgets.insert().values(id=f"w-{index}", name="effect"))
                time.sleep(0.2)
            uow.commit()
            return first

    with ThreadPoolExecutor(deliveries) as pool:
        outcomes = list(pool.map(consume, range(deliveries)))

    assert sorted(outcomes) == [False] * (deliveries - 1) + [True]
    assert len(_rows(database, "widgets")) == 1


def test_ping_is_true_for_a_reachable_database(settings: Settings) -> None:
    database = open_database(settings, SERVICE)
    assert database.ping() is True
    database.dispose()


@pytest.mark.parametrize("port", ["refused", "hung"])
def test_ping_is_false_quickly_when_postgres_is_unreachable(port: str) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        address = f"127.0.0.1:{silent.getsockname()[1]}" if port == "hung" else "127.0.0.1:1"
        settings = Settings(database_url=f"postgresql+psycopg://postgres@{address}/pivotal")
        database = open_database(settings, SERVICE)

        started = time.monotonic()
        assert database.ping() is False
        assert time.monotonic() - started < 3.0
        database.dispose()
