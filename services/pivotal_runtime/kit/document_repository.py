"""A versioned repository for aggregates stored as a few queryable columns plus one JSON
`document` column holding the rest (nested values, texts no query filters on).

    class ProjectRepository(DocumentRepository[Project]):
        table = tables.projects
        resource_type = "project"

        def columns(self, project):  # the queryable columns, besides the same-named attributes
            return {"name": project.fields.name, "document": to_document(project.fields)}

        def load(self, row) -> Project: ...

`get_in`, `add` and `update` (optimistic, over the version read) come from
`VersionedRepository`; `listing.page_rows` pages any statement by keyset.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, TypeVar

import sqlalchemy as sa

from pivotal_runtime.kit.repository import (
    VersionedRepository,
    row_values,
)

A = TypeVar("A")


class DocumentRepository(VersionedRepository[A]):
    def columns(self, obj: A) -> dict[str, Any]:
        return {}

    def load(self, row: Any) -> A:
        raise NotImplementedError

    def _row(self, obj: A) -> SimpleNamespace:
        return SimpleNamespace(**{**row_values(obj, self.table), **self.columns(obj)})

    def _from_row(self, row: Any, **extra: Any) -> A:
        return self._seen(self.load(row))  # type: ignore[return-value]

    def add(self, obj: A, **extra: Any) -> None:
        super().add(self._row(obj), **extra)  # type: ignore[arg-type]
        self._seen(obj)

    def update(self, obj: A, *, check_version: bool = True, **extra: Any) -> None:
        super().update(self._row(obj), check_version=check_version,  # type: ignore[arg-type]
                       **extra)

    def select(self, *conditions: sa.ColumnElement[bool], order: Any = (),
               limit: int | None = None) -> list[A]:
        statement = sa.select(self.table).where(*conditions).order_by(*order)
        if limit is not None:
            statement = statement.limit(limit)
        return [self._from_row(row) for row in self._s.execute(statement)]

    def delete(self, obj: A) -> None:
        self._s.execute(sa.delete(self.table).where(
            self.table.c.id == obj.id))  # type: ignore[attr-defined]

