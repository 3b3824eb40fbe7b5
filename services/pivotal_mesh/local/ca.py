"""A development certificate authority: issues each workload a short-lived X.509-SVID
(URI SAN `spiffe://<trust-domain>/ns/<ns>/sa/<workload>`), for client and server use."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Clock = Callable[[], dt.datetime]
SKEW = dt.timedelta(minutes=1)  # not-before backdated: tolerates small clock differences


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Issued:
    certificate_pem: bytes
    private_key_pem: bytes
    certificate: x509.Certificate
    issued_at: dt.datetime  # not-before is backdated by SKEW; this is the real moment

    @property
    def not_after(self) -> dt.datetime:
        return self.certificate.not_valid_after_utc


def _private_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class DevelopmentCA:
    """A self-signed root (EC P-256) that signs workload certificates."""

    def __init__(self, name: str = "Pivotal Flow development CA", *,
                 ttl: dt.timedelta = dt.timedelta(days=7), clock: Clock = _utc_now) -> None:
        self._clock = clock
        self._key = ec.generate_private_key(ec.SECP256R1())
        now = clock()
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - SKEW).not_valid_after(now + ttl)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()),
                           critical=False)
            .sign(self._key, hashes.SHA256())
        )

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def issue(self, spiffe_id: str, ttl: dt.timedelta, dns_name: str | None = None) -> Issued:
        """A workload certificate for `spiffe_id` (URI SAN, what the mesh checks), plus a
        DNS name for clients that verify host names (grpc's `ssl_target_name_override`)."""
        names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(spiffe_id)]
        if dns_name:
            names.append(x509.DNSName(dns_name))
        key = ec.generate_private_key(ec.SECP256R1())
        now = self._clock()
        not_after = min(now + ttl, self.certificate.not_valid_after_utc)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME,
                                                        "pivotal-flow")]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - SKEW).not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName(names), critical=True)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, key_encipherment=True, key_cert_sign=False,
                crl_sign=False, content_commitment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                  ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self._key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        return Issued(certificate.public_bytes(serialization.Encoding.PEM),
                      _private_key_pem(key), certificate, now)
