"""Login, refresh-token rotation with reuse detection, logout, and the lockout-guarded
password check that login and every re-authentication go through."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from pivotal_runtime.errors import ViolationCollector
from pivotal_runtime.kit.caller import Caller
from pivotal_runtime.logs import log_fields

from pivotal_identity.application import events
from pivotal_identity.application.common import (
    Deps,
    require_user,
)
from pivotal_identity.domain import errors, rbac
from pivotal_identity.domain.mfa import accept_step, normalize_recovery_code
from pivotal_identity.domain.model import (
    AuthenticationMethod,
    RevokeReason,
    Session,
    User,
    new_id,
)
from pivotal_identity.domain.passwords import (
    MAX_EMAIL_LENGTH,
    MAX_PASSWORD_LENGTH,
    normalize_email,
)
from pivotal_identity.domain.tokens import (
    RefreshVerdict,
    access_claims,
    hash_secret,
    judge_refresh,
    new_secret,
)

audit = logging.getLogger("pivotal.audit")


@dataclass(frozen=True)
class ClientInfo:
    user_agent: str = ""
    ip_address: str = ""


@dataclass
class Tokens:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    session_id: str
    user_id: str
    organization_id: str
    remaining_recovery_codes: int = 0


def recovery_hash(user_id: str, code: str) -> str:
    return hash_secret(f"{user_id}:{normalize_recovery_code(code)}")


class PasswordGuard:
    """Checks a password under the lockout rule: the attempt is counted (atomically, on the
    locked counter row) before the hash is verified; a right password resets the count."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def check(self, email: str, password: str, *, reauthentication: bool = False) -> User:
        deps = self._deps
        now = deps.clock()
        with deps.uow() as uow:
            attempts = uow.attempts.lock(email)
            admission = attempts.admit(deps.lockout, now)
            uow.attempts.save(attempts)
            user = uow.users.by_email(email)
            uow.commit()
        if not admission.admitted:
            raise errors.account_locked(admission.retry_after_seconds)
        if user is not None and user.password_hash:
            right = deps.hasher.verify(user.password_hash, password)
        else:
            deps.hasher.burn(password)
            right = False
        if not right:
            self.failed(email, user)
            raise errors.reauthentication_failed() if reauthentication \
                else errors.invalid_credentials()
        return user

    def failed(self, email: str, user: User | None) -> None:
        """Records a failure after an admitted attempt; locks at the limit (and says so)."""
        deps = self._deps
        now = deps.clock()
        with deps.uow() as uow:
            attempts = uow.attempts.lock(email)
            if attempts.after_failure(deps.lockout, now) and user is not None:
                events.publish(uow, events.user_locked(user, attempts.failed_count, now,
                                                       attempts.locked_until),
                               aggregate_id=user.id, organization_id=user.organization_id)
                log_fields(audit, logging.WARNING, "account locked", audit_event="user_locked",
                           user_id=user.id, organization_id=user.organization_id,
                           failed_attempts=attempts.failed_count)
            uow.attempts.save(attempts)
            uow.commit()

    def release(self, email: str, *, reset: bool) -> None:
        """After a right password: `reset` clears the count; otherwise only this attempt's
        slot is given back (the login stopped for a reason that is not a wrong guess)."""
        with self._deps.uow() as uow:
            attempts = uow.attempts.lock(email)
            if reset:
                attempts.reset()
            else:
                attempts.failed_count = max(0, attempts.failed_count - 1)
            uow.attempts.save(attempts)
            uow.commit()


class TokenIssuer:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def user_claims(self, uow, user: User, session_id: str, now: datetime) -> dict:
        """Read inside the unit of work; sign after it (signing may read the key table)."""
        custom = uow.roles.permissions_of(user.organization_id,
                                          [r for r in user.role_ids if not rbac.is_built_in(r)])
        claims = access_claims(self._deps.tokens, subject=user.id,
                               organization_id=user.organization_id, now=now,
                               roles=user.role_ids, perms=rbac.token_perms(user.role_ids, custom),
                               session_id=session_id)
        return claims

    def sign(self, claims: dict) -> str:
        return self._deps.keyring.sign(claims)

    def service_claims(self, subject: str, organization_id: str, permissions, client_id: str,
                       now: datetime) -> dict:
        return access_claims(self._deps.tokens, subject=subject, organization_id=organization_id,
                             now=now, perms=permissions, client_id=client_id)


def revoke_sessions(uow, sessions: list[Session], reason: RevokeReason, actor: str,
                    now: datetime) -> int:
    count = 0
    for session in sessions:
        if session.revoke(reason, now):
            uow.sessions.update(session)
            events.publish(uow, events.session_revoked(session, actor),
                           aggregate_id=session.id, organization_id=session.organization_id)
            count += 1
    return count


