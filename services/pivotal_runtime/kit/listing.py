"""Helpers every domain's listings and servicers share: an AIP-132 `order_by` parsed against
the fields a listing offers, one keyset page of a listing with its total, and registering a
domain's servicers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pivotal_runtime.errors import FieldViolation, InvalidArgument
from pivotal_runtime.kit import field_reasons
from pivotal_runtime.kit.paging import Position
from pivotal_runtime.kit.repository import after_position, order_by

Order = list[tuple[str, bool]]  # (field, descending)


def parse_order(order_by: str, fields: Sequence[str], default: Order) -> Order:
    """`create_time desc, quote_number` → [("create_time", True), ("quote_number", False)];
    each field once, one of `fields`; `default` when empty. Anything else is
    INVALID_ARGUMENT on `order_by`."""
    order: Order = []
    for part in (p.strip() for p in order_by.split(",") if p.strip()):
        words = part.split()
        name = words[0]
        direction = words[1].lower() if len(words) > 1 else "asc"
        if (name not in fields or len(words) > 2 or direction not in ("asc", "desc")
                or name in (n for n, _ in order)):
            raise InvalidArgument([FieldViolation(
                "order_by", f"{part!r} is not `<field> [desc]` of "
                f"{', '.join(fields)} (each once)", field_reasons.INVALID_FIELD)])
        order.append((name, direction == "desc"))
    return order or list(default)


def page_rows(session: Session, statement: sa.Select, order: Sequence[tuple[sa.ColumnElement,
                                                                              bool]],
              after: Position | None, limit: int) -> tuple[list, int]:
    """Up to `limit` rows of `statement` after `after` in `order` (keyset), and how many rows
    the whole listing has."""
    total = session.execute(sa.select(sa.func.count()).select_from(statement.subquery())
                            ).scalar_one()
    rows = session.execute(statement.where(after_position(order, after))
                           .order_by(*order_by(order)).limit(limit)).all()
    return list(rows), total


def add_servicers(server: Any, app: Any, registrations: Iterable[tuple[type, Any, Any]]
                  ) -> set[str]:
    """Adds each `(servicer class, add_..._to_server, *_pb2 module)` built with `app`; returns
    the full names of the gRPC services added (what `Domain.registrations` report)."""
    names = set()
    for servicer, add, module in registrations:
        add(servicer(app), server)
        names |= {s.full_name for s in module.DESCRIPTOR.services_by_name.values()}
    return names
