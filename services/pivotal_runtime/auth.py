"""Verifies access tokens (JWT) against the identity service's keys and builds the Principal.

Keys come from a `KeySource`: the JWKS fetched from identity (cached, refreshed when a token
names an unknown `kid`, at most once per `min_refresh_interval`), or a fixed set in tests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from pivotal_runtime.context import Principal
from pivotal_runtime.errors import Unauthenticated
from pivotal_runtime.permissions import permissions_of

ALLOWED_ALGORITHMS = ("RS256", "ES256", "EdDSA")
REQUIRED_CLAIMS = ("sub", "org", "iss", "aud", "exp", "iat", "jti")
# Far above any token identity issues (about 1 KiB); refused before any parsing work.
MAX_TOKEN_BYTES = 8192
_STRING_CLAIMS = ("sub", "org", "jti")


def algorithm_for(key: object) -> str | None:
    """The one algorithm a public key may verify: a token naming another is refused before
    any cryptography runs (an RSA key never checks an ES256 or EdDSA signature)."""
    if isinstance(key, rsa.RSAPublicKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return "ES256"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "EdDSA"
    return None


class KeySource(Protocol):
    def key_for(self, kid: str) -> object | None: ...


class StaticKeySource:
    """A fixed {kid: public key} map (tests, or keys mounted from a file)."""

    def __init__(self, keys: dict[str, object]) -> None:
        self._keys = dict(keys)

    def key_for(self, kid: str) -> object | None:
        return self._keys.get(kid)


class JwksKeySource:
    """Keys from a JWKS document, fetched lazily and refreshed on an unknown `kid`."""

    def __init__(
        self,
        fetch_jwks: Callable[[], dict],
        *,
        min_refresh_interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch_jwks
        self._min_interval = min_refresh_interval
        self._clock = clock
        self._keys: dict[str, object] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def key_for(self, kid: str) -> object | None:
        key = self._keys.get(kid)
        if key is None and self._may_refresh():
            self.refresh()
            key = self._keys.get(kid)
        return key

    def _may_refresh(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self._min_interval

    def refresh(self) -> None:
        with self._lock:
            if self._fetched_at is not None and not self._may_refresh():
                return
            self._fetched_at = self._clock()
            try:
                document = self._fetch()
            except Exception:  # noqa: BLE001 - identity unreachable (any error): keep our keys
                return
            keys = {}
            for jwk in document.get("keys", []):
                if jwk.get("kid") and jwk.get("use", "sig") == "sig":
                    try:
                        keys[jwk["kid"]] = jwt.PyJWK.from_dict(jwk).key
                    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
                        continue  # a key this verifier cannot use verifies nothing
            self._keys = keys


class TokenVerifier:
    def __init__(self, keys: KeySource, *, issuer: str, audience: str, leeway: int = 30) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway

    def verify(self, token: str) -> Principal:
        """The token's principal, or Unauthenticated: never any other exception, whatever
        the header, algorithm, key type or claims hold."""
        if len(token) > MAX_TOKEN_BYTES:
            raise Unauthenticated("token is too large")
        try:
            header = jwt.get_unverified_header(token)
        except (jwt.InvalidTokenError, ValueError, TypeError) as error:
            raise Unauthenticated(f"malformed token: {error}") from None
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in ALLOWED_ALGORITHMS:
            raise Unauthenticated(f"token algorithm {algorithm!r} is not accepted")
        key = self._keys.key_for(kid) if isinstance(kid, str) and kid else None
        if key is None:
            raise Unauthenticated("token is signed by an unknown key")
        if algorithm_for(key) != algorithm:
            raise Unauthenticated(f"token algorithm {algorithm!r} does not fit its key")
        claims = self._decode(token, key, algorithm)
        return _principal_from(claims, token)

    def _decode(self, token: str, key: object, algorithm: str) -> dict:
        try:
            return jwt.decode(
                token,
                key=key,
                algorithms=[algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("token has expired", reason="TOKEN_EXPIRED") from None
        except (jwt.PyJWTError, ValueError, TypeError) as error:
            raise Unauthenticated(f"token rejected: {error}") from None


def _string_list(claims: dict, name: str) -> list[str]:
    value = claims.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise Unauthenticated(f"token claim {name!r} must be a list of strings")
    return value


def _principal_from(claims: dict, token: str) -> Principal:
    for name in _STRING_CLAIMS:
        if not isinstance(claims[name], str) or not claims[name]:
            raise Unauthenticated(f"token claim {name!r} must be a non-empty string")
    session_id = claims.get("sid")
    if session_id is not None and not isinstance(session_id, str):
        raise Unauthenticated("token claim 'sid' must be a string")
    issued_at = claims["iat"]
    if isinstance(issued_at, bool) or not isinstance(issued_at, int | float):
        raise Unauthenticated("token claim 'iat' must be a number")
    roles = frozenset(_string_list(claims, "roles"))
    return Principal(
        subject=claims["sub"],
        organization_id=claims["org"],
        roles=roles,
        permissions=permissions_of(roles, _string_list(claims, "perms")),
        session_id=session_id,
        token_id=claims["jti"],
        token=token,
        issued_at=float(issued_at),
        client_id=claims.get("client_id") if isinstance(claims.get("client_id"), str) else None,
    )


def bearer_token(metadata: tuple[tuple[str, str | bytes], ...] | None) -> str | None:
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None
