"""Starts a real ServiceHost in the test process (fake or real database behind it)."""

from __future__ import annotations

import contextlib

import grpc
from pivotal_runtime.auth import StaticKeySource, TokenVerifier
from pivotal_runtime.server import ServiceDeps, ServiceHost
from pivotal_runtime.settings import Settings

from tests.support.tokens import AUDIENCE, ISSUER


class FakeDatabase:
    """A database whose reachability the test controls (unit-level health tests)."""

    def __init__(self, healthy: bool = True) -> None:
        self.healthy = healthy

    def ping(self) -> bool:
        return self.healthy


@contextlib.contextmanager
def running_host(service: str, keys: dict, *, database=None, settings: Settings | None = None,
                 extra_registrations=()):
    settings = settings or Settings(health_probe_interval_seconds=0.2, grace_period_seconds=2)
    deps = ServiceDeps(settings=settings, name=service, database=database or FakeDatabase())
    verifier = TokenVerifier(StaticKeySource(keys), issuer=ISSUER, audience=AUDIENCE)
    host = ServiceHost(deps, verifier, port=0, extra_registrations=list(extra_registrations))
    host.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{host.port}")
    try:
        yield host, channel
    finally:
        channel.close()
        host.drain().wait(5)


@contextlib.contextmanager
def served(host: ServiceHost):
    """Starts `host`, yields a channel to it; closes the channel and drains the host after."""
    host.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{host.port}")
    try:
        yield channel
    finally:
        channel.close()
        host.drain().wait(5)
