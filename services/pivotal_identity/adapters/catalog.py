"""The permission catalog and the platform workloads' grants, read from the contracts: every
permission an RPC checks (alone or in an any-of set)."""

from __future__ import annotations

from pivotal_runtime.contract import method_rules, workload_permissions
from pivotal_runtime.permissions import BUILT_IN_ROLES, PLATFORM_PERMISSIONS

from pivotal_identity.domain.rbac import (
    OPERATOR,
    OPERATOR_PERMISSIONS,
    PermissionCatalog,
    PermissionEntry,
)

# The workloads that get a platform service account (client id = workload name).
PLATFORM_WORKLOADS = ("identity", "quotation", "project", "time", "billing")


def contract_catalog() -> PermissionCatalog:
    methods: dict[str, list[str]] = {}
    workloads: dict[str, str] = {}
    for rule in method_rules().values():
        for permission in rule.permissions:
            methods.setdefault(permission, []).append(f"{rule.service}.{rule.method}")
            workloads.setdefault(permission, rule.workload)
    by_resource = {name.split(":")[0]: workload for name, workload in workloads.items()}
    names = set(methods) | {p for grants in BUILT_IN_ROLES.values() for p in grants
                            if ":" in p and not p.endswith(":*")}
    entries = []
    for name in names:
        called = sorted(m.rsplit(".", 2)[-2] + "." + m.rsplit(".", 1)[-1]
                        for m in methods.get(name, []))
        description = ("Needed by " + ", ".join(called)) if called else \
            "Checked by the service in code"
        entries.append(PermissionEntry(
            name=name, description=description,
            workload=workloads.get(name) or by_resource.get(name.split(":")[0], ""),
            grantable=name not in PLATFORM_PERMISSIONS))
    return PermissionCatalog(entries, platform_workload_permissions())


def platform_workload_permissions(workloads: tuple[str, ...] = PLATFORM_WORKLOADS
                                  ) -> dict[str, frozenset[str]]:
    """Each platform account's permissions: a workload's are those of the RPCs that list it
    among their `callers`; the operator's are fixed (rbac.OPERATOR_PERMISSIONS)."""
    derived = {workload: workload_permissions(workload) for workload in workloads}
    return {OPERATOR: OPERATOR_PERMISSIONS, **derived}
