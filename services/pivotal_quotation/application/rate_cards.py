"""Rate cards and their versions (see `pivotal_quotation.domain.rate_cards` for the rules)."""

from __future__ import annotations

from dataclasses import dataclass

from pivotal_runtime.errors import AlreadyExists, NotFound
from pivotal_runtime.kit.caller import Caller
from pivotal_runtime.kit.masks import UpdateMask
from pivotal_runtime.kit.paging import after_in_memory, page_request

from pivotal_quotation.application.common import Deps, found, request_key
from pivotal_quotation.application.events import rate_card_published
from pivotal_quotation.domain import reasons
from pivotal_quotation.domain.checks import Checks
from pivotal_quotation.domain.rate_cards import (
    RateCard,
    RateCardItem,
    RateCardVersion,
    new_item_ids,
)

UPDATABLE = ("display_name", "description", "items")


@dataclass(frozen=True)
class RateCardInput:
    display_name: str = ""
    description: str = ""
    currency_code: str = ""
    items: tuple[RateCardItem, ...] = ()


def _check_card(data: RateCardInput) -> None:
    checks = Checks()
    checks.text("rate_card.display_name", data.display_name.strip(), 200, required=True)
    checks.text("rate_card.description", data.description, 2000)
    checks.currency("rate_card.currency_code", data.currency_code)
    checks.raise_if_any()


class RateCardsService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def create(self, caller: Caller, data: RateCardInput, request_id: str = "") -> RateCard:
        _check_card(data)
        now = self._deps.clock()
        key = request_key("rate_card", caller, request_id, data)
        with self._deps.uow() as uow:
            earlier = uow.requests.reserve(key, now)
            if earlier:
                return uow.rate_cards.get(caller.organization_id, earlier)
            self._unique_name(uow, caller.organization_id, data.display_name.strip())
            card = RateCard.create(
                card_id=self._deps.new_id(), organization_id=caller.organization_id,
                display_name=data.display_name.strip(), description=data.description,
                currency_code=data.currency_code,
                items=new_item_ids(data.items, self._deps.new_id), author_id=caller.subject,
                now=now)
            uow.rate_cards.add(card)
            rate_card_published(uow, card, new_version=True)
            uow.requests.complete(key, card.id)
            uow.commit()
        return card

    def get(self, caller: Caller, rate_card_id: str) -> RateCard:
        with self._deps.uow(read_only=True) as uow:
            return found(uow.rate_cards.get(caller.organization_id, rate_card_id), "rate_card",
                         rate_card_id)

    def get_version(self, caller: Caller, rate_card_id: str, number: int
                    ) -> tuple[RateCard, RateCardVersion]:
        card = self.get(caller, rate_card_id)
        if number not in card.versions:
            raise NotFound("rate_card_version", f"rateCards/{rate_card_id}/versions/{number}")
        return card, card.versions[number]

    def list(self, caller: Caller, page_size: int, page_token: str, query: str,
             currency_code: str, include_archived: bool) -> tuple[list[RateCard], str, int]:
        query = query.strip()
        page = page_request(page_size, page_token, query, currency_code, include_archived)
        with self._deps.uow(read_only=True) as uow:
            cards, total = uow.rate_cards.list(
                caller.organization_id, query=query, currency_code=currency_code,
                include_archived=include_archived, after=page.after, limit=page.size + 1)
        cards, token = page.slice(cards, key=lambda c: (c.display_name, c.id))
        return cards, token, total

    def list_versions(self, caller: Caller, rate_card_id: str, page_size: int,
                      page_token: str) -> tuple[RateCard, list[RateCardVersion], str, int]:
        page = page_request(page_size, page_token, rate_card_id)
        card = self.get(caller, rate_card_id)
        newest_first = sorted(card.versions.values(), key=lambda v: -v.number)
        versions, token = page.slice(after_in_memory(newest_first, page,
                                                     key=lambda v: (-v.number,)),
                                     key=lambda v: (-v.number,))
        return card, versions, token, len(newest_first)

    def update(self, caller: Caller, rate_card_id: str, data: RateCardInput, mask: UpdateMask,
               etag: str) -> RateCard:
        names = mask.fields(UPDATABLE)
        now = self._deps.clock()
        with self._deps.uow() as uow:
            card = found(uow.rate_cards.get(caller.organization_id, rate_card_id),
                         "rate_card", rate_card_id, etag)
            display_name = data.display_name.strip() if "display_name" in names \
                else card.display_name
            description = data.description if "description" in names else card.description
            _check_card(RateCardInput(display_name, description, card.currency_code))
            if display_name.lower() != card.display_name.lower():
                self._unique_name(uow, caller.organization_id, display_name)
            if (display_name, description) != (card.display_name, card.description):
                card.rename(display_name, description, now)
            new_version = None
            if "items" in names:
                new_version = card.change_items(new_item_ids(data.items, self._deps.new_id),
                                                caller.subject, now)
            uow.rate_cards.update(card)
            if new_version is not None:
                rate_card_published(uow, card, new_version)
            uow.commit()
        return card

    def archive(self, caller: Caller, rate_card_id: str, etag: str) -> RateCard:
        return self._lifecycle(caller, rate_card_id, etag, archive=True)

    def unarchive(self, caller: Caller, rate_card_id: str, etag: str) -> RateCard:
        return self._lifecycle(caller, rate_card_id, etag, archive=False)

    def _lifecycle(self, caller: Caller, rate_card_id: str, etag: str, *, archive: bool
                   ) -> RateCard:
        now = self._deps.clock()
        with self._deps.uow() as uow:
            card = found(uow.rate_cards.get(caller.organization_id, rate_card_id),
                         "rate_card", rate_card_id, etag)
            if archive:
                card.archive(now)
            else:
                self._unique_name(uow, caller.organization_id, card.display_name)
                card.unarchive(now)
            uow.rate_cards.update(card)
            uow.commit()
        return card

    @staticmethod
    def _unique_name(uow, organization_id: str, display_name: str) -> None:
        if uow.rate_cards.name_taken(organization_id, display_name):
            raise AlreadyExists(f"an active rate card named {display_name!r} exists",
                                reason=reasons.DUPLICATE_NAME)
