"""The development CA and the rotation schedule (no processes; an injected clock)."""

from __future__ import annotations

import datetime as dt
import json

from cryptography import x509
from pivotal_mesh.local.ca import DevelopmentCA
from pivotal_mesh.local.credentials import Rotator, WorkloadCredentials
from pivotal_mesh.settings import MeshSettings

START = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now


def test_a_workload_certificate_names_its_spiffe_identity_and_is_signed_by_the_ca():
    ca = DevelopmentCA()
    issued = ca.issue("spiffe://pivotal.local/ns/pivotal/sa/billing", dt.timedelta(hours=1),
                      dns_name="billing.pivotal.mesh")
    names = issued.certificate.extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.UniformResourceIdentifier) == [
        "spiffe://pivotal.local/ns/pivotal/sa/billing"]
    issued.certificate.verify_directly_issued_by(ca.certificate)
    assert issued.certificate.extensions.get_extension_for_class(
        x509.BasicConstraints).value.ca is False


def test_certificates_are_replaced_after_the_configured_share_of_their_life(tmp_path):
    clock = Clock()
    settings = MeshSettings(certificate_ttl_seconds=600, rotate_after_fraction=0.5)
    credentials = WorkloadCredentials(tmp_path, settings, DevelopmentCA(clock=clock))
    rotator = Rotator(credentials, ("identity", "gateway"))
    assert rotator.rotate_due(clock()) == ["identity", "gateway"]
    first = json.loads(credentials.sds_file("identity").read_text())
    clock.now = START + dt.timedelta(seconds=299)
    assert rotator.rotate_due(clock()) == []
    clock.now = START + dt.timedelta(seconds=300)
    assert rotator.rotate_due(clock()) == ["identity", "gateway"]
    second = json.loads(credentials.sds_file("identity").read_text())
    assert first != second
    assert oct(credentials.sds_file("identity").stat().st_mode & 0o777) == "0o600"
    # The swap is one rename: no half-written file is ever visible under the watched name.
    assert sorted(p.name for p in credentials.directory("identity").iterdir()) == [
        "certificate.json"]
