"""Builds identity's application from the service deps, once per host: its servicers and
its key source share one key ring. Nothing connects here: the database is first used by
the first call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pivotal_runtime.auth import TokenVerifier
from pivotal_runtime.kit.domain import ServiceDeps
from pivotal_runtime.kit.entitlements import EntitlementClient
from pivotal_runtime.kit.service_tokens import IssuedToken, ServiceTokens
from pivotal_runtime.settings import Mode, load_settings

from pivotal_identity.adapters.catalog import contract_catalog
from pivotal_identity.adapters.crypto import SecretBox, key_encryption_key
from pivotal_identity.adapters.hashing import Argon2Hasher
from pivotal_identity.adapters.mail import BackgroundMailer, FolderMailSender, SmtpMailSender
from pivotal_identity.adapters.signing import JwtKeys
from pivotal_identity.adapters.totp import PyOtpTotp
from pivotal_identity.adapters.uow import IdentityUnitOfWork
from pivotal_identity.application.access import CurrentAccess
from pivotal_identity.application.auth import AuthService, PasswordGuard, TokenIssuer
from pivotal_identity.application.common import Deps
from pivotal_identity.application.credentials import CredentialsService
from pivotal_identity.application.invitations import InvitationsService
from pivotal_identity.application.keys import KeyRing, KeysService
from pivotal_identity.application.mfa import MfaService
from pivotal_identity.application.organizations import OrganizationsService
from pivotal_identity.application.roles import RolesService
from pivotal_identity.application.service_accounts import ServiceAccountsService
from pivotal_identity.application.sessions import SessionsService
from pivotal_identity.application.users import UsersService
from pivotal_identity.domain import rbac
from pivotal_identity.domain.lockout import LockoutPolicies, LockoutPolicy
from pivotal_identity.domain.passwords import PasswordPolicy
from pivotal_identity.domain.tokens import TokenSettings, access_claims
from pivotal_identity.settings import IdentitySettings


@dataclass
class IdentityApp:
    deps: Deps
    keyring: KeyRing
    mailer: BackgroundMailer
    organizations: OrganizationsService
    users: UsersService
    invitations: InvitationsService
    auth: AuthService
    sessions: SessionsService
    credentials: CredentialsService
    mfa: MfaService
    roles: RolesService
    keys: KeysService
    service_accounts: ServiceAccountsService
    access: CurrentAccess

    def clock(self) -> datetime:
        return self.deps.clock()


def _mail_backend(runtime, settings: IdentitySettings):
    backend = settings.mail_backend
    if backend == "auto":
        backend = "folder" if runtime.mode is Mode.EMBEDDED else "smtp"
    if backend == "folder":
        return FolderMailSender(runtime.state_dir / "mail", settings.mail_from)
    return SmtpMailSender(host=settings.smtp_host, port=settings.smtp_port,
                          sender=settings.mail_from, username=settings.smtp_username,
                          password=settings.smtp_password.get_secret_value()
                          if settings.smtp_password else None,
                          starttls=settings.smtp_starttls)


class SelfSignedTokens:
    """Identity's own service token (for calling billing): it cannot ask itself with client
    credentials, so it signs the token with its key ring."""

    def __init__(self, keyring: KeyRing, tokens: TokenSettings, clock,
                 permissions: frozenset[str]) -> None:
        self._keyring = keyring
        self._tokens = tokens
        self._clock = clock
        self._permissions = permissions

    def issue(self, organization_id: str) -> IssuedToken:
        now = self._clock()
        claims = access_claims(self._tokens, subject="platform-identity",
                               organization_id=organization_id, now=now,
                               perms=self._permissions,
                               client_id="identity")
        return IssuedToken(self._keyring.sign(claims), now + self._tokens.access_ttl)


def embedded_workload_secrets(runtime, settings: IdentitySettings) -> IdentitySettings:
    """In embedded mode every workload runs in this process with one workload client secret
    (`pivotal up` makes one per start): it is each platform workload's secret, unless
    PIVOTAL_IDENTITY_PLATFORM_CLIENT_SECRETS names one."""
    if runtime.mode is not Mode.EMBEDDED or runtime.workload_client_secret is None:
        return settings
    shared = {name: runtime.workload_client_secret
              for name in contract_catalog().platform_accounts if name != rbac.OPERATOR}
    return settings.model_copy(
        update={"platform_client_secrets": {**shared, **settings.platform_client_secrets}})


def build_identity(service_deps: ServiceDeps, settings: IdentitySettings | None = None, *,
                   clock=None, entitlements=None) -> IdentityApp:
    runtime = service_deps.settings
    clock = clock or service_deps.clock
    settings = embedded_workload_secrets(runtime, settings or load_settings(IdentitySettings))
    database = service_deps.database
    tokens = TokenSettings(
        issuer=runtime.jwt_issuer, audience=runtime.jwt_audience,
        access_ttl=timedelta(seconds=settings.access_token_ttl_seconds),
        refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
        session_absolute_ttl=timedelta(seconds=settings.session_absolute_ttl_seconds))
    box = SecretBox(key_encryption_key(
        settings.key_encryption_key.get_secret_value() if settings.key_encryption_key else None,
        runtime.state_dir, runtime.mode is Mode.EMBEDDED))
    mailer = BackgroundMailer(_mail_backend(runtime, settings))
    deps = Deps(
        uow=lambda read_only=False: IdentityUnitOfWork(database, read_only=read_only),
        clock=clock,
        hasher=Argon2Hasher(time_cost=settings.argon2_time_cost,
                            memory_cost_kib=settings.argon2_memory_cost_kib,
                            parallelism=settings.argon2_parallelism),
        mail=mailer, totp=PyOtpTotp(), box=box, entitlements=None, catalog=contract_catalog(),
        password_policy=PasswordPolicy(min_length=settings.password_min_length),
        lockout=LockoutPolicies(
            per_client=LockoutPolicy(settings.lockout_max_attempts,
                                     timedelta(seconds=settings.lockout_window_seconds),
                                     timedelta(seconds=settings.lockout_period_seconds)),
            account=LockoutPolicy(settings.lockout_account_max_attempts,
                                  timedelta(seconds=settings.lockout_account_window_seconds),
                                  timedelta(seconds=settings.lockout_account_period_seconds))),
        tokens=tokens, leeway=timedelta(seconds=runtime.jwt_leeway_seconds), settings=settings)
    keyring = KeyRing(deps, JwtKeys(), algorithm=settings.signing_algorithm,
                      cache_seconds=settings.key_cache_seconds)
    deps.keyring = keyring
    deps.later = mailer.later

    channels = service_deps.channels
    service_tokens = ServiceTokens(SelfSignedTokens(keyring, tokens, clock,
                                                    deps.catalog.platform_accounts["identity"]),
                                   clock,
                                   timedelta(seconds=runtime.service_token_refresh_margin_seconds))
    deps.entitlements = entitlements or EntitlementClient(
        lambda: channels.channel("billing"), service_tokens,
        runtime.entitlement_timeout_seconds)
    verifier = TokenVerifier(keyring, issuer=runtime.jwt_issuer, audience=runtime.jwt_audience,
                             leeway=runtime.jwt_leeway_seconds)
    guard = PasswordGuard(deps)
    issuer = TokenIssuer(deps)
    auth = AuthService(deps, guard, issuer)
    access = CurrentAccess(deps)
    return IdentityApp(
        deps=deps, keyring=keyring, mailer=mailer,
        organizations=OrganizationsService(deps), users=UsersService(deps),
        invitations=InvitationsService(deps), auth=auth, sessions=SessionsService(deps),
        credentials=CredentialsService(deps, auth), mfa=MfaService(deps, auth),
        roles=RolesService(deps), keys=KeysService(deps, keyring, verifier, access),
        service_accounts=ServiceAccountsService(deps, issuer), access=access)
