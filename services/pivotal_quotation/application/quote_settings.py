"""The organization's quotation settings: defaults until first changed."""

from __future__ import annotations

from pivotal_runtime.kit.caller import Caller
from pivotal_runtime.kit.masks import UpdateMask
from pivotal_runtime.kit.resources import check_etag

from pivotal_quotation.application.common import Deps
from pivotal_quotation.domain.fields import with_fields
from pivotal_quotation.domain.quote_settings import (
    UPDATABLE,
    QuoteSettings,
    SettingsFields,
    check_settings,
)


def settings_of(uow, organization_id: str) -> QuoteSettings:
    return uow.settings.get(organization_id) or QuoteSettings(organization_id)


class QuoteSettingsService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def get(self, caller: Caller) -> QuoteSettings:
        with self._deps.uow(read_only=True) as uow:
            return settings_of(uow, caller.organization_id)

    def update(self, caller: Caller, fields: SettingsFields, mask: UpdateMask, etag: str
               ) -> QuoteSettings:
        names = mask.fields(UPDATABLE)
        with self._deps.uow() as uow:
            stored = uow.settings.get(caller.organization_id)
            settings = stored or QuoteSettings(caller.organization_id)
            check_etag(etag, settings.etag, "quoteSettings")
            merged = with_fields(settings.fields, fields, names)
            check_settings(merged)
            seen = stored.version if stored else None
            if settings.change(merged, names, self._deps.clock()):
                uow.settings.save(settings, seen)
                uow.commit()
        return settings
