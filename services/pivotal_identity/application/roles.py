"""RBAC: the permission catalog, custom roles, assignments, and CheckPermission."""

from __future__ import annotations

from dataclasses import dataclass, field

from pivotal_runtime.errors import InvalidArgument, NotFound, ViolationCollector
from pivotal_runtime.kit.caller import Caller
from pivotal_runtime.kit.idempotency import RequestKey, fingerprint
from pivotal_runtime.kit.paging import after_in_memory, page_request
from pivotal_runtime.kit.resources import check_etag, load_for_change

from pivotal_identity.application import events, revocations
from pivotal_identity.application.common import (
    Deps,
    guard_user_target,
    is_owner,
    text,
    user_in,
)
from pivotal_identity.domain import errors, rbac
from pivotal_identity.domain.model import Role, User, UserState, new_id

ROLE_FIELDS = ("display_name", "description", "permissions")


def built_in_role(role_id: str) -> Role:
    name, description = rbac.BUILT_IN_DISPLAY[role_id]
    return Role(id=role_id, organization_id="", display_name=name,
                permissions=sorted(rbac.built_in_permissions(role_id)), create_time=None,
                update_time=None, description=description, built_in=True, version=0)


def find_role(uow, organization_id: str, role_id: str) -> Role | None:
    if rbac.is_built_in(role_id):
        return built_in_role(role_id)
    return uow.roles.get(organization_id, role_id) if role_id else None


def _custom_role_for_change(uow, caller: Caller, role_id: str, etag: str) -> Role:
    """A custom role of the caller's organization, at the etag the caller read; built-in
    roles are never changed."""
    if rbac.is_built_in(role_id):
        raise errors.role_built_in()
    return load_for_change(lambda found: uow.roles.get(caller.organization_id, found),
                           caller.organization_id, "role", role_id, etag)


def check_can_grant(caller: Caller, role: Role) -> None:
    if role.id == rbac.OWNER and not is_owner(caller):
        raise errors.privilege_escalation(role_id=rbac.OWNER)
    missing = rbac.first_uncovered(caller.permissions, role.permissions)
    if missing:
        raise errors.privilege_escalation(permission=missing)


def check_grants(v: ViolationCollector, deps: Deps, caller: Caller, field_name: str,
                 permissions: list[str]) -> list[str]:
    """Catalog and escalation checks of explicit grants (custom roles, service accounts)."""
    cleaned = sorted({p.strip() for p in permissions if p.strip()})
    if not cleaned:
        v.add(field_name, "needs at least one permission")
    unknown = []
    for index, permission in enumerate(permissions):
        problem = deps.catalog.problem(permission.strip())
        if problem:
            unknown.append(f"{field_name}[{index}]")
            v.add(f"{field_name}[{index}]", f"{permission!r} {problem}",
                  reason="PERMISSION_UNKNOWN")
    if unknown:
        raise InvalidArgument(v.violations, reason="PERMISSION_UNKNOWN")
    v.raise_if_any()
    missing = rbac.first_uncovered(caller.permissions, cleaned)
    if missing:
        raise errors.privilege_escalation(permission=missing)
    return cleaned


@dataclass
class RoleInput:
    display_name: str = ""
    description: str = ""
    permissions: list[str] = field(default_factory=list)


def _by_name(entry) -> tuple[str]:
    return (entry.name,)


