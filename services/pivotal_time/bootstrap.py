"""Builds time's application from the service deps, once per host. Nothing connects here."""

from __future__ import annotations

from dataclasses import dataclass

from pivotal_runtime.kit.domain import ServiceDeps

from pivotal_time.adapters.uow import TimeUnitOfWork
from pivotal_time.application.common import Deps
from pivotal_time.application.entries import EntriesService
from pivotal_time.application.settings import SettingsService, UserRatesService


@dataclass
class TimeApp:
    deps: Deps
    entries: EntriesService
    settings: SettingsService
    user_rates: UserRatesService


def build_time(service_deps: ServiceDeps, *, clock=None) -> TimeApp:
    database = service_deps.database
    deps = Deps(uow=lambda read_only=False: TimeUnitOfWork(database, read_only=read_only),
                clock=clock or service_deps.clock)
    return TimeApp(deps, EntriesService(deps), SettingsService(deps), UserRatesService(deps))
