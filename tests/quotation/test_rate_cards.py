"""Rate-card versioning and pricing a quote line from a card, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pivotal_quotation.domain.pricing import Unit
from pivotal_quotation.domain.quotes import RateCardPin
from pivotal_quotation.domain.rate_cards import RateCard, RateCardItem
from pivotal_runtime.errors import InvalidArgument
from pivotal_runtime.kit.money import Money

NOW = datetime(2026, 3, 2, tzinfo=UTC)
SENIOR = RateCardItem("item-senior", "Senior consultant", Unit.DAY, Money.of("1200", "EUR"))
HOSTING = RateCardItem("item-hosting", "Hosting", Unit.EACH, Money.of("49.90", "EUR"),
                       "Managed hosting, per month")


def card() -> RateCard:
    return RateCard.create(card_id="card-1", organization_id="org-1", display_name="Standard",
                           description="", currency_code="EUR", items=[SENIOR, HOSTING],
                           author_id="u1", now=NOW)


def test_an_unlocked_version_is_edited_in_place():
    rate_card = card()
    cheaper = RateCardItem("item-senior", "Senior consultant", Unit.DAY, Money.of(1100, "EUR"))
    assert rate_card.change_items([cheaper], "u2", NOW) is False
    assert rate_card.current.number == 1 and rate_card.current.items == (cheaper,)


def test_a_version_used_by_a_sent_quote_is_immutable_and_an_edit_makes_a_new_version():
    rate_card = card()
    rate_card.lock(1)
    dearer = RateCardItem("item-senior", "Senior consultant", Unit.DAY, Money.of(1300, "EUR"))
    assert rate_card.change_items([dearer, HOSTING], "u2", NOW) is True
    assert rate_card.current.number == 2 and not rate_card.current.locked
    assert rate_card.versions[1].items == (SENIOR, HOSTING) and rate_card.versions[1].locked
    # a line pinned to version 1 keeps its price; the current version prices new lines
    old = rate_card.price(version=1, item_id="item-senior", unit=None, currency_code="EUR",
                          at="quote.line_items[0].rate_card_item")
    new = rate_card.price(version=0, item_id="item-senior", unit=Unit.DAY,
                          currency_code="EUR", at="quote.line_items[0].rate_card_item")
    assert (old.pin, old.unit_price) == (
        RateCardPin("card-1", 1, "item-senior", "Senior consultant"), Money.of(1200, "EUR"))
    assert (new.pin.version, new.unit_price) == (2, Money.of(1300, "EUR"))


def test_a_line_takes_the_items_unit_and_description():
    priced = card().price(version=0, item_id="item-hosting", unit=None, currency_code="EUR",
                          at="quote.line_items[0].rate_card_item")
    assert (priced.unit, priced.description) == (Unit.EACH, "Managed hosting, per month")


def test_pricing_from_a_card_refuses_mismatches_field_by_field():
    rate_card = card()
    rate_card.archive(NOW)
    with pytest.raises(InvalidArgument) as caught:
        rate_card.price(version=0, item_id="item-senior", unit=Unit.HOUR, currency_code="USD",
                        at="quote.line_items[3].rate_card_item")
    assert {(v.field, v.reason) for v in caught.value.violations} == {
        ("quote.line_items[3].rate_card_item.rate_card_id", "RATE_CARD_ARCHIVED"),
        ("quote.line_items[3].rate_card_item.rate_card_id", "CURRENCY_MISMATCH"),
        ("quote.line_items[3].unit", "UNIT_MISMATCH"),
    }
    with pytest.raises(InvalidArgument) as caught:
        card().price(version=7, item_id="item-senior", unit=None, currency_code="EUR",
                     at="quote.line_items[0].rate_card_item")
    assert caught.value.violations[0].reason == "REFERENCE_NOT_FOUND"


def test_items_are_checked_together():
    with pytest.raises(InvalidArgument) as caught:
        RateCard.create(card_id="c", organization_id="o", display_name="x", description="",
                        currency_code="EUR", author_id="u", now=NOW, items=[
                            RateCardItem("", "Dev", Unit.HOUR, Money.of("-1", "EUR")),
                            RateCardItem("", "dev", None, Money.of("1.00001", "EUR")),
                            RateCardItem("", "Ops", Unit.HOUR, Money.of("1", "USD"))])
    assert {(v.field, v.reason) for v in caught.value.violations} == {
        ("rate_card.items[0].unit_price", "OUT_OF_RANGE"),
        ("rate_card.items[1].name", "DUPLICATE_NAME"),
        ("rate_card.items[1].unit", "REQUIRED"),
        ("rate_card.items[1].unit_price", "PRECISION_EXCEEDED"),
        ("rate_card.items[2].unit_price", "CURRENCY_MISMATCH"),
    }
