"""Feeds a process's `RevocationView` (pivotal_runtime.revocation) from identity.

Two paths, so that a revocation reaches every process of every service within seconds:
- the bus: identity's `AccessRevoked` events. Every PROCESS must see every revocation, so this
  is not the service's shared queue (where competing replicas each see only some events):
  with RabbitMQ each process binds its own exclusive, auto-delete, server-named queue to the
  event's routing key; with the in-process bus each host declares its own queue.
- a pull: identity's internal `KeyService.ListRevocations`, at start and every
  `revocation_pull_interval_seconds`, with this workload's service token; the backstop when
  the broker is away, and what a process that starts late catches up with.
docs/security.md ("Revocation") states the resulting worst-case delay.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pivotal_runtime.bus.backoff import Backoff
from pivotal_runtime.revocation import Revocation, RevocationCheck, RevocationView, Scope

if TYPE_CHECKING:
    from pivotal_runtime.bus.memory import InProcessBroker
    from pivotal_runtime.channels import ChannelFactory
    from pivotal_runtime.settings import Settings

log = logging.getLogger("pivotal.revocation")
EVENT_TYPE = "pivotal.identity.v1.AccessRevoked"
SCOPE_PREFIX = "ACCESS_REVOCATION_SCOPE_"
# Each pull asks from the previous answer's read time minus this (clock steps, commits that
# landed while identity read): entries are idempotent, so overlap costs nothing.
PULL_OVERLAP_SECONDS = 5.0

Apply = Callable[[Iterable[Revocation]], None]


def revocation_of(event) -> Revocation | None:
    """The view entry of an `AccessRevoked` message (None for a scope it does not know)."""
    from pivotal.identity.v1 import events_pb2

    name = events_pb2.AccessRevocationScope.Name(event.scope) \
        if event.scope in events_pb2.AccessRevocationScope.values() else ""
    try:
        scope = Scope(name.removeprefix(SCOPE_PREFIX).lower())
    except ValueError:
        return None
    if not event.key:
        return None
    return Revocation(scope, event.key, event.revoke_time.ToMilliseconds() / 1000, event.reason)


def _decoded(bodies: Iterable[bytes]) -> list[Revocation]:
    from google.protobuf.message import DecodeError
    from pivotal.identity.v1 import events_pb2

    found = []
    for body in bodies:
        try:
            revocation = revocation_of(events_pb2.AccessRevoked.FromString(body))
        except DecodeError:
            log.warning("an undecodable %s was ignored", EVENT_TYPE)
            continue
        if revocation is not None:
            found.append(revocation)
    return found


class IdentityPuller:
    """`ListRevocations` over gRPC with the workload's service token."""

    def __init__(self, channel: Callable[[], object], token: Callable[[], str],
                 timeout: float = 3.0) -> None:
        self._channel = channel
        self._token = token
        self._timeout = timeout

    def __call__(self, since: datetime | None) -> tuple[list[Revocation], datetime]:
        from google.protobuf.timestamp_pb2 import Timestamp
        from pivotal.identity.v1 import key_service_pb2, key_service_pb2_grpc

        request = key_service_pb2.ListRevocationsRequest()
        if since is not None:
            stamp = Timestamp()
            stamp.FromDatetime(since)
            request.since.CopyFrom(stamp)
        answer = key_service_pb2_grpc.KeyServiceStub(self._channel()).ListRevocations(
            request, metadata=(("authorization", f"Bearer {self._token()}"),),
            timeout=self._timeout)
        revocations = [r for r in map(revocation_of, answer.revocations) if r is not None]
        return revocations, answer.read_time.ToDatetime(tzinfo=UTC)


Pull = Callable[[datetime | None], tuple[list[Revocation], datetime]]


