"""The organization's time settings, its period lock, and people's default rates."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from pivotal_runtime.errors import FieldReason, FieldViolation, InvalidArgument
from pivotal_runtime.kit.caller import Caller
from pivotal_runtime.kit.checks import FieldChecks
from pivotal_runtime.kit.masks import UpdateMask
from pivotal_runtime.kit.money import Money
from pivotal_runtime.kit.resources import check_etag

from pivotal_time.application import events
from pivotal_time.application.common import Deps, offset_page
from pivotal_time.domain import reasons
from pivotal_time.domain.settings import (
    UPDATABLE,
    LockAction,
    PeriodLock,
    TimeSettings,
    UserRate,
    check_lock_move,
    unapproved_refusal,
    with_until,
)


class SettingsService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def get(self, caller: Caller) -> TimeSettings:
        with self._deps.uow(read_only=True) as uow:
            return uow.settings.get(caller.organization_id)

    def update(self, caller: Caller, currency_code: str, default_rate: Money | None,
               mask: UpdateMask, etag: str) -> TimeSettings:
        names = mask.fields(UPDATABLE)
        now = self._deps.clock()
        with self._deps.uow() as uow:
            settings = uow.settings.get(caller.organization_id)
            check_etag(etag, settings.etag, "timeSettings")
            currency = currency_code.strip() if "currency_code" in names else \
                settings.currency_code
            rate = settings.default_rate
            if "default_rate" in names:
                rate = default_rate.amount if default_rate is not None else None
                if default_rate is not None and default_rate.currency_code != currency:
                    raise InvalidArgument([FieldViolation(
                        "time_settings.default_rate.currency_code",
                        f"is the organization's currency {currency or '(unset)'}")],
                        reason=reasons.CURRENCY_MISMATCH)
            checks = FieldChecks()
            checks.currency("time_settings.currency_code", currency, required=False)
            checks.decimal("time_settings.default_rate", rate, places=4)
            checks.raise_if_any()
            changed = replace(settings, currency_code=currency, default_rate=rate)
            if changed != settings:
                changed.touch(now)
                uow.settings.save(changed)
                uow.commit()
            return changed

    def move_lock(self, caller: Caller, locked_until: date | None, reason: str, etag: str, *,
                  lock: bool, allow_unapproved: bool = False
                  ) -> tuple[TimeSettings, PeriodLock]:
        reason = reason.strip()
        if not lock and not reason:
            raise InvalidArgument([FieldViolation("reason", "is required",
                                                  FieldReason.REQUIRED)])
        now = self._deps.clock()
        with self._deps.uow() as uow:
            settings = uow.settings.get(caller.organization_id)
            check_etag(etag, settings.etag, "timeSettings")
            check_lock_move(settings, locked_until, lock=lock)
            if lock and not allow_unapproved:
                unapproved = uow.entries.unapproved_until(caller.organization_id, locked_until)
                if unapproved:
                    raise unapproved_refusal(unapproved)
            record = PeriodLock(self._deps.new_id(), caller.organization_id,
                                LockAction.LOCK if lock else LockAction.UNLOCK, locked_until,
                                settings.locked_until, reason, caller.subject, now)
            settings.locked_until = locked_until
            settings.touch(now)
            uow.settings.save(settings)
            uow.settings.add_lock(record)
            events.period_changed(uow, record, locked=lock)
            uow.commit()
        return settings, record

    def locks(self, caller: Caller, page_size: int, page_token: str):
        with self._deps.uow(read_only=True) as uow:
            found = uow.settings.locks(caller.organization_id)
        page, token = offset_page(found, page_size, page_token)
        return page, token, len(found)


class UserRatesService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def set(self, caller: Caller, user_id: str, rate: Money | None, effective_from: date | None
            ) -> UserRate:
        checks = FieldChecks()
        checks.text("user_id", user_id, 100, required=True)
        if rate is None:
            checks.add("rate", "is required", FieldReason.REQUIRED)
        else:
            checks.decimal("rate", rate.amount, places=4)
        if effective_from is None:
            checks.add("effective_from", "is required", FieldReason.REQUIRED)
        checks.raise_if_any()
        now = self._deps.clock()
        with self._deps.uow() as uow:
            versions = uow.user_rates.of_person(caller.organization_id, user_id.strip(),
                                                rate.currency_code)
            same_day = next((v for v in versions if v.effective_from == effective_from), None)
            if same_day is not None:
                same_day.rate = rate.amount
                same_day.touch(now)
                uow.user_rates.update(same_day)
                saved = same_day
            else:
                saved = UserRate(self._deps.new_id(), caller.organization_id, user_id.strip(),
                                 rate.currency_code, rate.amount, effective_from,
                                 caller.subject, now, now)
                uow.user_rates.add(saved)
                versions.append(saved)
            uow.commit()
        with_until(versions)
        return saved

    def list(self, caller: Caller, user_id: str, currency_code: str, effective_on: date | None,
             page_size: int, page_token: str):
        with self._deps.uow(read_only=True) as uow:
            rates = with_until(uow.user_rates.of_organization(caller.organization_id))
        found = [r for r in rates
                 if (not user_id or r.user_id == user_id)
                 and (not currency_code or r.currency_code == currency_code)
                 and (effective_on is None or (r.effective_from <= effective_on and (
                     r.effective_until is None or effective_on <= r.effective_until)))]
        page, token = offset_page(found, page_size, page_token, user_id, currency_code,
                                  effective_on)
        return page, token, len(found)


