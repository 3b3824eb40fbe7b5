"""Time's repositories: entries (scoped to the organization, optimistic updates), the replica
of project's resources (newer versions only), settings, lock records and people's rates."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from pivotal_runtime.errors import Aborted
from pivotal_runtime.kit.document_repository import DocumentRepository
from pivotal_runtime.kit.documents import from_document, to_document
from pivotal_runtime.kit.locks import hold_key
from sqlalchemy.orm import Session

from pivotal_time.adapters import tables as t
from pivotal_time.domain.entries import TimeEntry
from pivotal_time.domain.replica import (
    MemberCopy,
    OrganizationCopy,
    ProjectCopy,
    TaskCopy,
    newer,
)
from pivotal_time.domain.settings import PeriodLock, TimeSettings, UserRate


class TimeEntryRepository(DocumentRepository[TimeEntry]):
    table = t.time_entries
    resource_type = "time entry"

    def columns(self, entry: TimeEntry) -> dict[str, Any]:
        f = entry.fields
        return {"user_id": f.user_id, "project_id": f.project_id, "task_id": f.task_id,
                "customer_id": entry.pricing.customer_id, "date": f.date.isoformat(),
                "state": entry.state.value, "billable": f.billable,
                "document": to_document(entry)}

    def load(self, row) -> TimeEntry:
        return from_document(TimeEntry, {**row.document, "version": row.version})

    def get(self, organization_id: str, entry_id: str) -> TimeEntry | None:
        return self.get_in(organization_id, entry_id)

    def of_person(self, organization_id: str, user_id: str, first: date, last: date, *,
                  for_change: bool = False) -> list[TimeEntry]:
        """The person's entries from `first` to `last`; `for_change` serializes the person's
        entry changes until the commit (the 24-hour and overlap checks then hold under
        concurrent creates)."""
        if for_change:
            hold_key(self._s, "time_entries", organization_id, user_id)
        c = self.table.c
        return self.select(c.organization_id == organization_id, c.user_id == user_id,
                           c.date >= first.isoformat(), c.date <= last.isoformat(),
                           order=[c.date, c.create_time, c.id])

    def matching(self, organization_id: str, *, user_id: str = "", project_id: str = "",
                 task_id: str = "", customer_id: str = "", states: list[str] = (),
                 first: date | None = None, last: date | None = None,
                 billable: bool | None = None, limit: int | None = None) -> list[TimeEntry]:
        c = self.table.c
        conditions = [c.organization_id == organization_id]
        for column, value in ((c.user_id, user_id), (c.project_id, project_id),
                              (c.task_id, task_id), (c.customer_id, customer_id)):
            if value:
                conditions.append(column == value)
        if states:
            conditions.append(c.state.in_(list(states)))
        if first is not None:
            conditions.append(c.date >= first.isoformat())
        if last is not None:
            conditions.append(c.date <= last.isoformat())
        if billable is not None:
            conditions.append(c.billable == billable)
        return self.select(*conditions, order=[c.date, c.create_time, c.id], limit=limit)

    def unapproved_until(self, organization_id: str, last: date) -> list[str]:
        c = self.table.c
        return list(self._s.execute(sa.select(c.id).where(
            c.organization_id == organization_id, c.date <= last.isoformat(),
            c.state != "APPROVED").order_by(c.date, c.id).limit(20)).scalars())


class _Copies:
    """One kind of replicated resource: stored as a document, replaced only by a newer
    version."""

    def __init__(self, session: Session, table: sa.Table, kind: type, key: tuple[str, ...]):
        self._s, self._table, self._kind, self._key = session, table, kind, key

    def _where(self, **key: str) -> list:
        return [self._table.c[name] == key[name] for name in self._key]

    def get(self, organization_id: str, **key: str):
        row = self._s.execute(sa.select(self._table.c.document).where(
            self._table.c.organization_id == organization_id, *self._where(**key))).first()
        return from_document(self._kind, row.document) if row is not None else None

    def apply(self, copy, **key: str) -> bool:
        """Stores `copy` if it is newer than the stored one; False when it is not."""
        current = self.get(copy.organization_id, **key)
        if not newer(current, copy):
            return False
        values = {"organization_id": copy.organization_id, "version": copy.version,
                  "document": to_document(copy)}
        if current is None:
            self._s.execute(self._table.insert().values(**values, **key))
        else:
            self._s.execute(sa.update(self._table).where(*self._where(**key)).values(**values))
        return True


class ReplicaRepository:
    def __init__(self, session: Session) -> None:
        self.projects = _Copies(session, t.project_copies, ProjectCopy, ("id",))
        self.members = _Copies(session, t.member_copies, MemberCopy, ("project_id", "user_id"))
        self.tasks = _Copies(session, t.task_copies, TaskCopy, ("id",))
        self.organizations = _Copies(session, t.organization_copies, OrganizationCopy, ("id",))

    def time_zone(self, organization_id: str) -> str:
        found = self.organizations.get(organization_id, id=organization_id)
        return found.time_zone if found is not None else ""

    def project(self, organization_id: str, project_id: str) -> ProjectCopy | None:
        return self.projects.get(organization_id, id=project_id)

    def member(self, organization_id: str, project_id: str, user_id: str) -> MemberCopy | None:
        found = self.members.get(organization_id, project_id=project_id, user_id=user_id)
        return None if found is None or found.removed else found

    def task(self, organization_id: str, task_id: str) -> TaskCopy | None:
        found = self.tasks.get(organization_id, id=task_id)
        return None if found is None or found.deleted else found


class SettingsRepository:
    def __init__(self, session: Session) -> None:
        self._s = session
        self._seen: dict[str, int] = {}

    def get(self, organization_id: str) -> TimeSettings:
        """The organization's settings; the defaults (version 0) before the first change."""
        row = self._s.execute(sa.select(t.time_settings).where(
            t.time_settings.c.organization_id == organization_id)).first()
        if row is None:
            settings = TimeSettings(organization_id, version=0)
        else:
            settings = from_document(TimeSettings, {**row.document, "version": row.version})
        self._seen[organization_id] = settings.version
        return settings

    def save(self, settings: TimeSettings) -> None:
        seen = self._seen.get(settings.organization_id, 0)
        values = {"document": to_document(settings), "version": settings.version}
        if seen == 0:
            self._s.execute(t.time_settings.insert().values(
                organization_id=settings.organization_id, **values))
        elif self._s.execute(sa.update(t.time_settings).where(
                t.time_settings.c.organization_id == settings.organization_id,
                t.time_settings.c.version == seen).values(**values)).rowcount != 1:
            raise Aborted("the time settings were changed concurrently; read them again")
        self._seen[settings.organization_id] = settings.version

    def add_lock(self, lock: PeriodLock) -> None:
        self._s.execute(t.period_locks.insert().values(
            id=lock.id, organization_id=lock.organization_id, create_time=lock.create_time,
            document=to_document(lock)))

    def locks(self, organization_id: str) -> list[PeriodLock]:
        c = t.period_locks.c
        rows = self._s.execute(sa.select(c.document).where(c.organization_id == organization_id)
                               .order_by(c.create_time.desc(), c.id.desc()))
        return [from_document(PeriodLock, row.document) for row in rows]


class UserRateRepository(DocumentRepository[UserRate]):
    table = t.user_rates
    resource_type = "user rate"

    def columns(self, rate: UserRate) -> dict[str, Any]:
        return {"effective_from": rate.effective_from.isoformat(),
                "document": to_document(rate)}

    def load(self, row) -> UserRate:
        return from_document(UserRate, {**row.document, "version": row.version})

    def of_person(self, organization_id: str, user_id: str, currency_code: str = ""
                  ) -> list[UserRate]:
        c = self.table.c
        conditions = [c.organization_id == organization_id, c.user_id == user_id]
        if currency_code:
            conditions.append(c.currency_code == currency_code)
        return self.select(*conditions, order=[c.currency_code, c.effective_from])

    def of_organization(self, organization_id: str) -> list[UserRate]:
        c = self.table.c
        return self.select(c.organization_id == organization_id,
                           order=[c.user_id, c.currency_code, c.effective_from])
