"""Workload credentials on disk, in the form Envoy's file-based SDS reads: one directory per
workload holding `certificate.json` (a `Secret` with the certificate and key inline).
A new certificate is written beside it and renamed over it; Envoy watches the directory for
that move and switches to the new certificate for new connections, without a restart."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from pathlib import Path

from pivotal_mesh.local.ca import DevelopmentCA, Issued
from pivotal_mesh.policy import spiffe_id
from pivotal_mesh.settings import MeshSettings

log = logging.getLogger("pivotal.mesh")
SECRET_NAME = "workload"
SECRET_TYPE = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"


def sds_document(issued: Issued) -> dict:
    return {"resources": [{
        "@type": SECRET_TYPE,
        "name": SECRET_NAME,
        "tls_certificate": {
            "certificate_chain": {"inline_string": issued.certificate_pem.decode()},
            "private_key": {"inline_string": issued.private_key_pem.decode()},
        },
    }]}


class WorkloadCredentials:
    """The CA file and every workload's SDS directory under `root`."""

    def __init__(self, root: Path, settings: MeshSettings, ca: DevelopmentCA | None = None) -> None:
        self.root = root.resolve()
        self.settings = settings
        self.ca = ca or DevelopmentCA(ttl=dt.timedelta(seconds=settings.ca_ttl_seconds))
        self.issued: dict[str, Issued] = {}
        self._lock = threading.Lock()
        self.root.mkdir(parents=True, exist_ok=True)
        self.ca_file.write_bytes(self.ca.certificate_pem)

    @property
    def ca_file(self) -> Path:
        return self.root / "ca.pem"

    def identity(self, workload: str) -> str:
        return spiffe_id(self.settings.trust_domain, self.settings.namespace, workload)

    def dns_name(self, workload: str) -> str:
        return f"{workload}.{self.settings.namespace}.mesh"

    def directory(self, workload: str) -> Path:
        return self.root / workload

    def sds_file(self, workload: str) -> Path:
        return self.directory(workload) / "certificate.json"

    def issue(self, workload: str) -> Issued:
        """Issues (or replaces) the workload's certificate; the swap is one atomic rename."""
        issued = self.ca.issue(self.identity(workload),
                               dt.timedelta(seconds=self.settings.certificate_ttl_seconds),
                               dns_name=self.dns_name(workload))
        folder = self.directory(workload)
        folder.mkdir(parents=True, exist_ok=True)
        staging = folder / ".certificate.json.new"
        descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(sds_document(issued), handle)
        os.replace(staging, self.sds_file(workload))
        with self._lock:
            self.issued[workload] = issued
        return issued

    def due(self, workload: str, now: dt.datetime) -> bool:
        issued = self.issued.get(workload)
        if issued is None:
            return True
        lifetime = issued.not_after - issued.issued_at
        return now >= issued.issued_at + lifetime * self.settings.rotate_after_fraction


class Rotator:
    """Replaces every certificate once it has lived `rotate_after_fraction` of its life."""

    def __init__(self, credentials: WorkloadCredentials, workloads: tuple[str, ...],
                 check_every: float = 1.0) -> None:
        self.credentials = credentials
        self.workloads = workloads
        self.check_every = check_every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def rotate_due(self, now: dt.datetime | None = None) -> list[str]:
        now = now or dt.datetime.now(dt.UTC)
        rotated = [w for w in self.workloads if self.credentials.due(w, now)]
        for workload in rotated:
            self.credentials.issue(workload)
        if rotated:
            log.info("mesh certificates issued: %s", ", ".join(rotated))
        return rotated

    def start(self) -> None:
        self.rotate_due()
        self._thread = threading.Thread(target=self._run, name="mesh-rotator", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.check_every):
            try:
                self.rotate_due()
            except Exception:  # a failed issue is retried at the next check
                log.exception("certificate rotation failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
