"""Alembic environment of the quotation service: the runtime's shared one."""

from pivotal_runtime.migrations import run_environment

run_environment()
