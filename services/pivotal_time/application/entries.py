"""Time entries: create (validated against time's replica of projects, priced once), read,
update, delete, the approval workflow one by one and a week at a time, summaries, export."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from pivotal_runtime.errors import (
    DomainError,
    FailedPrecondition,
    FieldReason,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PreconditionViolation,
)
from pivotal_runtime.kit.caller import Caller
from pivotal_runtime.kit.idempotency import RequestKey, fingerprint
from pivotal_runtime.kit.listing import parse_order
from pivotal_runtime.kit.masks import UpdateMask
from pivotal_runtime.kit.resources import check_etag
from pivotal_runtime.kit.updates import with_fields

from pivotal_time.application import events
from pivotal_time.application.common import Deps, offset_page, person_of, readable_user
from pivotal_time.domain import reasons
from pivotal_time.domain.entries import (
    REPRICING,
    UPDATABLE,
    EntryFields,
    EntryState,
    Pricing,
    TimeEntry,
    check_day,
    check_local_day,
    check_overlap,
    check_unlocked,
    settle_fields,
)
from pivotal_time.domain.rates import amount_of, resolve_rate
from pivotal_time.domain.settings import rate_on
from pivotal_time.domain.summaries import summarize, to_csv

MAX_BULK = 200
MAX_EXPORT = 100_000
MAX_RANGE_DAYS = 366


def _precondition(reason: str, subject: str, description: str) -> FailedPrecondition:
    return FailedPrecondition(description, [PreconditionViolation(reason, subject, description)],
                              reason=reason)


def _range(first: date | None, last: date | None) -> tuple[date, date]:
    problems = []
    if first is None:
        problems.append(FieldViolation("start_date", "is required", FieldReason.REQUIRED))
    if last is None:
        problems.append(FieldViolation("end_date", "is required", FieldReason.REQUIRED))
    elif first is not None and (last < first or (last - first).days > MAX_RANGE_DAYS):
        problems.append(FieldViolation("end_date", "is on or after start_date and at most "
                                       f"{MAX_RANGE_DAYS} days after it",
                                       FieldReason.OUT_OF_RANGE))
    if problems:
        raise InvalidArgument(problems)
    return first, last


def _week(monday: date | None) -> tuple[date, date]:
    if monday is None or monday.weekday() != 0:
        raise InvalidArgument([FieldViolation("week_start_date", "is a Monday",
                                              FieldReason.REQUIRED if monday is None
                                              else FieldReason.OUT_OF_RANGE)])
    return monday, monday + timedelta(days=6)


class EntriesService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    # --- pricing and the person's day --------------------------------------------------------
    def _priced(self, uow, organization_id: str, fields: EntryFields) -> tuple[EntryFields,
                                                                             Pricing]:
        """Validates the entry against the replica (project active, person a member, task of
        the project) and prices it at the rate that applies on its date."""
        project = uow.replica.project(organization_id, fields.project_id)
        if project is None:
            raise _precondition(reasons.PROJECT_NOT_FOUND, "project_id",
                                f"project {fields.project_id} is not known to the time service")
        if not project.active:
            raise _precondition(reasons.PROJECT_NOT_ACTIVE, f"projects/{project.id}",
                                f"project {project.name!r} is PROJECT_STATE_{project.state}, "
                                "not active")
        member = uow.replica.member(organization_id, project.id, fields.user_id)
        if member is None:
            raise _precondition(reasons.NOT_PROJECT_MEMBER, "user_id",
                                f"{fields.user_id} is not a member of project {project.name!r}")
        task = None
        if fields.task_id:
            task = uow.replica.task(organization_id, fields.task_id)
            if task is None or task.project_id != project.id:
                raise _precondition(reasons.TASK_NOT_FOUND, "task_id",
                                    f"task {fields.task_id} is not a task of the project")
        if project.billing_model != "TIME_AND_MATERIALS":
            fields = replace(fields, billable=False)
        settings = uow.settings.get(organization_id)
        resolved = resolve_rate(
            project, member, task,
            rate_on(uow.user_rates.of_person(organization_id, fields.user_id,
                                             project.currency_code), fields.date),
            settings.default_in(project.currency_code), fields.billable)
        return fields, Pricing(project.currency_code, resolved,
                               amount_of(fields.hours, resolved.rate, project.currency_code),
                               project.customer_id, project.source_quote_id,
                               member.project_role)

    def _check_day(self, uow, organization_id: str, fields: EntryFields, entry_id: str) -> None:
        around = uow.entries.of_person(organization_id, fields.user_id,
                                       fields.date - timedelta(days=1),
                                       fields.date + timedelta(days=1), for_change=True)
        others = [e for e in around if e.id != entry_id]
        booked = sum((e.fields.hours for e in others if e.fields.date == fields.date),
                     start=type(fields.hours)(0))
        check_local_day(fields, uow.replica.time_zone(organization_id))
        check_day(fields.hours, booked, fields.date)
        check_overlap(fields, others)

    def _locked_until(self, uow, organization_id: str):
        return uow.settings.get(organization_id).locked_until

    # --- create, read, update, delete --------------------------------------------------------
    def create(self, caller: Caller, fields: EntryFields, request_id: str = "") -> TimeEntry:
        fields = settle_fields(replace(fields, user_id=person_of(caller, fields.user_id)))
        now = self._deps.clock()
        key = RequestKey(f"time_entry:{caller.organization_id}", request_id,
                         fingerprint(fields))
        with self._deps.uow() as uow:
            earlier = uow.requests.reserve(key, now)
            if earlier:
                return uow.entries.get(caller.organization_id, earlier)
            locked_until = self._locked_until(uow, caller.organization_id)
            check_unlocked(fields.date, locked_until, "time_entry.date")
            fields, pricing = self._priced(uow, caller.organization_id, fields)
            self._check_day(uow, caller.organization_id, fields, "")
            entry = TimeEntry(self._deps.new_id(), caller.organization_id, fields, pricing,
                              caller.subject, now, now)
            uow.entries.add(entry)
            events.created(uow, entry, locked_until)
            uow.requests.complete(key, entry.id)
            uow.commit()
        return entry

    def _load(self, uow, caller: Caller, entry_id: str, etag: str = "", *, own: bool = False
              ) -> TimeEntry:
        entry = uow.entries.get(caller.organization_id, entry_id) if entry_id else None
        if entry is not None and own:
            try:
                person_of(caller, entry.fields.user_id)
            except DomainError:
                entry = None  # someone else's entry is not the caller's to change
        elif entry is not None:
            try:
                readable_user(caller, entry.fields.user_id)
            except DomainError:
                entry = None
        if entry is None:
            raise NotFound("time entry", entry_id)
        check_etag(etag, entry.etag, entry.resource)
        return entry

    def get(self, caller: Caller, entry_id: str):
        with self._deps.uow(read_only=True) as uow:
            return (self._load(uow, caller, entry_id),
                    self._locked_until(uow, caller.organization_id))

    def list(self, caller: Caller, filters: dict, page_size: int, page_token: str,
             order_by: str):
        user = readable_user(caller, filters.get("user_id", ""))
        with self._deps.uow(read_only=True) as uow:
            found = uow.entries.matching(caller.organization_id, **{**filters, "user_id": user})
            locked_until = self._locked_until(uow, caller.organization_id)
        ordered = _ordered(found, order_by)
        page, token = offset_page(ordered, page_size, page_token, sorted(filters.items()),
                                  user, order_by)
        return page, token, len(found), locked_until

    def update(self, caller: Caller, entry_id: str, given: EntryFields, mask: UpdateMask,
               etag: str):
        names = mask.fields(UPDATABLE)
        now = self._deps.clock()
        with self._deps.uow() as uow:
            entry = self._load(uow, caller, entry_id, etag, own=True)
            if given.user_id:
                mask.check_unchanged(entry.fields, {"user_id": given.user_id}, "time_entry.")
            locked_until = self._locked_until(uow, caller.organization_id)
            check_unlocked(entry.fields.date, locked_until, entry.resource)
            entry.check_editable("update")
            merged = with_fields(entry.fields, given, names)
            if ("start_time" in names or "end_time" in names) and "hours" not in names:
                merged = replace(merged, hours=None)
            merged = settle_fields(merged)
            check_unlocked(merged.date, locked_until, "time_entry.date")
            if any(getattr(merged, n) != getattr(entry.fields, n) for n in REPRICING):
                merged, pricing = self._priced(uow, caller.organization_id, merged)
            else:  # the stored rate stays; the amount follows the hours
                pricing = replace(entry.pricing, amount=amount_of(
                    merged.hours, entry.pricing.resolved.rate, entry.pricing.currency_code))
            self._check_day(uow, caller.organization_id, merged, entry.id)
            changed = entry.change(merged, names, pricing, now)
            if changed:
                uow.entries.update(entry)
                events.updated(uow, entry, changed, locked_until)
                uow.commit()
        return entry, locked_until

    def delete(self, caller: Caller, entry_id: str, etag: str) -> None:
        now = self._deps.clock()
        with self._deps.uow() as uow:
            entry = self._load(uow, caller, entry_id, etag, own=True)
            check_unlocked(entry.fields.date, self._locked_until(uow, caller.organization_id),
                           entry.resource)
            entry.check_editable("delete")
            uow.entries.delete(entry)
            events.deleted(uow, entry, caller.subject, now)
            uow.commit()

    # --- workflow ----------------------------------------------------------------------------
    def _submit(self, uow, caller: Caller, entry: TimeEntry, locked_until, now) -> None:
        check_unlocked(entry.fields.date, locked_until, entry.resource)
        entry.submit(caller.subject, now)
        uow.entries.update(entry)
        events.submitted(uow, entry, caller.subject)

    def _approve(self, uow, caller: Caller, entry: TimeEntry, locked_until, now) -> None:
        check_unlocked(entry.fields.date, locked_until, entry.resource)
        entry.approve(caller.subject, now)
        uow.entries.update(entry)
        events.approved(uow, entry)

    def _one(self, caller: Caller, entry_id: str, etag: str, step, *, own: bool):
        now = self._deps.clock()
        with self._deps.uow() as uow:
            entry = self._load(uow, caller, entry_id, etag, own=own)
            locked_until = self._locked_until(uow, caller.organization_id)
            step(uow, caller, entry, locked_until, now)
            uow.commit()
        return entry, locked_until

    def submit(self, caller: Caller, entry_id: str, etag: str):
        return self._one(caller, entry_id, etag, self._submit, own=True)

    def approve(self, caller: Caller, entry_id: str, etag: str):
        return self._one(caller, entry_id, etag, self._approve, own=False)

    def reject(self, caller: Caller, entry_id: str, reason: str, etag: str):
        def step(uow, caller, entry: TimeEntry, locked_until, now) -> None:
            check_unlocked(entry.fields.date, locked_until, entry.resource)
            entry.reject(caller.subject, reason, now)
            uow.entries.update(entry)
            events.rejected(uow, entry, now)

        return self._one(caller, entry_id, etag, step, own=False)

    def _bulk(self, caller: Caller, user_id: str, monday: date | None, project_id: str,
              entry_ids: list[str], step, states: tuple[EntryState, ...]):
        first, last = _week(monday)
        if len(entry_ids) > MAX_BULK:
            raise InvalidArgument([FieldViolation("time_entry_ids", f"has at most {MAX_BULK} ids",
                                                  FieldReason.OUT_OF_RANGE)])
        now = self._deps.clock()
        done, failures = [], []
        with self._deps.uow() as uow:
            week = [e for e in uow.entries.of_person(caller.organization_id, user_id, first,
                                                     last)
                    if not project_id or e.fields.project_id == project_id]
            by_id = {e.id: e for e in week}
            if entry_ids:
                chosen = []
                for entry_id in entry_ids:
                    if entry_id in by_id:
                        chosen.append(by_id[entry_id])
                    else:
                        failures.append((entry_id, "NOT_FOUND", "RESOURCE_NOT_FOUND",
                                         "not an entry of this person and week"))
            else:
                chosen = [e for e in week if e.state in states]
            locked_until = self._locked_until(uow, caller.organization_id)
            for entry in chosen:
                try:
                    with uow.savepoint():
                        step(uow, caller, entry, locked_until, now)
                    done.append(entry)
                except DomainError as error:
                    failures.append((entry.id, error.code, error.reason, error.message))
            uow.commit()
        return done, failures, locked_until

    def bulk_submit(self, caller: Caller, user_id: str, monday: date | None, project_id: str,
                    entry_ids: list[str]):
        return self._bulk(caller, person_of(caller, user_id), monday, project_id, entry_ids,
                          self._submit, (EntryState.DRAFT, EntryState.REJECTED))

    def bulk_approve(self, caller: Caller, user_id: str, monday: date | None, project_id: str,
                     entry_ids: list[str]):
        if not user_id.strip():
            raise InvalidArgument([FieldViolation("user_id", "is required",
                                                  FieldReason.REQUIRED)])
        return self._bulk(caller, user_id.strip(), monday, project_id, entry_ids,
                          self._approve, (EntryState.SUBMITTED,))

    # --- summaries and export ----------------------------------------------------------------
    def _in_range(self, caller: Caller, first: date | None, last: date | None, filters: dict,
                  limit: int | None = None):
        first, last = _range(first, last)
        user = readable_user(caller, filters.get("user_id", ""))
        with self._deps.uow(read_only=True) as uow:
            return uow.entries.matching(caller.organization_id,
                                        **{**filters, "user_id": user, "first": first,
                                           "last": last}, limit=limit)

    def summary(self, caller: Caller, first: date | None, last: date | None, filters: dict,
                group_by: list[str], period: str, page_size: int, page_token: str):
        if len(set(group_by)) != len(group_by):
            raise InvalidArgument([FieldViolation("group_by", "names each dimension once",
                                                  FieldReason.NOT_DISTINCT)])
        rows, total = summarize(self._in_range(caller, first, last, filters), group_by, period)
        page, token = offset_page(rows, page_size, page_token, first, last,
                                  sorted(filters.items()), group_by, period)
        return page, total, token

    def export(self, caller: Caller, first: date | None, last: date | None, filters: dict
               ) -> str:
        found = self._in_range(caller, first, last, filters, limit=MAX_EXPORT + 1)
        if len(found) > MAX_EXPORT:
            raise FailedPrecondition(
                f"more than {MAX_EXPORT} entries match; narrow the range or the filters",
                reason=reasons.EXPORT_TOO_LARGE)
        return to_csv(found)


DEFAULT_ORDER = [("date", True), ("create_time", True)]
_ORDER_KEYS = {
    "date": lambda e: e.fields.date,
    "create_time": lambda e: e.create_time,
    "hours": lambda e: e.fields.hours,
    "amount": lambda e: e.pricing.amount,
}


def _ordered(entries: list[TimeEntry], order_by: str) -> list[TimeEntry]:
    """Sorted by AIP-132 `order_by` (default `date desc, create_time desc`), the id last."""
    spec = parse_order(order_by, tuple(_ORDER_KEYS), DEFAULT_ORDER)
    ordered = sorted(entries, key=lambda e: e.id, reverse=spec[0][1])
    for name, descending in reversed(spec):
        ordered.sort(key=_ORDER_KEYS[name], reverse=descending)
    return ordered
