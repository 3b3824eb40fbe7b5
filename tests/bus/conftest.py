"""Fixtures of the bus tests: RabbitMQ, throwaway queue names, PostgreSQL schemas, tracing."""

from __future__ import annotations

import fcntl
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pika
import pika.exceptions
import pytest
import sqlalchemy as sa
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pivotal_runtime.bus.topology import Topology, queue_arguments
from pivotal_runtime.db import Database, open_database
from pivotal_runtime.outbox import runtime_metadata
from pivotal_runtime.settings import Settings
from pivotal_runtime.telemetry import configure_tracing

from tests.bus.support import effects_metadata

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
RABBITMQ_START_HINT = "rabbitmq-server -detached"
TEST_SERVICES = ("billing", "quotation", "project", "time", "identity")
RESTART_LOCK = Path(tempfile.gettempdir()) / "pivotal-rabbitmq-restart.lock"


def rabbitmq_accepts_connections() -> bool:
    try:
        connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    except (pika.exceptions.AMQPError, OSError):
        return False
    connection.close()
    return True


def wait_for_rabbitmq(timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if rabbitmq_accepts_connections():
            return True
        time.sleep(0.5)
    return False


def quorum_queues_work() -> bool:
    """True when the broker can run a queue like the consumers' (quorum, at-least-once
    dead-lettering): a broker whose application was stopped and started twice at the same
    time can come back without the supervisor that such queues need."""
    queue = f"test-health-{uuid.uuid4().hex[:8]}"
    try:
        connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
        try:
            channel = connection.channel()
            channel.queue_declare(queue, durable=True, arguments=queue_arguments(
                Topology("test-health"), "probe", 1))
            channel.basic_consume(queue, lambda *_: None)
            connection.process_data_events(time_limit=0.2)
            channel.queue_delete(queue)
        finally:
            if connection.is_open:
                connection.close()
    except (pika.exceptions.AMQPError, OSError):
        return False
    return True


@contextmanager
def exclusive_broker_restarts() -> Iterator[None]:
    """Serializes broker restarts of every test run on this machine."""
    with RESTART_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def restart_rabbitmq(down_seconds: float = 1.0) -> None:
    """Stops and starts the broker application for real, and leaves it healthy."""
    with exclusive_broker_restarts():
        rabbitmqctl("stop_app")
        time.sleep(down_seconds)
        rabbitmqctl("start_app")
        _leave_healthy()


def _leave_healthy() -> None:
    for _ in range(3):
        if wait_for_rabbitmq(60) and quorum_queues_work():
            return
        rabbitmqctl("stop_app")
        rabbitmqctl("start_app")
    pytest.fail("RabbitMQ did not come back healthy; restart it with: "
                "rabbitmqctl stop_app && rabbitmqctl start_app", pytrace=False)


@pytest.fixture(scope="session")
def amqp_url() -> str:
    if not wait_for_rabbitmq(10):
        pytest.fail(f"RabbitMQ is not reachable at {AMQP_URL}; start it with: "
                    f"{RABBITMQ_START_HINT}", pytrace=False)
    if not quorum_queues_work():
        with exclusive_broker_restarts():
            _leave_healthy()
    return AMQP_URL


@pytest.fixture
def topology(amqp_url: str) -> Iterator[Topology]:
    """A queue prefix of its own; its exchanges and queues are deleted afterwards."""
    topology = Topology(prefix=f"test-{uuid.uuid4().hex[:10]}")
    yield topology
    if not wait_for_rabbitmq(60):
        return
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    channel = connection.channel()
    for service in TEST_SERVICES:
        for queue in (topology.queue(service), topology.dead_letter_queue(service),
                      f"{topology.prefix}.probe.{service}"):
            channel.queue_delete(queue)
        channel.exchange_delete(topology.dead_letter_exchange(service))
    channel.exchange_delete(topology.exchange)
    connection.close()


@pytest.fixture
def make_database(postgres_url: str) -> Iterator[Callable[[str], Database]]:
    """Databases in fresh schemas with the runtime tables and the effects table."""
    made: list[Database] = []

    def make(role: str) -> Database:
        schema = f"bus_{role}_{uuid.uuid4().hex[:8]}"
        database = open_database(Settings(database_url=postgres_url), schema)
        with database.engine.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        runtime_metadata.create_all(database.engine)
        effects_metadata.create_all(database.engine)
        made.append(database)
        return database

    yield make
    engine = sa.create_engine(postgres_url, poolclass=sa.NullPool)
    with engine.begin() as connection:
        for database in made:
            database.dispose()
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{database.schema}" CASCADE')
    engine.dispose()


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[Callable[[str], Database]]:
    made: list[Database] = []

    def make(role: str) -> Database:
        database = open_database(Settings(state_dir=tmp_path), role)
        runtime_metadata.create_all(database.engine)
        effects_metadata.create_all(database.engine)
        made.append(database)
        return database

    yield make
    for database in made:
        database.dispose()


@pytest.fixture(scope="session")
def span_exporter() -> InMemorySpanExporter:
    """Spans of the whole test session, recorded in memory."""
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        configure_tracing(Settings(), "pivotal-tests", exporter=exporter)
    return exporter


def rabbitmqctl(*args: str, timeout: float = 60.0) -> str:
    result = subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True,
                            timeout=timeout, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout
