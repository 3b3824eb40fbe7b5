"""Internal calls as the caller or as this workload.

A call made on behalf of a user forwards the user's token (`for_caller`); a call the workload
makes for itself (an event handler, a job) carries the workload's own service token
(`for_workload`), obtained from a `TokenSource` and cached per organization until
`refresh_margin` before it expires. Other services get their tokens from identity with client
credentials (`ClientCredentialsTokenSource`, identity's IssueServiceToken); identity, which
cannot call itself, signs its own behind the same `TokenSource` interface.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

import grpc

from pivotal_runtime.errors import Unavailable
from pivotal_runtime.kit.caller import Caller

if TYPE_CHECKING:
    from pivotal_runtime.kit.domain import ServiceDeps


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expire_time: datetime


class TokenSource(Protocol):
    def issue(self, organization_id: str) -> IssuedToken: ...


class ClientCredentialsTokenSource:
    """Asks identity's IssueServiceToken with this workload's client id and secret."""

    def __init__(self, channel: Callable[[], grpc.Channel], client_id: str,
                 client_secret: str, clock: Callable[[], datetime], timeout: float = 5.0
                 ) -> None:
        self._channel = channel
        self._client_id = client_id
        self._secret = client_secret
        self._clock = clock
        self._timeout = timeout

    def issue(self, organization_id: str) -> IssuedToken:
        from pivotal.identity.v1 import service_account_service_pb2 as pb
        from pivotal.identity.v1 import service_account_service_pb2_grpc as pb_grpc

        stub = pb_grpc.ServiceAccountServiceStub(self._channel())
        asked = self._clock()
        try:
            answer = stub.IssueServiceToken(pb.IssueServiceTokenRequest(
                client_id=self._client_id, client_secret=self._secret,
                organization_id=organization_id), timeout=self._timeout)
        except grpc.RpcError as error:
            raise Unavailable(f"identity did not issue a service token ({error.code().name}); "
                              "retry later") from None
        return IssuedToken(answer.access_token, asked + timedelta(seconds=answer.expires_in))


class ServiceTokens:
    """The workload's tokens, one per organization, cached until shortly before expiry."""

    def __init__(self, source: TokenSource, clock: Callable[[], datetime],
                 refresh_margin: timedelta = timedelta(seconds=60)) -> None:
        self._source = source
        self._clock = clock
        self._margin = refresh_margin
        self._cache: dict[str, IssuedToken] = {}
        self._lock = threading.Lock()

    def for_workload(self, organization_id: str) -> str:
        with self._lock:
            cached = self._cache.get(organization_id)
            if cached is not None and self._clock() < cached.expire_time - self._margin:
                return cached.access_token
        issued = self._source.issue(organization_id)
        with self._lock:
            self._cache[organization_id] = issued
        return issued.access_token

    @staticmethod
    def for_caller(caller: Caller) -> str:
        return caller.token

    def choose(self, caller: Caller | None, organization_id: str, *, as_workload: bool) -> str:
        """The token of one call: the caller's own, unless the call is made as the workload
        (or there is no caller, as in an event handler or a job)."""
        if caller is not None and caller.token and not as_workload:
            return caller.token
        return self.for_workload(organization_id)


def workload_tokens(deps: ServiceDeps) -> ServiceTokens:
    """This workload's tokens from identity, with `PIVOTAL_WORKLOAD_CLIENT_SECRET` (the client
    id is the workload's name). Nothing is asked until the first call as the workload."""
    settings = deps.settings
    secret = settings.workload_client_secret
    if secret is None or deps.channels is None:
        raise RuntimeError(f"{deps.name}: set PIVOTAL_WORKLOAD_CLIENT_SECRET to call other "
                           "services as this workload")
    channels = deps.channels
    source = ClientCredentialsTokenSource(
        lambda: channels.channel("identity"), deps.name, secret.get_secret_value(), deps.clock,
        settings.default_deadline_seconds)
    return ServiceTokens(source, deps.clock,
                         timedelta(seconds=settings.service_token_refresh_margin_seconds))


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)