class PeriodicPull:
    """Pulls at start, then every `interval` seconds (and on `nudge`, after a reconnect)."""

    def __init__(self, pull: Pull, apply: Apply, *, interval: float, name: str) -> None:
        self._pull = pull
        self._apply = apply
        self._interval = interval
        self._name = name
        self._since: datetime | None = None
        self._stop = threading.Event()
        self._nudged = threading.Event()
        self._failing = False
        self.pulled = threading.Event()  # set after the first successful pull (tests wait)

    def start(self) -> None:
        threading.Thread(target=self._run, name=f"{self._name}-revocations-pull",
                         daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        self._nudged.set()

    def nudge(self) -> None:
        self._nudged.set()

    def pull_once(self) -> None:
        revocations, read_time = self._pull(self._since)
        self._apply(revocations)
        self._since = read_time - timedelta(seconds=PULL_OVERLAP_SECONDS)
        self.pulled.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.pull_once()
                if self._failing:
                    log.info("%s: revocations pulled from identity again", self._name)
                self._failing = False
            except Exception as error:  # noqa: BLE001 - identity away: keep the view, retry
                if not self._failing:
                    log.warning("%s: cannot pull revocations from identity (%s); retrying "
                                "every %.1fs", self._name, type(error).__name__, self._interval)
                self._failing = True
            self._nudged.wait(self._interval)
            self._nudged.clear()


class InProcessListener:
    """AccessRevoked from the in-process bus: a queue of this host's own."""

    def __init__(self, broker: InProcessBroker, service: str, apply: Apply) -> None:
        self._queue = broker.declare_queue(f"{service}.revocations.{uuid.uuid4().hex[:8]}",
                                           [EVENT_TYPE], delivery_limit=1)
        self._apply = apply
        self._name = service
        self._stop = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._run, name=f"{self._name}-revocations",
                         daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            batch = self._queue.take(512, 0.2)
            if batch:
                self._apply(_decoded(d.message.body for d in batch))
                for delivery in batch:
                    self._queue.ack(delivery.tag)


class AmqpListener:
    """AccessRevoked from RabbitMQ: a per-process exclusive, auto-delete queue bound to the
    event's routing key; reconnects with back-off and asks for a pull after each reconnect
    (events published while it was away never reached its queue)."""

    def __init__(self, url: str, service: str, apply: Apply, *,
                 on_reconnect: Callable[[], None], max_delay: float,
                 exchange: str = "pivotal.events") -> None:
        self._url = url
        self._service = service
        self._apply = apply
        self._on_reconnect = on_reconnect
        self._exchange = exchange
        self._backoff = Backoff(initial=0.2, maximum=max_delay)
        self._stop = threading.Event()
        self._connection = None
        self.bound = threading.Event()  # set while its queue is bound (tests wait)

    def start(self) -> None:
        threading.Thread(target=self._run, name=f"{self._service}-revocations",
                         daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        connection = self._connection
        if connection is not None:
            with contextlib.suppress(Exception):  # already closed
                connection.add_callback_threadsafe(connection.close)

    def _run(self) -> None:
        import pika

        from pivotal_runtime.bus.amqp import connection_parameters

        first = True
        while not self._stop.is_set():
            try:
                self._connection = pika.BlockingConnection(connection_parameters(
                    self._url, f"{self._service} revocations"))
                channel = self._connection.channel()
                channel.exchange_declare(self._exchange, exchange_type="topic", durable=True)
                queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
                channel.queue_bind(queue, self._exchange, routing_key=EVENT_TYPE)
                channel.basic_consume(queue, self._received, auto_ack=True)
                self.bound.set()
                self._backoff.reset()
                if not first:
                    self._on_reconnect()
                first = False
                channel.start_consuming()
            except Exception as error:  # noqa: BLE001 - broker away: retry, the pull covers
                if not self._stop.is_set():
                    log.warning("%s: revocation events unavailable (%s); reconnecting",
                                self._service, type(error).__name__)
            finally:
                self.bound.clear()
                self._close()
            if self._backoff.wait(self._stop):
                return

    def _received(self, _channel, _method, _properties, body: bytes) -> None:
        self._apply(_decoded([body]))

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and connection.is_open:
            with contextlib.suppress(Exception):  # closing a broken connection
                connection.close()


class RevocationFeed:
    """A process's revocation view with what feeds it; `check` goes to the auth interceptor."""

    def __init__(self, view: RevocationView, *, pull: PeriodicPull | None = None,
                 listener: InProcessListener | AmqpListener | None = None) -> None:
        self.view = view
        self.check = RevocationCheck(view)
        self.pull = pull
        self.listener = listener

    def start(self) -> None:
        if self.listener is not None:
            self.listener.start()
        if self.pull is not None:
            self.pull.start()

    def stop(self) -> None:
        if self.listener is not None:
            self.listener.stop()
        if self.pull is not None:
            self.pull.stop()


def build_revocation_feed(settings: Settings, service: str, *,
                          broker: InProcessBroker | None,
                          channels: ChannelFactory | None,
                          clock: Callable[[], datetime]) -> RevocationFeed:
    """The feed of a service other than identity: the bus (RabbitMQ when `amqp_url` is set,
    else `broker`), and the pull when the workload has a client secret for its token."""
    import time

    view = RevocationView(retention_seconds=settings.revocation_retention_seconds,
                          clock=time.time)
    pull = None
    if settings.workload_client_secret is not None and channels is not None:
        from pivotal_runtime.kit.service_tokens import (
            ClientCredentialsTokenSource,
            ServiceTokens,
        )

        tokens = ServiceTokens(ClientCredentialsTokenSource(
            lambda: channels.channel("identity"), service,
            settings.workload_client_secret.get_secret_value(), clock), clock,
            timedelta(seconds=settings.service_token_refresh_margin_seconds))
        pull = PeriodicPull(IdentityPuller(lambda: channels.channel("identity"),
                                           lambda: tokens.for_workload("")),
                            view.apply, interval=settings.revocation_pull_interval_seconds,
                            name=service)
    else:
        log.info("%s: no workload client secret: revocations come from the bus alone", service)
    listener: InProcessListener | AmqpListener | None = None
    if settings.amqp_url:
        listener = AmqpListener(settings.amqp_url, service, view.apply,
                                on_reconnect=pull.nudge if pull else (lambda: None),
                                max_delay=settings.bus_reconnect_max_delay_seconds)
    elif broker is not None:
        listener = InProcessListener(broker, service, view.apply)
    return RevocationFeed(view, pull=pull, listener=listener)
