"""Roles and permissions: built-in roles, grant coverage, escalation and catalog checks.

Built-in role grants come from `pivotal_runtime.permissions` (the table every service reads);
custom roles add grants that travel in the token's `perms` claim.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pivotal_runtime.permissions import BUILT_IN_ROLES, PLATFORM_PERMISSIONS, grants, permissions_of

OWNER = "owner"
BUILT_IN_DISPLAY: dict[str, tuple[str, str]] = {
    "owner": ("Owner", "Everything, including deleting the organization and managing owners."),
    "admin": ("Administrator", "Everything except owner-only actions."),
    "manager": ("Manager", "Runs quotes, projects and time approval; reads users and billing."),
    "member": ("Member", "Records own time and reads the work it takes part in."),
    "billing": ("Billing", "Invoices, subscription and usage."),
}
OPERATOR = "operator"
# The platform operator's account (key rotation, plans). The platform workloads' accounts
# (client id = workload name) hold what the contracts' `callers` give them; the catalog
# carries those (adapters/catalog.py derives them).
OPERATOR_PERMISSIONS: frozenset[str] = frozenset({"keys:read", "keys:rotate", "plans:write"})


def is_built_in(role_id: str) -> bool:
    return role_id in BUILT_IN_ROLES


def built_in_permissions(role_id: str) -> frozenset[str]:
    return BUILT_IN_ROLES[role_id]


@dataclass(frozen=True)
class PermissionEntry:
    name: str
    description: str
    workload: str
    grantable: bool

    @property
    def resource(self) -> str:
        return self.name.split(":", 1)[0]

    @property
    def action(self) -> str:
        return self.name.split(":", 1)[1]


class PermissionCatalog:
    def __init__(self, entries: Iterable[PermissionEntry],
                 platform_accounts: Mapping[str, frozenset[str]] | None = None) -> None:
        self.entries = sorted(entries, key=lambda e: e.name)
        # client id of a platform account (a workload or the operator) -> its permissions.
        self.platform_accounts = dict(platform_accounts or {OPERATOR: OPERATOR_PERMISSIONS})
        self._by_name = {e.name: e for e in self.entries}
        self._resources = {e.resource for e in self.entries if e.grantable}

    def problem(self, permission: str) -> str | None:
        """Why `permission` cannot be granted by a custom role or service account, or None."""
        resource, sep, action = permission.partition(":")
        if not sep or not resource or not action:
            return "must be `resource:action` or `resource:*`"
        if action == "*":
            return None if resource in self._resources else "names no known resource"
        entry = self._by_name.get(permission)
        if entry is None:
            return "is not in the permission catalog"
        if not entry.grantable or permission in PLATFORM_PERMISSIONS:
            return "is reserved to the platform operator"
        return None


def covers(held: Iterable[str], wanted: str) -> bool:
    """Whether grants `held` include everything `wanted` grants (wildcards included)."""
    held = frozenset(held)
    if wanted == "*":
        return "*" in held
    if wanted.endswith(":*"):
        return "*" in held or wanted in held
    return grants(held, wanted)


def first_uncovered(held: Iterable[str], wanted: Iterable[str]) -> str | None:
    held = frozenset(held)
    for permission in sorted(set(wanted)):
        if not covers(held, permission):
            return permission
    return None


def effective_permissions(role_ids: Iterable[str], custom: Mapping[str, Iterable[str]]
                          ) -> frozenset[str]:
    """A user's grants: its built-in roles' plus its custom roles' (`custom` maps role id to
    permissions; ids of deleted roles are simply absent)."""
    extra: set[str] = set()
    for role_id in role_ids:
        extra |= set(custom.get(role_id, ()))
    return permissions_of(role_ids, extra)


def token_perms(role_ids: Iterable[str], custom: Mapping[str, Iterable[str]]) -> frozenset[str]:
    """What goes into the `perms` claim: only custom-role grants (built-ins are resolved by
    every service from the shared table)."""
    extra: set[str] = set()
    for role_id in role_ids:
        if not is_built_in(role_id):
            extra |= set(custom.get(role_id, ()))
    return frozenset(extra)


def granting_roles(role_ids: Iterable[str], custom: Mapping[str, Iterable[str]],
                   permission: str) -> list[str]:
    found = []
    for role_id in role_ids:
        granted = BUILT_IN_ROLES.get(role_id) if is_built_in(role_id) else custom.get(role_id)
        if granted is not None and grants(frozenset(granted), permission):
            found.append(role_id)
    return found


@dataclass(frozen=True)
class Standing:
    """What a principal holds right now (read from the store, never from a token): its roles
    and its effective permissions."""

    roles: frozenset[str]
    permissions: frozenset[str]


def why_not_act_on(actor: Standing, target: Standing) -> tuple[str, str] | None:
    """The one rule for acting on another principal (changing, resetting, deactivating,
    deleting, re-keying or issuing a credential for a user or a service account): the actor's
    permissions must cover everything the target holds, and only an owner acts on an owner.
    None when allowed, else `("role_id", "owner")` or `("permission", <first uncovered>)`."""
    if OWNER in target.roles and OWNER not in actor.roles:
        return "role_id", OWNER
    missing = first_uncovered(actor.permissions, target.permissions)
    return ("permission", missing) if missing else None
