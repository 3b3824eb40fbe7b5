"""Alembic environment of the project service: the runtime's shared one."""

from pivotal_runtime.migrations import run_environment

run_environment()
