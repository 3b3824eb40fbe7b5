"""A real Envoy gateway in front of test upstreams, for tests/gateway/.

Each workload is served by a `TestUpstream`: a gRPC server with the runtime's own
interceptors (request id, error mapping, token verification against the test key), gRPC
health SERVING, and every contract service of the workload answering UNIMPLEMENTED
(reason NOT_IMPLEMENTED), except the methods a test gives a behaviour. It does not load the
domain packages, so these tests keep meaning the same thing as the domains land. Every call
that reaches an upstream is counted, with its metadata.
"""

from __future__ import annotations

import collections
import contextlib
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import jwt
from google.protobuf import message_factory
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from pivotal_gateway.process import EnvoyProcess
from pivotal_gateway.settings import GatewaySettings
from pivotal_runtime import contract
from pivotal_runtime.auth import StaticKeySource, TokenVerifier
from pivotal_runtime.errors import Unimplemented
from pivotal_runtime.interceptors import AuthInterceptor, ErrorInterceptor, RequestIdInterceptor
from pivotal_runtime.settings import SERVICE_NAMES, Settings

from tests.support.net import free_port
from tests.support.tokens import AUDIENCE, ISSUER, TokenMinter

Behavior = Callable[[object, grpc.ServicerContext], object]
GET_JWKS = "/pivotal.identity.v1.KeyService/GetJwks"
LOGIN = "/pivotal.identity.v1.AuthService/Login"


def jwks_of(minter: TokenMinter) -> dict:
    key = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(minter.public_key))
    return {"keys": [{"kty": "RSA", "n": key["n"], "e": key["e"], "kid": minter.kid,
                      "use": "sig", "alg": "RS256"}]}


class _Counter(grpc.ServerInterceptor):
    def __init__(self, upstream: TestUpstream) -> None:
        self.upstream = upstream

    def intercept_service(self, continuation, details):
        metadata = {k: v for k, v in details.invocation_metadata or () if isinstance(v, str)}
        with self.upstream.lock:
            self.upstream.calls[details.method] += 1
            self.upstream.received.append((details.method, metadata))
        return continuation(details)


class TestUpstream:
    __test__ = False

    def __init__(self, workload: str, verifier: TokenVerifier,
                 behaviors: dict[str, Behavior] | None = None,
                 echo_request_id: bool = True) -> None:
        self.workload = workload
        self.behaviors = behaviors or {}
        self.calls: collections.Counter[str] = collections.Counter()
        self.received: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()
        # The runtime echoes x-request-id in the response headers, which opens the response
        # before an error: without the echo an error is a trailers-only response (what the
        # gateway can retry).
        interceptors = [_Counter(self), ErrorInterceptor(workload),
                        AuthInterceptor(verifier, contract.method_rules())]
        if echo_request_id:
            interceptors.insert(1, RequestIdInterceptor())
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=16),
                                  interceptors=interceptors)
        for service in contract.services_of(workload):
            self.server.add_generic_rpc_handlers((self._handler(service),))
        self.health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")

    def _handler(self, service) -> grpc.GenericRpcHandler:
        handlers = {}
        for method in service.methods:
            full = f"/{service.full_name}/{method.name}"

            def not_yet(request, context, full=full):
                raise Unimplemented(f"{full} is not implemented by this test upstream")

            handlers[method.name] = grpc.unary_unary_rpc_method_handler(
                self.behaviors.get(full, not_yet),
                request_deserializer=message_factory.GetMessageClass(method.input_type).FromString,
                response_serializer=message_factory.GetMessageClass(
                    method.output_type).SerializeToString)
        return grpc.method_handlers_generic_handler(service.full_name, handlers)

    def set_serving(self, serving: bool) -> None:
        status = (health_pb2.HealthCheckResponse.SERVING if serving
                  else health_pb2.HealthCheckResponse.NOT_SERVING)
        self.health.set("", status)

    def calls_to(self, full_method: str) -> int:
        with self.lock:
            return self.calls[full_method]

    def total_calls(self) -> int:
        with self.lock:
            return sum(self.calls.values())


def response_class(full_method: str):
    return message_factory.GetMessageClass(contract.method_descriptor(full_method).output_type)


