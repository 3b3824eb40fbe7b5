"""One typed entry point per domain: `pivotal_<domain>.service.build(deps) -> Domain`.

The runtime calls it once per host with the wired `ServiceDeps` and serves what it returns:
the servicers (`registrations`), the event subscriptions (handled in the domain's own unit of
work), the periodic jobs, and optionally the key source that verifies tokens (identity reads
its own key store instead of fetching its JWKS from itself).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pivotal_runtime.kit.jobs import Job
from pivotal_runtime.settings import Settings

if TYPE_CHECKING:
    import grpc

    from pivotal_runtime.auth import KeySource
    from pivotal_runtime.bus.dispatch import Subscription
    from pivotal_runtime.channels import ChannelFactory
    from pivotal_runtime.db import Database
    from pivotal_runtime.revocation import AccessCheck

DOMAIN_PACKAGES = {name: f"pivotal_{name}.service" for name in
                   ("identity", "quotation", "project", "time", "billing")}

# Adds servicers to the server; returns the full names of the gRPC services it added.
Registration = Callable[["grpc.Server"], Iterable[str]]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ServiceDeps:
    """What the runtime wires for a domain, built once by the bootstrap."""

    settings: Settings
    name: str
    database: Database | Any  # anything with ping() in tests that fake the database
    channels: ChannelFactory | None = None
    clock: Callable[[], datetime] = utc_now


@dataclass
class Domain:
    """What a domain hands the runtime."""

    registrations: Sequence[Registration] = ()
    subscriptions: Sequence[Subscription] = ()
    # The domain's unit of work (a `pivotal_runtime.uow.UnitOfWork` with its repositories);
    # event handlers run in it. None: the runtime's plain unit of work.
    unit_of_work: Callable[[], Any] | None = None
    jobs: Sequence[Job] = ()
    key_source: KeySource | None = None
    # How the auth interceptor checks a verified token against current state (identity reads
    # its store); None: the runtime's revocation view, fed by identity's AccessRevoked events.
    access: AccessCheck | None = None
    # Anything the domain wants to keep reachable (tests read the application from here).
    application: Any = field(default=None, repr=False)


def load_domain(deps: ServiceDeps) -> Domain:
    """`build(deps)` of the service's domain package; an empty Domain when the package does
    not exist yet (every RPC of its contract then answers UNIMPLEMENTED)."""
    name = DOMAIN_PACKAGES[deps.name]
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name != name:
            raise
        return Domain()
    return module.build(deps)
