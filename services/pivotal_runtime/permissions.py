"""Built-in roles and how permissions are granted. Plain Python, no I/O.

A permission is `resource:action`. A grant may be a wildcard: `*` (everything) or
`resource:*` (every action on one resource). Custom roles of an organization are resolved by
identity and travel in the token's `perms` claim; built-in roles are resolved here, so every
service reads a token the same way.
"""

from __future__ import annotations

from collections.abc import Iterable

# Permissions only the platform operator holds (never granted by an organization's role).
PLATFORM_PERMISSIONS: frozenset[str] = frozenset({"plans:write", "entitlements:check",
                                                   "keys:rotate"})

BUILT_IN_ROLES: dict[str, frozenset[str]] = {
    "owner": frozenset({"*"}),
    "admin": frozenset({"*"}),
    "manager": frozenset(
        {
            "customers:*", "rate_cards:*", "quotes:*", "tax_rates:*", "quote_settings:*",
            "projects:*", "tasks:*", "members:*", "milestones:*",
            "time:*", "rates:*",
            "users:read", "roles:read", "invitations:*",
            "invoices:read", "subscriptions:read", "usage:read", "organizations:read",
        }
    ),
    "member": frozenset(
        {
            "customers:read", "rate_cards:read", "quotes:read",
            "projects:read", "tasks:read", "milestones:read", "members:read",
            "time:write", "users:read", "organizations:read",
        }
    ),
    "billing": frozenset(
        {
            "invoices:*", "subscriptions:*", "usage:*",
            "customers:read", "projects:read", "time:read", "quotes:read",
            "users:read", "organizations:read",
        }
    ),
}


def permissions_of(roles: Iterable[str], extra: Iterable[str] = ()) -> frozenset[str]:
    """The grants of a caller: its built-in roles' grants plus explicit (custom-role) ones."""
    granted: set[str] = set(extra)
    for role in roles:
        granted |= BUILT_IN_ROLES.get(role, frozenset())
    return frozenset(granted)


def grants(granted: Iterable[str], permission: str) -> bool:
    resource = permission.split(":", 1)[0]
    granted = set(granted)
    if permission in granted:
        return True
    if permission in PLATFORM_PERMISSIONS:
        return False
    return "*" in granted or f"{resource}:*" in granted
