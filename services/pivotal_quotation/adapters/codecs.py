"""Nested domain values ↔ the JSON columns that hold them. Decimals travel as strings, times as
ISO 8601, so nothing is lost to floats."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pivotal_runtime.kit.money import Money

from pivotal_quotation.domain.customers import Address
from pivotal_quotation.domain.pricing import AmountOff, AppliedTax, Discount, PercentOff, Unit
from pivotal_quotation.domain.quotes import (
    CustomerDecision,
    ProjectCreation,
    QuoteLine,
    QuoteState,
    RateCardPin,
    Transition,
)
from pivotal_quotation.domain.rate_cards import RateCardItem


def money_out(value: Money) -> dict:
    return {"amount": str(value.amount), "currency_code": value.currency_code}


def money_in(data: dict) -> Money:
    return Money(Decimal(data["amount"]), data["currency_code"])


def address_out(value: Address) -> dict:
    return {**value.__dict__, "address_lines": list(value.address_lines)}


def address_in(data: dict) -> Address:
    return Address(**{**data, "address_lines": tuple(data.get("address_lines", ()))})


def discount_out(value: Discount) -> dict | None:
    if isinstance(value, PercentOff):
        return {"percent": str(value.percent)}
    if isinstance(value, AmountOff):
        return {"amount": money_out(value.amount)}
    return None


def discount_in(data: dict | None) -> Discount:
    if not data:
        return None
    if "percent" in data:
        return PercentOff(Decimal(data["percent"]))
    return AmountOff(money_in(data["amount"]))


def line_out(line: QuoteLine) -> dict:
    pin = line.rate_card
    return {
        "id": line.line_item_id, "description": line.description,
        "quantity": str(line.quantity), "unit": line.unit.value,
        "unit_price": money_out(line.unit_price), "discount": discount_out(line.discount),
        "tax": {"percent": str(line.tax.percent), "id": line.tax.tax_rate_id,
                "name": line.tax.display_name},
        "rate_card": None if pin is None else {
            "id": pin.rate_card_id, "version": pin.version, "item_id": pin.rate_card_item_id,
            "item_name": pin.item_name},
    }


def line_in(data: dict) -> QuoteLine:
    pin = data.get("rate_card")
    tax = data["tax"]
    return QuoteLine(
        line_item_id=data["id"], description=data["description"],
        quantity=Decimal(data["quantity"]), unit=Unit(data["unit"]),
        unit_price=money_in(data["unit_price"]), discount=discount_in(data.get("discount")),
        tax=AppliedTax(Decimal(tax["percent"]), tax["id"], tax["name"]),
        rate_card=None if not pin else RateCardPin(pin["id"], pin["version"], pin["item_id"],
                                                   pin["item_name"]))


def _time_out(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _time_in(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def transition_out(t: Transition) -> dict:
    return {"from": t.from_state.value if t.from_state else None, "to": t.to_state.value,
            "actor": t.actor_id, "reason": t.reason, "time": _time_out(t.time)}


def transition_in(data: dict) -> Transition:
    return Transition(QuoteState(data["from"]) if data["from"] else None, QuoteState(data["to"]),
                      data["actor"], data["reason"], _time_in(data["time"]))


def decision_out(d: CustomerDecision | None) -> dict | None:
    return None if d is None else {**d.__dict__, "decide_time": _time_out(d.decide_time)}


def decision_in(data: dict | None) -> CustomerDecision | None:
    return None if not data else CustomerDecision(**{**data,
                                                     "decide_time": _time_in(data["decide_time"])})


def project_creation_out(p: ProjectCreation | None) -> dict | None:
    return None if p is None else {**p.__dict__, "time": _time_out(p.time)}


def project_creation_in(data: dict | None) -> ProjectCreation | None:
    return None if not data else ProjectCreation(**{**data, "time": _time_in(data["time"])})


def item_out(item: RateCardItem) -> dict:
    return {"id": item.item_id, "name": item.name, "unit": item.unit.value if item.unit else None,
            "unit_price": money_out(item.unit_price), "description": item.description}


def item_in(data: dict) -> RateCardItem:
    return RateCardItem(data["id"], data["name"], Unit(data["unit"]) if data["unit"] else None,
                        money_in(data["unit_price"]), data["description"])


def as_list(values: Any) -> list:
    return list(values or [])
