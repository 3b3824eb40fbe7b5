"""identity's key ring under concurrent first calls: a fresh process must never answer
UNAUTHENTICATED because one thread saw the key list before its public keys."""

from __future__ import annotations

import threading
import time

import grpc
import pytest
from pivotal.identity.v1 import user_service_pb2 as user_pb
from pivotal.identity.v1 import user_service_pb2_grpc
from pivotal_identity import service as identity_service
from pivotal_identity.adapters.signing import JwtKeys
from pivotal_identity.application.keys import KeyRing
from pivotal_runtime.bootstrap import build_verifier, host_of
from pivotal_runtime.channels import ChannelFactory
from pivotal_runtime.kit.domain import ServiceDeps

from tests.identity.conftest import (
    PASSWORD,
    bearer,
    fast_identity_settings,
    identity_server,
    settings_for,
)

CALLERS = 24


@pytest.fixture
def running(tmp_path):
    settings = settings_for("sqlite", tmp_path / "state", None)
    with identity_server(settings) as server:
        registered = server.register()
        token = server.login(registered.owner.email, PASSWORD).access_token
        yield server, token


class GatedCrypto(JwtKeys):
    """JwtKeys whose first `public_key` waits until the test opens the gate: it holds the
    loading thread exactly where the old key ring had published its key list but not yet
    the public keys."""

    def __init__(self) -> None:
        self.loading = threading.Event()
        self.gate = threading.Event()

    def public_key(self, jwk: dict):
        self.loading.set()
        self.gate.wait(30)
        return super().public_key(jwk)


def test_calls_during_the_first_load_wait_for_the_keys_instead_of_failing(running):
    server, _token = running
    kid = next(iter(server.app.keyring.published())).id
    crypto = GatedCrypto()
    fresh = KeyRing(server.app.deps, crypto, algorithm="ES256", cache_seconds=60)
    found: list[object] = []
    first = threading.Thread(target=lambda: found.append(fresh.key_for(kid)))
    first.start()
    assert crypto.loading.wait(30)
    others = [threading.Thread(target=lambda: found.append(fresh.key_for(kid)))
              for _ in range(CALLERS)]
    for thread in others:
        thread.start()
    # The old ring answered these at once (with no key); give them the chance to, then let
    # the load finish. The new ring makes them wait for the loaded snapshot.
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and len(found) < CALLERS:
        time.sleep(0.01)
    crypto.gate.set()
    for thread in [first, *others]:
        thread.join(30)
    assert len(found) == CALLERS + 1
    assert all(key is not None for key in found)


def test_many_concurrent_first_calls_on_a_fresh_host_are_all_authenticated(running):
    server, token = running
    deps = ServiceDeps(settings=server.settings, name="identity", database=server.database,
                       channels=ChannelFactory(server.settings))
    domain = identity_service.build(deps, fast_identity_settings())
    host = host_of(deps, domain, build_verifier(server.settings, domain.key_source), port=0)
    host.start()
    start = threading.Barrier(CALLERS)
    codes: list[grpc.StatusCode] = []
    channels = [grpc.insecure_channel(f"127.0.0.1:{host.port}") for _ in range(CALLERS)]

    def get_me(channel: grpc.Channel) -> None:
        grpc.channel_ready_future(channel).result(timeout=30)
        stub = user_service_pb2_grpc.UserServiceStub(channel)
        start.wait(30)
        try:
            stub.GetMe(user_pb.GetMeRequest(), metadata=bearer(token), timeout=30)
            codes.append(grpc.StatusCode.OK)
        except grpc.RpcError as error:
            codes.append(error.code())

    try:
        threads = [threading.Thread(target=get_me, args=(c,)) for c in channels]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        for channel in channels:
            channel.close()
        host.drain().wait(5)
    assert codes == [grpc.StatusCode.OK] * CALLERS
