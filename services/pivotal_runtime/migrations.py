"""Per-service alembic migrations: one PostgreSQL schema, or one SQLite file, per service.

Each service keeps its revisions in `pivotal_<service>/migrations/versions/`; its `env.py`
calls `run_environment()`. Migrations run through `upgrade()`, which hands alembic a
connection already inside the transaction that holds the service's migration lock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData

from pivotal_runtime.db import open_database
from pivotal_runtime.settings import SERVICE_NAMES, Settings

VERSION_TABLE = "alembic_version"


def alembic_config(service: str) -> Config:
    config = Config()
    config.set_main_option("script_location", f"pivotal_{service}:migrations")
    return config


def upgrade(settings: Settings, service: str, revision: str = "head") -> None:
    database = open_database(settings, service)
    try:
        with database.engine.begin() as connection:
            if database.schema:
                _lock_and_create_schema(connection, database.schema)
            config = alembic_config(service)
            config.attributes["connection"] = connection
            config.attributes["schema"] = database.schema
            command.upgrade(config, revision)
    finally:
        database.dispose()


def upgrade_all(settings: Settings, services: Iterable[str] = SERVICE_NAMES) -> None:
    for service in services:
        upgrade(settings, service)


def current_revision(settings: Settings, service: str) -> str | None:
    database = open_database(settings, service)
    try:
        with database.engine.connect() as connection:
            return _migration_context(connection, database.schema).get_current_revision()
    finally:
        database.dispose()


def head_revision(service: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(service)).get_current_head()


def new_revision(service: str, message: str, revision_id: str) -> Path:
    """Writes an empty revision file for `service` (e.g. `revision_id="0002"`)."""
    script = command.revision(alembic_config(service), message, rev_id=revision_id)
    assert script is not None and not isinstance(script, list)
    return Path(script.path)


def run_environment(target_metadata: MetaData | None = None) -> None:
    """The body of every service's `env.py`."""
    connection: Connection | None = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations with pivotal_runtime.migrations.upgrade()")
    schema: str | None = context.config.attributes.get("schema")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        version_table_schema=schema,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _migration_context(connection: Connection, schema: str | None) -> MigrationContext:
    return MigrationContext.configure(
        connection, opts={"version_table": VERSION_TABLE, "version_table_schema": schema}
    )


def _lock_and_create_schema(connection: Connection, schema: str) -> None:
    # Held until the migration commits: a second process migrating the same schema waits here,
    # then finds the revision already applied.
    connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_lock_key(schema))))
    exists = connection.execute(
        sa.text("SELECT 1 FROM pg_namespace WHERE nspname = :schema"), {"schema": schema}
    ).first()
    if not exists:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')


def _lock_key(schema: str) -> int:
    digest = hashlib.blake2b(f"pivotal.migrate:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def create_runtime_tables() -> None:
    """Revision 0001 of every service. Frozen: a change to the runtime tables is a new
    function here, called from a new revision of every service."""
    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(),
            nullable=False,
        ),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("event_type", sa.String(255), nullable=False),
        sa.Column("aggregate_type", sa.String(100), nullable=False),
        sa.Column("aggregate_id", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("organization_id", sa.String(100), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("traceparent", sa.String(55), nullable=True),
        sa.Column("request_id", sa.String(100), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_id"),
    )
    op.create_index("ix_outbox_published_at_id", "outbox", ["published_at", "id"])
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(100), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("event_type", sa.String(255), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name="pk_inbox"),
    )


def drop_runtime_tables() -> None:
    op.drop_table("inbox")
    op.drop_index("ix_outbox_published_at_id", table_name="outbox")
    op.drop_table("outbox")


def create_kit_tables() -> None:
    """Revision 0002 of every service (identity: 0003): the kit's tables. Frozen like
    `create_runtime_tables`."""
    op.create_table(
        "idempotent_requests",
        sa.Column("scope", sa.String(150), nullable=False),
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("resource_id", sa.String(100), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "request_id", name="pk_idempotent_requests"),
    )
    op.create_table(
        "number_counters",
        sa.Column("organization_id", sa.String(100), nullable=False),
        sa.Column("series", sa.String(20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "series", "year", name="pk_number_counters"),
    )
    op.create_table(
        "job_runs",
        sa.Column("job", sa.String(100), nullable=False),
        sa.Column("last_run_time", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job", name="pk_job_runs"),
    )


def drop_kit_tables() -> None:
    op.drop_table("job_runs")
    op.drop_table("number_counters")
    op.drop_table("idempotent_requests")
