"""A service's database: engine, sessions and schema, built from settings by `open_database`.

PostgreSQL in services/mesh modes (one schema per service, selected through `search_path`),
a SQLite file per service under `state_dir` in embedded mode. Nothing connects until used.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from pivotal_runtime.settings import Settings
from pivotal_runtime.uow import UnitOfWork

CONNECT_TIMEOUT_SECONDS = 5
PING_TIMEOUT_SECONDS = 2.0
SQLITE_BUSY_TIMEOUT_MS = 10_000
# Connections beyond the gRPC worker threads: outbox relay, bus consumers, migrations.
POOL_OVERFLOW = 4


class Database:
    """One service's engine and session factory. Build it with `open_database`."""

    def __init__(self, service: str, engine: Engine, probe_engine: Engine, schema: str | None):
        self.service = service
        self.engine = engine
        self.schema = schema
        self.sessionmaker: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)
        self._probe_engine = probe_engine
        self._ping_lock = threading.Lock()
        self._pending_ping: Future[bool] | None = None
        # Called after a unit of work commits outbox rows: the relay wakes up at once.
        self.outbox_listeners: list[Callable[[], None]] = []

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def unit_of_work(self, *, read_only: bool = False) -> UnitOfWork:
        """A transaction; `read_only=True` takes no write lock (and may not write)."""
        return UnitOfWork(self, read_only=read_only)

    def ping(self) -> bool:
        """True when `SELECT 1` succeeds within PING_TIMEOUT_SECONDS; never raises.

        The probe runs in a daemon thread so that a hung server cannot stall the caller, and
        at most one probe is in flight: a stuck probe makes later pings answer False at once.
        """
        with self._ping_lock:
            if self._pending_ping is None or self._pending_ping.done():
                self._pending_ping = Future()
                threading.Thread(
                    target=self._probe,
                    args=(self._pending_ping,),
                    name=f"db-ping-{self.service}",
                    daemon=True,
                ).start()
            pending = self._pending_ping
        try:
            return pending.result(timeout=PING_TIMEOUT_SECONDS)
        except FutureTimeout:
            return False

    def _probe(self, result: Future[bool]) -> None:
        healthy = False
        try:
            with self._probe_engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
            healthy = True
        except (SQLAlchemyError, OSError):
            pass
        finally:
            result.set_result(healthy)

    def dispose(self) -> None:
        self.engine.dispose()
        self._probe_engine.dispose()


def open_database(settings: Settings, service: str) -> Database:
    url = settings.database_url_for(service)
    schema = settings.schema_for(service)
    if make_url(url).get_backend_name() == "sqlite":
        engine, probe = _sqlite_engines(url)
    else:
        engine, probe = _postgres_engines(url, schema, settings.max_workers)
    return Database(service, engine, probe, schema)


def _postgres_engines(url: str, schema: str | None, pool_size: int) -> tuple[Engine, Engine]:
    options = {"options": f"-csearch_path={schema}"} if schema else {}
    engine = create_engine(
        url,
        hide_parameters=True,  # statement parameters hold password and token hashes
        pool_size=pool_size,
        max_overflow=POOL_OVERFLOW,
        pool_timeout=CONNECT_TIMEOUT_SECONDS,
        pool_pre_ping=True,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS, **options},
    )
    probe = create_engine(
        url,
        poolclass=NullPool,
        connect_args={"connect_timeout": int(PING_TIMEOUT_SECONDS), **options},
    )
    return engine, probe


def _sqlite_engines(url: str) -> tuple[Engine, Engine]:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, hide_parameters=True, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_immediate)
    probe = create_engine(url, poolclass=NullPool, connect_args={"check_same_thread": False})
    return engine, probe


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_immediate(connection: Any) -> None:
    # A deferred transaction that reads and then writes fails at once with SQLITE_BUSY when
    # another writer committed in between (busy_timeout cannot help); taking the write lock
    # up front makes concurrent units of work queue up instead.
    connection.exec_driver_sql("BEGIN IMMEDIATE")
