"""Identity test fixtures: a real gRPC server with the real identity servicers, on SQLite and
on PostgreSQL, plus a fake billing EntitlementService."""

from __future__ import annotations

import contextlib
import email
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from pivotal.identity.v1 import auth_service_pb2 as auth_pb
from pivotal.identity.v1 import (
    auth_service_pb2_grpc,
    credential_service_pb2_grpc,
    invitation_service_pb2_grpc,
    key_service_pb2_grpc,
    mfa_service_pb2_grpc,
    organization_pb2,
    organization_service_pb2,
    organization_service_pb2_grpc,
    role_service_pb2_grpc,
    service_account_service_pb2_grpc,
    session_service_pb2_grpc,
    user_pb2,
    user_service_pb2_grpc,
)
from pivotal_identity import service as identity_service
from pivotal_identity.settings import IdentitySettings
from pivotal_runtime.bootstrap import build_verifier, host_of
from pivotal_runtime.channels import ChannelFactory
from pivotal_runtime.db import open_database
from pivotal_runtime.kit.domain import ServiceDeps
from pivotal_runtime.migrations import upgrade
from pivotal_runtime.outbox import outbox
from pivotal_runtime.server import ServiceHost
from pivotal_runtime.settings import Settings

from tests.support.domains import fresh_settings
from tests.support.fake_billing import FakeBilling
from tests.support.net import free_port

PASSWORD = "correct horse battery 42"
OPERATOR_SECRET = "operator-secret-" + "x" * 24
# The platform workloads' client secrets (a workload's service token calls internal RPCs).
WORKLOAD_SECRET = "workload-secret-" + "y" * 24
TOKEN_IN_LINK = re.compile(r"#token=([A-Za-z0-9_\-]+)")


def fast_identity_settings(**overrides) -> IdentitySettings:
    values = {"argon2_time_cost": 1, "argon2_memory_cost_kib": 1024, "argon2_parallelism": 1,
                  "key_encryption_key": "test-key-encryption-key-" + "k" * 16,
                  "key_rotation_min_interval_seconds": 0, "lockout_period_seconds": 60,
                  "platform_client_secrets": {"operator": OPERATOR_SECRET,
                                              "quotation": WORKLOAD_SECRET}}
    values.update(overrides)
    return IdentitySettings(**values)


class ShiftedClock:
    """The identity clock of a test server: real time plus a shift the test can move."""

    def __init__(self) -> None:
        self.shift = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.shift


