"""Users of an organization and the caller's own profile."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from pivotal_runtime.errors import NotFound, ViolationCollector
from pivotal_runtime.kit.caller import Caller
from pivotal_runtime.kit.idempotency import RequestKey, fingerprint
from pivotal_runtime.kit.paging import page_request
from pivotal_runtime.kit.resources import check_etag

from pivotal_identity.application import events, mails, revocations
from pivotal_identity.application.auth import revoke_sessions
from pivotal_identity.application.common import (
    Deps,
    guard_not_self,
    guard_user_target,
    locale,
    organization_of,
    password_rule,
    raise_violations,
    require_user,
    text,
    time_zone,
    user_in,
)
from pivotal_identity.application.roles import check_can_grant, find_role
from pivotal_identity.domain import errors, rbac
from pivotal_identity.domain.model import (
    Organization,
    RevokeReason,
    User,
    UserOrigin,
    UserState,
    new_id,
)
from pivotal_identity.domain.passwords import email_problem, normalize_email
from pivotal_identity.domain.tokens import hash_secret, new_secret

MAX_USERS = "max_users"
ADMIN_FIELDS = ("email", "given_name", "family_name", "display_name", "locale", "time_zone")
SELF_FIELDS = ("given_name", "family_name", "display_name", "locale", "time_zone")


@dataclass
class ProfileInput:
    email: str = ""
    given_name: str = ""
    family_name: str = ""
    display_name: str = ""
    locale: str = ""
    time_zone: str = ""
    role_ids: list[str] = field(default_factory=list)


def validate_profile(v: ViolationCollector, data: ProfileInput, prefix: str, *,
                     require_email: bool, fields=ADMIN_FIELDS) -> dict:
    values: dict = {}
    if "email" in fields:
        email = normalize_email(data.email)
        problem = email_problem(email)
        if problem and (require_email or email):
            v.add(f"{prefix}email", problem)
        values["email"] = email
    if "given_name" in fields:
        values["given_name"] = text(v, f"{prefix}given_name", data.given_name, required=True,
                                    max_length=100)
    if "family_name" in fields:
        values["family_name"] = text(v, f"{prefix}family_name", data.family_name,
                                     required=True, max_length=100)
    if "display_name" in fields:
        display = text(v, f"{prefix}display_name", data.display_name, max_length=200)
        if not display and "given_name" in values and "family_name" in values:
            display = f"{values['given_name']} {values['family_name']}".strip()
        values["display_name"] = display
    if "locale" in fields:
        values["locale"] = locale(v, f"{prefix}locale", data.locale)
    if "time_zone" in fields:
        values["time_zone"] = time_zone(v, f"{prefix}time_zone", data.time_zone)
    return values


def check_user_limit(deps: Deps, organization_id: str, *, with_invitations: bool) -> None:
    """Billing's `max_users`, asked outside any transaction (a network call must not hold the
    database); the limit is soft: nothing is reserved."""
    with deps.uow() as uow:
        usage = uow.users.count_billable(organization_id)
        if with_invitations:
            usage += uow.invitations.count_pending(organization_id, deps.clock())
    deps.entitlements.check(organization_id, MAX_USERS, usage, 1)


def issue_reset_token(deps: Deps, uow, user: User) -> tuple[str, object]:
    """Issues a one-time reset token (earlier ones stop working); returns it with its
    expiry. The mail goes out after commit; the token is never logged."""
    now = deps.clock()
    token = new_secret("pfp_")
    expire = now + timedelta(seconds=deps.settings.password_reset_ttl_seconds)
    uow.reset_tokens.replace(user.id, hash_secret(token), expire, now)
    return token, expire


class UsersService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def create(self, caller: Caller, data: ProfileInput, password: str, request_id: str) -> User:
        deps = self._deps
        now = deps.clock()
        v = ViolationCollector()
        values = validate_profile(v, data, "user.", require_email=True)
        rule = password_rule(v, deps, "password", password, values["email"]) if password \
            else None
        raise_violations(v, rule)
        role_ids = list(dict.fromkeys(r.strip() for r in data.role_ids if r.strip())) \
            or ["member"]
        key = RequestKey(f"user:{caller.organization_id}", request_id,
                         fingerprint(values, role_ids, bool(password)))
        def checks(uow) -> None:
            for index, role_id in enumerate(role_ids):
                role = find_role(uow, caller.organization_id, role_id)
                if role is None:
                    v.add(f"user.role_ids[{index}]", f"{role_id!r} is not a role of the "
                          "organization")
                    continue
                check_can_grant(caller, role)
            v.raise_if_any()
            if uow.users.email_taken(values["email"]):
                raise errors.email_taken()

        with deps.uow() as uow:
            existing = uow.requests.find_after(key, lambda: checks(uow))
            if existing:
                return user_in(uow, caller, existing)
        check_user_limit(deps, caller.organization_id, with_invitations=False)
        password_hash = deps.hasher.hash(password) if password else None
        now = deps.clock()
        with deps.uow() as uow:
            existing = uow.requests.reserve(key, now)
            if existing:
                return user_in(uow, caller, existing)
            organization = organization_of(uow, caller)
            user = User(id=new_id(), organization_id=caller.organization_id,
                        origin=UserOrigin.ADMINISTRATOR, create_time=now, update_time=now,
                        role_ids=role_ids, password_hash=password_hash,
                        password_update_time=now if password_hash else None,
                        state=UserState.ACTIVE if password_hash else UserState.PENDING,
                        **values)
            uow.users.add(user)
            uow.requests.complete(key, user.id)
            events.publish(uow, events.user_registered(user, caller.subject),
                           aggregate_id=user.id, organization_id=user.organization_id)
            if not password_hash:
                token, _ = issue_reset_token(deps, uow, user)
                message = mails.password_setup(deps.settings, organization, token)
                uow.after_commit(lambda: deps.mail.send(user.email, *message))
            uow.commit()
        return user

    def get(self, caller: Caller, user_id: str) -> User:
        with self._deps.uow(read_only=True) as uow:
            return user_in(uow, caller, user_id)

    def batch_get(self, caller: Caller, user_ids: list[str]) -> list[User]:
        v = ViolationCollector()
        if not 1 <= len(user_ids) <= 200:
            v.add("user_ids", "needs 1 to 200 ids")
        if len(set(user_ids)) != len(user_ids):
            v.add("user_ids", "must be distinct")
        v.raise_if_any()
        with self._deps.uow(read_only=True) as uow:
            found = {u.id: u for u in uow.users.get_many(caller.organization_id, user_ids)}
        for user_id in user_ids:
            if user_id not in found:
                raise NotFound("user", user_id)
        return [found[i] for i in user_ids]

    def list(self, caller: Caller, page_size: int, page_token: str, state: UserState | None,
             role_id: str, query: str, locked_only: bool):
        v = ViolationCollector()
        v.require(len(query) <= 100, "query", "must be at most 100 characters")
        v.raise_if_any()
        page = page_request(page_size, page_token, state, role_id, query, locked_only)
        with self._deps.uow(read_only=True) as uow:
            users, total = uow.users.list(caller.organization_id, after=page.after,
                                          limit=page.size + 1, state=state,
                                          role_id=role_id.strip(), query=query.strip(),
                                          locked_only=locked_only)
        users, token = page.slice(users, key=lambda user: (user.display_name, user.id))
        return users, token, total

    def _update(self, caller: Caller, uow, user: User, data: ProfileInput, paths: list[str],
                etag: str, allowed) -> User:
        now = self._deps.clock()
        v = ViolationCollector()
        fields = paths.fields(allowed)
        values = validate_profile(v, data, "user.", require_email=True, fields=fields)
        v.raise_if_any()
        check_etag(etag, user.etag, f"users/{user.id}")
        changed = [name for name, value in values.items() if getattr(user, name) != value]
        if "email" in changed and uow.users.email_taken(values["email"]):
            raise errors.email_taken()
        if changed:
            for name in changed:
                setattr(user, name, values[name])
            user.touch(now)
            uow.users.update(user)
            events.publish(uow, events.user_updated(user, changed, caller.subject),
                           aggregate_id=user.id, organization_id=user.organization_id)
            uow.commit()
        return user

    def update(self, caller: Caller, user_id: str, data: ProfileInput, paths: list[str],
               etag: str) -> User:
        with self._deps.uow() as uow:
            user = user_in(uow, caller, user_id)
            guard_user_target(uow, caller, user)
            return self._update(caller, uow, user, data, paths, etag, ADMIN_FIELDS)

    def _guarded_target(self, uow, caller: Caller, user_id: str) -> User:
        user = user_in(uow, caller, user_id)
        guard_not_self(caller, user)
        guard_user_target(uow, caller, user)
        return user

    def _last_owner(self, uow, user: User) -> bool:
        return rbac.OWNER in user.role_ids and user.state is UserState.ACTIVE and \
            uow.users.active_owner_ids(user.organization_id) == [user.id]

    def deactivate(self, caller: Caller, user_id: str, etag: str, reason: str) -> User:
        deps = self._deps
        v = ViolationCollector()
        v.require(len(reason) <= 500, "reason", "must be at most 500 characters")
        v.raise_if_any()
        now = deps.clock()
        with deps.uow() as uow:
            user = self._guarded_target(uow, caller, user_id)
            check_etag(etag, user.etag, f"users/{user_id}")
            if self._last_owner(uow, user):
                raise errors.last_owner()
            user.deactivate(now)
            uow.users.update(user)
            revoke_sessions(uow, uow.sessions.active_of_users([user.id]),
                            RevokeReason.USER_DEACTIVATED, caller.subject, now)
            revocations.revoke_principal(uow, user.organization_id, user.id,
                                         "USER_DEACTIVATED", now)
            events.publish(uow, events.user_deactivated(user, caller.subject, reason.strip()),
                           aggregate_id=user.id, organization_id=user.organization_id)
            uow.commit()
            return user

    def reactivate(self, caller: Caller, user_id: str, etag: str) -> User:
        deps = self._deps
        with deps.uow() as uow:
            user = user_in(uow, caller, user_id)
            guard_user_target(uow, caller, user)
            check_etag(etag, user.etag, f"users/{user_id}")
            user.reactivate(deps.clock())  # validates the state before asking billing
        check_user_limit(deps, caller.organization_id, with_invitations=False)
        now = deps.clock()
        with deps.uow() as uow:
            user = user_in(uow, caller, user_id)
            check_etag(etag, user.etag, f"users/{user_id}")
            user.reactivate(now)
            uow.users.update(user)
            events.publish(uow, events.user_reactivated(user, caller.subject),
                           aggregate_id=user.id, organization_id=user.organization_id)
            uow.commit()
            return user

    def unlock(self, caller: Caller, user_id: str) -> User:
        with self._deps.uow() as uow:
            user = user_in(uow, caller, user_id)
            attempts = uow.attempts.lock(user.email)
            attempts.reset()
            uow.attempts.save(attempts)
            uow.attempts.clear_clients(user.email)
            uow.commit()
            user.lock_expire_time = None
            return user

    def delete(self, caller: Caller, user_id: str, etag: str) -> None:
        now = self._deps.clock()
        with self._deps.uow() as uow:
            user = self._guarded_target(uow, caller, user_id)
            check_etag(etag, user.etag, f"users/{user_id}")
            if user.state is UserState.DELETED:
                return
            if self._last_owner(uow, user):
                raise errors.last_owner()
            user.delete(now)
            uow.users.update(user)
            revoke_sessions(uow, uow.sessions.active_of_users([user.id]),
                            RevokeReason.USER_DELETED, caller.subject, now)
            revocations.revoke_principal(uow, user.organization_id, user.id, "USER_DELETED",
                                         now)
            events.publish(uow, events.user_deleted(user, caller.subject),
                           aggregate_id=user.id, organization_id=user.organization_id)
            uow.commit()

    def me(self, caller: Caller, current: User | None = None
           ) -> tuple[User, Organization, list[str]]:
        """The caller's profile, organization and permissions. `current`: the caller's user
        row as the auth interceptor read it for this call (with its current permissions in
        `caller`), so that GetMe costs no statement of its own; the organization comes from
        the process's cache (invalidated by every change of it)."""
        require_user(caller)
        deps = self._deps
        if current is not None:
            permissions = caller.permissions
        else:
            with deps.uow(read_only=True) as uow:
                current = user_in(uow, caller, caller.subject)
                custom = uow.roles.permissions_of(caller.organization_id, current.role_ids)
            permissions = rbac.effective_permissions(current.role_ids, custom)
        organization = deps.organizations.get(caller.organization_id, "organization",
                                              lambda: self._organization(caller))
        return current, organization, sorted(permissions)

    def _organization(self, caller: Caller) -> Organization:
        with self._deps.uow(read_only=True) as uow:
            return organization_of(uow, caller)

    def update_me(self, caller: Caller, data: ProfileInput, paths: list[str], etag: str) -> User:
        with self._deps.uow() as uow:
            require_user(caller)
            user = user_in(uow, caller, caller.subject)
            return self._update(caller, uow, user, data, paths, etag, SELF_FIELDS)
