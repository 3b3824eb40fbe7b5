"""Broker restarts and killed consumers: every event delivered, every effect applied once.

These restart the real RabbitMQ (`rabbitmqctl stop_app` / `start_app`, one test run at a time on
the machine) and kill a real consumer process with SIGKILL; the broker is left healthy.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest
from pivotal_runtime.bus.backoff import Backoff
from pivotal_runtime.bus.consumer import AmqpConsumer
from pivotal_runtime.bus.dispatch import Dispatcher
from pivotal_runtime.bus.link import LinkState
from pivotal_runtime.bus.publisher import AmqpPublisher
from pivotal_runtime.bus.relay import OutboxRelay
from pivotal_runtime.bus.topology import Topology
from pivotal_runtime.db import Database

from tests.bus.conftest import restart_rabbitmq, wait_for_rabbitmq
from tests.bus.support import (
    effect_counts,
    effect_subscription,
    unpublished,
    wait_until,
    write_events,
)
from tests.support.processes import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]


class StateLog:
    """Records every state a link went through."""

    def __init__(self, *links) -> None:
        self.seen: dict[str, set[LinkState]] = {link.name: set() for link in links}
        for link in links:
            original = link.set

            def record(state: LinkState, reason: str = "", link=link, original=original) -> None:
                self.seen[link.name].add(state)
                original(state, reason)

            link.set = record


def test_a_broker_restart_in_the_middle_of_5000_events_loses_and_repeats_nothing(
    make_database: Callable[[str], Database], topology: Topology, amqp_url: str,
) -> None:
    total = 6_000
    producer, billing = make_database("identity"), make_database("billing")
    reconnect = Backoff(initial=0.2, maximum=1.0)
    publisher = AmqpPublisher(amqp_url, topology, service="identity", confirm_timeout=5,
                              backoff=reconnect)
    consumer = AmqpConsumer(amqp_url, topology,
                            Dispatcher("billing", billing, [effect_subscription()]),
                            service="billing", backoff=Backoff(initial=0.2, maximum=1.0))
    states = StateLog(publisher.link, consumer.link)
    relay = OutboxRelay(producer, publisher, service="identity", batch_size=200,
                        poll_interval=0.05)
    publisher.start()
    consumer.start()
    assert publisher.wait_ready(10) and wait_until(lambda: consumer.link.up, 10)
    relay.start()

    def write_stream() -> None:
        for _ in range(total // 50):
            write_events(producer, 50, per_transaction=10)
            time.sleep(0.01)

    writer = threading.Thread(target=write_stream)
    writer.start()
    try:
        assert wait_until(lambda: effect_counts(billing)[0] >= 1_000, 60)
        assert writer.is_alive(), "the stream ended before the restart: make it longer"
        restart_rabbitmq(down_seconds=1.0)
        writer.join(120)

        assert wait_until(lambda: effect_counts(billing) == (total, total), 120), \
            effect_counts(billing)
        assert unpublished(producer) == 0
        assert LinkState.RECONNECTING in states.seen["relay"]
        assert LinkState.RECONNECTING in states.seen["consumer"]
        assert publisher.link.up and consumer.link.up
        time.sleep(1)
        assert effect_counts(billing) == (total, total)
    finally:
        writer.join(120)
        relay.stop()
        consumer.stop()
        publisher.stop()
        wait_for_rabbitmq(60)


def start_consumer_process(postgres_url: str, billing: Database, amqp_url: str,
                           topology: Topology) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.bus.consumer_process", postgres_url, str(billing.schema),
         amqp_url, topology.prefix],
        cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.strip() == "consuming", line + process.stdout.read()
    return process


def test_a_consumer_killed_mid_stream_loses_and_repeats_nothing_after_restart(
    make_database: Callable[[str], Database], topology: Topology, amqp_url: str,
    postgres_url: str,
) -> None:
    total = 4_000
    producer, billing = make_database("identity"), make_database("billing")
    publisher = AmqpPublisher(amqp_url, topology, service="identity")
    publisher.start()
    assert publisher.wait_ready(10)
    relay = OutboxRelay(producer, publisher, service="identity")
    first = start_consumer_process(postgres_url, billing, amqp_url, topology)
    second = None
    try:
        write_events(producer, total)
        relay.start()
        assert wait_until(lambda: effect_counts(billing)[0] >= 800, 60)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed_at = effect_counts(billing)
        assert killed_at[0] < total, "the stream ended before the kill: make it longer"

        second = start_consumer_process(postgres_url, billing, amqp_url, topology)

        assert wait_until(lambda: effect_counts(billing) == (total, total), 90), \
            effect_counts(billing)
        time.sleep(1)
        assert effect_counts(billing) == (total, total)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(10)
        relay.stop()
        publisher.stop()
