"""Identity's aggregates and their state transitions. Plain dataclasses; the versioned ones
(`pivotal_runtime.kit.resources.Versioned`) derive their etag (AIP-154) from `version`,
bumped by every change (`touch`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from pivotal_runtime.errors import InvalidState
from pivotal_runtime.kit.resources import Versioned


def new_id() -> str:
    return str(uuid.uuid4())


class OrganizationState(str, Enum):
    ACTIVE = "ACTIVE"
    DELETED = "DELETED"


class UserState(str, Enum):
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    DEACTIVATED = "DEACTIVATED"
    DELETED = "DELETED"


class UserOrigin(str, Enum):
    ORGANIZATION_REGISTRATION = "ORGANIZATION_REGISTRATION"
    INVITATION = "INVITATION"
    ADMINISTRATOR = "ADMINISTRATOR"


class InvitationState(str, Enum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


class SessionState(str, Enum):
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


class RevokeReason(str, Enum):
    LOGOUT = "LOGOUT"
    REFRESH_TOKEN_REUSE = "REFRESH_TOKEN_REUSE"
    ADMIN = "ADMIN"
    USER = "USER"
    PASSWORD_CHANGED = "PASSWORD_CHANGED"
    MFA_RESET = "MFA_RESET"
    USER_DEACTIVATED = "USER_DEACTIVATED"
    USER_DELETED = "USER_DELETED"
    ORGANIZATION_DELETED = "ORGANIZATION_DELETED"


class AuthenticationMethod(str, Enum):
    PASSWORD = "PASSWORD"
    PASSWORD_TOTP = "PASSWORD_TOTP"
    PASSWORD_RECOVERY_CODE = "PASSWORD_RECOVERY_CODE"


class ServiceAccountState(str, Enum):
    ACTIVE = "ACTIVE"
    DELETED = "DELETED"


class SigningKeyState(str, Enum):
    ACTIVE = "ACTIVE"
    RETIRED = "RETIRED"
    EXPIRED = "EXPIRED"


@dataclass
class Organization(Versioned):
    id: str
    display_name: str
    create_time: datetime
    update_time: datetime
    state: OrganizationState = OrganizationState.ACTIVE
    currency_code: str = "EUR"
    time_zone: str = "UTC"
    locale: str = "en"
    region_code: str = ""
    delete_time: datetime | None = None
    purge_time: datetime | None = None

    @property
    def active(self) -> bool:
        return self.state is OrganizationState.ACTIVE

    def delete(self, now: datetime, retention: timedelta) -> None:
        if not self.active:
            raise InvalidState(f"organizations/{self.id}", self.state.value, "delete")
        self.state = OrganizationState.DELETED
        self.delete_time = now
        self.purge_time = now + retention
        self.touch(now)


@dataclass
class User(Versioned):
    id: str
    organization_id: str
    email: str
    given_name: str
    family_name: str
    display_name: str
    origin: UserOrigin
    create_time: datetime
    update_time: datetime
    state: UserState = UserState.ACTIVE
    locale: str = ""
    time_zone: str = ""
    role_ids: list[str] = field(default_factory=list)
    password_hash: str | None = field(default=None, repr=False)
    password_update_time: datetime | None = None
    mfa_enabled: bool = False
    last_login_time: datetime | None = None
    delete_time: datetime | None = None
    # Read-only projection of the email's lockout (not stored on the user).
    lock_expire_time: datetime | None = None

    @property
    def can_log_in(self) -> bool:
        return self.state is UserState.ACTIVE

    @property
    def counts_against_plan(self) -> bool:
        return self.state in (UserState.ACTIVE, UserState.PENDING)

    def set_password(self, password_hash: str, now: datetime) -> None:
        self.password_hash = password_hash
        self.password_update_time = now
        if self.state is UserState.PENDING:
            self.state = UserState.ACTIVE
        self.touch(now)

    def deactivate(self, now: datetime) -> None:
        if self.state not in (UserState.ACTIVE, UserState.PENDING):
            raise InvalidState(f"users/{self.id}", f"USER_STATE_{self.state.value}", "deactivate")
        self.state = UserState.DEACTIVATED
        self.touch(now)

    def reactivate(self, now: datetime) -> None:
        if self.state is not UserState.DEACTIVATED:
            raise InvalidState(f"users/{self.id}", f"USER_STATE_{self.state.value}", "reactivate")
        self.state = UserState.ACTIVE if self.password_hash else UserState.PENDING
        self.touch(now)

    def delete(self, now: datetime) -> None:
        if self.state is UserState.DELETED:
            return
        self.state = UserState.DELETED
        self.delete_time = now
        self.touch(now)

    def grant(self, role_id: str, now: datetime) -> bool:
        if role_id in self.role_ids:
            return False
        self.role_ids = [*self.role_ids, role_id]
        self.touch(now)
        return True

    def revoke(self, role_id: str, now: datetime) -> bool:
        if role_id not in self.role_ids:
            return False
        self.role_ids = [r for r in self.role_ids if r != role_id]
        self.touch(now)
        return True


@dataclass
class Role(Versioned):
    """A custom role of one organization (built-in roles live in `rbac.BUILT_IN`)."""

    id: str
    organization_id: str
    display_name: str
    permissions: list[str]
    create_time: datetime | None
    update_time: datetime | None
    description: str = ""
    built_in: bool = False
    user_count: int = 0


@dataclass
class Invitation(Versioned):
    id: str
    organization_id: str
    email: str
    role_id: str
    inviter_user_id: str
    expire_time: datetime
    create_time: datetime
    update_time: datetime
    message: str = ""
    state: InvitationState = InvitationState.PENDING
    token_hash: str | None = field(default=None, repr=False)
    send_count: int = 0
    last_send_time: datetime | None = None
    accepted_user_id: str = ""
    respond_time: datetime | None = None

    def state_at(self, now: datetime) -> InvitationState:
        if self.state is InvitationState.PENDING and self.expire_time <= now:
            return InvitationState.EXPIRED
        return self.state

    def usable(self, now: datetime) -> bool:
        return self.state_at(now) is InvitationState.PENDING

    def send(self, token_hash: str, now: datetime, ttl: timedelta) -> None:
        if self.state_at(now) not in (InvitationState.PENDING, InvitationState.EXPIRED):
            raise InvalidState(f"invitations/{self.id}",
                               f"INVITATION_STATE_{self.state_at(now).value}", "resend")
        self.state = InvitationState.PENDING
        self.token_hash = token_hash
        self.expire_time = now + ttl
        self.send_count += 1
        self.last_send_time = now
        self.touch(now)

    def revoke(self, now: datetime) -> bool:
        current = self.state_at(now)
        if current is InvitationState.REVOKED:
            return False
        if current not in (InvitationState.PENDING, InvitationState.EXPIRED):
            raise InvalidState(f"invitations/{self.id}", f"INVITATION_STATE_{current.value}",
                               "revoke")
        self._close(InvitationState.REVOKED, now)
        return True

    def accept(self, user_id: str, now: datetime) -> None:
        self.accepted_user_id = user_id
        self._close(InvitationState.ACCEPTED, now)

    def decline(self, now: datetime) -> None:
        self._close(InvitationState.DECLINED, now)

    def _close(self, state: InvitationState, now: datetime) -> None:
        self.state = state
        self.token_hash = None
        self.respond_time = now
        self.touch(now)


@dataclass
class Session(Versioned):
    id: str
    organization_id: str
    user_id: str
    authentication_method: AuthenticationMethod
    expire_time: datetime
    absolute_expire_time: datetime
    create_time: datetime
    update_time: datetime
    state: SessionState = SessionState.ACTIVE
    user_agent: str = ""
    ip_address: str = ""
    refresh_count: int = 0
    last_refresh_time: datetime | None = None
    revoke_time: datetime | None = None
    revoke_reason: RevokeReason | None = None

    def state_at(self, now: datetime) -> SessionState:
        if self.state is SessionState.ACTIVE and self.expire_time <= now:
            return SessionState.EXPIRED
        return self.state

    def usable(self, now: datetime) -> bool:
        return self.state_at(now) is SessionState.ACTIVE

    def rotated(self, now: datetime, refresh_ttl: timedelta) -> None:
        self.refresh_count += 1
        self.last_refresh_time = now
        self.expire_time = min(now + refresh_ttl, self.absolute_expire_time)
        self.touch(now)

    def revoke(self, reason: RevokeReason, now: datetime) -> bool:
        """Revokes an active session; False when it was already revoked or expired."""
        if self.state is not SessionState.ACTIVE:
            return False
        self.state = SessionState.REVOKED
        self.revoke_reason = reason
        self.revoke_time = now
        self.touch(now)
        return True


@dataclass
class ServiceAccount(Versioned):
    id: str
    organization_id: str
    display_name: str
    client_id: str
    permissions: list[str]
    secret_create_time: datetime
    create_time: datetime
    update_time: datetime
    description: str = ""
    secret_hash: str = field(default="", repr=False)
    state: ServiceAccountState = ServiceAccountState.ACTIVE
    last_use_time: datetime | None = None
    delete_time: datetime | None = None

    @property
    def active(self) -> bool:
        return self.state is ServiceAccountState.ACTIVE

    def rotate_secret(self, secret_hash: str, now: datetime) -> None:
        if not self.active:
            raise InvalidState(f"serviceAccounts/{self.id}", "SERVICE_ACCOUNT_STATE_DELETED",
                               "rotate the secret of")
        self.secret_hash = secret_hash
        self.secret_create_time = now
        self.touch(now)

    def delete(self, now: datetime) -> None:
        if not self.active:
            return
        self.state = ServiceAccountState.DELETED
        self.delete_time = now
        self.touch(now)


@dataclass
class MfaSetup:
    user_id: str
    organization_id: str
    update_time: datetime
    totp_secret: bytes | None = field(default=None, repr=False)  # sealed
    pending_secret: bytes | None = field(default=None, repr=False)  # sealed
    pending_expire_time: datetime | None = None
    enable_time: datetime | None = None
    last_step: int | None = None
    recovery_codes_remaining: int = 0

    @property
    def enabled(self) -> bool:
        return self.totp_secret is not None

    def pending_at(self, now: datetime) -> bool:
        return (self.pending_secret is not None and self.pending_expire_time is not None
                and self.pending_expire_time > now)

    def clear(self, now: datetime) -> None:
        self.totp_secret = None
        self.pending_secret = None
        self.pending_expire_time = None
        self.enable_time = None
        self.last_step = None
        self.recovery_codes_remaining = 0
        self.update_time = now


@dataclass
class SigningKey(Versioned):
    id: str
    algorithm: str
    public_jwk: dict
    sealed_private_key: bytes = field(repr=False)
    create_time: datetime = None  # type: ignore[assignment]
    activate_time: datetime | None = None
    retire_time: datetime | None = None
    expire_time: datetime | None = None
    update_time: datetime | None = None
    state: SigningKeyState = SigningKeyState.ACTIVE

    def state_at(self, now: datetime) -> SigningKeyState:
        if self.state is SigningKeyState.RETIRED and self.expire_time and self.expire_time <= now:
            return SigningKeyState.EXPIRED
        return self.state

    def verifies_at(self, now: datetime) -> bool:
        return self.state_at(now) in (SigningKeyState.ACTIVE, SigningKeyState.RETIRED)

    def retire(self, now: datetime, keep_for: timedelta) -> None:
        self.state = SigningKeyState.RETIRED
        self.retire_time = now
        self.expire_time = now + keep_for
        self.update_time = now
        self.version += 1
