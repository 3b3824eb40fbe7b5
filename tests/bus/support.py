"""Helpers of the bus tests: an effects table, a handler that records effects, event writers."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pika
import sqlalchemy as sa
from pika.spec import BasicProperties
from pivotal.identity.v1.events_pb2 import OrganizationCreated
from pivotal_runtime.bus import Envelope, Subscription
from pivotal_runtime.bus.amqp import declare_exchange
from pivotal_runtime.bus.topology import Topology
from pivotal_runtime.db import Database
from pivotal_runtime.uow import UnitOfWork

effects_metadata = sa.MetaData()
effects = sa.Table(
    "test_effects", effects_metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), sa.Identity(),
              primary_key=True),
    sa.Column("event_id", sa.String(36), nullable=False),
    sa.Column("organization_id", sa.String(100), nullable=False),
    sa.Column("display_name", sa.String(200), nullable=False),
)
EVENT_TYPE = OrganizationCreated.DESCRIPTOR.full_name


def record_effect(uow: UnitOfWork, event: OrganizationCreated, envelope: Envelope) -> None:
    """The handler of the tests: one row per application, deliberately without a unique key,
    so that an event applied twice shows up as two rows."""
    uow.session.execute(effects.insert().values(event_id=envelope.id,
                                                organization_id=event.organization_id,
                                                display_name=event.display_name))


def effect_subscription(handler: Callable[..., None] = record_effect) -> Subscription:
    return Subscription(OrganizationCreated, handler)


def organization_created(name: str = "Acme") -> tuple[OrganizationCreated, str]:
    organization = str(uuid.uuid4())
    return OrganizationCreated(organization_id=organization, display_name=name,
                               owner_user_id=str(uuid.uuid4()), owner_email="owner@acme.test",
                               currency_code="EUR", time_zone="Europe/Berlin",
                               locale="de-DE"), organization


def write_events(database: Database, count: int, *, per_transaction: int = 100,
                 name: str = "Acme") -> list[str]:
    ids: list[str] = []
    for start in range(0, count, per_transaction):
        with database.unit_of_work() as uow:
            for _ in range(min(per_transaction, count - start)):
                event, organization = organization_created(name)
                ids.append(uow.add_event(event, aggregate_id=organization,
                                         organization_id=organization))
            uow.commit()
    return ids


def effect_counts(database: Database) -> tuple[int, int]:
    """(rows, distinct event ids) of the effects table."""
    with database.engine.connect() as connection:
        rows, distinct = connection.execute(
            sa.select(sa.func.count(), sa.func.count(sa.distinct(effects.c.event_id)))
        ).one()
    return int(rows), int(distinct)


def unpublished(database: Database) -> int:
    with database.engine.connect() as connection:
        return int(connection.exec_driver_sql(
            "SELECT count(*) FROM outbox WHERE published_at IS NULL").scalar_one())


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


class Probe:
    """A queue bound to every routing key of the exchange: shows exactly what was published."""

    def __init__(self, amqp_url: str, topology: Topology, name: str = "identity") -> None:
        self.queue = f"{topology.prefix}.probe.{name}"
        self._connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        self._channel = self._connection.channel()
        declare_exchange(self._channel, topology)
        self._channel.queue_declare(self.queue, durable=True)
        self._channel.queue_bind(self.queue, topology.exchange, routing_key="#")

    def take(self, count: int, timeout: float = 10.0) -> list[tuple[str, BasicProperties, bytes]]:
        """Up to `count` messages (routing key, properties, body), waiting up to `timeout`."""
        taken: list[tuple[str, BasicProperties, bytes]] = []
        deadline = time.monotonic() + timeout
        while len(taken) < count and time.monotonic() < deadline:
            method, properties, body = self._channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                self._connection.sleep(0.05)
                continue
            taken.append((method.routing_key, properties, body))
        return taken

    def close(self) -> None:
        if self._connection.is_open:
            self._connection.close()
