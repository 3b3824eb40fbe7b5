"""Totals of time entries grouped by person, project, task or customer and bucketed by day,
ISO week or month; the CSV export with its formula-injection escaping. Plain Python."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from pivotal_time.domain.entries import EntryState, TimeEntry

ZERO = Decimal(0)
DIMENSIONS = ("user", "project", "task", "customer")


def period_of(day: date, period: str) -> tuple[date, date] | None:
    if period == "DAY":
        return day, day
    if period == "WEEK":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    if period == "MONTH":
        start = day.replace(day=1)
        following = (start + timedelta(days=32)).replace(day=1)
        return start, following - timedelta(days=1)
    return None


@dataclass
class SummaryRow:
    key: tuple = ()
    user_id: str = ""
    project_id: str = ""
    task_id: str = ""
    customer_id: str = ""
    period: tuple[date, date] | None = None
    total_hours: Decimal = ZERO
    billable_hours: Decimal = ZERO
    approved_billable_hours: Decimal = ZERO
    billable_amounts: dict[str, Decimal] = field(default_factory=dict)
    total_amounts: dict[str, Decimal] = field(default_factory=dict)
    entry_count: int = 0

    @property
    def non_billable_hours(self) -> Decimal:
        return self.total_hours - self.billable_hours

    def add(self, entry: TimeEntry) -> None:
        hours, currency = entry.fields.hours, entry.pricing.currency_code
        self.total_hours += hours
        self.entry_count += 1
        self.total_amounts[currency] = self.total_amounts.get(currency, ZERO) + \
            entry.pricing.amount
        if entry.fields.billable:
            self.billable_hours += hours
            self.billable_amounts[currency] = self.billable_amounts.get(currency, ZERO) + \
                entry.pricing.amount
            if entry.state is EntryState.APPROVED:
                self.approved_billable_hours += hours


def _dimension(entry: TimeEntry, name: str) -> str:
    return {"user": entry.fields.user_id, "project": entry.fields.project_id,
            "task": entry.fields.task_id, "customer": entry.pricing.customer_id}[name]


def summarize(entries: Iterable[TimeEntry], group_by: list[str], period: str
              ) -> tuple[list[SummaryRow], SummaryRow]:
    """Rows ordered by period start, then by the grouping ids; and the total."""
    rows: dict[tuple, SummaryRow] = {}
    total = SummaryRow()
    for entry in entries:
        bucket = period_of(entry.fields.date, period)
        ids = {name: _dimension(entry, name) for name in group_by}
        key = ((bucket[0].isoformat() if bucket else ""),
               *(ids[name] for name in DIMENSIONS if name in ids))
        row = rows.get(key)
        if row is None:
            row = rows[key] = SummaryRow(key=key, period=bucket,
                                         **{f"{name}_id": value for name, value in ids.items()})
        row.add(entry)
        total.add(entry)
    return [rows[key] for key in sorted(rows)], total


CSV_COLUMNS = ("time_entry_id", "date", "user_id", "project_id", "task_id", "customer_id",
               "hours", "billable", "rate", "amount", "currency_code", "rate_source", "state",
               "description")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading `'`
    (OWASP's advice against CSV injection)."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def to_csv(entries: Iterable[TimeEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for e in entries:
        f, p = e.fields, e.pricing
        writer.writerow([safe_cell(str(value)) for value in (
            e.id, f.date.isoformat(), f.user_id, f.project_id, f.task_id, p.customer_id,
            format(f.hours, "f"), "true" if f.billable else "false",
            format(p.resolved.rate, "f"), format(p.amount, "f"), p.currency_code,
            p.resolved.source.value, e.state.value, f.description)])
    return out.getvalue()
