"""Every core: several worker processes of one service share its port, all answer, and drain
together on SIGTERM (in-flight calls finish, new calls are refused, the supervisor exits 0)."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time

import grpc
import pytest

from tests.support.contract_calls import call, find_rule
from tests.support.net import free_port
from tests.support.processes import VENV_BIN, spawn, stop, wait_for_health

pytestmark = [pytest.mark.e2e]
WORKERS = 2


def fresh_channel(port: int) -> grpc.Channel:
    """A channel with its own TCP connection (gRPC would otherwise share one per address)."""
    return grpc.insecure_channel(f"127.0.0.1:{port}",
                                 options=[("grpc.use_local_subchannel_pool", 1)])


class Lines:
    """Collects a process's output lines in the background."""

    def __init__(self, process) -> None:
        self.lines: list[str] = []
        threading.Thread(target=self._read, args=(process,), daemon=True).start()

    def _read(self, process) -> None:
        for line in process.stdout:
            self.lines.append(line)

    def access_pids(self) -> set[int]:
        pids = set()
        for line in list(self.lines):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("logger") == "pivotal.access":
                pids.add(entry["pid"])
        return pids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_pivotal_serve_runs_several_workers_on_one_port_and_all_answer(tmp_path):
    # identity in embedded mode: the workers also race to create the generated
    # key-encryption key and the first signing key, and must agree on both.
    port = free_port()
    process = spawn([str(VENV_BIN / "pivotal"), "serve", "identity"],
                    env={"PIVOTAL_WORKERS": str(WORKERS), "PIVOTAL_IDENTITY_PORT": str(port),
                         "PIVOTAL_STATE_DIR": str(tmp_path / "state"),
                         "PIVOTAL_GRACE_PERIOD_SECONDS": "3"})
    output = Lines(process)
    method = "/pivotal.identity.v1.KeyService/GetJwks"
    find_rule("identity", public=True, empty_request_valid=True)  # loads the descriptors
    kids = set()
    try:
        assert wait_for_health(f"127.0.0.1:{port}"), stop(process)
        deadline = time.monotonic() + 60
        codes = set()
        while len(output.access_pids()) < WORKERS and time.monotonic() < deadline:
            with fresh_channel(port) as channel:
                try:
                    reply, _ = call(channel, method)
                    codes.add(grpc.StatusCode.OK)
                    kids |= {key.kid for key in reply.keys}
                except grpc.RpcError as error:
                    codes.add(error.code())
        pids = output.access_pids()
        process.send_signal(signal.SIGTERM)
        process.wait(30)
    finally:
        stop(process)
    assert len(pids) == WORKERS, "".join(output.lines[-30:])
    assert process.pid not in pids  # the supervisor serves nothing itself
    assert codes == {grpc.StatusCode.OK}
    assert len(kids) == 1  # one signing key, whichever worker created it
    assert process.returncode == 0
    assert not any(_alive(pid) for pid in pids)


