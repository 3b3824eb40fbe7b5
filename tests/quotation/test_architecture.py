"""Quotation's layers: the domain imports no infrastructure; the migrations create exactly the
tables the adapters define."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pivotal_quotation.domain as domain_package
import pytest

FORBIDDEN = ("grpc", "sqlalchemy", "pika", "opentelemetry", "pivotal.", "psycopg", "google.",
             "reportlab")


def test_domain_modules_name_no_infrastructure_import():
    for path in Path(domain_package.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"
                assert not name.endswith("_pb2"), f"{path.name} imports {name}"


def test_importing_the_domain_loads_no_infrastructure():
    modules = [f"pivotal_quotation.domain.{p.stem}"
               for p in Path(domain_package.__file__).parent.glob("*.py") if p.stem != "__init__"]
    code = ("import sys\n" + "".join(f"import {m}\n" for m in modules) +
            "print(sorted({n.split('.')[0] for n in sys.modules}))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60).stdout
    for package in ("grpc", "sqlalchemy", "pika", "opentelemetry", "psycopg", "reportlab"):
        assert f"'{package}'" not in loaded, package


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres",
                                                            marks=pytest.mark.integration)])
def test_migrated_tables_match_the_table_definitions(backend, tmp_path, request):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from pivotal_quotation.adapters import tables
    from pivotal_runtime.db import open_database
    from pivotal_runtime.migrations import upgrade

    from tests.quotation.conftest import settings_for

    postgres_url = request.getfixturevalue("postgres_url") if backend == "postgres" else None
    settings = settings_for(backend, tmp_path, postgres_url)
    upgrade(settings, "quotation")
    database = open_database(settings, "quotation")
    try:
        with database.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection),
                                           tables.metadata)
    finally:
        database.dispose()
    relevant = [d for d in differences
                if not (d[0] == "remove_table" and d[1].name == "alembic_version")]
    assert relevant == []
