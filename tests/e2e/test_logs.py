"""A served call leaves one JSON access-log line with its request id and trace id, and no
token."""

import json

import grpc
import pytest

from tests.support.contract_calls import call, find_rule
from tests.support.net import free_port
from tests.support.processes import VENV_BIN, spawn, stop, wait_for_health

pytestmark = [pytest.mark.e2e]


def test_access_log_line_carries_request_and_trace_ids(tmp_path):
    port = free_port()
    process = spawn([str(VENV_BIN / "pivotal"), "serve", "quotation"],
                    env={"PIVOTAL_STATE_DIR": str(tmp_path),
                         "PIVOTAL_QUOTATION_PORT": str(port)})
    secret_token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNlY3JldA"
    try:
        assert wait_for_health(f"127.0.0.1:{port}", timeout=30), stop(process)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            with pytest.raises(grpc.RpcError):
                call(channel, find_rule("quotation", permission=True).full_method,
                     metadata=(("x-request-id", "log-test-7"),
                               ("authorization", f"Bearer {secret_token}")))
    finally:
        output = stop(process)
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    access = [entry for entry in lines if entry.get("request_id") == "log-test-7"
              and entry.get("message") == "rpc"]
    assert access, output[-2000:]
    assert len(access[0]["trace_id"]) == 32 and access[0]["grpc_code"] == "UNAUTHENTICATED"
    assert secret_token not in output
    assert "c2lnbmF0dXJlLXNlY3JldA" not in output
