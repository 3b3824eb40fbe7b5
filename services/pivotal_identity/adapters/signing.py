"""Asymmetric signing keys and JWT encoding (PyJWT with cryptography)."""

from __future__ import annotations

import secrets
from datetime import datetime

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm


class JwtKeys:
    """Generates keys, serializes their private part, encodes and decodes their JWK."""

    def generate(self, algorithm: str, now: datetime) -> tuple[str, object, dict]:
        """A new key: (kid, private key, public JWK)."""
        if algorithm == "RS256":
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
        elif algorithm == "ES256":
            private = ec.generate_private_key(ec.SECP256R1())
            jwk = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
        elif algorithm == "EdDSA":
            private = ed25519.Ed25519PrivateKey.generate()
            jwk = OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)
        else:
            raise ValueError(f"unsupported algorithm {algorithm!r}")
        kid = f"{now:%Y%m%d}-{secrets.token_hex(6)}"
        jwk.update(kid=kid, use="sig", alg=algorithm)
        return kid, private, jwk

    def private_bytes(self, private_key) -> bytes:
        return private_key.private_bytes(serialization.Encoding.PEM,
                                         serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())

    def load_private(self, data: bytes):
        return serialization.load_pem_private_key(data, password=None)

    def public_key(self, jwk: dict):
        return jwt.PyJWK.from_dict(jwk).key

    def encode(self, claims: dict, private_key, algorithm: str, kid: str) -> str:
        return jwt.encode(claims, private_key, algorithm=algorithm,
                          headers={"kid": kid, "typ": "JWT"})
