"""The one place that builds everything from settings. Nothing connects at import time."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from pivotal_runtime.auth import JwksKeySource, KeySource, TokenVerifier
from pivotal_runtime.channels import ChannelFactory
from pivotal_runtime.kit.domain import Domain, ServiceDeps, load_domain
from pivotal_runtime.kit.jobs import JobRunner
from pivotal_runtime.server import ServiceHost
from pivotal_runtime.settings import Settings

if TYPE_CHECKING:
    from pivotal_runtime.bus.memory import InProcessBroker

log = logging.getLogger("pivotal.bootstrap")


def build_key_source(settings: Settings, channels: ChannelFactory) -> KeySource:
    """The identity service's signing keys: from a mounted JWKS file, or fetched from identity."""
    if settings.jwks_file:
        document = json.loads(settings.jwks_file.read_text())
        return JwksKeySource(lambda: document, min_refresh_interval=float("inf"))
    from pivotal_runtime.jwks import fetch_jwks_over_grpc

    return JwksKeySource(
        lambda: fetch_jwks_over_grpc(channels.channel("identity")),
        min_refresh_interval=settings.jwks_refresh_min_interval_seconds,
    )


def build_verifier(settings: Settings, keys: KeySource) -> TokenVerifier:
    return TokenVerifier(keys, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                         leeway=settings.jwt_leeway_seconds)


def build_host(settings: Settings, service: str, *, keys: KeySource | None = None,
               channels: ChannelFactory | None = None, port: int | None = None,
               broker: InProcessBroker | None = None) -> ServiceHost:
    """One service host; `broker` is the in-process bus to share when there is no AMQP URL."""
    from pivotal_runtime.db import open_database

    channels = channels or ChannelFactory(settings)
    database = open_database(settings, service)
    deps = ServiceDeps(settings=settings, name=service, database=database, channels=channels)
    domain = load_domain(deps)
    keys = keys or domain.key_source or build_key_source(settings, channels)
    return host_of(deps, domain, build_verifier(settings, keys), port=port, broker=broker)


def host_of(deps: ServiceDeps, domain: Domain, verifier: TokenVerifier, *,
            port: int | None = None, broker: InProcessBroker | None = None) -> ServiceHost:
    """The host serving `domain`: its servicers, its event bus, its job runner."""
    from pivotal_runtime.bus.service_bus import build_service_bus

    bus = build_service_bus(deps.settings, deps.name, deps.database, domain.subscriptions,
                            broker=broker, unit_of_work=domain.unit_of_work)
    jobs = JobRunner(deps.database, domain.jobs, clock=deps.clock) if domain.jobs else None
    return ServiceHost(deps, verifier, domain=domain, port=port, bus=bus, jobs=jobs)


def build_hosts(settings: Settings, services: Iterable[str]) -> list[ServiceHost]:
    """Hosts that share one process, and so one in-process bus when there is no broker."""
    from pivotal_runtime.bus.memory import InProcessBroker

    broker = None if settings.amqp_url else InProcessBroker()
    return [build_host(settings, service, broker=broker) for service in services]


def run_until_signalled(hosts: Iterable[ServiceHost], companions: Iterable = ()) -> None:
    """Starts the hosts, drains them all on SIGTERM or SIGINT, then ends the process.

    `companions` (the Envoy gateway of `pivotal up`) have `start()` and `stop()`: they start
    once the hosts serve and stop first, so that no new request reaches a draining host.
    """
    hosts, companions = list(hosts), list(companions)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    for host in hosts:
        host.start()
    exit_code = 0
    try:
        for companion in companions:
            companion.start()
    except Exception:
        log.exception("start-up failed; stopping")
        exit_code = 1
        stop.set()
    log.info("ready: %s", ", ".join(f"{h.name}:{h.port}" for h in hosts))
    stop.wait()
    for companion in reversed(companions):
        companion.stop()
    done = [host.drain() for host in hosts]
    for event in done:
        event.wait()
    log.info("stopped")
    # Calls still running after the grace period were cancelled; their threads may still be
    # blocked (for example on a hung database), and must not keep the process alive.
    logging.shutdown()
    os._exit(exit_code)


