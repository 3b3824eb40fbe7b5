"""Gap-free numbers per organization, series and year: `Q-2026-0001`, `INV-2026-0042`.

The counter row is incremented by one upsert in the creating transaction (`INSERT ... ON
CONFLICT DO UPDATE ... RETURNING`): on PostgreSQL the row stays locked until that transaction
ends, so concurrent creators queue and a rolled-back transaction gives its number back; on
SQLite the write transaction already serialises them.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from pivotal_runtime.kit.repository import insert_for
from pivotal_runtime.kit.tables import number_counters as table

DIGITS = 4


def format_number(series: str, year: int, number: int, digits: int = DIGITS) -> str:
    """`format_number("Q", 2026, 1)` is `Q-2026-0001` (more digits once past 9999)."""
    return f"{series}-{year}-{number:0{digits}d}"


class NumberSeries:
    def __init__(self, session: Session) -> None:
        self._s = session

    def next(self, organization_id: str, series: str, year: int) -> int:
        insert = insert_for(self._s)
        statement = insert(table).values(organization_id=organization_id, series=series,
                                         year=year, last_number=1)
        statement = statement.on_conflict_do_update(
            index_elements=["organization_id", "series", "year"],
            set_={"last_number": table.c.last_number + 1},
        ).returning(table.c.last_number)
        return int(self._s.execute(statement).scalar_one())

    def next_formatted(self, organization_id: str, series: str, year: int) -> str:
        return format_number(series, year, self.next(organization_id, series, year))
