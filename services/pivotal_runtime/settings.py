"""Typed settings, read once from the environment (prefix `PIVOTAL_`).

No other module reads `os.environ`: the CLI builds a `Settings` and passes it down.
"""

from __future__ import annotations

import os
import re
from enum import Enum
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICE_NAMES: tuple[str, ...] = ("identity", "quotation", "project", "time", "billing")
DEFAULT_PORTS: dict[str, int] = {
    "identity": 50051,
    "quotation": 50052,
    "project": 50053,
    "time": 50054,
    "billing": 50055,
}


def default_state_dir() -> Path:
    """Embedded mode's data, wherever the command is typed: the per-user data folder of the
    XDG base directory spec (`$XDG_DATA_HOME/pivotal-flow`, else
    `~/.local/share/pivotal-flow`). `PIVOTAL_STATE_DIR` overrides it."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "pivotal-flow"


class Mode(str, Enum):
    EMBEDDED = "embedded"
    SERVICES = "services"
    MESH = "mesh"


class Settings(BaseSettings):
    """Every knob of a Pivotal Flow process. Environment: `PIVOTAL_<FIELD>` (upper case)."""

    model_config = SettingsConfigDict(env_prefix="PIVOTAL_", extra="ignore", frozen=True)

    mode: Mode = Mode.EMBEDDED
    # Where embedded mode keeps its SQLite files, mail folder and development keys (always
    # made absolute; the default does not depend on the current folder).
    state_dir: Path = Field(default_factory=default_state_dir)
    # PostgreSQL URL (services/mesh modes), e.g. postgresql+psycopg://user@host:5432/pivotal.
    # Each service uses its own schema (`identity`, `quotation`, ...) in that database.
    database_url: str | None = None
    # AMQP URL of RabbitMQ (services/mesh modes), e.g. amqp://guest:guest@127.0.0.1:5672/%2F
    amqp_url: str | None = None
    # Address the gRPC servers bind to, and their ports.
    host: str = "127.0.0.1"
    identity_port: int = Field(DEFAULT_PORTS["identity"], ge=1, le=65535)
    quotation_port: int = Field(DEFAULT_PORTS["quotation"], ge=1, le=65535)
    project_port: int = Field(DEFAULT_PORTS["project"], ge=1, le=65535)
    time_port: int = Field(DEFAULT_PORTS["time"], ge=1, le=65535)
    billing_port: int = Field(DEFAULT_PORTS["billing"], ge=1, le=65535)
    # Where internal callers reach a service: "{host}" is PIVOTAL_HOST, "{service}" the
    # workload, "{port}" its PIVOTAL_<SERVICE>_PORT. In Kubernetes: "pivotal-flow-{service}:{port}".
    service_address_template: str = "{host}:{port}"
    # Worker threads per gRPC server (per process); also the PostgreSQL pool size. One
    # interpreter runs Python on one core: a few threads overlap the database round trips,
    # more only queue on the GIL (docs/performance.md).
    max_workers: int = Field(4, ge=1, le=1024)
    # Worker processes per service (`pivotal serve`), sharing its port (SO_REUSEPORT).
    # Unset: the CPU count in services/mesh modes, 1 in embedded mode.
    workers: int | None = Field(None, ge=1, le=256)
    # Set by `pivotal serve` for the worker processes it starts (0, 1, ...); never by hand.
    worker_index: int | None = Field(None, ge=0)
    # Seconds in-flight calls get to finish after SIGTERM before they are cancelled.
    grace_period_seconds: float = Field(10.0, gt=0, le=600)
    # Seconds between database health probes.
    health_probe_interval_seconds: float = Field(2.0, gt=0, le=300)
    # JWT verification.
    jwt_issuer: str = "https://identity.pivotal.local"
    jwt_audience: str = "pivotal"
    # A JWKS file to trust instead of fetching identity's keys (operators may mount one).
    jwks_file: Path | None = None
    # Minimum seconds between two JWKS refreshes triggered by an unknown `kid`.
    jwks_refresh_min_interval_seconds: float = Field(30.0, ge=0)
    # Extra clock skew tolerated on `exp`/`iat`.
    jwt_leeway_seconds: int = Field(30, ge=0, le=300)
    # Deadline applied to internal calls that set none.
    default_deadline_seconds: float = Field(5.0, gt=0, le=300)
    # Logging.
    log_level: str = "INFO"
    log_json: bool = True
    # OpenTelemetry OTLP endpoint; traces are only exported when it is set.
    otlp_endpoint: str | None = None
    # Event bus (docs/events.md): outbox relay.
    outbox_batch_size: int = Field(500, ge=1, le=10_000)
    outbox_poll_interval_seconds: float = Field(0.5, gt=0, le=60)
    outbox_retention_hours: float = Field(168.0, ge=0)
    outbox_purge_interval_seconds: float = Field(300.0, gt=0)
    # Event bus: consumers and connections.
    bus_prefetch: int = Field(512, ge=1, le=65_535)
    bus_delivery_limit: int = Field(10, ge=1, le=1_000)
    bus_retry_delay_seconds: float = Field(1.0, gt=0, le=3_600)
    bus_retry_max_delay_seconds: float = Field(60.0, gt=0, le=3_600)
    bus_reconnect_max_delay_seconds: float = Field(30.0, gt=0, le=600)
    bus_publish_timeout_seconds: float = Field(10.0, gt=0, le=600)
    # Internal calls as this workload (pivotal_runtime.kit.service_tokens): its client secret
    # for identity's IssueServiceToken (the client id is the workload's name).
    workload_client_secret: SecretStr | None = None
    # Seconds before a cached service token's expiry at which a new one is fetched.
    service_token_refresh_margin_seconds: float = Field(60.0, ge=0, le=3_600)
    # Timeout of an entitlement check.
    entitlement_timeout_seconds: float = Field(2.0, gt=0, le=30)

    @field_validator("state_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return upper

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("postgresql", "sqlite")):
            raise ValueError("must be a postgresql+psycopg:// or sqlite:/// URL")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value[len("postgresql://") :]
        return value

    def port_of(self, service: str) -> int:
        return int(getattr(self, f"{service}_port"))

    def address_of(self, service: str) -> str:
        return self.service_address_template.format(
            host=self.host, service=service, port=self.port_of(service))

    def database_url_for(self, service: str) -> str:
        """The service's own database: PostgreSQL when configured, else a SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.state_dir / f'{service}.db').resolve()}"

    def schema_for(self, service: str) -> str | None:
        """PostgreSQL schema of a service (None on SQLite, where the file is the boundary)."""
        return service if self.database_url and self.database_url.startswith("postgresql") else None


SECRET_FIELD = re.compile(r"(secret|password|token|key|url)", re.IGNORECASE)


class SettingsError(SystemExit):
    """Start-up stops with a message that names the offending environment variable."""


def load_settings(cls: type[BaseSettings] = Settings, **overrides: object):
    """Reads a settings class from the environment; a bad value names its variable.

    Domains keep their own settings class (for example `IdentitySettings` with the prefix
    `PIVOTAL_IDENTITY_`) and load it through here, once, at bootstrap.
    """
    prefix = cls.model_config.get("env_prefix", "")
    try:
        return cls(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            field = ".".join(str(part) for part in problem["loc"])
            shown = "[redacted]" if SECRET_FIELD.search(field) else repr(problem.get("input"))
            lines.append(f"{prefix}{field.upper()}: {problem['msg']} (got {shown})")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None
