"""Health follows the real PostgreSQL: NOT_SERVING while it is unreachable (the network path
is cut by a proxy), SERVING again when it is back, and the service keeps running."""

import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from pivotal_runtime.db import open_database
from pivotal_runtime.settings import Settings
from tests.support.contract_calls import call, find_rule
from tests.support.hosts import running_host
from tests.support.net import TcpProxy

pytestmark = [pytest.mark.integration]
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def wait_for_status(stub, service, expected, seconds=15.0):
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        last = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=2).status
        if last == expected:
            return
        time.sleep(0.1)
    raise AssertionError(f"health stayed {last}, expected {expected}")


def test_health_tracks_postgres_reachability(postgres_url, tmp_path):
    proxy = TcpProxy("127.0.0.1", 5432).start()
    through_proxy = postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    settings = Settings(database_url=through_proxy, state_dir=tmp_path,
                        health_probe_interval_seconds=0.2, grace_period_seconds=2)
    database = open_database(settings, "quotation")
    try:
        with running_host("quotation", {}, database=database, settings=settings) as (host, channel):
            stub = health_pb2_grpc.HealthStub(channel)
            service = host.service_names[0]
            wait_for_status(stub, "", SERVING)
            wait_for_status(stub, service, SERVING)

            proxy.cut()
            wait_for_status(stub, "", NOT_SERVING)
            wait_for_status(stub, service, NOT_SERVING)
            # Still alive and answering RPCs (auth comes first, then the handler).
            with pytest.raises(grpc.RpcError) as error:
                call(channel, find_rule("quotation", permission=True).full_method)
            assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED

            proxy.restore()
            wait_for_status(stub, "", SERVING)
            wait_for_status(stub, service, SERVING)
    finally:
        proxy.stop()
        database.dispose()
