"""Time's unit of work: the runtime's plus time's repositories bound to its session."""

from __future__ import annotations

from pivotal_runtime.uow import UnitOfWork
from sqlalchemy.orm import Session

from pivotal_time.adapters import repositories as r


class TimeUnitOfWork(UnitOfWork):
    def bind(self, session: Session) -> None:
        super().bind(session)
        self.entries = r.TimeEntryRepository(session)
        self.replica = r.ReplicaRepository(session)
        self.settings = r.SettingsRepository(session)
        self.user_rates = r.UserRateRepository(session)
