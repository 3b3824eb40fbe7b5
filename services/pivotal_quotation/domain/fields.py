"""Resources whose client-set values live in one frozen `fields` dataclass (customers, tax
rates, settings): an update takes the fields its mask names and bumps the version."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

F = TypeVar("F")


def with_fields(current: F, given: Any, names: list[str]) -> F:
    """`current` with the values of `names` taken from `given`."""
    return replace(current, **{name: getattr(given, name) for name in names})  # type: ignore


class ChangesFields:
    """A mixin for `Versioned` aggregates (which provide `touch`)."""

    fields: Any

    def change(self, fields: Any, names: list[str], now: datetime) -> list[str]:
        """Applies the named fields; returns those whose value changed."""
        changed = [name for name in names if getattr(self.fields, name) != getattr(fields, name)]
        if changed:
            self.fields = with_fields(self.fields, fields, changed)
            self.touch(now)  # type: ignore[attr-defined]
        return changed
