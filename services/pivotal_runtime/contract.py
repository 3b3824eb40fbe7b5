"""Reads the authorization and workload options that the contracts declare.

Service-side checks, the gateway's public routes and the mesh policies all come from here,
so they cannot drift apart.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from functools import cache

from google.protobuf import descriptor, descriptor_pb2

# Standard services every server exposes without credentials.
INFRASTRUCTURE_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


@dataclass(frozen=True)
class MethodRule:
    full_method: str  # "/pivotal.quotation.v1.QuoteService/CreateQuote"
    service: str  # "pivotal.quotation.v1.QuoteService"
    method: str  # "CreateQuote"
    workload: str
    public: bool
    authenticated: bool
    # The permission the caller needs, or the set of which it needs any one; empty when the
    # RPC is public or only authenticated.
    permissions: tuple[str, ...]
    callers: tuple[str, ...]
    idempotent: bool
    http: bool

    @property
    def permission(self) -> str:
        """The single permission the RPC needs, or "" (public, authenticated or any-of)."""
        return self.permissions[0] if len(self.permissions) == 1 else ""

    @property
    def external(self) -> bool:
        return "gateway" in self.callers

    @property
    def workload_only(self) -> bool:
        """Only other workloads call it: user tokens are refused, the gateway has no route."""
        return not self.external


def _options_pb2():
    return importlib.import_module("pivotal.options.v1.options_pb2")


def _annotations_pb2():
    return importlib.import_module("google.api.annotations_pb2")


@cache
def pivotal_file_descriptors() -> tuple[descriptor.FileDescriptor, ...]:
    """Every generated `pivotal.*` proto module's file descriptor (imports them)."""
    package = importlib.import_module("pivotal")
    files = []
    for info in pkgutil.walk_packages(package.__path__, "pivotal."):
        if info.name.endswith("_pb2"):
            files.append(importlib.import_module(info.name).DESCRIPTOR)
    return tuple(files)


def service_descriptors() -> list[descriptor.ServiceDescriptor]:
    return [s for f in pivotal_file_descriptors() for s in f.services_by_name.values()]


def workload_of(service: descriptor.ServiceDescriptor) -> str:
    options = service.GetOptions()
    ext = _options_pb2().service
    if options.HasExtension(ext) and options.Extensions[ext].workload:
        return options.Extensions[ext].workload
    return service.full_name.split(".")[1]


def _rule(service: descriptor.ServiceDescriptor, method: descriptor.MethodDescriptor) -> MethodRule:
    options = method.GetOptions()
    auth = options.Extensions[_options_pb2().authorization]
    idempotency = options.idempotency_level
    access = auth.WhichOneof("access")
    permissions = (
        (auth.permission,) if access == "permission"
        else tuple(auth.any_of.permissions) if access == "any_of" else ()
    )
    return MethodRule(
        full_method=f"/{service.full_name}/{method.name}",
        service=service.full_name,
        method=method.name,
        workload=workload_of(service),
        public=access == "public" and auth.public,
        authenticated=access == "authenticated" and auth.authenticated,
        permissions=permissions,
        callers=tuple(auth.callers),
        idempotent=idempotency
        in (
            descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS,
            descriptor_pb2.MethodOptions.IDEMPOTENT,
        ),
        http=options.HasExtension(_annotations_pb2().http),
    )


@cache
def method_rules() -> dict[str, MethodRule]:
    """`/package.Service/Method` → its rule, for every RPC in the contracts."""
    return {
        rule.full_method: rule
        for service in service_descriptors()
        for rule in (_rule(service, m) for m in service.methods)
    }


def workload_permissions(workload: str) -> frozenset[str]:
    """The permissions a workload's platform service account holds: those of every RPC that
    lists the workload among its callers (for an any-of RPC, the first of the set)."""
    return frozenset(
        rule.permissions[0]
        for rule in method_rules().values()
        if workload in rule.callers and rule.permissions
    )


def services_of(workload: str) -> list[descriptor.ServiceDescriptor]:
    return [s for s in service_descriptors() if workload_of(s) == workload]


def is_infrastructure(full_method: str) -> bool:
    return full_method.startswith(INFRASTRUCTURE_PREFIXES)