def identity_behaviors(minter: TokenMinter) -> dict[str, Behavior]:
    """The two identity RPCs the gateway itself needs: the JWKS (fetched by Envoy through its
    own listener) and a login answering with a token from the test key."""
    from google.protobuf import json_format

    jwks_response = response_class(GET_JWKS)
    login_response = response_class(LOGIN)

    def get_jwks(request, context):
        return json_format.ParseDict(jwks_of(minter), jwks_response())

    def login(request, context):
        return login_response(access_token=minter.mint(roles=("owner",)), token_type="Bearer",
                              expires_in=600)

    return {GET_JWKS: get_jwks, LOGIN: login}


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class GatewayStack:
    minter: TokenMinter
    upstreams: dict[str, TestUpstream]
    envoy: EnvoyProcess
    log_path: Path
    gateway: GatewaySettings
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway.port}"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.gateway.port}"

    def token(self, **claims) -> str:
        return self.minter.mint(**{"roles": ("owner",), **claims})

    def request(self, method: str, path: str, body=None, *, token: str | None = None,
                headers: dict[str, str] | None = None, timeout: float = 10.0) -> Response:
        return http(method, self.base_url + path, body, token=token, headers=headers,
                    timeout=timeout)

    def access_log(self) -> list[dict]:
        entries = []
        for line in self.log_path.read_text().splitlines():
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    entries.append(json.loads(line))
        return entries


def http(method: str, url: str, body=None, *, token: str | None = None,
         headers: dict[str, str] | None = None, timeout: float = 10.0) -> Response:
    data = None
    all_headers = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        all_headers.setdefault("content-type", "application/json")
    if token:
        all_headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return Response(reply.status, {k.lower(): v for k, v in reply.headers.items()},
                            reply.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, {k.lower(): v for k, v in error.headers.items()},
                        error.read())


@contextlib.contextmanager
def gateway_stack(workdir: Path, behaviors: dict[str, Behavior] | None = None,
                  minter: TokenMinter | None = None, trailers_only: tuple[str, ...] = (),
                  **gateway_overrides):
    """Test upstreams for the five workloads and a real Envoy in front of them."""
    minter = minter or TokenMinter()
    verifier = TokenVerifier(StaticKeySource(minter.keys()), issuer=ISSUER, audience=AUDIENCE)
    all_behaviors = {**identity_behaviors(minter), **(behaviors or {})}
    upstreams = {}
    for workload in SERVICE_NAMES:
        mine = {m: b for m, b in all_behaviors.items()
                if contract.method_rules()[m].workload == workload}
        upstreams[workload] = TestUpstream(workload, verifier, mine,
                                           echo_request_id=workload not in trailers_only)
    settings = Settings(jwt_issuer=ISSUER, jwt_audience=AUDIENCE,
                        **{f"{w}_port": u.port for w, u in upstreams.items()})
    options = {"port": free_port(), "admin_port": free_port(),
               "config_dir": workdir / "gateway", "health_check_interval_seconds": 0.5,
               "drain_seconds": 0,
               "concurrency": 2, **gateway_overrides}
    gateway = GatewaySettings(**options)
    for upstream in upstreams.values():
        upstream.server.start()
    log_path = workdir / "envoy.log"
    with log_path.open("w") as log_file:
        envoy = EnvoyProcess(settings, gateway, output=log_file).start()
        stack = GatewayStack(minter, upstreams, envoy, log_path, gateway)
        try:
            assert envoy.wait_ready(30), log_path.read_text()[-4000:]
            wait_until_ready(stack)
            yield stack
        finally:
            envoy.stop(timeout=10)
            for upstream in upstreams.values():
                upstream.server.stop(0)


def wait_until_ready(stack: GatewayStack, timeout: float = 20.0) -> None:
    """/ready answers 200 once every upstream passed a health check, and the JWKS is in."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if stack.request("GET", "/ready", timeout=2).status == 200:
                break
        time.sleep(0.05)
    else:
        raise AssertionError("gateway never became ready:\n" + stack.log_path.read_text()[-4000:])
    while time.monotonic() < deadline:  # the first JWKS fetch may have met a cold listener
        status = stack.request("GET", "/v1/users/me", token=stack.token()).status
        if status != 401:
            return
        time.sleep(0.1)
    raise AssertionError("gateway never accepted a token:\n" + stack.log_path.read_text()[-4000:])