class RolesService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def permissions(self, caller: Caller, page_size: int, page_token: str, resource: str,
                    workload: str):
        page = page_request(page_size, page_token, resource, workload)
        entries = [e for e in self._deps.catalog.entries
                   if (not resource or e.resource == resource)
                   and (not workload or e.workload == workload)]
        chunk, token = page.slice(after_in_memory(entries, page, _by_name), key=_by_name)
        return chunk, token, len(entries)

    def _validated(self, v: ViolationCollector, uow, caller: Caller, data: RoleInput,
                   fields, except_id: str = "") -> dict:
        values = {}
        if "display_name" in fields:
            name = text(v, "role.display_name", data.display_name, required=True, max_length=100)
            taken = any(name.lower() == display.lower()
                        for display, _ in rbac.BUILT_IN_DISPLAY.values()) \
                or name.lower() in rbac.BUILT_IN_DISPLAY \
                or uow.roles.name_taken(caller.organization_id, name, except_id)
            if name and taken:
                v.add("role.display_name", "another role of the organization has this name")
            values["display_name"] = name
        if "description" in fields:
            values["description"] = text(v, "role.description", data.description,
                                         max_length=1000)
        if "permissions" in fields:
            values["permissions"] = check_grants(v, self._deps, caller, "role.permissions",
                                                 data.permissions)
        v.raise_if_any()
        return values

    def create(self, caller: Caller, data: RoleInput, request_id: str) -> Role:
        deps = self._deps
        now = deps.clock()
        v = ViolationCollector()
        key = RequestKey(f"role:{caller.organization_id}", request_id,
                         fingerprint(data.display_name, data.description,
                                     sorted(data.permissions)))
        with deps.uow() as uow:
            existing = uow.requests.reserve(key, now)
            if existing:
                return self._with_count(uow, uow.roles.get(caller.organization_id, existing))
            values = self._validated(v, uow, caller, data, ROLE_FIELDS)
            role = Role(id=new_id(), organization_id=caller.organization_id, create_time=now,
                        update_time=now, **values)
            uow.roles.add(role)
            uow.requests.complete(key, role.id)
            uow.commit()
            return role

    @staticmethod
    def _with_count(uow, role: Role) -> Role:
        role.user_count = uow.users.role_user_count(role.organization_id or "", role.id)
        return role

    def get(self, caller: Caller, role_id: str) -> Role:
        with self._deps.uow(read_only=True) as uow:
            role = find_role(uow, caller.organization_id, role_id)
            if role is None:
                raise NotFound("role", role_id)
            role.user_count = uow.users.role_user_count(caller.organization_id, role.id)
            return role

    def list(self, caller: Caller, page_size: int, page_token: str, custom_only: bool):
        page = page_request(page_size, page_token, custom_only)
        with self._deps.uow(read_only=True) as uow:
            roles = [] if custom_only else [built_in_role(r) for r in rbac.BUILT_IN_DISPLAY]
            roles += uow.roles.list(caller.organization_id)
            order = {role.id: (index,) for index, role in enumerate(roles)}
            chunk, token = page.slice(after_in_memory(roles, page, lambda r: order[r.id]),
                                      key=lambda r: order[r.id])
            for role in chunk:
                role.user_count = uow.users.role_user_count(caller.organization_id, role.id)
        return chunk, token, len(roles)

    def update(self, caller: Caller, role_id: str, data: RoleInput, paths: list[str],
               etag: str) -> Role:
        deps = self._deps
        now = deps.clock()
        v = ViolationCollector()
        fields = paths.fields(ROLE_FIELDS)
        v.raise_if_any()
        with deps.uow() as uow:
            role = _custom_role_for_change(uow, caller, role_id, etag)
            # Changing a role one could not grant is as much an escalation as granting it.
            missing = rbac.first_uncovered(caller.permissions, role.permissions)
            if missing:
                raise errors.privilege_escalation(permission=missing)
            values = self._validated(v, uow, caller, data, fields, except_id=role.id)
            regranted = "permissions" in values and \
                set(role.permissions) != set(values["permissions"])
            for name, value in values.items():
                setattr(role, name, value)
            role.touch(now)
            uow.roles.update(role)
            if regranted:
                revocations.revoke_role(uow, role.organization_id, role.id,
                                        "ROLE_PERMISSIONS_CHANGED", now)
            uow.commit()
            return self._with_count(uow, role)

    def delete(self, caller: Caller, role_id: str, etag: str) -> None:
        with self._deps.uow() as uow:
            role = _custom_role_for_change(uow, caller, role_id, etag)
            count = uow.users.role_user_count(caller.organization_id, role_id)
            if count:
                raise errors.role_in_use(count)
            uow.roles.delete(role)
            uow.commit()

    def assign(self, caller: Caller, user_id: str, role_id: str, etag: str) -> User:
        deps = self._deps
        now = deps.clock()
        with deps.uow() as uow:
            user = user_in(uow, caller, user_id)
            role = find_role(uow, caller.organization_id, role_id)
            if role is None:
                raise NotFound("role", role_id)
            check_etag(etag, user.etag, f"users/{user_id}")
            check_can_grant(caller, role)
            guard_user_target(uow, caller, user)
            if user.grant(role.id, now):
                uow.users.update(user)
                revocations.revoke_principal(uow, user.organization_id, user.id,
                                             "ROLE_CHANGED", now)
                events.publish(uow, events.role_assigned(user, role.id, role.display_name,
                                                         caller.subject, now),
                               aggregate_id=user.id, organization_id=user.organization_id)
                uow.commit()
            return user

    def revoke(self, caller: Caller, user_id: str, role_id: str, etag: str) -> User:
        deps = self._deps
        now = deps.clock()
        with deps.uow() as uow:
            user = user_in(uow, caller, user_id)
            check_etag(etag, user.etag, f"users/{user_id}")
            role = find_role(uow, caller.organization_id, role_id)
            if role is not None:
                check_can_grant(caller, role)
            guard_user_target(uow, caller, user)
            if role_id == rbac.OWNER and role_id in user.role_ids \
                    and user.state is UserState.ACTIVE \
                    and uow.users.active_owner_ids(caller.organization_id) == [user.id]:
                raise errors.last_owner()
            if user.revoke(role_id, now):
                uow.users.update(user)
                revocations.revoke_principal(uow, user.organization_id, user.id,
                                             "ROLE_CHANGED", now)
                events.publish(uow, events.role_revoked(
                    user, role_id, role.display_name if role else role_id, caller.subject, now),
                    aggregate_id=user.id, organization_id=user.organization_id)
                uow.commit()
            return user

    def check(self, caller: Caller, organization_id: str, subject_id: str, permission: str
              ) -> tuple[bool, list[str]]:
        v = ViolationCollector()
        v.require(bool(organization_id), "organization_id", "is required")
        v.require(bool(subject_id), "subject_id", "is required")
        v.require(":" in permission, "permission", "must be `resource:action`")
        v.raise_if_any()
        with self._deps.uow() as uow:
            if organization_id != caller.organization_id:
                return False, []
            organization = uow.organizations.get(organization_id)
            if organization is None or not organization.active:
                return False, []
            user = uow.users.get(organization_id, subject_id)
            if user is not None:
                if user.state is not UserState.ACTIVE:
                    return False, []
                custom = uow.roles.permissions_of(organization_id, user.role_ids)
                granting = rbac.granting_roles(user.role_ids, custom, permission)
                return bool(granting), granting
            account = uow.service_accounts.get(organization_id, subject_id)
            if account is not None and account.active:
                from pivotal_runtime.permissions import grants

                return grants(frozenset(account.permissions), permission), []
            return False, []
