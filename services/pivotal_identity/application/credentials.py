"""Passwords: change (with re-authentication), administrator reset, forgot-password."""

from __future__ import annotations

from datetime import datetime, timedelta

from pivotal_runtime.errors import ViolationCollector
from pivotal_runtime.kit.caller import Caller

from pivotal_identity.application import mails
from pivotal_identity.application.auth import AuthService, revoke_sessions
from pivotal_identity.application.common import (
    Deps,
    guard_not_self,
    guard_user_target,
    password_rule,
    raise_violations,
    require_user,
    user_in,
)
from pivotal_identity.application.users import issue_reset_token
from pivotal_identity.domain import errors
from pivotal_identity.domain.lockout import LockoutPolicy, mail_counter_key
from pivotal_identity.domain.model import RevokeReason, UserState
from pivotal_identity.domain.passwords import MAX_EMAIL_LENGTH, normalize_email
from pivotal_identity.domain.tokens import hash_secret


class CredentialsService:
    def __init__(self, deps: Deps, auth: AuthService) -> None:
        self._deps = deps
        self._auth = auth

    def change(self, caller: Caller, current_password: str, new_password: str,
               keep_other_sessions: bool) -> None:
        deps = self._deps
        require_user(caller)
        v = ViolationCollector()
        v.require(bool(current_password), "current_password", "is required")
        v.raise_if_any()
        user = self._auth.reauthenticate(caller, current_password)
        rule = password_rule(v, deps, "new_password", new_password, user.email,
                             current=current_password)
        raise_violations(v, rule)
        password_hash = deps.hasher.hash(new_password)
        now = deps.clock()
        with deps.uow() as uow:
            user = user_in(uow, caller, caller.subject)
            user.set_password(password_hash, now)
            uow.users.update(user)
            if not keep_other_sessions:
                others = [s for s in uow.sessions.active_of_users([user.id])
                          if s.id != caller.session_id]
                revoke_sessions(uow, others, RevokeReason.PASSWORD_CHANGED, caller.subject, now)
            uow.commit()

    def reset_for(self, caller: Caller, user_id: str, notify_user: bool) -> tuple[str, datetime]:
        deps = self._deps
        with deps.uow() as uow:
            user = user_in(uow, caller, user_id)
            guard_not_self(caller, user)
            guard_user_target(uow, caller, user)
            if user.state not in (UserState.ACTIVE, UserState.PENDING):
                from pivotal_runtime.errors import InvalidState

                raise InvalidState(f"users/{user.id}", f"USER_STATE_{user.state.value}",
                                   "reset the password of")
            token, expire = issue_reset_token(deps, uow, user)
            if notify_user:
                message = mails.password_reset(deps.settings, token)
                uow.after_commit(lambda: deps.mail.send(user.email, *message))
            uow.commit()
        return token, expire

    def request_reset(self, email: str) -> None:
        """Does the same work whether or not the email exists: the same statements (the
        email's mail counter, counted for unknown emails too, and the user lookup) and no
        hashing; the token is issued and mailed on the mail thread, after the answer. At most
        `password_reset_mails_per_hour` mails per email."""
        deps = self._deps
        email = normalize_email(email)
        v = ViolationCollector()
        v.require(bool(email), "email", "is required")
        v.require(len(email) <= MAX_EMAIL_LENGTH, "email", "is too long")
        v.raise_if_any()
        now = deps.clock()
        with deps.uow() as uow:
            counter = uow.attempts.lock(mail_counter_key(email), account_email=email)
            admitted = counter.admit(self._mail_limit, now).admitted
            uow.attempts.save(counter)
            found = uow.users.locate(email)
            uow.commit()
        if admitted and found is not None:
            deps.later(lambda: self._mail_reset(*found))

    @property
    def _mail_limit(self) -> LockoutPolicy:
        hour = timedelta(hours=1)
        return LockoutPolicy(self._deps.settings.password_reset_mails_per_hour, hour, hour)

    def _mail_reset(self, organization_id: str, user_id: str) -> None:
        deps = self._deps
        with deps.uow() as uow:
            user = uow.users.get(organization_id, user_id)
            organization = uow.organizations.get(organization_id)
            if user is None or organization is None or not organization.active or \
                    user.state not in (UserState.ACTIVE, UserState.PENDING):
                return
            token, _ = issue_reset_token(deps, uow, user)
            message = mails.password_reset(deps.settings, token)
            uow.after_commit(lambda: deps.mail.send(user.email, *message))
            uow.commit()

    def complete_reset(self, reset_token: str, new_password: str) -> None:
        deps = self._deps
        token_hash = hash_secret(reset_token.strip())
        v = ViolationCollector()
        v.require(bool(reset_token.strip()), "reset_token", "is required")
        v.raise_if_any()
        now = deps.clock()
        with deps.uow() as uow:
            user_id = self._peek(uow, token_hash, now)
            user = uow.users.get(self._organization_of_user(uow, user_id), user_id)
        rule = password_rule(v, deps, "new_password", new_password, user.email)
        raise_violations(v, rule)
        password_hash = deps.hasher.hash(new_password)
        now = deps.clock()
        with deps.uow() as uow:
            if uow.reset_tokens.use(token_hash, now) != user.id:
                raise errors.reset_token_invalid()
            user = uow.users.get(user.organization_id, user.id)
            if user is None or user.state not in (UserState.ACTIVE, UserState.PENDING):
                raise errors.reset_token_invalid()
            user.set_password(password_hash, now)
            uow.users.update(user)
            attempts = uow.attempts.lock(user.email)
            attempts.reset()
            uow.attempts.save(attempts)
            uow.attempts.clear_clients(user.email)
            revoke_sessions(uow, uow.sessions.active_of_users([user.id]),
                            RevokeReason.PASSWORD_CHANGED, user.id, now)
            uow.commit()

    @staticmethod
    def _peek(uow, token_hash: str, now: datetime) -> str:
        user_id = uow.reset_tokens.peek(token_hash, now)
        if user_id is None:
            raise errors.reset_token_invalid()
        return user_id

    @staticmethod
    def _organization_of_user(uow, user_id: str) -> str:
        organization_id = uow.users.organization_of(user_id)
        if organization_id is None:
            raise errors.reset_token_invalid()
        return organization_id
