"""Signing keys: the key ring (sign with the active key, verify with any published one, serve
the JWKS), rotation, and token validation for callers that cannot verify locally."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from pivotal_runtime.auth import TokenVerifier
from pivotal_runtime.errors import Aborted, Unauthenticated
from pivotal_runtime.kit.caller import Caller
from pivotal_runtime.kit.paging import after_in_memory, page_request
from pivotal_runtime.logs import log_fields

from pivotal_identity.application import revocations
from pivotal_identity.application.access import CurrentAccess
from pivotal_identity.application.common import (
    Deps,
)
from pivotal_identity.domain import errors
from pivotal_identity.domain.keys import earliest_rotation, published_keys, retirement_overlap
from pivotal_identity.domain.model import RevocationRecord, SigningKey, SigningKeyState

audit = logging.getLogger("pivotal.audit")
UNKNOWN_KID_REFRESH_SECONDS = 1.0


class KeyCrypto(Protocol):
    def generate(self, algorithm: str, now: datetime) -> tuple[str, object, dict]: ...
    def private_bytes(self, private_key) -> bytes: ...
    def load_private(self, data: bytes): ...
    def public_key(self, jwk: dict): ...
    def encode(self, claims: dict, private_key, algorithm: str, kid: str) -> str: ...


@dataclass(frozen=True)
class _KeySnapshot:
    """What one read of the key store gave: published as a whole, never piece by piece, so
    that a reader sees either the previous keys or the new ones with their public keys."""

    keys: dict[str, SigningKey]
    public: dict[str, object]
    loaded_at: float | None


_EMPTY = _KeySnapshot({}, {}, None)


class KeyRing:
    """Identity's own key source: keys come from the identity database (shared by every
    replica), cached; an unknown `kid` triggers a re-read at most once a second, and the
    active key is re-read every `cache_seconds` (another replica may have rotated).

    Readers take no lock: they read `self._snapshot` once (one attribute read, atomic) and
    use only that snapshot; loading happens under the lock and swaps the snapshot in one
    assignment."""

    def __init__(self, deps: Deps, crypto: KeyCrypto, *, algorithm: str,
                 cache_seconds: float) -> None:
        self._deps = deps
        self._crypto = crypto
        self._algorithm = algorithm
        self._cache_seconds = cache_seconds
        self._lock = threading.RLock()
        self._snapshot = _EMPTY
        self._private: dict[str, object] = {}

    def new_key(self, algorithm: str, now: datetime) -> tuple[SigningKey, object]:
        kid, private, jwk = self._crypto.generate(algorithm, now)
        sealed = self._deps.box.seal(self._crypto.private_bytes(private))
        key = SigningKey(id=kid, algorithm=algorithm, public_jwk=jwk, sealed_private_key=sealed,
                         create_time=now, activate_time=now, update_time=now)
        return key, private

    def _load(self) -> None:
        with self._deps.uow() as uow:
            keys = uow.signing_keys.all()
            if not any(k.state is SigningKeyState.ACTIVE for k in keys):
                key, _ = self.new_key(self._algorithm, self._deps.clock())
                try:
                    uow.signing_keys.add_active(key)
                    uow.commit()
                    audit.info("first signing key %s created", key.id)
                    keys = [key, *keys]
                except Aborted:  # another replica created it first
                    return self._load()
        public = {k.id: self._crypto.public_key(k.public_jwk) for k in keys}
        self._snapshot = _KeySnapshot({k.id: k for k in keys}, public, time.monotonic())

    def invalidate(self) -> None:
        with self._lock:
            current = self._snapshot
            self._snapshot = _KeySnapshot(current.keys, current.public, None)

    @staticmethod
    def _stale(snapshot: _KeySnapshot, max_age: float) -> bool:
        return snapshot.loaded_at is None or time.monotonic() - snapshot.loaded_at >= max_age

    def _fresh(self, max_age: float) -> _KeySnapshot:
        snapshot = self._snapshot
        if not self._stale(snapshot, max_age):
            return snapshot
        with self._lock:
            if self._stale(self._snapshot, max_age):  # not reloaded while this thread waited
                self._load()
            return self._snapshot

    def active(self) -> SigningKey:
        snapshot = self._fresh(self._cache_seconds)
        return next(k for k in snapshot.keys.values() if k.state is SigningKeyState.ACTIVE)

    def sign(self, claims: dict) -> str:
        key = self.active()
        private = self._private.get(key.id)
        if private is None:
            private = self._crypto.load_private(self._deps.box.open(key.sealed_private_key))
            self._private[key.id] = private
        return self._crypto.encode(claims, private, key.algorithm, key.id)

    def key_for(self, kid: str) -> object | None:
        """The runtime's KeySource: the public key of a published (not expired) key."""
        snapshot = self._snapshot
        if kid not in snapshot.keys:
            snapshot = self._fresh(UNKNOWN_KID_REFRESH_SECONDS)
        key = snapshot.keys.get(kid)
        if key is None or not key.verifies_at(self._deps.clock()):
            return None
        return snapshot.public.get(kid)

    def published(self) -> list[SigningKey]:
        snapshot = self._fresh(self._cache_seconds)
        return published_keys(list(snapshot.keys.values()), self._deps.clock())


