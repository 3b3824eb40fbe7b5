"""Adding a domain's servicers to the server: `(servicer class, add function, *_service_pb2
module)` triples; returns the full names of the gRPC services added."""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType
from typing import Any


def add_servicers(server: Any, app: Any,
                  registrations: Iterable[tuple[type, Any, ModuleType]]) -> set[str]:
    names: set[str] = set()
    for servicer, add, module in registrations:
        add(servicer(app), server)
        names |= {s.full_name for s in module.DESCRIPTOR.services_by_name.values()}
    return names
