"""The organization's tax rates; at most one is the default for lines that name none."""

from __future__ import annotations

from dataclasses import replace

from pivotal_runtime.errors import AlreadyExists
from pivotal_runtime.kit.caller import Caller
from pivotal_runtime.kit.masks import UpdateMask
from pivotal_runtime.kit.paging import page_request

from pivotal_quotation.application.common import Deps, found, request_key
from pivotal_quotation.domain import reasons
from pivotal_quotation.domain.fields import with_fields
from pivotal_quotation.domain.tax_rates import UPDATABLE, TaxRate, TaxRateFields, check_tax_rate


class TaxRatesService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def create(self, caller: Caller, fields: TaxRateFields, request_id: str = "") -> TaxRate:
        fields = replace(fields, display_name=fields.display_name.strip())
        check_tax_rate(fields)
        now = self._deps.clock()
        key = request_key("tax_rate", caller, request_id, fields)
        with self._deps.uow() as uow:
            earlier = uow.requests.reserve(key, now)
            if earlier:
                return uow.tax_rates.get(caller.organization_id, earlier)
            self._unique_name(uow, caller.organization_id, fields.display_name)
            rate = TaxRate(self._deps.new_id(), caller.organization_id, fields, now, now)
            if fields.organization_default:
                self._clear_default(uow, caller.organization_id, now)
            uow.tax_rates.add(rate)
            uow.requests.complete(key, rate.id)
            uow.commit()
        return rate

    def get(self, caller: Caller, tax_rate_id: str) -> TaxRate:
        with self._deps.uow(read_only=True) as uow:
            return found(uow.tax_rates.get(caller.organization_id, tax_rate_id), "tax_rate",
                         tax_rate_id)

    def list(self, caller: Caller, page_size: int, page_token: str
             ) -> tuple[list[TaxRate], str, int]:
        page = page_request(page_size, page_token)
        with self._deps.uow(read_only=True) as uow:
            rates, total = uow.tax_rates.list(caller.organization_id, after=page.after,
                                              limit=page.size + 1)
        rates, token = page.slice(rates, key=lambda r: (r.fields.display_name, r.id))
        return rates, token, total

    def update(self, caller: Caller, tax_rate_id: str, fields: TaxRateFields,
               mask: UpdateMask, etag: str) -> TaxRate:
        names = mask.fields(UPDATABLE)
        now = self._deps.clock()
        with self._deps.uow() as uow:
            rate = found(uow.tax_rates.get(caller.organization_id, tax_rate_id), "tax_rate",
                         tax_rate_id, etag)
            merged = with_fields(rate.fields, fields, names)
            merged = replace(merged, display_name=merged.display_name.strip())
            check_tax_rate(merged)
            if merged.display_name != rate.fields.display_name:
                self._unique_name(uow, caller.organization_id, merged.display_name)
            if merged.organization_default and not rate.fields.organization_default:
                self._clear_default(uow, caller.organization_id, now)
            if rate.change(merged, names, now):
                uow.tax_rates.update(rate)
                uow.commit()
        return rate

    def delete(self, caller: Caller, tax_rate_id: str, etag: str) -> None:
        """Quote lines keep the percentage and name they pinned."""
        with self._deps.uow() as uow:
            rate = found(uow.tax_rates.get(caller.organization_id, tax_rate_id), "tax_rate",
                         tax_rate_id, etag)
            uow.tax_rates.delete(rate)
            uow.commit()

    @staticmethod
    def _unique_name(uow, organization_id: str, display_name: str) -> None:
        if uow.tax_rates.named(organization_id, display_name) is not None:
            raise AlreadyExists(f"a tax rate named {display_name!r} exists",
                                reason=reasons.DUPLICATE_NAME)

    @staticmethod
    def _clear_default(uow, organization_id: str, now) -> None:
        previous = uow.tax_rates.default(organization_id)
        if previous is not None:
            previous.change(replace(previous.fields, organization_default=False),
                            ["organization_default"], now)
            uow.tax_rates.update(previous)
