"""A service process whose one public RPC takes SLOW_SECONDS (for drain tests).

Run as `python -m tests.support.slow_server <port>`; settings from PIVOTAL_* variables. With
PIVOTAL_WORKERS > 1 it supervises that many workers on the port, as `pivotal serve` does;
each call then answers with its worker's pid in the `x-worker-pid` trailer, and writes a
file named after that pid into SLOW_STARTED_DIR (when set) as it starts.
"""

import os
import sys
import time
import uuid
from pathlib import Path

from pivotal_runtime.auth import StaticKeySource, TokenVerifier
from pivotal_runtime.bootstrap import run_until_signalled
from pivotal_runtime.logs import configure_logging
from pivotal_runtime.server import ServiceDeps, ServiceHost
from pivotal_runtime.settings import load_settings
from pivotal_runtime.workers import Supervisor, worker_count

from tests.support.contract_calls import find_rule, implement
from tests.support.hosts import FakeDatabase

WORKLOAD = "identity"


def main() -> None:
    settings = load_settings()
    configure_logging("INFO")
    rule = find_rule(WORKLOAD, public=True, empty_request_valid=True)
    delay = float(os.environ.get("SLOW_SECONDS", "2"))
    registration = None

    started_dir = os.environ.get("SLOW_STARTED_DIR")

    def slow(request, context):
        if started_dir:
            Path(started_dir, f"{os.getpid()}-{uuid.uuid4().hex}").touch()
        context.set_trailing_metadata((("x-worker-pid", str(os.getpid())),))
        time.sleep(delay)
        return registration.response_class()

    if settings.worker_index is None and worker_count(settings) > 1:
        print(rule.full_method, flush=True)
        command = [sys.executable, "-m", "tests.support.slow_server", *sys.argv[1:]]
        sys.exit(Supervisor(command, worker_count(settings),
                            grace_seconds=settings.grace_period_seconds).run())
    registration = implement(rule, slow)
    deps = ServiceDeps(settings=settings, name=WORKLOAD, database=FakeDatabase())
    verifier = TokenVerifier(StaticKeySource({}), issuer="x", audience="y")
    host = ServiceHost(deps, verifier, port=int(sys.argv[1]), extra_registrations=[registration])
    if settings.worker_index is None:
        print(rule.full_method, flush=True)
    run_until_signalled([host])


if __name__ == "__main__":
    main()
