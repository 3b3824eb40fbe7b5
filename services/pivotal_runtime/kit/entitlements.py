"""Billing's CheckEntitlement, asked as this workload (`ServiceTokens.for_workload`).

Billing unreachable, too slow or failing in any way (UNIMPLEMENTED included) answers
UNAVAILABLE: nothing was changed, retry later (fail closed).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import grpc

from pivotal_runtime.errors import ResourceExhausted, Unavailable
from pivotal_runtime.kit.service_tokens import ServiceTokens, bearer

log = logging.getLogger("pivotal.entitlements")


def quota_exceeded(key: str) -> ResourceExhausted:
    return ResourceExhausted(f"the plan's {key} limit is reached", reason="QUOTA_EXCEEDED",
                             metadata={"limit": key})


class EntitlementClient:
    def __init__(self, channel: Callable[[], grpc.Channel], tokens: ServiceTokens,
                 timeout: float) -> None:
        self._channel = channel
        self._tokens = tokens
        self._timeout = timeout

    def check(self, organization_id: str, key: str, current_usage: int, requested: int = 1
              ) -> None:
        """Returns when the plan allows `requested` more of `key`; RESOURCE_EXHAUSTED
        (reason QUOTA_EXCEEDED, metadata `limit`) when it does not."""
        from pivotal.billing.v1 import entitlement_service_pb2 as pb
        from pivotal.billing.v1 import entitlement_service_pb2_grpc as pb_grpc

        stub = pb_grpc.EntitlementServiceStub(self._channel())
        request = pb.CheckEntitlementRequest(organization_id=organization_id, key=key,
                                             requested=requested, current_usage=current_usage)
        try:
            answer = stub.CheckEntitlement(
                request, timeout=self._timeout,
                metadata=bearer(self._tokens.for_workload(organization_id)))
        except grpc.RpcError as error:
            log.warning("billing's CheckEntitlement failed: %s", error.code().name)
            raise Unavailable(f"billing did not answer the {key} check; nothing was changed, "
                              "retry later") from None
        if not answer.allowed:
            raise quota_exceeded(key)
