"""The organization's invoice settings: defaults until first changed."""

from __future__ import annotations

from dataclasses import replace

from pivotal_runtime.kit.caller import Caller
from pivotal_runtime.kit.masks import UpdateMask
from pivotal_runtime.kit.resources import check_etag

from pivotal_billing.application.common import Deps
from pivotal_billing.application.invoices import settings_of
from pivotal_billing.domain.invoice_settings import (
    UPDATABLE,
    InvoiceSettings,
    SettingsFields,
    check_settings,
)


class InvoiceSettingsService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def get(self, caller: Caller) -> InvoiceSettings:
        with self._deps.uow(read_only=True) as uow:
            return settings_of(uow, caller.organization_id)

    def update(self, caller: Caller, fields: SettingsFields, mask: UpdateMask, etag: str
               ) -> InvoiceSettings:
        names = mask.fields(UPDATABLE)
        with self._deps.uow() as uow:
            stored = uow.settings.get(caller.organization_id)
            settings = stored or InvoiceSettings(caller.organization_id)
            check_etag(etag, settings.etag, "invoiceSettings")
            merged = replace(settings.fields, **{name: getattr(fields, name) for name in names})
            check_settings(merged)
            if merged != settings.fields:
                settings.fields = merged
                settings.touch(self._deps.clock())
                uow.settings.save(settings, stored.version if stored else None)
                uow.commit()
        return settings