def test_sigterm_drains_every_worker_in_flight_calls_finish_new_calls_are_refused(tmp_path):
    port = free_port()
    started = tmp_path / "started"
    started.mkdir()
    process = spawn([sys.executable, "-m", "tests.support.slow_server", str(port)],
                    env={"SLOW_SECONDS": "3", "SLOW_STARTED_DIR": str(started),
                         "PIVOTAL_GRACE_PERIOD_SECONDS": "15",
                         "PIVOTAL_WORKERS": str(WORKERS)})
    method = process.stdout.readline().strip()
    # find_rule loads the descriptors
    assert find_rule("identity", public=True, empty_request_valid=True).full_method == method
    output = Lines(process)
    assert wait_for_health(f"127.0.0.1:{port}"), stop(process)
    outcomes: list[object] = []
    channels: list[grpc.Channel] = []

    def slow_call(channel: grpc.Channel) -> None:
        try:
            _, call_info = call(channel, method, timeout=30)
            outcomes.append(int(dict(call_info.trailing_metadata())["x-worker-pid"]))
        except grpc.RpcError as error:
            outcomes.append(error.code())

    def started_pids() -> set[int]:
        return {int(path.name.split("-")[0]) for path in started.iterdir()}

    callers = []
    deadline = time.monotonic() + 60
    # One call per connection until every worker has calls in flight.
    while (len(started_pids()) < WORKERS or len(callers) < 4) and time.monotonic() < deadline:
        channels.append(fresh_channel(port))
        callers.append(threading.Thread(target=slow_call, args=(channels[-1],)))
        callers[-1].start()
        wait_until(lambda: len(list(started.iterdir())) == len(callers), 10)
    workers = started_pids()
    process.send_signal(signal.SIGTERM)
    refused = None
    deadline = time.monotonic() + 10
    while refused is None and time.monotonic() < deadline:
        with fresh_channel(port) as fresh:
            try:
                call(fresh, method, timeout=5)
            except grpc.RpcError as error:
                if error.code() == grpc.StatusCode.UNAVAILABLE:
                    refused = error.code()
    for caller in callers:
        caller.join(30)
    process.wait(30)
    for channel in channels:
        channel.close()
    stop(process)
    assert len(workers) == WORKERS, "".join(output.lines[-30:])
    assert refused == grpc.StatusCode.UNAVAILABLE
    # Every call in flight at SIGTERM finished, on every worker.
    assert len(outcomes) == len(callers)
    assert set(outcomes) == workers
    assert process.returncode == 0
    assert not any(_alive(pid) for pid in workers)


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_an_unset_worker_count_is_one_in_embedded_mode_and_the_cpu_count_in_services_mode():
    from pivotal_runtime.settings import Mode, Settings
    from pivotal_runtime.workers import worker_count

    assert worker_count(Settings(mode=Mode.EMBEDDED)) == 1
    assert worker_count(Settings(mode=Mode.SERVICES)) == (os.cpu_count() or 1)
    assert worker_count(Settings(mode=Mode.SERVICES, workers=3)) == 3
    assert worker_count(Settings(mode=Mode.EMBEDDED, workers=2)) == 2


def test_only_the_first_worker_runs_the_bus_unless_postgresql_and_rabbitmq_share_it():
    from pivotal_runtime.settings import Settings
    from pivotal_runtime.workers import runs_bus

    pg, amqp = "postgresql+psycopg://u@h/db", "amqp://guest:guest@h:5672/%2F"
    assert runs_bus(Settings())  # a single process
    assert runs_bus(Settings(worker_index=0))
    assert not runs_bus(Settings(worker_index=1))  # SQLite, in-process bus
    assert not runs_bus(Settings(worker_index=1, database_url=pg))  # in-process bus
    assert runs_bus(Settings(worker_index=1, database_url=pg, amqp_url=amqp))


def test_a_worker_that_loses_the_race_for_the_key_encryption_key_uses_the_winners(
        tmp_path, monkeypatch):
    from pivotal_identity.adapters import crypto

    path = tmp_path / "identity" / "key-encryption.key"
    path.parent.mkdir()
    path.write_text("the-first-workers-key")
    # This worker looked before the other one wrote it:
    real_exists = crypto.Path.exists
    monkeypatch.setattr(crypto.Path, "exists", lambda self: False if self == path
                        else real_exists(self))
    assert crypto.key_encryption_key(None, tmp_path, True) == "the-first-workers-key"
    assert [p.name for p in path.parent.iterdir()] == ["key-encryption.key"]


def test_workers_stop_when_their_supervisor_is_killed_outright():
    from pivotal_bench.measure import process_tree

    port = free_port()
    process = spawn([sys.executable, "-m", "tests.support.slow_server", str(port)],
                    env={"PIVOTAL_WORKERS": str(WORKERS)})
    process.stdout.readline()
    assert wait_for_health(f"127.0.0.1:{port}"), stop(process)
    workers = process_tree(process.pid)[1:]
    process.kill()
    process.wait(10)
    assert len(workers) == WORKERS
    assert wait_until(lambda: not any(_alive(pid) for pid in workers), 30)
