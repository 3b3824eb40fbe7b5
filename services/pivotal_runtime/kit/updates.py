"""Applying an update mask to a frozen dataclass of fields. Pure code."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TypeVar

F = TypeVar("F")


def with_fields(current: F, given: F, names: Iterable[str]) -> F:
    """`current` with the fields `names` (the mask's, already checked) taken from `given`."""
    return replace(current, **{name: getattr(given, name) for name in names})  # type: ignore[type-var]
