"""Asks billing's CheckEntitlement whether the organization may add users (`max_users`).

UNIMPLEMENTED (billing has not implemented it yet) counts as "no limit" and is logged;
billing unreachable, too slow or failing otherwise answers UNAVAILABLE, changing nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import grpc
from pivotal_runtime.errors import Unavailable

from pivotal_identity.domain import errors

log = logging.getLogger("pivotal.identity.entitlements")
MAX_USERS = "max_users"


class GrpcEntitlementChecker:
    def __init__(self, channel: Callable[[], grpc.Channel],
                 service_token: Callable[[str], str], timeout: float) -> None:
        self._channel = channel
        self._service_token = service_token
        self._timeout = timeout

    def check_users(self, organization_id: str, current_usage: int, requested: int = 1) -> None:
        from pivotal.billing.v1 import entitlement_service_pb2 as pb
        from pivotal.billing.v1 import entitlement_service_pb2_grpc as pb_grpc

        stub = pb_grpc.EntitlementServiceStub(self._channel())
        request = pb.CheckEntitlementRequest(organization_id=organization_id, key=MAX_USERS,
                                             requested=requested, current_usage=current_usage)
        metadata = (("authorization", f"Bearer {self._service_token(organization_id)}"),)
        try:
            answer = stub.CheckEntitlement(request, timeout=self._timeout, metadata=metadata)
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.UNIMPLEMENTED:
                log.info("billing does not implement CheckEntitlement yet; no user limit applied")
                return
            log.warning("billing's CheckEntitlement failed: %s", error.code().name)
            raise Unavailable("billing did not answer the user-limit check; nothing was "
                              "changed, retry later") from None
        if not answer.allowed:
            raise errors.quota_exceeded(MAX_USERS)
