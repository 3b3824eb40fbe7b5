"""A consumer in a process of its own, for the SIGKILL test.

    python -m tests.bus.consumer_process POSTGRES_URL SCHEMA AMQP_URL QUEUE_PREFIX
"""

from __future__ import annotations

import signal
import sys
import threading

from pivotal_runtime.bus.backoff import Backoff
from pivotal_runtime.bus.consumer import AmqpConsumer
from pivotal_runtime.bus.dispatch import Dispatcher
from pivotal_runtime.bus.topology import Topology
from pivotal_runtime.db import open_database
from pivotal_runtime.settings import Settings

from tests.bus.support import effect_subscription, wait_until


def main(postgres_url: str, schema: str, amqp_url: str, prefix: str) -> None:
    database = open_database(Settings(database_url=postgres_url), schema)
    dispatcher = Dispatcher("billing", database, [effect_subscription()])
    consumer = AmqpConsumer(amqp_url, Topology(prefix), dispatcher, service="billing",
                            prefetch=100, backoff=Backoff(initial=0.1, maximum=1.0))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    consumer.start()
    if wait_until(lambda: consumer.link.up, 20):
        print("consuming", flush=True)
    stop.wait()
    consumer.stop()


if __name__ == "__main__":
    main(*sys.argv[1:5])
