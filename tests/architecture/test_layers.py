"""Layering of every `services/pivotal_*` package (found by globbing, so a new domain is
covered the day it is added): domain modules import no infrastructure and no generated code,
servicers import no adapters, the runtime imports no domain, and no package has import cycles.
Each rule also runs on a scratch package that breaks it, to show that it can fail."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.architecture import imports
from tests.support.processes import ROOT

SERVICES = ROOT / "services"
PACKAGES = imports.discover(SERVICES)
NAMES = [p.name for p in PACKAGES]
# Known cycles being removed elsewhere: strict, so the entry fails once the cycle is gone.
# Packages allowed an import cycle for now, with the reason (none since the kit, issue 8).
KNOWN_CYCLES: dict[str, str] = {}


def package(name: str) -> imports.Package:
    return next(p for p in PACKAGES if p.name == name)


def test_every_service_package_is_checked():
    assert {"pivotal_runtime", "pivotal_gateway", "pivotal_identity"} <= set(NAMES)
    assert len(package("pivotal_identity").modules_under("domain")) > 3


def domain_violations(pkg: imports.Package) -> dict[str, list[str]]:
    return {m.name: found for m in pkg.modules_under("domain")
            if (found := imports.infrastructure_imports(m))}


def servicer_violations(pkg: imports.Package, packages) -> dict[str, list[str]]:
    return {m.name: found for m in pkg.modules_under("servicers")
            if (found := imports.adapter_imports(m, packages))}


def runtime_violations(packages) -> dict[str, list[str]]:
    runtime = next(p for p in packages if p.name == imports.RUNTIME)
    return {m.name: found for m in runtime.modules.values()
            if (found := imports.domain_package_imports(m, packages))}


@pytest.mark.parametrize("name", NAMES)
def test_domain_modules_import_no_infrastructure_and_no_generated_code(name):
    assert domain_violations(package(name)) == {}


@pytest.mark.parametrize("name", NAMES)
def test_servicers_import_no_adapters(name):
    assert servicer_violations(package(name), PACKAGES) == {}


def test_the_runtime_imports_no_domain_package():
    assert runtime_violations(PACKAGES) == {}


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=KNOWN_CYCLES[n]))
    if n in KNOWN_CYCLES else n for n in NAMES])
def test_no_import_cycles(name):
    assert imports.cycles(package(name)) == []


# Scratch packages that break each rule.

def scratch(tmp_path: Path, files: dict[str, str]) -> list[imports.Package]:
    for relative, source in {"pivotal_runtime/__init__.py": "", **files}.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
        for parent in path.relative_to(tmp_path).parents:
            if parent != Path(".") and "migrations" not in parent.parts:
                (tmp_path / parent / "__init__.py").touch()
    return imports.discover(tmp_path)


@pytest.mark.parametrize("source", [
    "import grpc",
    "from sqlalchemy import select",
    "import pika.exceptions",
    "from opentelemetry import trace",
    "from pivotal.quotation.v1 import quote_pb2",
    "from google.protobuf import timestamp_pb2",
    "def late():\n    from sqlalchemy.orm import Session\n",
    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import grpc\n",
])
def test_a_domain_module_importing_infrastructure_is_caught(tmp_path, source):
    [_, scratch_package] = scratch(tmp_path, {"pivotal_scratch/domain/model.py": source,
                                              "pivotal_scratch/domain/money.py": "import decimal"})
    assert list(domain_violations(scratch_package)) == ["pivotal_scratch.domain.model"]


@pytest.mark.parametrize("source", [
    "from pivotal_scratch.adapters.tables import users",
    "from ..adapters import repositories",
    "import pivotal_scratch.adapters.uow",
])
def test_a_servicer_importing_adapters_is_caught(tmp_path, source):
    packages = scratch(tmp_path, {"pivotal_scratch/servicers/users.py": source,
                                  "pivotal_scratch/servicers/convert.py": "from ..domain import x",
                                  "pivotal_scratch/adapters/tables.py": "",
                                  "pivotal_scratch/adapters/repositories.py": "",
                                  "pivotal_scratch/adapters/uow.py": ""})
    assert list(servicer_violations(packages[1], packages)) == ["pivotal_scratch.servicers.users"]


def test_the_runtime_importing_a_domain_is_caught(tmp_path):
    packages = scratch(tmp_path, {
        "pivotal_runtime/bootstrap.py": "def build():\n    from pivotal_scratch import service\n",
        "pivotal_runtime/money.py": "from pivotal_gateway import settings",  # not a domain
        "pivotal_scratch/service.py": "",
        "pivotal_scratch/migrations/env.py": ""})
    assert list(runtime_violations(packages)) == ["pivotal_runtime.bootstrap"]


def test_an_import_cycle_is_caught(tmp_path):
    [_, scratch_package] = scratch(tmp_path, {
        "pivotal_scratch/db.py": "from pivotal_scratch.uow import UnitOfWork",
        "pivotal_scratch/uow.py": "from . import outbox",
        "pivotal_scratch/outbox.py": "def f():\n    from .db import Database\n",
        "pivotal_scratch/clean.py": "from pivotal_scratch import db"})
    assert imports.cycles(scratch_package) == [
        ["pivotal_scratch.db", "pivotal_scratch.outbox", "pivotal_scratch.uow"]]
