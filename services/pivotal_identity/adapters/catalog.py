"""The permission catalog, read from the contracts: every RPC's `permission` option, plus the
grants the built-in roles hold that services check in code."""

from __future__ import annotations

from pivotal_runtime.contract import method_rules
from pivotal_runtime.permissions import BUILT_IN_ROLES, PLATFORM_PERMISSIONS

from pivotal_identity.domain.rbac import PermissionCatalog, PermissionEntry


def contract_catalog() -> PermissionCatalog:
    methods: dict[str, list[str]] = {}
    workloads: dict[str, str] = {}
    for rule in method_rules().values():
        if rule.permission:
            methods.setdefault(rule.permission, []).append(f"{rule.service}.{rule.method}")
            workloads.setdefault(rule.permission, rule.workload)
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
    return PermissionCatalog(entries)
