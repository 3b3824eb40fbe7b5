"""Benchmark of the bus on PostgreSQL and RabbitMQ: `pivotal events bench`.

Works in a throwaway schema and under a throwaway queue prefix, with the production code
paths: units of work write `OrganizationCreated` events to the outbox, the relay publishes them
with confirms, and the consumer, in a process of its own as the consuming service would be,
handles them in units of work that insert one row each.

1. backlog drain: N events committed first, then relay + consumer started: the bus's rate.
2. live: writer threads commit one event per transaction while the bus runs.
3. lag: one writer offers a fixed rate; lag is writer commit → consumer commit, per event.
4. ceiling: raw pika publishing with confirms (all in flight) to a quorum queue on the same
   broker.
"""

from __future__ import annotations

import multiprocessing
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection

import pika
import sqlalchemy as sa
from pivotal.identity.v1.events_pb2 import OrganizationCreated
from sqlalchemy import func, select

from pivotal_runtime.bus.amqp import connection_parameters, declare_exchange
from pivotal_runtime.bus.consumer import AmqpConsumer
from pivotal_runtime.bus.dispatch import Dispatcher, Subscription
from pivotal_runtime.bus.envelope import Envelope
from pivotal_runtime.bus.publisher import AmqpPublisher
from pivotal_runtime.bus.relay import OutboxRelay
from pivotal_runtime.bus.topology import Topology
from pivotal_runtime.db import Database, open_database
from pivotal_runtime.outbox import outbox, runtime_metadata
from pivotal_runtime.settings import Settings
from pivotal_runtime.uow import UnitOfWork

POLL_SECONDS = 0.2
effects_metadata = sa.MetaData()
effects = sa.Table(
    "bench_effects", effects_metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("event_id", sa.String(36), nullable=False),
)
insert_effect = effects.insert()


@dataclass(frozen=True)
class BenchReport:
    events: int
    relay_rate: float
    drain_rate: float
    live_rate: float
    live_writers: int
    offered_rate: float
    lag_events: int
    lag_p50_ms: float
    lag_p99_ms: float
    lag_max_ms: float
    raw_rate: float

    def ratio(self, rate: float) -> float:
        return rate / self.raw_rate if self.raw_rate else 0.0

    def lines(self) -> list[str]:
        return [
            f"events per phase               {self.events}",
            (f"relay, backlog published       {self.relay_rate:,.0f} events/s "
             "(claimed, published, confirmed, marked)"),
            (f"sustained, backlog drain       {self.drain_rate:,.0f} events/s "
             "(outbox -> relay -> RabbitMQ -> consumer commit)"),
            (f"sustained, live writers ({self.live_writers})    {self.live_rate:,.0f} events/s "
             "(one event per writer transaction)"),
            (f"lag at {self.offered_rate:g} events/s offered   p50 {self.lag_p50_ms:.1f} ms, "
             f"p99 {self.lag_p99_ms:.1f} ms, max {self.lag_max_ms:.1f} ms "
             f"({self.lag_events} events, writer commit -> consumer commit)"),
            f"raw pika publish + confirms    {self.raw_rate:,.0f} messages/s (ceiling)",
            f"ratio relay / raw              {self.ratio(self.relay_rate):.2f}",
            f"ratio sustained drain / raw    {self.ratio(self.drain_rate):.2f}",
        ]


def consume_in_child(pipe: Connection, database_url: str, schema: str, amqp_url: str,
                     prefix: str, prefetch: int, delivery_limit: int) -> None:
    """The consuming service, in a process of its own as in a deployment; answers the
    parent's `times` (when each event's effect committed) and `stop`."""
    database = open_database(Settings(database_url=database_url), schema)
    committed_at: dict[str, float] = {}

    def handle(uow: UnitOfWork, event: OrganizationCreated, envelope: Envelope) -> None:
        uow.session.connection().execute(insert_effect, {"event_id": envelope.id})
        uow.after_commit(lambda: committed_at.setdefault(envelope.id, time.time()))

    dispatcher = Dispatcher("bench", database, [Subscription(OrganizationCreated, handle)],
                            delivery_limit=delivery_limit)
    consumer = AmqpConsumer(amqp_url, Topology(prefix), dispatcher, service="bench",
                            prefetch=prefetch, delivery_limit=delivery_limit)
    consumer.start()
    pipe.send("ready" if _wait(lambda: consumer.link.up, 20) else "unreachable")
    while (command := pipe.recv()) != "stop":
        if command == "times":
            pipe.send(dict(committed_at))
    consumer.stop()
    database.dispose()
    pipe.send("stopped")


