"""Test signing keys and token minting (until identity issues real tokens)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://identity.pivotal.local"
AUDIENCE = "pivotal"


@dataclass
class TokenMinter:
    kid: str = field(default_factory=lambda: f"test-{uuid.uuid4().hex[:8]}")
    private_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )

    @property
    def public_key(self):
        return self.private_key.public_key()

    def keys(self) -> dict[str, object]:
        return {self.kid: self.public_key}

    def mint(self, *, roles=("member",), org="org-1", sub="user-1", ttl=600, aud=AUDIENCE,
             iss=ISSUER, perms=None, kid=None, **extra) -> str:
        now = int(time.time())
        claims = {"sub": sub, "org": org, "roles": list(roles), "sid": "session-1", "iss": iss,
                  "aud": aud, "iat": now, "exp": now + ttl, "jti": uuid.uuid4().hex, **extra}
        if perms is not None:
            claims["perms"] = list(perms)
        return jwt.encode(claims, self.private_key, algorithm="RS256",
                          headers={"kid": kid or self.kid})


def unsigned_token(**claims) -> str:
    """A token with `alg: none` (must always be refused)."""
    now = int(time.time())
    body = {"sub": "user-1", "org": "org-1", "roles": ["owner"], "iss": ISSUER, "aud": AUDIENCE,
            "iat": now, "exp": now + 600, "jti": "x", **claims}
    return jwt.encode(body, key=None, algorithm="none", headers={"kid": "whatever"})
