"""`pivotal bench`: the request path measured against its platform, side by side in one run.

Scenarios (docs/performance.md): a bare grpcio no-op with the services' server settings
(= 1.0), a read direct in embedded (SQLite) and services (PostgreSQL) mode, the same read as
REST through the Envoy gateway, the same read served by FastAPI + uvicorn, and a write with
its outbox row against pgbench running the same statements. Reads are pluggable
(`scenarios.READS`).

A package of its own, beside the runtime: it composes the runtime with the domains it
measures, and the runtime imports no domain.
"""
