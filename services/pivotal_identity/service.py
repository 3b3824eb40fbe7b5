"""Identity plugs into the runtime here: its servicers, and its own key source."""

from __future__ import annotations

from pivotal_identity.bootstrap import identity_of
from pivotal_identity.servicers import add_all


def register(server, deps) -> set[str]:
    return add_all(server, identity_of(deps))


def key_source(deps):
    """Identity verifies its own tokens from its key store (no JWKS call to itself)."""
    return identity_of(deps).keyring
