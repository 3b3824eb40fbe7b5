"""Server bootstrap: one gRPC server per service with health (real state), reflection,
interceptors and a graceful drain."""

from __future__ import annotations

import logging
import os
import threading
from concurrent import futures
from typing import Protocol

import grpc
from google.protobuf import message_factory
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry.instrumentation.grpc import server_interceptor as otel_server_interceptor

from pivotal_runtime import contract
from pivotal_runtime.auth import TokenVerifier
from pivotal_runtime.decoding import DecodingInterceptor
from pivotal_runtime.errors import Unimplemented
from pivotal_runtime.interceptors import (
    AccessLogInterceptor,
    AuthInterceptor,
    ErrorInterceptor,
    RequestIdInterceptor,
)
from pivotal_runtime.kit.domain import Domain, ServiceDeps
from pivotal_runtime.kit.jobs import JobRunner
from pivotal_runtime.settings import Settings
from pivotal_runtime.validation import ValidationInterceptor

log = logging.getLogger("pivotal.server")
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class Pingable(Protocol):
    def ping(self) -> bool: ...


class Bus(Protocol):
    """The service's event bus (`pivotal_runtime.bus.service_bus.ServiceBus`)."""

    def start(self) -> None: ...

    def stop(self, timeout: float = 5.0) -> None: ...

    def healthy(self) -> bool: ...


# Health entry of the event bus: SERVING while the relay's and the consumer's connections are
# up. The overall status does not follow it: the outbox keeps events while the broker is away.
BUS_HEALTH_SERVICE = "pivotal.bus"
# SERVING while the process serves, whatever its dependencies: what a liveness probe asks
# (a database outage must make a pod unready, not restart it).
LIVENESS_SERVICE = "pivotal.liveness"


def _unimplemented_handler(service) -> grpc.GenericRpcHandler:
    handlers = {}
    for method in service.methods:
        request_class = message_factory.GetMessageClass(method.input_type)
        response_class = message_factory.GetMessageClass(method.output_type)
        full = f"{service.full_name}/{method.name}"

        def not_yet(request, context, full=full):
            raise Unimplemented(
                f"{full} is part of the contract but not implemented yet by this release"
            )

        handlers[method.name] = grpc.unary_unary_rpc_method_handler(
            not_yet,
            request_deserializer=request_class.FromString,
            response_serializer=response_class.SerializeToString,
        )
    return grpc.method_handlers_generic_handler(service.full_name, handlers)


def server_options(settings: Settings) -> list[tuple[str, int]]:
    """The gRPC server options of every service (also used by `pivotal bench`'s no-op)."""
    return [
        ("grpc.keepalive_time_ms", 60_000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ("grpc.max_connection_age_ms", 30 * 60_000),
        ("grpc.max_connection_age_grace_ms", int(settings.grace_period_seconds * 1000)),
        # Workers of one service share its port; a lone process refuses a taken port.
        ("grpc.so_reuseport", 0 if settings.worker_index is None else 1),
    ]


class ServiceHost:
    """One service's gRPC server and its lifecycle: start, health, drain, stop."""

    def __init__(
        self,
        deps: ServiceDeps,
        verifier: TokenVerifier,
        *,
        port: int | None = None,
        domain: Domain | None = None,
        extra_registrations: list = (),
        bus: Bus | None = None,
        jobs: JobRunner | None = None,
    ) -> None:
        # `extra_registrations`: servicers of tests standing in for a domain.
        settings = deps.settings
        self.deps = deps
        self.name = deps.name
        self.bus = bus
        self.jobs = jobs
        self.domain = domain or Domain()
        self._grace = settings.grace_period_seconds
        self._probe_interval = settings.health_probe_interval_seconds
        self._draining = threading.Event()
        self._stopped = threading.Event()
        self._implemented: set[str] = set()
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=settings.max_workers,
                                       thread_name_prefix=f"{self.name}-rpc"),
            interceptors=[
                otel_server_interceptor(),
                RequestIdInterceptor(),
                AccessLogInterceptor(),
                ErrorInterceptor(self.name),
                DecodingInterceptor(),  # before anything reads the request
                AuthInterceptor(verifier, contract.method_rules()),
                ValidationInterceptor(self._implemented),
            ],
            options=server_options(settings),
        )
        registered: set[str] = set()
        for add in [*self.domain.registrations, *extra_registrations]:
            registered |= set(add(self.server) or ())
        self._implemented |= registered
        self.service_names = [s.full_name for s in contract.services_of(self.name)]
        for service in contract.services_of(self.name):
            if service.full_name not in registered:
                self.server.add_generic_rpc_handlers((_unimplemented_handler(service),))
        self.health = health.HealthServicer(experimental_non_blocking=True)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            [*self.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], self.server
        )
        bind = f"{settings.host}:{port if port is not None else settings.port_of(self.name)}"
        self.port = self.server.add_insecure_port(bind)
        self._set_health(NOT_SERVING)
        self.health.set(LIVENESS_SERVICE, SERVING)
        if bus is not None:
            self.health.set(BUS_HEALTH_SERVICE, NOT_SERVING)

    def _set_health(self, status) -> None:
        for name in ("", *self.service_names):
            self.health.set(name, status)

    def start(self) -> None:
        self.server.start()
        if self.bus is not None:
            self.bus.start()
        if self.jobs is not None:
            self.jobs.start()
        self._refresh_health()
        threading.Thread(target=self._watch_database, name=f"{self.name}-health",
                         daemon=True).start()
        log.info("%s serving on port %s (process %d, worker %s)", self.name, self.port,
                 os.getpid(), self.deps.settings.worker_index)

    def _refresh_health(self) -> bool:
        healthy = self.deps.database.ping()
        if not self._draining.is_set():
            self._set_health(SERVING if healthy else NOT_SERVING)
            if self.bus is not None:
                self.health.set(BUS_HEALTH_SERVICE,
                                SERVING if self.bus.healthy() else NOT_SERVING)
        return healthy

    def _watch_database(self) -> None:
        was_healthy = True
        while not self._stopped.wait(self._probe_interval):
            healthy = self._refresh_health()
            if healthy != was_healthy:
                log.warning("%s database %s", self.name, "is back" if healthy else "unreachable")
                was_healthy = healthy

    def drain(self) -> threading.Event:
        """Reports NOT_SERVING, refuses new calls, lets in-flight calls finish within grace."""
        self._draining.set()
        self.health.enter_graceful_shutdown()
        log.info("%s draining (grace %.1fs)", self.name, self._grace)
        done = self.server.stop(self._grace)
        self._stopped.set()
        if self.jobs is not None:
            self.jobs.stop()
        if self.bus is None:
            return done
        bus, finished = self.bus, threading.Event()

        def stop_bus_after_calls() -> None:
            done.wait()
            bus.stop()
            finished.set()

        threading.Thread(target=stop_bus_after_calls, name=f"{self.name}-bus-stop",
                         daemon=True).start()
        return finished

    def wait(self) -> None:
        self.server.wait_for_termination()
