"""The runtime's imports form no cycle (db → uow → outbox → types, no way back),
and the kit's pure modules import no infrastructure, so a domain module may import them."""

from __future__ import annotations

import ast
from pathlib import Path

RUNTIME = Path(__file__).resolve().parents[2] / "services" / "pivotal_runtime"
PURE_KIT = ("caller", "resources", "masks", "paging", "money", "field_reasons")
INFRASTRUCTURE = ("grpc", "sqlalchemy", "pika", "opentelemetry", "google.protobuf", "pivotal.")


def module_name(path: Path) -> str:
    parts = path.relative_to(RUNTIME.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every import of the module, wherever it is written (in a function, under
    TYPE_CHECKING): a deferred import hides a cycle, it does not remove it."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        for child in ast.walk(node):
            if isinstance(child, ast.Import):
                found |= {alias.name for alias in child.names}
            elif isinstance(child, ast.ImportFrom) and child.module:
                found.add(child.module)
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in RUNTIME.rglob("*.py")}
    return {name: {m for m in imports_of(path) if m in modules and m != name}
            for name, path in modules.items()}


def test_the_runtime_has_no_import_cycle():
    edges = graph()
    visiting, done = [], set()

    def visit(module: str) -> None:
        if module in done:
            return
        assert module not in visiting, " → ".join([*visiting[visiting.index(module):], module])
        visiting.append(module)
        for target in sorted(edges[module]):
            visit(target)
        visiting.pop()
        done.add(module)

    for module in sorted(edges):
        visit(module)


def test_the_pure_kit_modules_import_no_infrastructure():
    for name in PURE_KIT:
        imports = imports_of(RUNTIME / "kit" / f"{name}.py")
        assert not [m for m in imports if m.startswith(INFRASTRUCTURE)], (name, imports)
