"""The import graph of the `services/pivotal_*` packages, read with `ast` (nothing is imported),
and the layering rules checked on it.

Every import statement counts, wherever it is written: at module level, inside a function,
under `if TYPE_CHECKING:`. A function-level import is still a dependency (the code cannot run
without it), and hiding one in a function is the usual way a cycle or a layering breach is
papered over, so the rules see through it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# What a domain module must not import (top-level package names, or a prefix of one).
INFRASTRUCTURE = ("grpc", "grpc_", "sqlalchemy", "alembic", "pika", "opentelemetry",
                  "google.protobuf", "google.rpc", "google.api", "psycopg")
# The generated stubs: the package `pivotal` and any `*_pb2` / `*_pb2_grpc` module.
GENERATED = "pivotal"
RUNTIME = "pivotal_runtime"


@dataclass
class Module:
    name: str  # dotted, e.g. pivotal_identity.domain.model
    path: Path
    is_package: bool
    imports: set[str] = field(default_factory=set)  # dotted names as written (resolved)


@dataclass
class Package:
    name: str  # pivotal_identity
    root: Path
    modules: dict[str, Module]

    def modules_under(self, layer: str) -> list[Module]:
        prefix = f"{self.name}.{layer}"
        return [m for n, m in self.modules.items() if n == prefix or n.startswith(prefix + ".")]

    @property
    def is_domain(self) -> bool:
        """A domain service owns a database: it has alembic migrations."""
        return (self.root / "migrations").is_dir()


def discover(services: Path) -> list[Package]:
    """Every `pivotal_*` package under `services/` (new domains are picked up by the glob)."""
    return [load_package(d) for d in sorted(services.glob("pivotal_*"))
            if (d / "__init__.py").is_file()]


def load_package(root: Path) -> Package:
    modules = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root.parent).with_suffix("")
        if "migrations" in relative.parts:  # alembic scripts, loaded by path
            continue
        parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
        module = Module(".".join(parts), path, relative.name == "__init__")
        module.imports = set(_imports(module))
        modules[module.name] = module
    return Package(root.name, root, modules)


def _imports(module: Module) -> Iterator[str]:
    tree = ast.parse(module.path.read_text(), str(module.path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node.module, node.level)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names if alias.name != "*")


def _absolute(module: Module, name: str | None, level: int) -> str:
    if level == 0:
        return name or ""
    package = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
    anchor = package[: len(package) - (level - 1)]
    return ".".join([*anchor, name] if name else anchor)


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".") or (
        prefix.endswith("_") and name.startswith(prefix))


def is_generated(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    return _within(name, GENERATED) or last.endswith(("_pb2", "_pb2_grpc"))


def infrastructure_imports(module: Module) -> list[str]:
    return sorted(n for n in module.imports
                  if is_generated(n) or any(_within(n, p) for p in INFRASTRUCTURE))


def adapter_imports(module: Module, packages: list[Package]) -> list[str]:
    return sorted(n for n in module.imports for p in packages
                  if _within(n, f"{p.name}.adapters"))


def domain_package_imports(module: Module, packages: list[Package]) -> list[str]:
    return sorted(n for n in module.imports for p in packages
                  if p.is_domain and p.name != RUNTIME and _within(n, p.name))


def cycles(package: Package) -> list[list[str]]:
    """The import cycles between the package's modules (each strongly connected component of
    more than one module, or a module importing itself)."""
    graph = {name: sorted(_targets(module, package)) for name, module in package.modules.items()}
    return [sorted(c) for c in _strongly_connected(graph)
            if len(c) > 1 or c[0] in graph[c[0]]]


def _targets(module: Module, package: Package) -> set[str]:
    """The package's modules `module` imports: the longest known prefix of each name, so that
    `from pkg.sub import name` points at `pkg.sub` and `from pkg import sub` at `pkg.sub`."""
    found = set()
    for name in module.imports:
        parts = name.split(".")
        for end in range(len(parts), 0, -1):
            candidate = ".".join(parts[:end])
            if candidate in package.modules:
                if candidate != module.name:
                    found.add(candidate)
                break
    return found


def _strongly_connected(graph: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(graph[successor])))
                    advanced = True
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return components
