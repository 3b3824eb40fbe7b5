"""Domain services in the test process: real hosts (gRPC, interceptors, the bus) for any set
of domains, sharing one in-process broker; tokens minted with a test key; a clock the test
moves; events injected as the broker would deliver them."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import grpc
import sqlalchemy as sa
from google.protobuf import symbol_database
from google.protobuf.message import Message
from pivotal_runtime.auth import StaticKeySource, TokenVerifier
from pivotal_runtime.bootstrap import host_of
from pivotal_runtime.bus.envelope import BusMessage, message_from_outbox
from pivotal_runtime.bus.memory import InProcessBroker
from pivotal_runtime.db import open_database
from pivotal_runtime.kit.domain import ServiceDeps, load_domain
from pivotal_runtime.migrations import upgrade
from pivotal_runtime.outbox import outbox
from pivotal_runtime.settings import Settings

from tests.support.tokens import AUDIENCE, ISSUER, TokenMinter


class MovableClock:
    """Real time plus a shift the test moves (never a sleep)."""

    def __init__(self) -> None:
        self.shift = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.shift


@dataclass(frozen=True)
class User:
    subject: str
    organization_id: str
    token: str

    @property
    def metadata(self) -> tuple:
        return (("authorization", f"Bearer {self.token}"),)


@dataclass
class Running:
    name: str
    host: object
    channel: grpc.Channel
    app: object

    @property
    def database(self):
        return self.host.deps.database

    def outbox_events(self, message_class: type[Message], organization_id: str = "") -> list:
        type_name = message_class.DESCRIPTOR.full_name
        statement = sa.select(outbox.c.payload).where(outbox.c.event_type == type_name)
        if organization_id:
            statement = statement.where(outbox.c.organization_id == organization_id)
        with self.database.engine.connect() as connection:
            rows = connection.execute(statement.order_by(outbox.c.id)).all()
        return [message_class.FromString(row.payload) for row in rows]

    def count(self, table: str, **where: str) -> int:
        clause = " AND ".join(f"{name} = :{name}" for name in where) or "1 = 1"
        with self.database.engine.connect() as connection:
            return connection.execute(sa.text(f"SELECT count(*) FROM {table} WHERE {clause}"),
                                      where).scalar_one()


@dataclass
class Stack:
    broker: InProcessBroker
    clock: MovableClock
    minter: TokenMinter
    services: dict[str, Running] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Running:
        return self.services[name]

    def user(self, role: str = "manager", organization_id: str | None = None,
             subject: str | None = None) -> User:
        organization_id = organization_id or f"org-{uuid.uuid4().hex[:8]}"
        subject = subject or f"user-{uuid.uuid4().hex[:8]}"
        return User(subject, organization_id,
                    self.minter.mint(roles=(role,), org=organization_id, sub=subject, ttl=3600))

    def deliver(self, event: Message, *, organization_id: str, subject: str,
                event_id: str | None = None, source: str = "test") -> BusMessage:
        """Routes `event` through the broker to every queue bound to its type."""
        message = event_message(event, organization_id=organization_id, subject=subject,
                                event_id=event_id, source=source)
        self.broker.route([message])
        return message


def event_message(event: Message, *, organization_id: str, subject: str,
                  event_id: str | None = None, source: str = "test", sequence: int = 1
                  ) -> BusMessage:
    row = SimpleNamespace(
        event_id=event_id or str(uuid.uuid4()), event_type=event.DESCRIPTOR.full_name,
        occurred_at=datetime.now(UTC), subject=subject, id=sequence,
        organization_id=organization_id, aggregate_type="test", request_id=None,
        payload=event.SerializeToString())
    return message_from_outbox(row, source, None)


def wait_until(condition: Callable[[], object], timeout: float = 30.0, what: str = ""):
    """Polls `condition` until it is truthy (a generous deadline, never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.05)


def fresh_settings(state_dir: Path, postgres_url: str | None, schemas: tuple[str, ...],
                   **overrides) -> Settings:
    """Embedded settings (SQLite per service) or PostgreSQL ones with the services' schemas
    dropped first; quick health probes and a short grace period."""
    if postgres_url:
        engine = sa.create_engine(postgres_url, poolclass=sa.NullPool)
        with engine.begin() as connection:
            for schema in schemas:
                connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()
    return Settings(database_url=postgres_url, state_dir=state_dir,
                    **{"health_probe_interval_seconds": 0.5, "grace_period_seconds": 2,
                       **overrides})


def settings_for(state_dir: Path, postgres_url: str | None, schemas: tuple[str, ...],
                 **overrides) -> Settings:
    """`fresh_settings` with a quick outbox relay and bus retries (stacks of domains)."""
    return fresh_settings(state_dir, postgres_url, schemas, outbox_poll_interval_seconds=0.05,
                          bus_retry_delay_seconds=0.05, bus_retry_max_delay_seconds=0.2,
                          **overrides)


@contextlib.contextmanager
def running_stack(settings: Settings, builds: dict[str, Callable[[ServiceDeps], object]]):
    """Hosts for the named domains (name → `build(deps)`, or None for the domain's own),
    sharing one in-process broker."""
    broker, clock, minter = InProcessBroker(), MovableClock(), TokenMinter()
    verifier = TokenVerifier(StaticKeySource(minter.keys()), issuer=ISSUER, audience=AUDIENCE)
    stack = Stack(broker, clock, minter)
    started = []
    try:
        for name, build in builds.items():
            upgrade(settings, name)
            database = open_database(settings, name)
            deps = ServiceDeps(settings=settings, name=name, database=database, clock=clock)
            domain = build(deps) if build else load_domain(deps)
            host = host_of(deps, domain, verifier, port=0, broker=broker)
            host.start()
            started.append(host)
            channel = grpc.insecure_channel(f"127.0.0.1:{host.port}")
            stack.services[name] = Running(name, host, channel, domain.application)
        yield stack
    finally:
        for running in stack.services.values():
            running.channel.close()
        for host in started:
            host.drain().wait(5)
            host.deps.database.dispose()


def message_class(type_name: str):
    return symbol_database.Default().GetSymbol(type_name)
