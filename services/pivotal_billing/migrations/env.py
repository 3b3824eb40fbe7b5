"""Alembic environment of the billing service: the runtime's shared one."""

from pivotal_runtime.migrations import run_environment

run_environment()
