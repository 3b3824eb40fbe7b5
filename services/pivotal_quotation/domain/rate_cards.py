"""Rate cards and their versions, and how a quote line is priced from one.

A version becomes immutable once a sent quote uses it (`lock`). Changing the items of a card
whose current version is unlocked edits that version in place; changing them while it is
locked makes version + 1, and the locked one stays as it was. Name and description belong to
the card, never to a version. A quote line pins the version and price it used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from pivotal_runtime.errors import FieldViolation, InvalidArgument, InvalidState
from pivotal_runtime.kit.money import Money
from pivotal_runtime.kit.resources import etag_of

from pivotal_quotation.domain import reasons
from pivotal_quotation.domain.currencies import is_known_currency
from pivotal_quotation.domain.pricing import INPUT_PLACES, Unit, decimal_places
from pivotal_quotation.domain.quotes import RateCardPin

MAX_ITEMS = 500
MAX_NAME = 200
MAX_DESCRIPTION = 1000


class RateCardState(str, Enum):
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"


@dataclass(frozen=True)
class RateCardItem:
    item_id: str
    name: str
    unit: Unit | None
    unit_price: Money
    description: str = ""


@dataclass(frozen=True)
class RateCardVersion:
    number: int
    items: tuple[RateCardItem, ...]
    author_id: str
    create_time: datetime
    locked: bool = False

    def item(self, item_id: str) -> RateCardItem | None:
        return next((item for item in self.items if item.item_id == item_id), None)


@dataclass(frozen=True)
class PricedFromCard:
    """What a quote line takes from a rate-card item."""

    pin: RateCardPin
    unit: Unit
    unit_price: Money
    description: str


@dataclass
class RateCard:
    id: str
    organization_id: str
    display_name: str
    description: str
    currency_code: str
    versions: dict[int, RateCardVersion]
    create_time: datetime
    update_time: datetime
    state: RateCardState = RateCardState.ACTIVE
    version: int = 1  # the aggregate's version (etag), not a card version
    # Card versions changed since load, for the repository.
    changed_versions: set[int] = field(default_factory=set, compare=False, repr=False)

    @classmethod
    def create(cls, *, card_id: str, organization_id: str, display_name: str, description: str,
               currency_code: str, items: Sequence[RateCardItem], author_id: str,
               now: datetime) -> RateCard:
        check_items(items, currency_code, at="rate_card.items")
        card = cls(card_id, organization_id, display_name, description, currency_code,
                   {1: RateCardVersion(1, tuple(items), author_id, now)}, now, now)
        card.changed_versions.add(1)
        return card

    @property
    def resource(self) -> str:
        return f"rateCards/{self.id}"

    @property
    def etag(self) -> str:
        return etag_of(self.version)

    @property
    def current(self) -> RateCardVersion:
        return self.versions[max(self.versions)]

    @property
    def active(self) -> bool:
        return self.state is RateCardState.ACTIVE

    def change_items(self, items: Sequence[RateCardItem], author_id: str, now: datetime) -> bool:
        """Replaces the items; returns True when that made a new version."""
        check_items(items, self.currency_code, at="rate_card.items")
        known = {item.item_id for version in self.versions.values() for item in version.items}
        unknown = [i for i, item in enumerate(items) if item.item_id and item.item_id not in known]
        if unknown:
            raise InvalidArgument([FieldViolation(f"rate_card.items[{i}].rate_card_item_id",
                                                  "no item of this card has this id",
                                                  reasons.REFERENCE_NOT_FOUND) for i in unknown])
        current = self.current
        new_version = current.locked
        number = current.number + 1 if new_version else current.number
        self.versions[number] = RateCardVersion(number, tuple(items), author_id, now)
        self.changed_versions.add(number)
        self._touch(now)
        return new_version

    def lock(self, number: int) -> None:
        """A sent quote uses this version: it never changes again."""
        version = self.versions[number]
        if not version.locked:
            self.versions[number] = RateCardVersion(version.number, version.items,
                                                    version.author_id, version.create_time,
                                                    locked=True)
            self.changed_versions.add(number)
            self._touch(self.update_time)

    def rename(self, display_name: str, description: str, now: datetime) -> None:
        self.display_name = display_name
        self.description = description
        self._touch(now)

    def archive(self, now: datetime) -> None:
        if not self.active:
            raise InvalidState(self.resource, "RATE_CARD_STATE_ARCHIVED", "archive")
        self.state = RateCardState.ARCHIVED
        self._touch(now)

    def unarchive(self, now: datetime) -> None:
        if self.active:
            raise InvalidState(self.resource, "RATE_CARD_STATE_ACTIVE", "unarchive")
        self.state = RateCardState.ACTIVE
        self._touch(now)

    def price(self, *, version: int, item_id: str, unit: Unit | None, currency_code: str,
              at: str) -> PricedFromCard:
        """Prices a quote line from item `item_id` of `version` (0: the current one), or
        raises InvalidArgument with the field violations under `at` (the line's
        `rate_card_item`)."""
        problems: list[FieldViolation] = []
        if not self.active:
            problems.append(FieldViolation(f"{at}.rate_card_id", "the rate card is archived",
                                           reasons.RATE_CARD_ARCHIVED))
        if self.currency_code != currency_code:
            problems.append(FieldViolation(
                f"{at}.rate_card_id", f"the rate card is in {self.currency_code}, the quote in "
                f"{currency_code}", reasons.CURRENCY_MISMATCH))
        chosen = self.versions.get(version) if version else self.current
        item = chosen.item(item_id) if chosen else None
        if chosen is None:
            problems.append(FieldViolation(f"{at}.version", f"the card has no version {version}",
                                           reasons.REFERENCE_NOT_FOUND))
        elif item is None:
            problems.append(FieldViolation(f"{at}.rate_card_item_id",
                                           "the card version has no such item",
                                           reasons.REFERENCE_NOT_FOUND))
        elif unit is not None and unit is not item.unit:
            problems.append(FieldViolation(
                at.rsplit(".", 1)[0] + ".unit", f"the item is priced per {item.unit.value}",
                reasons.UNIT_MISMATCH))
        if problems:
            raise InvalidArgument(problems)
        assert chosen is not None and item is not None and item.unit is not None
        return PricedFromCard(RateCardPin(self.id, chosen.number, item.item_id, item.name),
                              item.unit, item.unit_price, item.description or item.name)

    def _touch(self, now: datetime) -> None:
        self.update_time = now
        self.version += 1


def check_items(items: Sequence[RateCardItem], currency_code: str, *, at: str) -> None:
    problems: list[FieldViolation] = []

    def add(path: str, description: str, reason: str) -> None:
        problems.append(FieldViolation(f"{at}{path}", description, reason))

    if not is_known_currency(currency_code):
        raise InvalidArgument([FieldViolation(
            at.rsplit(".", 1)[0] + ".currency_code",
            f"{currency_code!r} is not a known ISO 4217 currency", reasons.CURRENCY_UNKNOWN)])
    if not items:
        add("", "a rate card needs at least one item", reasons.REQUIRED)
    elif len(items) > MAX_ITEMS:
        add("", f"a rate card has at most {MAX_ITEMS} items", reasons.OUT_OF_RANGE)
    seen: set[str] = set()
    for index, item in enumerate(items):
        path = f"[{index}]"
        name = item.name.strip()
        if not name:
            add(f"{path}.name", "an item needs a name", reasons.REQUIRED)
        elif len(name) > MAX_NAME:
            add(f"{path}.name", f"a name has at most {MAX_NAME} characters", reasons.TOO_LONG)
        elif name.casefold() in seen:
            add(f"{path}.name", f"the name {name!r} is used twice", reasons.DUPLICATE_NAME)
        seen.add(name.casefold())
        if len(item.description) > MAX_DESCRIPTION:
            add(f"{path}.description", f"a description has at most {MAX_DESCRIPTION} "
                "characters", reasons.TOO_LONG)
        if item.unit is None:
            add(f"{path}.unit", "an item needs a unit", reasons.REQUIRED)
        price = item.unit_price
        if price.currency_code != currency_code:
            add(f"{path}.unit_price", f"the price is in {price.currency_code}, the card in "
                f"{currency_code}", reasons.CURRENCY_MISMATCH)
        elif price.amount < 0:
            add(f"{path}.unit_price", "a price is not negative", reasons.OUT_OF_RANGE)
        elif decimal_places(price.amount) > INPUT_PLACES:
            add(f"{path}.unit_price", "a unit price has at most 4 fraction digits",
                reasons.PRECISION_EXCEEDED)
    if problems:
        raise InvalidArgument(problems)


def new_item_ids(items: Sequence[RateCardItem], new_id: Callable[[], str]
                 ) -> tuple[RateCardItem, ...]:
    """Gives new items (empty id) a fresh id; existing items keep theirs across versions."""
    return tuple(item if item.item_id else RateCardItem(new_id(), item.name, item.unit,
                                                        item.unit_price, item.description)
                 for item in items)
