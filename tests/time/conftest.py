"""Project and time in the test process, billing faked (tests/support/project_time_stack.py)."""

from tests.support.project_time_stack import billing, stack  # noqa: F401 (fixtures)