@dataclass
class IdentityServer:
    host: ServiceHost
    channel: grpc.Channel
    settings: Settings
    identity: IdentitySettings
    app: object
    clock: ShiftedClock
    billing: FakeBilling | None = None
    stubs: dict = field(default_factory=dict)

    @property
    def database(self):
        return self.host.deps.database

    # --- stubs -----------------------------------------------------------------------------
    @property
    def orgs(self):
        return organization_service_pb2_grpc.OrganizationServiceStub(self.channel)

    @property
    def users(self):
        return user_service_pb2_grpc.UserServiceStub(self.channel)

    @property
    def auth(self):
        return auth_service_pb2_grpc.AuthServiceStub(self.channel)

    @property
    def sessions(self):
        return session_service_pb2_grpc.SessionServiceStub(self.channel)

    @property
    def invitations(self):
        return invitation_service_pb2_grpc.InvitationServiceStub(self.channel)

    @property
    def credentials(self):
        return credential_service_pb2_grpc.CredentialServiceStub(self.channel)

    @property
    def mfa(self):
        return mfa_service_pb2_grpc.MfaServiceStub(self.channel)

    @property
    def roles(self):
        return role_service_pb2_grpc.RoleServiceStub(self.channel)

    @property
    def keys(self):
        return key_service_pb2_grpc.KeyServiceStub(self.channel)

    @property
    def service_accounts(self):
        return service_account_service_pb2_grpc.ServiceAccountServiceStub(self.channel)

    # --- helpers ---------------------------------------------------------------------------
    def register(self, name: str = "Acme", password: str = PASSWORD, email_: str | None = None):
        email_ = email_ or f"owner-{uuid.uuid4().hex[:8]}@{name.lower()}.test"
        return self.orgs.RegisterOrganization(organization_service_pb2.RegisterOrganizationRequest(
            organization=organization_pb2.Organization(display_name=name),
            owner=user_pb2.User(email=email_, given_name="Olga", family_name="Owner"),
            password=password), timeout=10)

    def login(self, email_: str, password: str = PASSWORD, **extra):
        return self.auth.Login(auth_pb.LoginRequest(email=email_, password=password, **extra),
                               timeout=10)

    def outbox_events(self, type_name: str) -> list:
        from google.protobuf import symbol_database

        message_class = symbol_database.Default().GetSymbol(type_name)
        with self.database.engine.connect() as connection:
            rows = connection.execute(sa.select(outbox.c.payload).where(
                outbox.c.event_type == type_name).order_by(outbox.c.id)).all()
        return [message_class.FromString(row.payload) for row in rows]

    def outbox_payloads(self) -> list[bytes]:
        with self.database.engine.connect() as connection:
            return [row.payload for row in connection.execute(sa.select(outbox.c.payload))]

    def mails(self) -> list[email.message.EmailMessage]:
        self.app.mailer.flush()
        folder = self.settings.state_dir / "mail"
        found = sorted(folder.glob("*.eml")) if folder.exists() else []
        return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                for p in found]

    def token_mailed_to(self, address: str) -> str:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for message in reversed(self.mails()):
                if message["To"] == address:
                    return TOKEN_IN_LINK.search(message.get_content()).group(1)
            time.sleep(0.05)
        raise AssertionError(f"no mail to {address}")

    def operator_token(self) -> str:
        from pivotal.identity.v1 import service_account_service_pb2 as sa_pb

        return self.service_accounts.IssueServiceToken(sa_pb.IssueServiceTokenRequest(
            client_id="operator", client_secret=OPERATOR_SECRET), timeout=10).access_token

    def workload_token(self, organization_id: str = "") -> str:
        """The quotation workload's service token: what internal RPCs accept."""
        from pivotal.identity.v1 import service_account_service_pb2 as sa_pb

        return self.service_accounts.IssueServiceToken(sa_pb.IssueServiceTokenRequest(
            client_id="quotation", client_secret=WORKLOAD_SECRET,
            organization_id=organization_id), timeout=10).access_token


def bearer(token: str) -> tuple:
    return (("authorization", f"Bearer {token}"),)


@contextlib.contextmanager
def identity_server(settings: Settings, identity: IdentitySettings | None = None, *,
                    billing: FakeBilling | None = None, broker=None):
    """A ServiceHost for identity wired like `build_host` wires it (identity's own key
    source), with test settings and a clock the test can move."""
    identity = identity or fast_identity_settings()
    upgrade(settings, "identity")
    database = open_database(settings, "identity")
    clock = ShiftedClock()
    deps = ServiceDeps(settings=settings, name="identity", database=database,
                       channels=ChannelFactory(settings), clock=clock)
    domain = identity_service.build(deps, identity)
    host = host_of(deps, domain, build_verifier(settings, domain.key_source), port=0,
                   broker=broker)
    host.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{host.port}")
    try:
        yield IdentityServer(host, channel, settings, identity, domain.application, clock,
                             billing)
    finally:
        channel.close()
        host.drain().wait(5)
        database.dispose()


def settings_for(backend: str, state_dir: Path, postgres_url: str | None, **overrides
                 ) -> Settings:
    return fresh_settings(state_dir, postgres_url if backend == "postgres" else None,
                          ("identity",), **overrides)


@pytest.fixture(scope="module")
def billing():
    fake = FakeBilling()
    yield fake
    fake.stop()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres",
                                                                marks=pytest.mark.integration)])
def server(request, tmp_path_factory, billing):
    """One identity server per backend for a test module (lockout limit 5, period 2 s)."""
    postgres_url = request.getfixturevalue("postgres_url") if request.param == "postgres" \
        else None
    settings = settings_for(request.param, tmp_path_factory.mktemp("identity"), postgres_url,
                            billing_port=billing.port)
    identity = fast_identity_settings(lockout_max_attempts=5, lockout_period_seconds=2)
    with identity_server(settings, identity, billing=billing) as running:
        yield running


def unreachable_port() -> int:
    return free_port()
