"""Repositories over SQLAlchemy Core: rows in, domain dataclasses out.

Every read of an organization's resource is scoped by its organization id. Updates check the
version read in the same unit of work (optimistic concurrency: a concurrent change is
ABORTED, never silently overwritten).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pivotal_runtime.errors import Aborted, AlreadyExists
from pivotal_runtime.kit.paging import Position
from pivotal_runtime.kit.repository import (
    VersionedRepository,
    after_position,
    from_row,
    insert_ignore,
    order_by,
    row_values,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession

from pivotal_identity.adapters import tables as t
from pivotal_identity.domain import errors
from pivotal_identity.domain.lockout import LoginAttempts
from pivotal_identity.domain.model import (
    AuthenticationMethod,
    Invitation,
    InvitationState,
    MfaSetup,
    Organization,
    OrganizationState,
    RevocationRecord,
    RevokeReason,
    Role,
    ServiceAccount,
    ServiceAccountState,
    Session,
    SessionState,
    SigningKey,
    SigningKeyState,
    User,
    UserOrigin,
    UserState,
)


class OrganizationRepository(VersionedRepository):
    table = t.organizations
    resource_type = "organization"

    def get(self, organization_id: str) -> Organization | None:
        row = self._s.execute(sa.select(t.organizations).where(
            t.organizations.c.id == organization_id)).first()
        return self._seen(row and from_row(Organization, row, {"state": OrganizationState}))

    def add(self, organization: Organization) -> None:
        super().add(organization)

    def update(self, organization: Organization) -> None:
        super().update(organization)


def _user_select():
    return (sa.select(t.users, t.login_attempts.c.locked_until)
            .select_from(t.users.outerjoin(t.login_attempts,
                                           t.login_attempts.c.email == t.users.c.email)))


class UserRepository(VersionedRepository):
    table = t.users
    resource_type = "user"

    def _load(self, rows: list) -> list[User]:
        if not rows:
            return []
        ids = [row.id for row in rows]
        roles: dict[str, list[str]] = {i: [] for i in ids}
        for user_id, role_id in self._s.execute(
            sa.select(t.user_roles.c.user_id, t.user_roles.c.role_id)
            .where(t.user_roles.c.user_id.in_(ids)).order_by(t.user_roles.c.role_id)
        ):
            roles[user_id].append(role_id)
        now = datetime.now(UTC)
        users = []
        for row in rows:
            locked = row.locked_until if row.locked_until and row.locked_until > now else None
            users.append(self._seen(from_row(
                User, row, {"state": UserState, "origin": UserOrigin},
                role_ids=roles[row.id], lock_expire_time=locked)))
        return users

    def get(self, organization_id: str, user_id: str) -> User | None:
        rows = self._s.execute(_user_select().where(
            t.users.c.id == user_id, t.users.c.organization_id == organization_id)).all()
        found = self._load(rows)
        return found[0] if found else None

    def get_many(self, organization_id: str, user_ids: list[str]) -> list[User]:
        rows = self._s.execute(_user_select().where(
            t.users.c.id.in_(user_ids), t.users.c.organization_id == organization_id)).all()
        return self._load(rows)

    def by_email(self, email: str) -> User | None:
        found = self._load(self._s.execute(_user_select().where(t.users.c.email == email)).all())
        return found[0] if found else None

    def locate(self, email: str) -> tuple[str, str] | None:
        """(organization id, user id) of the email's user, in one statement whether or not
        there is one (forgot-password's lookup)."""
        row = self._s.execute(sa.select(t.users.c.organization_id, t.users.c.id).where(
            t.users.c.email == email)).first()
        return (row.organization_id, row.id) if row else None

    def organization_of(self, user_id: str) -> str | None:
        return self._s.execute(sa.select(t.users.c.organization_id).where(
            t.users.c.id == user_id)).scalar()

    def email_taken(self, email: str) -> bool:
        return self._s.execute(sa.select(t.users.c.id).where(t.users.c.email == email)).first() \
            is not None

    def add(self, user: User) -> None:
        try:
            with self._s.begin_nested():
                super().add(user)
        except IntegrityError:
            raise errors.email_taken() from None
        self._set_roles(user)

    def update(self, user: User) -> None:
        try:
            with self._s.begin_nested():
                super().update(user)
        except IntegrityError:
            raise errors.email_taken() from None
        self._set_roles(user)

    def record_login(self, user: User, now: datetime, password_hash: str | None = None) -> None:
        """Last login time (and a transparent rehash): bookkeeping, not a profile change, so
        the etag stays."""
        values: dict[str, Any] = {"last_login_time": now}
        if password_hash:
            values["password_hash"] = password_hash
        self._s.execute(sa.update(t.users).where(t.users.c.id == user.id).values(**values))

    def _set_roles(self, user: User) -> None:
        current = set(self._s.execute(sa.select(t.user_roles.c.role_id).where(
            t.user_roles.c.user_id == user.id)).scalars())
        wanted = set(user.role_ids)
        if current - wanted:
            self._s.execute(sa.delete(t.user_roles).where(
                t.user_roles.c.user_id == user.id, t.user_roles.c.role_id.in_(current - wanted)))
        for role_id in sorted(wanted - current):
            self._s.execute(t.user_roles.insert().values(
                user_id=user.id, role_id=role_id, organization_id=user.organization_id))

    def _filtered(self, organization_id: str, *, state: UserState | None, role_id: str,
                  query: str, locked_only: bool):
        statement = _user_select().where(t.users.c.organization_id == organization_id)
        if state is None:
            statement = statement.where(t.users.c.state != UserState.DELETED.value)
        else:
            statement = statement.where(t.users.c.state == state.value)
        if role_id:
            statement = statement.where(t.users.c.id.in_(sa.select(t.user_roles.c.user_id).where(
                t.user_roles.c.role_id == role_id,
                t.user_roles.c.organization_id == organization_id)))
        if query:
            statement = statement.where(sa.or_(
                *(column.icontains(query, autoescape=True) for column in
                  (t.users.c.email, t.users.c.given_name, t.users.c.family_name,
                   t.users.c.display_name))))
        if locked_only:
            statement = statement.where(t.login_attempts.c.locked_until > datetime.now(UTC))
        return statement

    def list(self, organization_id: str, *, after: Position | None, limit: int,
             state: UserState | None, role_id: str = "", query: str = "",
             locked_only: bool = False) -> tuple[list[User], int]:
        statement = self._filtered(organization_id, state=state, role_id=role_id, query=query,
                                   locked_only=locked_only)
        total = self._s.execute(sa.select(sa.func.count()).select_from(
            statement.subquery())).scalar_one()
        order = [(t.users.c.display_name, False), (t.users.c.id, False)]
        rows = self._s.execute(statement.where(after_position(order, after))
                               .order_by(*order_by(order)).limit(limit)).all()
        return self._load(rows), total

    def count_billable(self, organization_id: str) -> int:
        return self._s.execute(sa.select(sa.func.count()).select_from(t.users).where(
            t.users.c.organization_id == organization_id,
            t.users.c.state.in_([UserState.ACTIVE.value, UserState.PENDING.value]))).scalar_one()

    def active_owner_ids(self, organization_id: str) -> list[str]:
        return list(self._s.execute(
            sa.select(t.users.c.id).join(t.user_roles, t.user_roles.c.user_id == t.users.c.id)
            .where(t.users.c.organization_id == organization_id,
                   t.users.c.state == UserState.ACTIVE.value,
                   t.user_roles.c.role_id == "owner")).scalars())

    def role_user_count(self, organization_id: str, role_id: str) -> int:
        return self._s.execute(
            sa.select(sa.func.count()).select_from(t.user_roles)
            .join(t.users, t.users.c.id == t.user_roles.c.user_id)
            .where(t.user_roles.c.organization_id == organization_id,
                   t.user_roles.c.role_id == role_id,
                   t.users.c.state != UserState.DELETED.value)).scalar_one()

    def ids_of_organization(self, organization_id: str) -> list[str]:
        return list(self._s.execute(sa.select(t.users.c.id).where(
            t.users.c.organization_id == organization_id)).scalars())


class RoleRepository(VersionedRepository):
    table = t.roles
    resource_type = "role"

    def _role(self, row: Any) -> Role:
        return self._seen(from_row(Role, row, permissions=list(row.permissions)))

    def get(self, organization_id: str, role_id: str) -> Role | None:
        row = self._s.execute(sa.select(t.roles).where(
            t.roles.c.id == role_id, t.roles.c.organization_id == organization_id)).first()
        return self._role(row) if row else None

    def list(self, organization_id: str) -> list[Role]:
        rows = self._s.execute(sa.select(t.roles).where(
            t.roles.c.organization_id == organization_id)
            .order_by(t.roles.c.name_key, t.roles.c.id)).all()
        return [self._role(row) for row in rows]

    def permissions_of(self, organization_id: str, role_ids: Iterable[str]) -> dict[str, list[str]]:
        ids = list(role_ids)
        if not ids:
            return {}
        rows = self._s.execute(sa.select(t.roles.c.id, t.roles.c.permissions).where(
            t.roles.c.organization_id == organization_id, t.roles.c.id.in_(ids))).all()
        return {row.id: list(row.permissions) for row in rows}

    def name_taken(self, organization_id: str, display_name: str, except_id: str = "") -> bool:
        return self._s.execute(sa.select(t.roles.c.id).where(
            t.roles.c.organization_id == organization_id,
            t.roles.c.name_key == display_name.lower(), t.roles.c.id != except_id)).first() \
            is not None

    def add(self, role: Role) -> None:
        try:
            with self._s.begin_nested():
                super().add(role, name_key=role.display_name.lower())
        except IntegrityError:
            raise AlreadyExists("another role of the organization has this name") from None

    def update(self, role: Role) -> None:
        try:
            with self._s.begin_nested():
                super().update(role, name_key=role.display_name.lower())
        except IntegrityError:
            raise AlreadyExists("another role of the organization has this name") from None

    def delete(self, role: Role) -> None:
        self._s.execute(sa.delete(t.roles).where(t.roles.c.id == role.id,
                                                 t.roles.c.organization_id == role.organization_id))


class LoginAttemptRepository:
    def __init__(self, session: DbSession) -> None:
        self._s = session

    def lock(self, email: str, account_email: str | None = None) -> LoginAttempts:
        """A counter row (the account's: its email; a per-client one: its key and the
        account's email), locked until the end of the transaction (SELECT ... FOR UPDATE on
        PostgreSQL; SQLite's BEGIN IMMEDIATE already serializes writers)."""
        insert_ignore(self._s, t.login_attempts,
                       {"email": email, "failed_count": 0, "account_email": account_email},
                       ["email"])
        row = self._s.execute(sa.select(t.login_attempts).where(
            t.login_attempts.c.email == email).with_for_update()).one()
        return from_row(LoginAttempts, row)

    def save(self, attempts: LoginAttempts) -> None:
        self._s.execute(sa.update(t.login_attempts).where(
            t.login_attempts.c.email == attempts.email).values(
            failed_count=attempts.failed_count, window_start=attempts.window_start,
            locked_until=attempts.locked_until))

    def clear_clients(self, account_email: str) -> None:
        """Forgets the account's per-client counters (an unlock, a password reset)."""
        self._s.execute(sa.delete(t.login_attempts).where(
            t.login_attempts.c.account_email == account_email))

    def get(self, email: str) -> LoginAttempts | None:
        row = self._s.execute(sa.select(t.login_attempts).where(
            t.login_attempts.c.email == email)).first()
        return from_row(LoginAttempts, row) if row else None


_SESSION_ENUMS = {"state": SessionState, "authentication_method": AuthenticationMethod,
                  "revoke_reason": RevokeReason}


class SessionRepository(VersionedRepository):
    table = t.sessions
    resource_type = "session"

    def get(self, session_id: str) -> Session | None:
        row = self._s.execute(sa.select(t.sessions).where(t.sessions.c.id == session_id)).first()
        return self._seen(row and from_row(Session, row, _SESSION_ENUMS))

    def add(self, session: Session) -> None:
        super().add(session)

    def update(self, session: Session) -> None:
        super().update(session, check_version=False)

    def list(self, organization_id: str, user_id: str | None, state: SessionState, *,
             after: Position | None, limit: int) -> list[Session]:
        now = datetime.now(UTC)
        statement = sa.select(t.sessions).where(t.sessions.c.organization_id == organization_id)
        if user_id:
            statement = statement.where(t.sessions.c.user_id == user_id)
        if state is SessionState.ACTIVE:
            statement = statement.where(t.sessions.c.state == "ACTIVE",
                                        t.sessions.c.expire_time > now)
        elif state is SessionState.EXPIRED:
            statement = statement.where(t.sessions.c.state == "ACTIVE",
                                        t.sessions.c.expire_time <= now)
        else:
            statement = statement.where(t.sessions.c.state == state.value)
        order = [(t.sessions.c.create_time, True), (t.sessions.c.id, False)]
        rows = self._s.execute(statement.where(after_position(order, after))
                               .order_by(*order_by(order)).limit(limit))
        return [self._seen(from_row(Session, row, _SESSION_ENUMS)) for row in rows]

    def active_of_users(self, user_ids: list[str]) -> list[Session]:
        if not user_ids:
            return []
        rows = self._s.execute(sa.select(t.sessions).where(
            t.sessions.c.user_id.in_(user_ids), t.sessions.c.state == "ACTIVE"))
        return [self._seen(from_row(Session, row, _SESSION_ENUMS)) for row in rows]


class RefreshTokenRepository:
    def __init__(self, session: DbSession) -> None:
        self._s = session

    def add(self, token_hash: str, session_id: str, expire_time: datetime, now: datetime) -> None:
        self._s.execute(t.refresh_tokens.insert().values(
            token_hash=token_hash, session_id=session_id, expire_time=expire_time,
            create_time=now))

    def spend(self, token_hash: str, now: datetime) -> bool:
        """Marks an unspent token spent, atomically: of two concurrent spends one wins."""
        result = self._s.execute(sa.update(t.refresh_tokens).where(
            t.refresh_tokens.c.token_hash == token_hash,
            t.refresh_tokens.c.spent_time.is_(None)).values(spent_time=now))
        return result.rowcount == 1

    def find(self, token_hash: str):
        return self._s.execute(sa.select(t.refresh_tokens).where(
            t.refresh_tokens.c.token_hash == token_hash)).first()


class InvitationRepository(VersionedRepository):
    table = t.invitations
    resource_type = "invitation"

    def _one(self, *conditions) -> Invitation | None:
        row = self._s.execute(sa.select(t.invitations).where(*conditions)).first()
        return self._seen(row and from_row(Invitation, row, {"state": InvitationState}))

    def get(self, organization_id: str, invitation_id: str) -> Invitation | None:
        return self._one(t.invitations.c.id == invitation_id,
                         t.invitations.c.organization_id == organization_id)

    def by_token_hash(self, token_hash: str) -> Invitation | None:
        return self._one(t.invitations.c.token_hash == token_hash)

    def pending_for(self, organization_id: str, email: str, now: datetime) -> Invitation | None:
        return self._one(t.invitations.c.organization_id == organization_id,
                         t.invitations.c.email == email, t.invitations.c.state == "PENDING",
                         t.invitations.c.expire_time > now)

    def count_pending(self, organization_id: str, now: datetime) -> int:
        return self._s.execute(sa.select(sa.func.count()).select_from(t.invitations).where(
            t.invitations.c.organization_id == organization_id,
            t.invitations.c.state == "PENDING", t.invitations.c.expire_time > now)).scalar_one()

    def add(self, invitation: Invitation) -> None:
        super().add(invitation)

    def update(self, invitation: Invitation) -> None:
        super().update(invitation)

    def list(self, organization_id: str, *, state: InvitationState | None, email: str,
             after: Position | None, limit: int, now: datetime
             ) -> tuple[list[Invitation], int]:
        statement = sa.select(t.invitations).where(
            t.invitations.c.organization_id == organization_id)
        if state is InvitationState.PENDING:
            statement = statement.where(t.invitations.c.state == "PENDING",
                                        t.invitations.c.expire_time > now)
        elif state is InvitationState.EXPIRED:
            statement = statement.where(t.invitations.c.state == "PENDING",
                                        t.invitations.c.expire_time <= now)
        elif state is not None:
            statement = statement.where(t.invitations.c.state == state.value)
        if email:
            statement = statement.where(t.invitations.c.email == email)
        total = self._s.execute(sa.select(sa.func.count()).select_from(
            statement.subquery())).scalar_one()
        order = [(t.invitations.c.create_time, True), (t.invitations.c.id, False)]
        rows = self._s.execute(statement.where(after_position(order, after))
                               .order_by(*order_by(order)).limit(limit))
        return [self._seen(from_row(Invitation, r, {"state": InvitationState}))
                for r in rows], total


class ResetTokenRepository:
    def __init__(self, session: DbSession) -> None:
        self._s = session

    def replace(self, user_id: str, token_hash: str, expire_time: datetime, now: datetime) -> None:
        """Issues a token for the user; every earlier unused one stops working."""
        self._s.execute(sa.update(t.password_reset_tokens).where(
            t.password_reset_tokens.c.user_id == user_id,
            t.password_reset_tokens.c.used_time.is_(None)).values(used_time=now))
        self._s.execute(t.password_reset_tokens.insert().values(
            token_hash=token_hash, user_id=user_id, expire_time=expire_time, create_time=now))

    def peek(self, token_hash: str, now: datetime) -> str | None:
        """The user id of a valid token, without spending it."""
        return self._s.execute(sa.select(t.password_reset_tokens.c.user_id).where(
            t.password_reset_tokens.c.token_hash == token_hash,
            t.password_reset_tokens.c.used_time.is_(None),
            t.password_reset_tokens.c.expire_time > now)).scalar()

    def use(self, token_hash: str, now: datetime) -> str | None:
        """Spends a valid token atomically; returns its user id."""
        row = self._s.execute(sa.select(t.password_reset_tokens.c.user_id).where(
            t.password_reset_tokens.c.token_hash == token_hash,
            t.password_reset_tokens.c.used_time.is_(None),
            t.password_reset_tokens.c.expire_time > now)).first()
        if row is None:
            return None
        spent = self._s.execute(sa.update(t.password_reset_tokens).where(
            t.password_reset_tokens.c.token_hash == token_hash,
            t.password_reset_tokens.c.used_time.is_(None)).values(used_time=now))
        return row.user_id if spent.rowcount == 1 else None


class MfaRepository:
    def __init__(self, session: DbSession) -> None:
        self._s = session

    def get(self, user_id: str) -> MfaSetup | None:
        row = self._s.execute(sa.select(t.mfa).where(t.mfa.c.user_id == user_id)).first()
        if row is None:
            return None
        return from_row(MfaSetup, row, recovery_codes_remaining=self.remaining_codes(user_id))

    def save(self, setup: MfaSetup) -> None:
        values = row_values(setup, t.mfa)
        insert_ignore(self._s, t.mfa, values, ["user_id"])
        self._s.execute(sa.update(t.mfa).where(t.mfa.c.user_id == setup.user_id).values(**values))

    def claim_step(self, user_id: str, step: int) -> bool:
        """Records the accepted TOTP step, atomically refusing a step not newer than the last."""
        result = self._s.execute(sa.update(t.mfa).where(
            t.mfa.c.user_id == user_id,
            sa.or_(t.mfa.c.last_step.is_(None), t.mfa.c.last_step < step)).values(last_step=step))
        return result.rowcount == 1

    def replace_codes(self, user_id: str, code_hashes: list[str]) -> None:
        self._s.execute(sa.delete(t.recovery_codes).where(t.recovery_codes.c.user_id == user_id))
        for code_hash in code_hashes:
            self._s.execute(t.recovery_codes.insert().values(user_id=user_id, code_hash=code_hash))

    def use_code(self, user_id: str, code_hash: str, now: datetime) -> bool:
        result = self._s.execute(sa.update(t.recovery_codes).where(
            t.recovery_codes.c.user_id == user_id, t.recovery_codes.c.code_hash == code_hash,
            t.recovery_codes.c.used_time.is_(None)).values(used_time=now))
        return result.rowcount == 1

    def remaining_codes(self, user_id: str) -> int:
        return self._s.execute(sa.select(sa.func.count()).select_from(t.recovery_codes).where(
            t.recovery_codes.c.user_id == user_id,
            t.recovery_codes.c.used_time.is_(None))).scalar_one()


class ServiceAccountRepository(VersionedRepository):
    table = t.service_accounts
    resource_type = "service account"

    def _one(self, *conditions) -> ServiceAccount | None:
        row = self._s.execute(sa.select(t.service_accounts).where(*conditions)).first()
        if row is None:
            return None
        return self._seen(from_row(ServiceAccount, row, {"state": ServiceAccountState},
                                 permissions=list(row.permissions)))

    def get(self, organization_id: str, account_id: str) -> ServiceAccount | None:
        return self._one(t.service_accounts.c.id == account_id,
                         t.service_accounts.c.organization_id == organization_id)

    def by_client_id(self, client_id: str) -> ServiceAccount | None:
        return self._one(t.service_accounts.c.client_id == client_id)

    def name_taken(self, organization_id: str, display_name: str, except_id: str = "") -> bool:
        return self._s.execute(sa.select(t.service_accounts.c.id).where(
            t.service_accounts.c.organization_id == organization_id,
            sa.func.lower(t.service_accounts.c.display_name) == display_name.lower(),
            t.service_accounts.c.state == "ACTIVE",
            t.service_accounts.c.id != except_id)).first() is not None

    def add(self, account: ServiceAccount) -> None:
        super().add(account)

    def update(self, account: ServiceAccount) -> None:
        super().update(account)

    def record_use(self, account: ServiceAccount, now: datetime) -> None:
        self._s.execute(sa.update(t.service_accounts).where(
            t.service_accounts.c.id == account.id).values(last_use_time=now))

    def list(self, organization_id: str, *, show_deleted: bool, after: Position | None,
             limit: int) -> tuple[list[ServiceAccount], int]:
        statement = sa.select(t.service_accounts).where(
            t.service_accounts.c.organization_id == organization_id)
        if not show_deleted:
            statement = statement.where(t.service_accounts.c.state == "ACTIVE")
        total = self._s.execute(sa.select(sa.func.count()).select_from(
            statement.subquery())).scalar_one()
        order = [(t.service_accounts.c.display_name, False), (t.service_accounts.c.id, False)]
        rows = self._s.execute(statement.where(after_position(order, after))
                               .order_by(*order_by(order)).limit(limit))
        return [self._seen(from_row(ServiceAccount, r, {"state": ServiceAccountState},
                                  permissions=list(r.permissions))) for r in rows], total


class SigningKeyRepository:
    def __init__(self, session: DbSession) -> None:
        self._s = session

    def all(self) -> list[SigningKey]:
        rows = self._s.execute(sa.select(t.signing_keys).order_by(
            t.signing_keys.c.create_time.desc()))
        return [from_row(SigningKey, row, {"state": SigningKeyState},
                       sealed_private_key=row.private_key, public_jwk=dict(row.public_jwk))
                for row in rows]

    def add_active(self, key: SigningKey) -> None:
        values = row_values(key, t.signing_keys)
        values.update(private_key=key.sealed_private_key, active_marker=1)
        try:
            with self._s.begin_nested():
                self._s.execute(t.signing_keys.insert().values(**values))
        except IntegrityError:
            raise Aborted("another replica activated a signing key at the same time; retry",
                          reason="CONCURRENT_MODIFICATION") from None

    def retire(self, key: SigningKey) -> None:
        result = self._s.execute(sa.update(t.signing_keys).where(
            t.signing_keys.c.id == key.id, t.signing_keys.c.state == "ACTIVE").values(
            state=key.state.value, active_marker=None, retire_time=key.retire_time,
            expire_time=key.expire_time, update_time=key.update_time, version=key.version))
        if result.rowcount != 1:
            raise Aborted("the signing key was rotated concurrently; retry")


def _latest_revocation(slots: Iterable[tuple[str, str]]):
    """A scalar subquery: the latest revocation (ms) of any of `slots` ((scope, key) pairs)."""
    r = t.revocations.c
    return (sa.select(sa.func.max(r.revoke_time_ms))
            .where(sa.or_(*(sa.and_(r.scope == scope, r.key == key) for scope, key in slots)))
            .scalar_subquery())


@dataclasses.dataclass
class UserStanding:
    """A user token's current state, read in one statement: its session, its user with the
    roles and the custom roles' permissions, and the latest revocation covering the token."""

    session_state: str
    session_user_id: str
    user: User
    custom_permissions: dict[str, list[str]]
    revoked_ms: int | None


@dataclasses.dataclass
class AccountStanding:
    account: ServiceAccount
    revoked_ms: int | None


class AccessRepository:
    """Reads for the per-request authorization of identity's own RPCs and the revocation
    log (its writes and KeyService.ListRevocations)."""

    def __init__(self, session: DbSession) -> None:
        self._s = session

    def user_standing(self, session_id: str, organization_id: str,
                      slots: list[tuple[str, str]]) -> UserStanding | None:
        statement = (
            sa.select(t.sessions.c.state.label("session_state"),
                      t.sessions.c.user_id.label("session_user_id"), t.users,
                      t.login_attempts.c.locked_until, t.user_roles.c.role_id,
                      t.roles.c.permissions.label("role_permissions"),
                      _latest_revocation(slots).label("revoked_ms"))
            .select_from(
                t.sessions.join(t.users, sa.and_(t.users.c.id == t.sessions.c.user_id,
                                                 t.users.c.organization_id == organization_id))
                .outerjoin(t.login_attempts, t.login_attempts.c.email == t.users.c.email)
                .outerjoin(t.user_roles, t.user_roles.c.user_id == t.users.c.id)
                .outerjoin(t.roles, sa.and_(
                    t.roles.c.id == t.user_roles.c.role_id,
                    t.roles.c.organization_id == t.users.c.organization_id)))
            .where(t.sessions.c.id == session_id)
            .order_by(t.user_roles.c.role_id))
        rows = self._s.execute(statement).all()
        if not rows:
            return None
        first = rows[0]
        now = datetime.now(UTC)
        locked = first.locked_until if first.locked_until and first.locked_until > now else None
        roles = [row.role_id for row in rows if row.role_id is not None]
        custom = {row.role_id: list(row.role_permissions) for row in rows
                  if row.role_permissions is not None}
        user = from_row(User, first, {"state": UserState, "origin": UserOrigin},
                        role_ids=roles, lock_expire_time=locked)
        return UserStanding(first.session_state, first.session_user_id, user, custom,
                            first.revoked_ms)

    def account_standing(self, organization_id: str, account_id: str,
                         slots: list[tuple[str, str]]) -> AccountStanding | None:
        row = self._s.execute(sa.select(t.service_accounts,
                                        _latest_revocation(slots).label("revoked_ms"))
                              .where(t.service_accounts.c.id == account_id,
                                     t.service_accounts.c.organization_id == organization_id)
                              ).first()
        if row is None:
            return None
        account = from_row(ServiceAccount, row, {"state": ServiceAccountState},
                           permissions=list(row.permissions))
        return AccountStanding(account, row.revoked_ms)

    def latest_revocation(self, slots: list[tuple[str, str]]) -> int | None:
        return self._s.execute(sa.select(_latest_revocation(slots))).scalar()

    def revoke(self, revocation: RevocationRecord) -> None:
        self._s.execute(sa.insert(t.revocations).values(**dataclasses.asdict(revocation)))

    def revocations_since(self, since_ms: int, limit: int) -> list[RevocationRecord]:
        r = t.revocations.c
        rows = self._s.execute(sa.select(r.organization_id, r.scope, r.key, r.revoke_time_ms,
                                         r.reason)
                               .where(r.revoke_time_ms > since_ms)
                               .order_by(r.revoke_time_ms, r.id).limit(limit)).all()
        return [RevocationRecord(**row._mapping) for row in rows]

    def purge_revocations(self, before_ms: int) -> int:
        return self._s.execute(sa.delete(t.revocations).where(
            t.revocations.c.revoke_time_ms < before_ms)).rowcount or 0
