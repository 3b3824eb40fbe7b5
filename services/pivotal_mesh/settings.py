"""Local mesh settings: environment variables with the prefix `PIVOTAL_MESH_`."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class MeshSettings(BaseSettings):
    """Every knob of `pivotal up --mesh`. Environment: `PIVOTAL_MESH_<FIELD>` (upper case)."""

    model_config = SettingsConfigDict(env_prefix="PIVOTAL_MESH_", extra="ignore", frozen=True)

    # SPIFFE identities: spiffe://<trust_domain>/ns/<namespace>/sa/<workload>.
    trust_domain: str = "pivotal.local"
    namespace: str = "pivotal"
    # Lifetime of a workload certificate, and the share of it after which it is replaced
    # (Envoy picks the new one up without dropping a connection or a call).
    certificate_ttl_seconds: float = Field(3600.0, ge=10, le=30 * 86400)
    rotate_after_fraction: float = Field(0.5, gt=0, lt=1)
    # Lifetime of the development CA (a new one is made at every start).
    ca_ttl_seconds: float = Field(7 * 86400, ge=60)
    # Envoy worker threads per sidecar.
    sidecar_concurrency: int = Field(1, ge=1, le=64)

    @model_validator(mode="after")
    def _ca_outlives_certificates(self) -> MeshSettings:
        if self.ca_ttl_seconds < self.certificate_ttl_seconds:
            raise ValueError("ca_ttl_seconds must be at least certificate_ttl_seconds")
        return self
