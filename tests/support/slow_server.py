"""A service process whose one public RPC takes SLOW_SECONDS (for drain tests).

Run as `python -m tests.support.slow_server <port>`; settings from PIVOTAL_* variables.
"""

import os
import sys
import time

from pivotal_runtime.auth import StaticKeySource, TokenVerifier
from pivotal_runtime.bootstrap import run_until_signalled
from pivotal_runtime.logs import configure_logging
from pivotal_runtime.server import ServiceDeps, ServiceHost
from pivotal_runtime.settings import load_settings

from tests.support.contract_calls import find_rule, implement
from tests.support.hosts import FakeDatabase

WORKLOAD = "identity"


def main() -> None:
    settings = load_settings()
    configure_logging("INFO")
    rule = find_rule(WORKLOAD, public=True, empty_request_valid=True)
    delay = float(os.environ.get("SLOW_SECONDS", "2"))
    registration = None

    def slow(request, context):
        time.sleep(delay)
        return registration.response_class()

    registration = implement(rule, slow)
    deps = ServiceDeps(settings=settings, name=WORKLOAD, database=FakeDatabase())
    verifier = TokenVerifier(StaticKeySource({}), issuer="x", audience="y")
    host = ServiceHost(deps, verifier, port=int(sys.argv[1]), extra_registrations=[registration])
    print(rule.full_method, flush=True)
    run_until_signalled([host])


if __name__ == "__main__":
    main()
