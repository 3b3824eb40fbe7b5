"""TOTP enrollment, confirmation, disabling, recovery codes, administrator reset."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pivotal_runtime.errors import ViolationCollector
from pivotal_runtime.kit.caller import Caller

from pivotal_identity.application.auth import AuthService, recovery_hash, revoke_sessions
from pivotal_identity.application.common import (
    Deps,
    checked,
    guard_not_self,
    guard_owner_target,
    require_user,
    user_in,
)
from pivotal_identity.domain import errors
from pivotal_identity.domain.mfa import accept_step, new_recovery_codes
from pivotal_identity.domain.model import MfaSetup, RevokeReason


@dataclass
class Enrollment:
    secret: str
    otpauth_uri: str
    expire_time: datetime


def _setup(uow, user_id: str, organization_id: str, now: datetime) -> MfaSetup:
    return uow.mfa.get(user_id) or MfaSetup(user_id=user_id, organization_id=organization_id,
                                            update_time=now)


class MfaService:
    def __init__(self, deps: Deps, auth: AuthService) -> None:
        self._deps = deps
        self._auth = auth

    def _checked_user(self, caller: Caller) -> Caller:
        with self._deps.uow() as uow:
            checked(uow, caller)
        require_user(caller)
        return caller

    def status(self, caller: Caller) -> MfaSetup:
        with self._deps.uow(read_only=True) as uow:
            checked(uow, caller)
            require_user(caller)
            return _setup(uow, caller.subject, caller.organization_id, self._deps.clock())

    def _require_password(self, password: str) -> None:
        v = ViolationCollector()
        v.require(bool(password), "password", "is required")
        v.raise_if_any()

    def enroll(self, caller: Caller, password: str) -> Enrollment:
        deps = self._deps
        self._require_password(password)
        self._checked_user(caller)
        user = self._auth.reauthenticate(caller, password)
        now = deps.clock()
        with deps.uow() as uow:
            setup = _setup(uow, user.id, user.organization_id, now)
            if setup.enabled:
                raise errors.mfa_already_enabled()
            secret = deps.totp.new_secret()
            setup.pending_secret = deps.box.seal(secret.encode())
            setup.pending_expire_time = now + timedelta(
                seconds=deps.settings.totp_enrollment_ttl_seconds)
            setup.update_time = now
            uow.mfa.save(setup)
            uow.commit()
        return Enrollment(secret, deps.totp.uri(secret, user.email, deps.settings.totp_issuer),
                          setup.pending_expire_time)

    def confirm(self, caller: Caller, code: str) -> tuple[list[str], MfaSetup]:
        deps = self._deps
        v = ViolationCollector()
        v.require(bool(code.strip()), "code", "is required")
        v.raise_if_any()
        now = deps.clock()
        with deps.uow() as uow:
            checked(uow, caller)
            require_user(caller)
            user = user_in(uow, caller, caller.subject)
            setup = _setup(uow, user.id, user.organization_id, now)
            if setup.enabled:
                raise errors.mfa_already_enabled()
            if not setup.pending_at(now):
                raise errors.mfa_enrollment_missing()
            secret = deps.box.open(setup.pending_secret).decode()
            step = accept_step(deps.totp.matching_steps(secret, code, now), setup.last_step)
            if step is None:
                raise errors.mfa_code_invalid(at_login=False)
            setup.totp_secret = setup.pending_secret
            setup.pending_secret = None
            setup.pending_expire_time = None
            setup.enable_time = now
            setup.last_step = step
            setup.update_time = now
            uow.mfa.save(setup)
            codes = self._new_codes(uow, user.id)
            setup.recovery_codes_remaining = len(codes)
            user.mfa_enabled = True
            user.touch(now)
            uow.users.update(user)
            uow.commit()
        return codes, setup

    def _new_codes(self, uow, user_id: str) -> list[str]:
        codes = new_recovery_codes(self._deps.settings.recovery_code_count)
        uow.mfa.replace_codes(user_id, [recovery_hash(user_id, c) for c in codes])
        return codes

    def disable(self, caller: Caller, password: str) -> MfaSetup:
        deps = self._deps
        self._require_password(password)
        self._checked_user(caller)
        user = self._auth.reauthenticate(caller, password)
        now = deps.clock()
        with deps.uow() as uow:
            setup = _setup(uow, user.id, user.organization_id, now)
            if not setup.enabled:
                raise errors.mfa_not_enabled()
            self._clear(uow, caller, setup, now)
            uow.commit()
            return setup

    def _clear(self, uow, caller: Caller, setup: MfaSetup, now: datetime) -> None:
        setup.clear(now)
        uow.mfa.save(setup)
        uow.mfa.replace_codes(setup.user_id, [])
        user = user_in(uow, caller, setup.user_id)
        if user.mfa_enabled:
            user.mfa_enabled = False
            user.touch(now)
            uow.users.update(user)

    def regenerate_codes(self, caller: Caller, password: str) -> tuple[list[str], MfaSetup]:
        deps = self._deps
        self._require_password(password)
        self._checked_user(caller)
        user = self._auth.reauthenticate(caller, password)
        now = deps.clock()
        with deps.uow() as uow:
            setup = _setup(uow, user.id, user.organization_id, now)
            if not setup.enabled:
                raise errors.mfa_not_enabled()
            codes = self._new_codes(uow, user.id)
            setup.recovery_codes_remaining = len(codes)
            setup.update_time = now
            uow.mfa.save(setup)
            uow.commit()
            return codes, setup

    def reset_for(self, caller: Caller, user_id: str) -> MfaSetup:
        now = self._deps.clock()
        with self._deps.uow() as uow:
            checked(uow, caller)
            user = user_in(uow, caller, user_id)
            guard_not_self(caller, user)
            guard_owner_target(caller, user)
            setup = _setup(uow, user.id, user.organization_id, now)
            if setup.enabled or setup.pending_secret is not None:
                self._clear(uow, caller, setup, now)
                revoke_sessions(uow, uow.sessions.active_of_users([user.id]),
                                RevokeReason.MFA_RESET, caller.subject, now)
                uow.commit()
            return setup
