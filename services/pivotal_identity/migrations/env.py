"""Alembic environment of the identity service: the runtime's shared one."""

from pivotal_runtime.migrations import run_environment

run_environment()
