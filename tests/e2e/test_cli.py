"""`pivotal` as an operator meets it: a second `up` refuses to start, Envoy is supervised,
the state folder is absolute and announced, the admin interface is the owner's, the help."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
from pathlib import Path

import pytest

from tests.support.gateway import http
from tests.support.processes import ROOT, VENV_BIN
from tests.support.up import UpProcess, up_running

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    with up_running(tmp_path_factory.mktemp("cli")) as up:
        yield up


def pivotal(*args: str, env: dict[str, str] | None = None, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([str(VENV_BIN / "pivotal"), *args], cwd=cwd, capture_output=True,
                          check=False, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200", **(env or {})})


def test_a_second_up_on_the_same_ports_refuses_naming_port_and_holder(running, tmp_path):
    # Another state folder, the same ports: the port check stops it.
    second = UpProcess(tmp_path, {**running.env, "PIVOTAL_STATE_DIR": str(tmp_path / "other")})
    assert second.process.wait(60) != 0
    output = second.output()
    port = running.env["PIVOTAL_IDENTITY_PORT"]
    assert f"127.0.0.1:{port} (identity) is in use by pid {running.process.pid}" in output, output
    assert "serving" not in output.lower() and "gateway ready" not in output
    assert running.ready()  # the first one is untouched


def test_a_second_up_on_the_same_state_folder_refuses_naming_the_pid(running, tmp_path):
    second = UpProcess(tmp_path, running.env)
    assert second.process.wait(60) != 0
    assert f"another `pivotal up` (pid {running.process.pid})" in second.output()


def test_a_gateway_on_a_running_ones_configuration_folder_refuses(running, tmp_path):
    from tests.support.net import free_port

    env = {**running.env, "PIVOTAL_GATEWAY_PORT": str(free_port()),
           "PIVOTAL_GATEWAY_ADMIN_PORT": str(free_port())}
    second = UpProcess(tmp_path, env, args=("gateway",))
    assert second.process.wait(60) == 1
    assert "another Envoy answers on" in second.output(), second.output()
    assert running.ready() and http("GET", running.probe_url + "/ready").status == 200


def test_the_absolute_state_folder_is_printed_at_start(running):
    assert f"state folder: {running.env['PIVOTAL_STATE_DIR']}" in running.output()


def test_envoy_killed_outright_is_restarted_and_logged(running):
    pid = int(re.findall(r"Envoy pid (\d+)", running.output())[-1])
    mark = len(running.output())
    os.kill(pid, signal.SIGKILL)
    assert running.wait_for(f"Envoy (pid {pid}) exited unexpectedly with code -9", after=mark), \
        running.output()[mark:]
    assert running.wait_for("Envoy restarted", after=mark), running.output()[mark:]
    running.wait_ready()
    assert int(re.findall(r"Envoy pid (\d+)", running.output())[-1]) != pid


def test_admin_interface_is_an_owner_only_socket_and_the_port_serves_probes_only(running):
    socket_path = Path(running.env["PIVOTAL_GATEWAY_CONFIG_DIR"]) / "admin.sock"
    assert stat.S_IMODE(socket_path.stat().st_mode) == 0o600
    ready = http("GET", running.probe_url + "/ready")
    assert ready.status == 200 and ready.body.strip() == b"LIVE"
    metrics = http("GET", running.probe_url + "/stats/prometheus")
    assert metrics.status == 200 and b"envoy_cluster_upstream_rq" in metrics.body
    for method, path in (("POST", "/quitquitquit"), ("GET", "/config_dump"),
                         ("POST", "/healthcheck/fail"), ("GET", "/clusters")):
        assert http(method, running.probe_url + path, b"" if method == "POST" else None
                    ).status == 404, path
    assert running.ready()


def test_state_folder_does_not_depend_on_the_current_folder(tmp_path):
    clean = {k: v for k, v in os.environ.items() if k != "PIVOTAL_STATE_DIR"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run([str(VENV_BIN / "pivotal"), "migrate", "identity"], cwd=elsewhere,
                            capture_output=True, text=True, timeout=120, check=False,
                            env={**clean, "XDG_DATA_HOME": str(tmp_path / "data")})
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"state folder: {tmp_path / 'data' / 'pivotal-flow'} (PIVOTAL_STATE_DIR)"
    assert re.fullmatch(r"identity: at revision \w+", lines[-1]), lines
    assert not any(line.startswith("{") for line in result.stdout.splitlines() +
                   result.stderr.splitlines()), "migrate mixes JSON and plain lines"
    assert (tmp_path / "data" / "pivotal-flow" / "identity.db").exists()
    assert not (elsewhere / ".state").exists()


def test_version_and_help_name_ports_and_state_without_type_tags():
    version = pivotal("--version")
    assert version.returncode == 0 and re.fullmatch(r"pivotal-flow \S+\n", version.stdout)
    help_text = pivotal("up", "--help").stdout
    for expected in ("8080", "9901", "50051", "PIVOTAL_STATE_DIR", "pivotal-flow",
                     "PIVOTAL_GATEWAY_PORT"):
        assert expected in help_text, expected
    for command in (("up",), ("migrate",), ("events", "bench"), ("events", "dlq", "list")):
        text = pivotal(*command, "--help").stdout
        assert not re.search(r"<(bool|int|float|str|list\[str\])>", text), (command, text)


def test_events_bench_without_settings_says_what_it_needs():
    clean = {k: v for k, v in os.environ.items()
             if k not in ("PIVOTAL_AMQP_URL", "PIVOTAL_DATABASE_URL")}
    result = subprocess.run([str(VENV_BIN / "pivotal"), "events", "bench"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=False,
                            env={**clean, "COLUMNS": "300"})
    assert result.returncode != 0
    message = " ".join((result.stdout + result.stderr).split())
    assert "PIVOTAL_AMQP_URL" in message and "PIVOTAL_DATABASE_URL" in message
    assert "dead letter" not in message


def test_make_run_installs_only_the_runtime_and_says_so():
    def recipe(target: str) -> str:
        result = subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True,
                                text=True, timeout=60, check=False)
        assert result.returncode == 0, result.stderr
        return result.stdout

    run = recipe("run")
    assert "[dev]" not in run, "make run installs the development tools"
    first_pip = run.splitlines().index(next(line for line in run.splitlines() if "pip" in line))
    assert any(line.startswith("echo") for line in run.splitlines()[:first_pip])
    assert "[dev]" in recipe("test")
