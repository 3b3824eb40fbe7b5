"""How quotes are listed: the filter and the orders a listing may ask for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pivotal_quotation.domain.quotes import Quote, QuoteState

ORDER_FIELDS = ("create_time", "valid_from", "quote_number", "net_total")
Order = list[tuple[str, bool]]  # (field, descending)


@dataclass(frozen=True)
class QuoteFilter:
    states: tuple[QuoteState, ...] = ()
    customer_id: str = ""
    valid_from_start: date | None = None
    valid_from_end: date | None = None
    create_time_start: datetime | None = None
    create_time_end: datetime | None = None
    query: str = ""
    author_id: str = ""
    quote_number: str = ""


def net_total_e4(quote: Quote) -> int:
    """The net total × 10⁴ as an integer: exact for every currency, ordered by amount."""
    return int(quote.pricing.totals.net_total.amount.scaleb(4))


def sort_key(quote: Quote, order: Order) -> tuple:
    """The keyset position of `quote` in a listing ordered by `order` (then by id)."""
    values = {"create_time": quote.create_time,
              "valid_from": quote.content.valid_from.isoformat(),
              "quote_number": quote.quote_number, "net_total": net_total_e4(quote)}
    return (*(values[name] for name, _ in order), quote.id)
