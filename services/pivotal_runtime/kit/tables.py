"""The kit's runtime tables, in every service beside `outbox` and `inbox`.

- `idempotent_requests`: AIP-155 request ids, reserved before the resource is created;
- `number_counters`: the last number handed out per (organization, series, year);
- `job_runs`: when each periodic job last ran (read and written under the job's lock).

Created by revision 0002 of every service (`pivotal_runtime.migrations.create_kit_tables`).
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import Column, Integer, MetaData, PrimaryKeyConstraint, String, Table

from pivotal_runtime.outbox import inbox, outbox
from pivotal_runtime.types import UtcDateTime, runtime_metadata

idempotent_requests = Table(
    "idempotent_requests",
    runtime_metadata,
    Column("scope", String(150), nullable=False),
    Column("request_id", String(36), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    # Empty until the creating transaction stores the new resource's id.
    Column("resource_id", String(100), nullable=False),
    Column("create_time", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("scope", "request_id", name="pk_idempotent_requests"),
)

number_counters = Table(
    "number_counters",
    runtime_metadata,
    Column("organization_id", String(100), nullable=False),
    Column("series", String(20), nullable=False),
    Column("year", Integer(), nullable=False),
    Column("last_number", Integer(), nullable=False),
    PrimaryKeyConstraint("organization_id", "series", "year", name="pk_number_counters"),
)

job_runs = Table(
    "job_runs",
    runtime_metadata,
    Column("job", String(100), nullable=False),
    Column("last_run_time", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("job", name="pk_job_runs"),
)


class RuntimeTables(NamedTuple):
    outbox: Table
    inbox: Table
    idempotent_requests: Table
    number_counters: Table
    job_runs: Table


def versioned_columns() -> list[Column]:
    """`create_time`, `update_time` and `version`: the row of a `kit.resources.Versioned`
    aggregate (what `VersionedRepository` reads and compares)."""
    return [Column("create_time", UtcDateTime(), nullable=False),
            Column("update_time", UtcDateTime(), nullable=False),
            Column("version", Integer(), nullable=False)]


def add_runtime_tables(metadata: MetaData) -> RuntimeTables:
    """Copies every runtime table into a service's MetaData (for autogenerate and tests)."""
    return RuntimeTables(*(table.to_metadata(metadata) for table in (
        outbox, inbox, idempotent_requests, number_counters, job_runs)))
