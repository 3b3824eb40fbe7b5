"""Nested values ↔ JSON columns: entitlements, invoice lines, payments, transitions; dates
as ISO strings, amounts as decimal strings."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from pivotal_billing.domain.invoices import BilledEntry, InvoiceLine, LineKind, Payment, Tax
from pivotal_billing.domain.plans import Entitlement, EntitlementKind


def day_out(value: date | None) -> str | None:
    return value.isoformat() if value else None


def day_in(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def time_out(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def time_in(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def entitlements_out(items: tuple[Entitlement, ...]) -> list[dict]:
    return [{"key": e.key, "kind": e.kind.value, "limit": e.limit, "unlimited": e.unlimited,
             "enabled": e.enabled, "display_name": e.display_name} for e in items]


def entitlements_in(items: list[dict]) -> tuple[Entitlement, ...]:
    return tuple(Entitlement(i["key"], EntitlementKind(i["kind"]), i["limit"], i["unlimited"],
                             i["enabled"], i.get("display_name", "")) for i in items)


def transitions_out(items: list) -> list[dict]:
    return [{"from": t.from_state.value if t.from_state else None, "to": t.to_state.value,
             "time": t.time.isoformat(), "actor": t.actor_id, "reason": t.reason}
            for t in items]


def transitions_in(items: list[dict], transition: type, state: type[Enum]) -> list:
    return [transition(state(t["from"]) if t["from"] is not None else None, state(t["to"]),
                       datetime.fromisoformat(t["time"]), t["actor"], t["reason"])
            for t in items]


def _tax_out(tax: Tax) -> dict:
    return {"percent": str(tax.percent), "rate_id": tax.rate_id, "name": tax.name}


def lines_out(lines: list[InvoiceLine]) -> list[dict]:
    return [{"id": line.id, "kind": line.kind.value, "description": line.description,
             "unit_price": str(line.unit_price), "tax": _tax_out(line.tax),
             "entries": [{"id": e.entry_id, "date": e.work_date.isoformat(),
                          "hours": str(e.hours), "amount": str(e.amount)}
                         for e in line.entries],
             "milestone_id": line.milestone_id, "milestone_amount": str(line.milestone_amount),
             "milestone_date": day_out(line.milestone_date), "quote_id": line.quote_id,
             "quote_line_item_id": line.quote_line_item_id, "rate_source": line.rate_source,
             "project_role": line.project_role} for line in lines]


def lines_in(items: list[dict]) -> list[InvoiceLine]:
    return [InvoiceLine(
        i["id"], LineKind(i["kind"]), i["description"], Decimal(i["unit_price"]),
        Tax(Decimal(i["tax"]["percent"]), i["tax"]["rate_id"], i["tax"]["name"]),
        [BilledEntry(e["id"], date.fromisoformat(e["date"]), Decimal(e["hours"]),
                     Decimal(e["amount"])) for e in i["entries"]],
        i["milestone_id"], Decimal(i["milestone_amount"]), day_in(i["milestone_date"]),
        i["quote_id"], i["quote_line_item_id"], i["rate_source"], i["project_role"])
        for i in items]


def payments_out(items: list[Payment]) -> list[dict[str, Any]]:
    return [{"id": p.id, "date": p.paid_date.isoformat(), "amount": str(p.amount),
             "reference": p.reference, "actor": p.actor_id, "time": p.time.isoformat()}
            for p in items]


def payments_in(items: list[dict]) -> list[Payment]:
    return [Payment(p["id"], date.fromisoformat(p["date"]), Decimal(p["amount"]),
                    p["reference"], p["actor"], datetime.fromisoformat(p["time"]))
            for p in items]
