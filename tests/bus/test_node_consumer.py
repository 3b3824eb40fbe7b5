"""A consumer in another language decodes the events: Node.js with protobufjs and amqplib."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from pivotal_runtime.bus.publisher import AmqpPublisher
from pivotal_runtime.bus.relay import OutboxRelay
from pivotal_runtime.bus.topology import Topology
from pivotal_runtime.db import Database

from tests.bus.support import EVENT_TYPE, organization_created
from tests.support.processes import ROOT

pytestmark = pytest.mark.integration
CONSUMER = Path(__file__).parent / "node_consumer"


@pytest.fixture(scope="module")
def node() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("Node.js and npm are needed (apt-get install nodejs npm)", pytrace=False)
    if not (CONSUMER / "node_modules").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=CONSUMER, check=True,
                       capture_output=True, timeout=300)
    return node


def test_a_node_consumer_decodes_an_event_published_by_the_relay(
    node: str, make_database: Callable[[str], Database], topology: Topology, amqp_url: str,
) -> None:
    producer = make_database("identity")
    publisher = AmqpPublisher(amqp_url, topology, service="identity")
    publisher.start()
    consumer = subprocess.Popen(
        [node, "consume.mjs", amqp_url, topology.exchange, EVENT_TYPE, str(ROOT)],
        cwd=CONSUMER, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert consumer.stdout is not None
        assert consumer.stdout.readline().strip() == "READY", consumer.stderr.read()
        event, organization = organization_created("Nodeworks GmbH")
        with producer.unit_of_work() as uow:
            event_id = uow.add_event(event, aggregate_id=organization,
                                     organization_id=organization)
            uow.commit()
        assert publisher.wait_ready(10)
        assert OutboxRelay(producer, publisher, service="identity").run_once() == 1
        output, errors = consumer.communicate(timeout=30)
    finally:
        if consumer.poll() is None:
            consumer.kill()
        publisher.stop()

    assert consumer.returncode == 0, errors
    printed = json.loads(output.strip().splitlines()[-1])
    assert printed["routingKey"] == EVENT_TYPE
    assert printed["contentType"] == "application/protobuf"
    assert printed["cloudEvents"]["id"] == event_id
    assert printed["cloudEvents"]["type"] == EVENT_TYPE
    assert printed["cloudEvents"]["source"] == "/pivotal/identity"
    assert printed["cloudEvents"]["subject"] == organization
    assert printed["fields"]["organization_id"] == organization
    assert printed["fields"]["display_name"] == "Nodeworks GmbH"
    assert printed["fields"]["currency_code"] == "EUR"
    assert printed["fields"]["time_zone"] == "Europe/Berlin"