class AuthService:
    def __init__(self, deps: Deps, guard: PasswordGuard, issuer: TokenIssuer) -> None:
        self._deps = deps
        self._guard = guard
        self._issuer = issuer

    def login(self, email: str, password: str, totp_code: str = "", recovery_code: str = "",
              client: ClientInfo = ClientInfo()) -> Tokens:
        deps = self._deps
        email = normalize_email(email)
        v = ViolationCollector()
        v.require(bool(email), "email", "is required")
        v.require(len(email) <= MAX_EMAIL_LENGTH, "email", "is too long")
        v.require(bool(password), "password", "is required")
        v.require(len(password) <= MAX_PASSWORD_LENGTH, "password", "is too long")
        v.raise_if_any()
        user = self._guard.check(email, password)

        with deps.uow() as uow:
            organization = uow.organizations.get(user.organization_id)
            setup = uow.mfa.get(user.id) if user.mfa_enabled else None
        if not user.can_log_in or organization is None or not organization.active:
            self._guard.release(email, reset=False)
            raise errors.account_inactive()
        method = AuthenticationMethod.PASSWORD
        if setup is not None and setup.enabled:
            if not totp_code and not recovery_code:
                self._guard.release(email, reset=False)
                raise errors.mfa_required()
            method = (AuthenticationMethod.PASSWORD_TOTP if totp_code
                      else AuthenticationMethod.PASSWORD_RECOVERY_CODE)
        rehashed = (deps.hasher.hash(password)
                    if deps.hasher.needs_rehash(user.password_hash) else None)

        now = deps.clock()
        with deps.uow() as uow:
            remaining = 0
            if method is AuthenticationMethod.PASSWORD_TOTP:
                secret = deps.box.open(setup.totp_secret).decode()
                step = accept_step(deps.totp.matching_steps(secret, totp_code, now),
                                   setup.last_step)
                if step is None or not uow.mfa.claim_step(user.id, step):
                    uow.commit()
                    self._guard.failed(email, user)
                    raise errors.mfa_code_invalid()
            elif method is AuthenticationMethod.PASSWORD_RECOVERY_CODE:
                if not uow.mfa.use_code(user.id, recovery_hash(user.id, recovery_code), now):
                    uow.commit()
                    self._guard.failed(email, user)
                    raise errors.mfa_code_invalid()
                remaining = uow.mfa.remaining_codes(user.id)
            attempts = uow.attempts.lock(email)
            attempts.reset()
            uow.attempts.save(attempts)
            uow.users.record_login(user, now, rehashed)
            session = Session(
                id=new_id(), organization_id=user.organization_id, user_id=user.id,
                authentication_method=method,
                expire_time=min(now + deps.tokens.refresh_ttl,
                                now + deps.tokens.session_absolute_ttl),
                absolute_expire_time=now + deps.tokens.session_absolute_ttl,
                create_time=now, update_time=now,
                user_agent=client.user_agent[:256], ip_address=client.ip_address[:64])
            uow.sessions.add(session)
            refresh = new_secret("pfr_")
            uow.refresh_tokens.add(hash_secret(refresh), session.id, session.expire_time, now)
            claims = self._issuer.user_claims(uow, user, session.id, now)
            uow.commit()
        access = self._issuer.sign(claims)
        return self._tokens(access, refresh, session, now, remaining)

    def _tokens(self, access: str, refresh: str, session: Session, now: datetime,
                remaining: int = 0) -> Tokens:
        return Tokens(access_token=access,
                      expires_in=int(self._deps.tokens.access_ttl.total_seconds()),
                      refresh_token=refresh,
                      refresh_expires_in=max(0, int((session.expire_time - now).total_seconds())),
                      session_id=session.id, user_id=session.user_id,
                      organization_id=session.organization_id,
                      remaining_recovery_codes=remaining)

    def refresh(self, refresh_token: str) -> Tokens:
        deps = self._deps
        if not refresh_token.strip():
            raise errors.refresh_token_invalid()
        token_hash = hash_secret(refresh_token.strip())
        now = deps.clock()
        with deps.uow() as uow:
            row = uow.refresh_tokens.find(token_hash)
            session = uow.sessions.get(row.session_id) if row else None
            spent_now = bool(row) and row.spent_time is None and \
                uow.refresh_tokens.spend(token_hash, now)
            verdict = judge_refresh(found=row is not None and session is not None,
                                    spent=not spent_now and row is not None,
                                    expired=row is not None and row.expire_time <= now,
                                    session_usable=session is not None and session.usable(now))
            if verdict == RefreshVerdict.REUSED:
                revoke_sessions(uow, [session], RevokeReason.REFRESH_TOKEN_REUSE, "", now)
                uow.commit()
                log_fields(audit, logging.WARNING,
                           "refresh token reused: session revoked",
                           audit_event="refresh_token_reuse", session_id=session.id,
                           user_id=session.user_id, organization_id=session.organization_id)
                raise errors.refresh_token_reused()
            if verdict != RefreshVerdict.ROTATE:
                raise errors.refresh_token_invalid()
            user = uow.users.get(session.organization_id, session.user_id)
            organization = uow.organizations.get(session.organization_id)
            if user is None or not user.can_log_in or organization is None \
                    or not organization.active:
                raise errors.refresh_token_invalid()
            session.rotated(now, deps.tokens.refresh_ttl)
            uow.sessions.update(session)
            refresh = new_secret("pfr_")
            uow.refresh_tokens.add(hash_secret(refresh), session.id, session.expire_time, now)
            claims = self._issuer.user_claims(uow, user, session.id, now)
            uow.commit()
        access = self._issuer.sign(claims)
        return self._tokens(access, refresh, session, now)

    def logout(self, caller: Caller, all_sessions: bool) -> None:
        now = self._deps.clock()
        with self._deps.uow() as uow:
            require_user(caller)
            if all_sessions:
                sessions = uow.sessions.active_of_users([caller.subject])
            else:
                session = uow.sessions.get(caller.session_id)
                sessions = [session] if session and session.user_id == caller.subject else []
            revoke_sessions(uow, sessions, RevokeReason.LOGOUT, caller.subject, now)
            uow.commit()

    def reauthenticate(self, caller: Caller, password: str) -> User:
        """The caller's password again, before a sensitive change; counted like a login."""
        require_user(caller)
        with self._deps.uow() as uow:
            user = uow.users.get(caller.organization_id, caller.subject)
        if user is None:
            raise errors.session_revoked()
        if not password:
            raise errors.reauthentication_failed()
        return self._guard.check(user.email, password, reauthentication=True)
