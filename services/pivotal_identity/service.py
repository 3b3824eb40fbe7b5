"""Identity's entry point: `build(deps) -> Domain` (its servicers and its own key source)."""

from __future__ import annotations

from datetime import timedelta

from pivotal_runtime.kit.domain import Domain, ServiceDeps
from pivotal_runtime.kit.jobs import Job

from pivotal_identity.bootstrap import IdentityApp, build_identity
from pivotal_identity.servicers import add_all
from pivotal_identity.settings import IdentitySettings


def domain_of(app: IdentityApp) -> Domain:
    """Identity verifies its own tokens from its key store (no JWKS call to itself) and
    checks them against its current state (`CurrentAccess`), not a revocation view."""
    purge = Job("revocation-purge", timedelta(hours=1), app.keys.purge_revocations)
    return Domain(registrations=[lambda server: add_all(server, app)], jobs=[purge],
                  unit_of_work=app.deps.uow, key_source=app.keyring, access=app.access,
                  application=app)


def build(deps: ServiceDeps, settings: IdentitySettings | None = None, **overrides) -> Domain:
    return domain_of(build_identity(deps, settings, **overrides))
