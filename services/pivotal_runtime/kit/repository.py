"""What every SQLAlchemy Core repository shares: rows ↔ dataclasses, insert-or-ignore,
keyset conditions, and the versioned repository (optimistic concurrency).

    class QuoteRepository(VersionedRepository[Quote]):
        table = tables.quotes
        aggregate = Quote
        resource_type = "quote"
        enums = {"state": QuoteState}

`update` writes `UPDATE ... WHERE id = :id AND version = :seen` (the version this unit of
work read) and raises ABORTED (reason CONCURRENT_MODIFICATION) when no row matched.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Any, ClassVar, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from pivotal_runtime.errors import Aborted
from pivotal_runtime.kit.paging import Position

A = TypeVar("A")


def row_values(obj: Any, table: sa.Table, skip: Iterable[str] = ()) -> dict[str, Any]:
    """The column values of a dataclass (enums stored by value)."""
    skip = set(skip)
    values = {}
    for column in table.c:
        if column.name in skip or not hasattr(obj, column.name):
            continue
        value = getattr(obj, column.name)
        values[column.name] = value.value if isinstance(value, Enum) else value
    return values


def from_row(cls: type[A], row: Any, enums: dict[str, type[Enum]] | None = None,
             **extra: Any) -> A:
    """A dataclass from a row; columns it has no field for are ignored."""
    data = dict(row._mapping)
    for name, enum in (enums or {}).items():
        if data.get(name) is not None:
            data[name] = enum(data[name])
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    data.update(extra)
    return cls(**{k: v for k, v in data.items() if k in names})


def insert_for(executor: Session | sa.Connection):
    """The dialect's `insert` (with `on_conflict_do_nothing` / `on_conflict_do_update`)."""
    dialect = executor.bind.dialect if isinstance(executor, Session) else executor.dialect
    return postgresql.insert if dialect.name == "postgresql" else sqlite.insert


def insert_ignore(session: Session, table: sa.Table, values: dict, keys: list[str]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when the row was inserted."""
    statement = insert_for(session)(table).values(**values).on_conflict_do_nothing(
        index_elements=keys).returning(*(table.c[key] for key in keys))
    return session.execute(statement).first() is not None


def after_position(order: Sequence[tuple[sa.ColumnElement, bool]], position: Position | None
                   ) -> sa.ColumnElement[bool]:
    """The keyset condition "comes after `position`" for an ORDER BY of `(column,
    descending)` pairs: (a > x) OR (a = x AND b > y) OR ..., any mix of directions."""
    if position is None:
        return sa.true()
    if len(position) != len(order):
        # A forged token of the right filter but the wrong shape: nothing comes after it.
        return sa.false()
    alternatives = []
    for index, (column, descending) in enumerate(order):
        equal = [order[i][0] == position[i] for i in range(index)]
        beyond = column < position[index] if descending else column > position[index]
        alternatives.append(sa.and_(*equal, beyond))
    return sa.or_(*alternatives)


def order_by(order: Sequence[tuple[sa.ColumnElement, bool]]) -> list[sa.ColumnElement]:
    return [column.desc() if descending else column.asc() for column, descending in order]


class VersionedRepository(Generic[A]):
    """Loads and stores one aggregate type with a `version` column; remembers the version
    each aggregate was read at, and writes only over that version."""

    table: ClassVar[sa.Table]
    aggregate: ClassVar[type]
    resource_type: ClassVar[str]
    enums: ClassVar[dict[str, type[Enum]]] = {}

    def __init__(self, session: Session) -> None:
        self._s = session
        self._versions: dict[str, int] = {}

    def _seen(self, obj: A | None) -> A | None:
        if obj is not None:
            self._versions[obj.id] = obj.version  # type: ignore[attr-defined]
        return obj

    def _from_row(self, row: Any, **extra: Any) -> A:
        return self._seen(from_row(self.aggregate, row, self.enums, **extra))  # type: ignore

    def _one(self, *conditions: sa.ColumnElement[bool]) -> A | None:
        row = self._s.execute(sa.select(self.table).where(*conditions)).first()
        return self._from_row(row) if row is not None else None

    def get_by_id(self, resource_id: str) -> A | None:
        return self._one(self.table.c.id == resource_id)

    def get_in(self, organization_id: str, resource_id: str) -> A | None:
        """The resource if it belongs to `organization_id` (tenant scope in the query)."""
        return self._one(self.table.c.id == resource_id,
                         self.table.c.organization_id == organization_id)

    def add(self, obj: A, **extra: Any) -> None:
        self._s.execute(self.table.insert().values(**row_values(obj, self.table), **extra))
        self._seen(obj)

    def update(self, obj: A, *, check_version: bool = True, **extra: Any) -> None:
        obj_id = obj.id  # type: ignore[attr-defined]
        statement = (sa.update(self.table).where(self.table.c.id == obj_id)
                     .values(**row_values(obj, self.table, skip=("id",)), **extra))
        seen = self._versions.get(obj_id)
        if check_version and seen is not None:
            statement = statement.where(self.table.c.version == seen)
        if self._s.execute(statement).rowcount != 1:
            raise Aborted(f"{self.resource_type} {obj_id} was changed concurrently; read it "
                          "again")
        self._seen(obj)
