"""The write scenario: one row and its outbox event per unit of work, on PostgreSQL, against
pgbench running the same statements at the same concurrency.

    python -m pivotal_bench.writer <url> <schema> <threads> <seconds> <out.json>
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

ORGANIZATION_ID = "bench-org"
items_metadata = sa.MetaData()
items = sa.Table(
    "bench_items", items_metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("organization_id", sa.String(100), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
)
insert_item = items.insert()


def create_schema(url: str, schema: str) -> None:
    from pivotal_runtime.outbox import outbox

    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        connection.exec_driver_sql(f'SET search_path TO "{schema}"')
        items_metadata.create_all(connection)
        outbox.to_metadata(sa.MetaData()).create(connection)
    engine.dispose()


def pgbench_script(schema: str) -> str:
    """The statements one unit of work of this scenario sends, as one pgbench transaction."""
    return (
        "BEGIN;\n"
        f'INSERT INTO "{schema}".bench_items (id, organization_id, name)'
        f" VALUES (gen_random_uuid()::text, '{ORGANIZATION_ID}', 'bench item');\n"
        f'INSERT INTO "{schema}".outbox (event_id, event_type, aggregate_type, aggregate_id,'
        " subject, organization_id, payload, occurred_at, traceparent, request_id, attempts)"
        " VALUES (gen_random_uuid()::text, 'pivotal.identity.v1.OrganizationCreated',"
        f" 'organization', 'bench', 'bench', '{ORGANIZATION_ID}',"
        " '\\x0a0562656e6368'::bytea, now(), NULL, NULL, 0);\n"
        "COMMIT;\n"
    )


def run(url: str, schema: str, threads: int, seconds: float) -> dict:
    from pivotal.identity.v1.events_pb2 import OrganizationCreated
    from pivotal_runtime.db import open_database
    from pivotal_runtime.settings import Settings

    database = open_database(Settings(database_url=url, max_workers=threads), schema)
    latencies: list[list[int]] = [[] for _ in range(threads)]
    start = threading.Barrier(threads + 1)
    deadline: list[float] = []

    def write(mine: list[int]) -> None:
        start.wait()
        while time.perf_counter() < deadline[0]:
            began = time.perf_counter()
            item_id = str(uuid.uuid4())
            with database.unit_of_work() as uow:
                uow.session.execute(insert_item, {"id": item_id, "organization_id":
                                                  ORGANIZATION_ID, "name": "bench item"})
                uow.add_event(OrganizationCreated(organization_id=ORGANIZATION_ID),
                              aggregate_id=item_id, organization_id=ORGANIZATION_ID)
                uow.commit()
            mine.append(int((time.perf_counter() - began) * 1_000_000))

    workers = [threading.Thread(target=write, args=(latencies[i],)) for i in range(threads)]
    for worker in workers:
        worker.start()
    cpu_before = time.process_time()
    deadline.append(time.perf_counter() + seconds)
    start.wait()
    for worker in workers:
        worker.join()
    cpu = time.process_time() - cpu_before  # the writing itself, not the interpreter's start
    database.dispose()
    return {"latencies_us": [value for mine in latencies for value in mine], "cpu_seconds": cpu}


if __name__ == "__main__":
    url, schema, threads, seconds, out = sys.argv[1:6]
    Path(out).write_text(json.dumps(run(url, schema, int(threads), float(seconds))))