class _Bench:
    def __init__(self, settings: Settings) -> None:
        assert settings.database_url and settings.amqp_url
        self.settings = settings
        self.amqp_url = settings.amqp_url
        token = uuid.uuid4().hex[:10]
        self.schema = f"bench_{token}"
        self.topology = Topology(prefix=f"bench-{token}")
        self.database: Database = open_database(settings, self.schema)
        self.committed_at: dict[str, float] = {}
        self._lock = threading.Lock()

    def setup(self) -> None:
        with self.database.engine.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{self.schema}"')
        runtime_metadata.create_all(self.database.engine)
        effects_metadata.create_all(self.database.engine)
        self.publisher = AmqpPublisher(self.amqp_url, self.topology, service="bench")
        self.relay = OutboxRelay(self.database, self.publisher, service="bench",
                                 batch_size=self.settings.outbox_batch_size,
                                 poll_interval=self.settings.outbox_poll_interval_seconds)
        self._pipe, child_pipe = multiprocessing.Pipe()
        self._consumer = multiprocessing.get_context("spawn").Process(
            target=consume_in_child, name="bench-consumer",
            args=(child_pipe, self.settings.database_url, self.schema, self.amqp_url,
                  self.topology.prefix, self.settings.bus_prefetch,
                  self.settings.bus_delivery_limit))
        self._consumer.start()
        if self._pipe.recv() != "ready":
            raise RuntimeError("the consumer cannot reach RabbitMQ")

    def write(self, count: int, per_transaction: int = 1) -> None:
        for _ in range(0, count, per_transaction):
            with self.database.unit_of_work() as uow:
                ids = [self._stage(uow) for _ in range(per_transaction)]
                uow.commit()
            now = time.time()
            with self._lock:
                for event_id in ids:
                    self.committed_at[event_id] = now

    def _stage(self, uow: UnitOfWork) -> str:
        organization = str(uuid.uuid4())
        return uow.add_event(
            OrganizationCreated(organization_id=organization, display_name="Bench & Co",
                                owner_user_id=str(uuid.uuid4()), owner_email="owner@bench.test",
                                currency_code="EUR", time_zone="Europe/Paris", locale="fr-FR"),
            aggregate_id=organization, organization_id=organization,
        )

    def consumed(self) -> int:
        with self.database.engine.connect() as connection:
            return int(connection.execute(
                sa.select(sa.func.count()).select_from(effects)).scalar_one())

    def wait_consumed(self, total: int, timeout: float) -> None:
        # Polled coarsely so as not to load the machine; the rates come from exact timestamps.
        if not _wait(lambda: self.consumed() >= total, timeout, interval=POLL_SECONDS):
            raise RuntimeError(f"only {self.consumed()} of {total} events consumed in time")

    def last_published_at(self) -> float:
        """When the relay marked the last row published (wall clock)."""
        with self.database.engine.connect() as connection:
            unsent = connection.execute(select(outbox.c.id).where(
                outbox.c.published_at.is_(None)).limit(1)).first()
            last = connection.execute(select(func.max(outbox.c.published_at))).scalar_one()
        return float("inf") if unsent or last is None else last.timestamp()

    def last_consumed_at(self, event_ids: set[str]) -> float:
        """When the consumer committed the last of `event_ids` (wall clock)."""
        committed = self.consumer_commit_times()
        return max(committed[event_id] for event_id in event_ids)

    def consumer_commit_times(self) -> dict[str, float]:
        self._pipe.send("times")
        return self._pipe.recv()

    def start_relay(self) -> None:
        self.publisher.start()
        if not self.publisher.wait_ready(10):
            raise RuntimeError("cannot reach RabbitMQ")
        self.relay.start()

    def stop(self) -> None:
        self.relay.stop()
        self.publisher.stop()
        if self._consumer.is_alive():
            self._pipe.send("stop")
            self._pipe.recv()
            self._consumer.join(10)

    def teardown(self) -> None:
        try:
            self.stop()
            connection = pika.BlockingConnection(connection_parameters(self.amqp_url, "bench"))
            channel = connection.channel()
            for queue in (self.topology.queue("bench"), self.topology.dead_letter_queue("bench"),
                          self.topology.queue("raw")):
                channel.queue_delete(queue)
            for exchange in (self.topology.exchange, self.topology.dead_letter_exchange("bench")):
                channel.exchange_delete(exchange)
            connection.close()
        finally:
            with self.database.engine.begin() as connection:
                connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
            self.database.dispose()


