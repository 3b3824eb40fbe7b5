"""SIGTERM with calls in flight: they complete, new calls are refused, the process exits
within the grace period."""

import signal
import sys
import threading
import time

import grpc
import pytest

from tests.support.contract_calls import call
from tests.support.net import free_port
from tests.support.processes import spawn, stop, wait_for_health

pytestmark = [pytest.mark.e2e]


def start_slow_server(slow_seconds: float, grace: float):
    port = free_port()
    process = spawn([sys.executable, "-m", "tests.support.slow_server", str(port)],
                    env={"SLOW_SECONDS": str(slow_seconds),
                         "PIVOTAL_GRACE_PERIOD_SECONDS": str(grace)})
    method = process.stdout.readline().strip()
    assert wait_for_health(f"127.0.0.1:{port}"), stop(process)
    return process, port, method


def test_in_flight_calls_complete_and_new_calls_are_refused():
    process, port, method = start_slow_server(slow_seconds=2.0, grace=8.0)
    outcomes = []
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")

    def slow_call():
        try:
            call(channel, method, timeout=10)
            outcomes.append("ok")
        except grpc.RpcError as error:
            outcomes.append(error.code())

    callers = [threading.Thread(target=slow_call) for _ in range(3)]
    for caller in callers:
        caller.start()
    time.sleep(0.7)
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    with grpc.insecure_channel(f"127.0.0.1:{port}") as fresh:
        with pytest.raises(grpc.RpcError) as refused:
            call(fresh, method, timeout=3)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    for caller in callers:
        caller.join(15)
    process.wait(15)
    exited_after = time.monotonic() - sent
    channel.close()
    assert outcomes == ["ok", "ok", "ok"]
    assert process.returncode == 0
    assert exited_after < 8.0


def test_process_exits_within_the_grace_period_even_if_a_call_is_stuck():
    process, port, method = start_slow_server(slow_seconds=60.0, grace=2.0)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    outcome = []

    def stuck_call():
        try:
            call(channel, method, timeout=30)
        except grpc.RpcError as error:
            outcome.append(error.code())

    caller = threading.Thread(target=stuck_call)
    caller.start()
    time.sleep(0.5)
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(20)
    exited_after = time.monotonic() - sent
    caller.join(10)
    channel.close()
    assert exited_after < 2.0 + 1.5, f"took {exited_after:.1f}s"
    assert outcome and outcome[0] in (grpc.StatusCode.CANCELLED, grpc.StatusCode.UNAVAILABLE)
