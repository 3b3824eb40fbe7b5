"""A fake billing EntitlementService.CheckEntitlement on a real gRPC server: allow (the
default), deny or UNIMPLEMENTED; `on_call` runs inside each call (a test looks at the
caller's database while the caller waits for the answer)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent import futures

import grpc
from pivotal.billing.v1 import entitlement_service_pb2
from pivotal_runtime.contract import method_rules

from tests.support.contract_calls import implement


class FakeBilling:
    def __init__(self) -> None:
        self.mode = "allow"
        self.requests: list = []
        self.on_call: Callable[[], None] | None = None
        rule = method_rules()["/pivotal.billing.v1.EntitlementService/CheckEntitlement"]
        self.server = grpc.server(futures.ThreadPoolExecutor(4))
        implement(rule, self._check)(self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def _check(self, request, context):
        self.requests.append((request, dict(context.invocation_metadata())))
        if self.on_call is not None:
            self.on_call()
        if self.mode == "unimplemented":
            context.abort(grpc.StatusCode.UNIMPLEMENTED, "not yet")
        return entitlement_service_pb2.CheckEntitlementResponse(
            allowed=self.mode == "allow", key=request.key, limit=2)

    def stop(self) -> None:
        self.server.stop(0)