def run_bench(settings: Settings, *, events: int = 20_000, rate: float = 500.0,
              lag_seconds: float = 10.0, writers: int = 4,
              progress: Callable[[str], None] = print) -> BenchReport:
    bench = _Bench(settings)
    bench.setup()
    try:
        progress(f"1/4 writing a backlog of {events} events, then draining it")
        bench.write(events, per_transaction=100)
        backlog = set(bench.committed_at)
        started = time.time()
        bench.start_relay()
        bench.wait_consumed(events, 600)
        relay_rate = events / (bench.last_published_at() - started)
        drain_rate = events / (bench.last_consumed_at(backlog) - started)

        live = writers * (events // writers)
        progress(f"2/4 {writers} writers committing {live} events while the bus runs")
        started = time.time()
        threads = [threading.Thread(target=bench.write, args=(events // writers,))
                   for _ in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        bench.wait_consumed(events + live, 600)
        live_rate = live / (bench.last_consumed_at(set(bench.committed_at) - backlog) - started)

        lag_events = int(rate * lag_seconds)
        progress(f"3/4 offering {rate:g} events/s for {lag_seconds:g}s")
        before = set(bench.committed_at)
        _offer(bench, rate, lag_events)
        bench.wait_consumed(events + live + lag_events, 120)
        consumed_at = bench.consumer_commit_times()
        lags = sorted((consumed_at[i] - bench.committed_at[i]) * 1000
                      for i in bench.committed_at.keys() - before)
        bench.stop()

        progress(f"4/4 raw pika: {events} publishes with confirms")
        raw_rate = raw_publish_rate(bench.amqp_url, bench.topology, events)
    finally:
        bench.teardown()
    cuts = statistics.quantiles(lags, n=100, method="inclusive")
    return BenchReport(events=events, relay_rate=relay_rate, drain_rate=drain_rate,
                       live_rate=live_rate,
                       live_writers=writers, offered_rate=rate, lag_events=len(lags),
                       lag_p50_ms=cuts[49], lag_p99_ms=cuts[98], lag_max_ms=lags[-1],
                       raw_rate=raw_rate)


def _offer(bench: _Bench, rate: float, count: int) -> None:
    """Commits `count` events on a fixed schedule (catching up, never skipping, when late)."""
    start = time.perf_counter()
    for index in range(count):
        delay = start + index / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        bench.write(1)


def raw_publish_rate(url: str, topology: Topology, count: int, body_size: int = 160) -> float:
    """Messages/s of pika's asynchronous connection publishing `count` persistent messages to
    a quorum queue, all in flight, until the broker confirmed the last."""
    setup = pika.BlockingConnection(connection_parameters(url, "bench-raw-setup"))
    channel = setup.channel()
    declare_exchange(channel, topology)
    queue = topology.queue("raw")
    channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(queue, topology.exchange, routing_key="bench.raw")
    setup.close()

    body = b"x" * body_size
    properties = pika.BasicProperties(content_type="application/protobuf", delivery_mode=2)
    timing: dict[str, float] = {}

    def on_channel(channel: pika.channel.Channel) -> None:
        def on_confirm(frame: pika.frame.Method) -> None:
            if frame.method.delivery_tag >= count:
                timing["end"] = time.perf_counter()
                connection.close()

        def publish_all(_frame: object) -> None:
            timing["start"] = time.perf_counter()
            for _ in range(count):
                channel.basic_publish(topology.exchange, "bench.raw", body, properties)

        channel.confirm_delivery(on_confirm, callback=publish_all)

    connection = pika.SelectConnection(
        connection_parameters(url, "bench-raw"),
        on_open_callback=lambda c: c.channel(on_open_callback=on_channel),
        on_close_callback=lambda c, _reason: c.ioloop.stop(),
    )
    connection.ioloop.start()
    return count / (timing["end"] - timing["start"])


def _wait(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False