@dataclass
class Validation:
    valid: bool
    invalid_reason: str = ""
    claims: dict = field(default_factory=dict)
    permissions: frozenset[str] = frozenset()


class KeysService:
    def __init__(self, deps: Deps, keyring: KeyRing, verifier: TokenVerifier,
                 access: CurrentAccess) -> None:
        self._deps = deps
        self._keyring = keyring
        self._verifier = verifier
        self._access = access

    def _retention_seconds(self) -> float:
        return (self._deps.tokens.access_ttl + self._deps.leeway).total_seconds()

    def revocations(self, since: datetime | None) -> tuple[list[RevocationRecord], datetime]:
        """The revocation log after `since` (every service's backstop of AccessRevoked),
        with the time it was read."""
        now = self._deps.clock()
        since_ms = round(since.timestamp() * 1000) if since is not None else None
        with self._deps.uow(read_only=True) as uow:
            return revocations.since(uow, since_ms, now, self._retention_seconds()), now

    def purge_revocations(self, now: datetime) -> int:
        """Forgets revocations that can no longer refuse an unexpired token (a job)."""
        horizon = round((now.timestamp() - self._retention_seconds()) * 1000)
        with self._deps.uow() as uow:
            purged = uow.access.purge_revocations(horizon)
            uow.commit()
        return purged

    def jwks(self) -> list[dict]:
        return [k.public_jwk for k in self._keyring.published()]

    def list_keys(self, caller: Caller, page_size: int, page_token: str, show_expired: bool
                  ) -> tuple[list[SigningKey], str]:
        page = page_request(page_size, page_token, show_expired)
        now = self._deps.clock()
        with self._deps.uow(read_only=True) as uow:
            keys = uow.signing_keys.all()
        if not show_expired:
            keys = [k for k in keys if k.verifies_at(now)]
        order = {key.id: (index,) for index, key in enumerate(keys)}
        return page.slice(after_in_memory(keys, page, lambda k: order[k.id]),
                          key=lambda k: order[k.id])

    def rotate(self, caller: Caller, algorithm: str | None) -> tuple[SigningKey, SigningKey]:
        deps = self._deps
        now = deps.clock()
        with deps.uow() as uow:
            keys = uow.signing_keys.all()
            active = next((k for k in keys if k.state is SigningKeyState.ACTIVE), None)
            earliest = earliest_rotation(
                active, timedelta(seconds=deps.settings.key_rotation_min_interval_seconds))
            if earliest is not None and earliest > now:
                raise errors.key_rotation_too_soon(earliest.isoformat())
            new, _ = self._keyring.new_key(algorithm or (active.algorithm if active else
                                                         deps.settings.signing_algorithm), now)
            if active is not None:
                active.retire(now, retirement_overlap(
                    deps.tokens.access_ttl, deps.leeway,
                    timedelta(seconds=deps.settings.key_rotation_overlap_seconds)))
                uow.signing_keys.retire(active)
            uow.signing_keys.add_active(new)
            uow.commit()
        self._keyring.invalidate()
        log_fields(audit, logging.WARNING, "signing key rotated", audit_event="key_rotated",
                   new_kid=new.id, retired_kid=active.id if active else "",
                   actor_id=caller.subject)
        return new, active

    def validate(self, token: str) -> Validation:
        token = token.strip()
        if not token:
            return Validation(False, "TOKEN_INVALID")
        try:
            principal = self._verifier.verify(token)
        except Unauthenticated as error:
            return Validation(False, error.reason)
        import jwt  # claims already verified above; read them for the answer

        claims = jwt.decode(token, options={"verify_signature": False})
        try:  # revoked, deactivated, deleted: what identity's own RPCs would refuse
            principal = self._access.current(principal, "")
        except Unauthenticated as error:
            return Validation(False, error.reason, claims)
        return Validation(True, "", claims, principal.permissions)
