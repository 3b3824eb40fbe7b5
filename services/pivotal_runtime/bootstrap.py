"""The one place that builds everything from settings. Nothing connects at import time."""

from __future__ import annotations

import json
import os
import logging
import signal
import threading
from collections.abc import Iterable

from pivotal_runtime.auth import JwksKeySource, KeySource, TokenVerifier
from pivotal_runtime.channels import ChannelFactory
from pivotal_runtime.server import ServiceDeps, ServiceHost
from pivotal_runtime.settings import Settings

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
               channels: ChannelFactory | None = None, port: int | None = None) -> ServiceHost:
    from pivotal_runtime.db import open_database

    channels = channels or ChannelFactory(settings)
    keys = keys or build_key_source(settings, channels)
    deps = ServiceDeps(settings=settings, name=service,
                       database=open_database(settings, service),
                       extras={"channels": channels})
    return ServiceHost(deps, build_verifier(settings, keys), port=port)


def run_until_signalled(hosts: Iterable[ServiceHost]) -> None:
    """Starts the hosts, drains them all on SIGTERM or SIGINT, then ends the process."""
    hosts = list(hosts)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    for host in hosts:
        host.start()
    log.info("ready: %s", ", ".join(f"{h.name}:{h.port}" for h in hosts))
    stop.wait()
    done = [host.drain() for host in hosts]
    for event in done:
        event.wait()
    log.info("stopped")
    # Calls still running after the grace period were cancelled; their threads may still be
    # blocked (for example on a hung database), and must not keep the process alive.
    logging.shutdown()
    os._exit(0)


