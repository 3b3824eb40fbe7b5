"""Billing's repositories over SQLAlchemy Core, on the kit's versioned repository: reads of
tenant resources are scoped to the organization, updates write only over the version read
in the same unit of work."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from pivotal_runtime.errors import Aborted
from pivotal_runtime.kit.listing import page_rows
from pivotal_runtime.kit.money import Money
from pivotal_runtime.kit.paging import Position
from pivotal_runtime.kit.repository import (
    VersionedRepository,
    insert_for,
    insert_ignore,
)
from sqlalchemy.orm import Session

from pivotal_billing.adapters import codecs as c
from pivotal_billing.adapters import tables as t
from pivotal_billing.domain import invoices as inv
from pivotal_billing.domain import subscriptions as subs
from pivotal_billing.domain.invoice_settings import InvoiceSettings, Seller, SettingsFields
from pivotal_billing.domain.periods import BillingPeriod
from pivotal_billing.domain.plans import Plan, PlanTerms
from pivotal_billing.domain.usage import MeterUsage, UsageRecord

E6 = Decimal(1_000_000)


class PlanRepository(VersionedRepository):
    table = t.plans
    resource_type = "plan"

    def _terms(self, plan_id: str, number: int) -> PlanTerms | None:
        row = self._s.execute(sa.select(t.plan_versions).where(
            t.plan_versions.c.plan_id == plan_id, t.plan_versions.c.number == number)).first()
        if row is None:
            return None
        return PlanTerms(row.number, Money(Decimal(row.price), row.currency_code),
                         BillingPeriod(row.billing_period), c.entitlements_in(row.entitlements),
                         row.create_time)

    def _load(self, row, number: int = 0) -> Plan | None:
        terms = self._terms(row.id, number or row.current_version)
        if terms is None:
            return None
        plan = Plan(row.id, row.code, row.name, row.description, row.trial_days, row.active,
                    row.default_plan, row.display_order, terms, row.create_time,
                    row.update_time, version=row.version)
        return self._seen(plan)

    def get(self, plan_id: str, number: int = 0) -> Plan | None:
        row = self._s.execute(sa.select(t.plans).where(t.plans.c.id == plan_id)).first()
        return self._load(row, number) if row is not None else None

    def get_by_code(self, code: str) -> Plan | None:
        row = self._s.execute(sa.select(t.plans).where(t.plans.c.code == code)).first()
        return self._load(row) if row is not None else None

    def default(self) -> Plan | None:
        row = self._s.execute(sa.select(t.plans).where(t.plans.c.default_plan.is_(True))
                              .order_by(t.plans.c.update_time.desc())).first()
        return self._load(row) if row is not None else None

    def list(self, *, show_inactive: bool, currency_code: str, after: Position | None,
             limit: int) -> tuple[list[Plan], int]:
        statement = sa.select(t.plans)
        if not show_inactive:
            statement = statement.where(t.plans.c.active.is_(True))
        if currency_code:
            statement = statement.where(sa.exists().where(
                t.plan_versions.c.plan_id == t.plans.c.id,
                t.plan_versions.c.number == t.plans.c.current_version,
                t.plan_versions.c.currency_code == currency_code))
        order = [(t.plans.c.display_order, False), (t.plans.c.code, False)]
        rows, total = page_rows(self._s, statement, order, after, limit)
        return [self._load(row) for row in rows], total

    def _row(self, plan: Plan) -> SimpleNamespace:
        return SimpleNamespace(
            id=plan.id, code=plan.code, name=plan.name, description=plan.description,
            trial_days=plan.trial_days, active=plan.active, default_plan=plan.default_plan,
            display_order=plan.display_order, current_version=plan.current_version,
            create_time=plan.create_time, update_time=plan.update_time, version=plan.version)

    def _add_terms(self, plan: Plan) -> None:
        for terms in plan.new_terms:
            self._s.execute(t.plan_versions.insert().values(
                plan_id=plan.id, number=terms.number, price=str(terms.price.amount),
                currency_code=terms.price.currency_code, billing_period=terms.period.value,
                entitlements=c.entitlements_out(terms.entitlements),
                create_time=terms.create_time))
        plan.new_terms.clear()

    def add(self, plan: Plan, **extra: Any) -> None:
        super().add(self._row(plan))
        self._add_terms(plan)

    def update(self, plan: Plan, *, check_version: bool = True, **extra: Any) -> None:
        super().update(self._row(plan), check_version=check_version)
        self._add_terms(plan)

    def clear_default(self, except_id: str, now: datetime) -> None:
        self._s.execute(sa.update(t.plans).where(t.plans.c.default_plan.is_(True),
                                                 t.plans.c.id != except_id)
                        .values(default_plan=False, update_time=now,
                                version=t.plans.c.version + 1))


class SubscriptionRepository(VersionedRepository):
    table = t.subscriptions
    resource_type = "subscription"

    def __init__(self, session: Session, plans: PlanRepository) -> None:
        super().__init__(session)
        self._plans = plans

    def for_organization(self, organization_id: str, *, lock: bool = False
                         ) -> subs.Subscription | None:
        statement = sa.select(t.subscriptions).where(
            t.subscriptions.c.organization_id == organization_id)
        if lock:
            statement = statement.with_for_update()
        row = self._s.execute(statement).first()
        if row is None:
            return None
        plan = self._plans.get(row.plan_id, row.plan_version)
        return self._seen(subs.Subscription(
            row.id, row.organization_id, plan, subs.SubscriptionState(row.state),
            c.day_in(row.period_start), c.day_in(row.period_end), row.anchor_day,
            row.create_time, row.update_time, c.day_in(row.trial_start), c.day_in(row.trial_end),
            row.cancel_at_period_end, c.day_in(row.cancel_effective_date), row.cancel_reason,
            row.activate_time, row.cancel_time,
            c.transitions_in(row.transitions, subs.Transition, subs.SubscriptionState),
            row.entitlements_version, version=row.version))

    def _row(self, s: subs.Subscription) -> SimpleNamespace:
        return SimpleNamespace(
            id=s.id, organization_id=s.organization_id, plan_id=s.plan.id,
            plan_version=s.plan.current_version, state=s.state.value,
            period_start=c.day_out(s.period_start), period_end=c.day_out(s.period_end),
            anchor_day=s.anchor_day, trial_start=c.day_out(s.trial_start),
            trial_end=c.day_out(s.trial_end), cancel_at_period_end=s.cancel_at_period_end,
            cancel_effective_date=c.day_out(s.cancel_effective_date),
            cancel_reason=s.cancel_reason, activate_time=s.activate_time,
            cancel_time=s.cancel_time, transitions=c.transitions_out(s.transitions),
            entitlements_version=s.entitlements_version, create_time=s.create_time,
            update_time=s.update_time, version=s.version)

    def add_if_absent(self, subscription: subs.Subscription) -> bool:
        """Inserts the organization's first subscription; False when it has one already."""
        row = vars(self._row(subscription))
        inserted = insert_ignore(self._s, t.subscriptions, row, ["organization_id"])
        if inserted:
            self._seen(subscription)
        return inserted

    def update(self, subscription: subs.Subscription, *, check_version: bool = True,
               **extra: Any) -> None:
        super().update(self._row(subscription), check_version=check_version)

    def due(self, today: date) -> list[str]:
        """Organizations whose current period ended by `today` and are not canceled."""
        return list(self._s.execute(sa.select(t.subscriptions.c.organization_id).where(
            t.subscriptions.c.period_end <= today.isoformat(),
            t.subscriptions.c.state != subs.SubscriptionState.CANCELED.value)).scalars())


class EntitlementUsageRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def report(self, organization_id: str, key: str, used: int, now: datetime) -> None:
        insert = insert_for(self._s)
        self._s.execute(insert(t.entitlement_usage).values(
            organization_id=organization_id, key=key, used=used, observe_time=now)
            .on_conflict_do_update(index_elements=["organization_id", "key"],
                                   set_={"used": used, "observe_time": now}))

    def of(self, organization_id: str) -> list[tuple[str, int, datetime]]:
        rows = self._s.execute(sa.select(t.entitlement_usage).where(
            t.entitlement_usage.c.organization_id == organization_id)
            .order_by(t.entitlement_usage.c.key)).all()
        return [(row.key, row.used, row.observe_time) for row in rows]


class UsageRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    @staticmethod
    def _load(row) -> UsageRecord:
        return UsageRecord(row.id, row.organization_id, row.meter_key,
                           Decimal(row.quantity_e6) / E6, row.occur_time, row.request_id,
                           c.day_in(row.period_start), row.creator_id, row.create_time)

    def add_once(self, record: UsageRecord, fingerprint: str) -> bool:
        """Stores the record unless its request id was recorded before (then False)."""
        return insert_ignore(self._s, t.usage_records, {
            "id": record.id, "organization_id": record.organization_id,
            "meter_key": record.meter_key, "quantity_e6": int(record.quantity * E6),
            "occur_time": record.occur_time, "request_id": record.request_id,
            "fingerprint": fingerprint, "period_start": record.period_start.isoformat(),
            "creator_id": record.creator_id, "create_time": record.create_time},
            ["organization_id", "request_id"])

    def by_request(self, organization_id: str, request_id: str
                   ) -> tuple[UsageRecord, str] | None:
        row = self._s.execute(sa.select(t.usage_records).where(
            t.usage_records.c.organization_id == organization_id,
            t.usage_records.c.request_id == request_id)).first()
        return (self._load(row), row.fingerprint) if row is not None else None

    def list(self, organization_id: str, meter_key: str, start: datetime | None,
             end: datetime | None, after: Position | None, limit: int) -> list[UsageRecord]:
        u = t.usage_records.c
        statement = sa.select(t.usage_records).where(u.organization_id == organization_id)
        if meter_key:
            statement = statement.where(u.meter_key == meter_key)
        if start:
            statement = statement.where(u.occur_time >= start)
        if end:
            statement = statement.where(u.occur_time < end)
        order = [(u.occur_time, True), (u.id, True)]
        rows, _ = page_rows(self._s, statement, order, after, limit)
        return [self._load(row) for row in rows]

    def summary(self, organization_id: str, start: datetime, end: datetime
                ) -> list[MeterUsage]:
        u = t.usage_records.c
        rows = self._s.execute(sa.select(
            u.meter_key, sa.func.count(), sa.func.sum(u.quantity_e6), sa.func.max(u.quantity_e6),
            sa.func.min(u.occur_time), sa.func.max(u.occur_time)).where(
            u.organization_id == organization_id, u.occur_time >= start, u.occur_time < end)
            .group_by(u.meter_key).order_by(u.meter_key)).all()
        return [MeterUsage(row[0], int(row[1]), Decimal(int(row[2])) / E6,
                           Decimal(int(row[3])) / E6, _aware(row[4]), _aware(row[5]))
                for row in rows]


def _aware(value):
    """SQLite's MIN/MAX of a timestamp come back as text or naive; the columns are UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _invoice_order_column(name: str) -> sa.ColumnElement:
    """The sort key of an `order_by` field; a draft has no issue or due date and sorts as the
    latest (first in the default `issue_date desc`)."""
    i = t.invoices.c
    return {"issue_date": sa.func.coalesce(i.issue_date, inv.NOT_YET),
            "due_date": sa.func.coalesce(i.due_date, inv.NOT_YET),
            "create_time": i.create_time, "invoice_number": i.number,
            "total": i.total_e4}[name]


class InvoiceRepository(VersionedRepository):
    table = t.invoices
    resource_type = "invoice"

    def _load(self, row) -> inv.Invoice:
        return self._seen(inv.Invoice(
            row.id, row.organization_id, row.customer_id, row.project_id, row.currency_code,
            row.create_time, row.update_time, inv.InvoiceState(row.state), row.number,
            row.customer_name, row.project_name, row.quote_id,
            inv.InvoiceFields(c.day_in(row.due_date), row.payment_terms_days, row.notes),
            c.day_in(row.issue_date), c.lines_in(row.lines), c.payments_in(row.payments),
            c.transitions_in(row.transitions, inv.Transition, inv.InvoiceState),
            row.credit_note_id, row.credit_note_number, row.void_reason, row.issue_time,
            row.void_time, version=row.version))

    def _row(self, i: inv.Invoice) -> SimpleNamespace:
        open_key = f"{i.customer_id}|{i.project_id}|{i.currency_code}" \
            if i.state is inv.InvoiceState.DRAFT else None
        return SimpleNamespace(
            id=i.id, organization_id=i.organization_id, number=i.number,
            customer_id=i.customer_id, project_id=i.project_id, currency_code=i.currency_code,
            state=i.state.value, customer_name=i.customer_name, project_name=i.project_name,
            quote_id=i.quote_id, issue_date=c.day_out(i.issue_date),
            due_date=c.day_out(i.fields.due_date), payment_terms_days=i.fields.payment_terms_days,
            notes=i.fields.notes, lines=c.lines_out(i.lines), payments=c.payments_out(i.payments),
            transitions=c.transitions_out(i.transitions), credit_note_id=i.credit_note_id,
            credit_note_number=i.credit_note_number, void_reason=i.void_reason,
            issue_time=i.issue_time, void_time=i.void_time, open_key=open_key,
            total_e4=int(i.totals.total.scaleb(4)),
            create_time=i.create_time, update_time=i.update_time, version=i.version)

    def get_in(self, organization_id: str, invoice_id: str) -> inv.Invoice | None:
        row = self._s.execute(sa.select(t.invoices).where(
            t.invoices.c.id == invoice_id,
            t.invoices.c.organization_id == organization_id)).first()
        return self._load(row) if row is not None else None

    def open_draft(self, organization_id: str, customer_id: str, project_id: str,
                   currency_code: str) -> inv.Invoice | None:
        row = self._s.execute(sa.select(t.invoices).where(
            t.invoices.c.organization_id == organization_id,
            t.invoices.c.open_key == f"{customer_id}|{project_id}|{currency_code}")).first()
        return self._load(row) if row is not None else None

    def add(self, invoice: inv.Invoice, **extra: Any) -> None:
        super().add(self._row(invoice))

    def update(self, invoice: inv.Invoice, *, check_version: bool = True, **extra: Any) -> None:
        super().update(self._row(invoice), check_version=check_version)

    def list(self, organization_id: str, where: inv.InvoiceFilter, order: list[tuple[str, bool]],
             after: Position | None, limit: int) -> tuple[list[inv.Invoice], int]:
        i = t.invoices.c
        statement = sa.select(t.invoices).where(i.organization_id == organization_id)
        if where.states:
            statement = statement.where(i.state.in_(where.states))
        if where.customer_id:
            statement = statement.where(i.customer_id == where.customer_id)
        if where.project_id:
            statement = statement.where(i.project_id == where.project_id)
        if where.issued_from:
            statement = statement.where(i.issue_date >= where.issued_from.isoformat())
        if where.issued_to:
            statement = statement.where(i.issue_date <= where.issued_to.isoformat())
        keyset = [(_invoice_order_column(name), descending) for name, descending in order]
        keyset.append((i.id, order[-1][1]))
        rows, total = page_rows(self._s, statement, keyset, after, limit)
        return [self._load(row) for row in rows], total

    # --- each source billed once ------------------------------------------------------------
    def claim(self, organization_id: str, source_id: str, invoice_id: str) -> bool:
        """Records that `source_id` is billed on `invoice_id`; False when it is billed
        already (a redelivered or repeated event)."""
        return insert_ignore(self._s, t.billed_work, {
            "organization_id": organization_id, "source_id": source_id,
            "invoice_id": invoice_id}, ["organization_id", "source_id"])

    def release(self, organization_id: str, source_ids: list[str]) -> None:
        if source_ids:
            self._s.execute(sa.delete(t.billed_work).where(
                t.billed_work.c.organization_id == organization_id,
                t.billed_work.c.source_id.in_(source_ids)))

    def move_claims(self, organization_id: str, source_ids: list[str], invoice_id: str) -> None:
        if source_ids:
            self._s.execute(sa.update(t.billed_work).where(
                t.billed_work.c.organization_id == organization_id,
                t.billed_work.c.source_id.in_(source_ids)).values(invoice_id=invoice_id))


class CreditNoteRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    @staticmethod
    def _load(row) -> inv.CreditNote:
        return inv.CreditNote(
            row.id, row.organization_id, row.number, row.invoice_id, row.invoice_number,
            row.customer_id, row.project_id, row.currency_code, c.day_in(row.issue_date),
            row.reason, c.lines_in(row.lines), Decimal(row.refund_due), row.work_released,
            row.creator_id, row.create_time, row.customer_name, row.project_name)

    def add(self, note: inv.CreditNote) -> None:
        self._s.execute(t.credit_notes.insert().values(
            id=note.id, organization_id=note.organization_id, number=note.number,
            invoice_id=note.invoice_id, invoice_number=note.invoice_number,
            customer_id=note.customer_id, project_id=note.project_id,
            customer_name=note.customer_name, project_name=note.project_name,
            currency_code=note.currency_code, issue_date=note.issue_date.isoformat(),
            reason=note.reason, lines=c.lines_out(note.lines), refund_due=str(note.refund_due),
            work_released=note.work_released, creator_id=note.creator_id,
            create_time=note.create_time))

    def get_in(self, organization_id: str, note_id: str) -> inv.CreditNote | None:
        row = self._s.execute(sa.select(t.credit_notes).where(
            t.credit_notes.c.id == note_id,
            t.credit_notes.c.organization_id == organization_id)).first()
        return self._load(row) if row is not None else None

    def list(self, organization_id: str, invoice_id: str, customer_id: str, project_id: str,
             after: Position | None, limit: int) -> tuple[list[inv.CreditNote], int]:
        n = t.credit_notes.c
        statement = sa.select(t.credit_notes).where(n.organization_id == organization_id)
        for column, value in ((n.invoice_id, invoice_id), (n.customer_id, customer_id),
                              (n.project_id, project_id)):
            if value:
                statement = statement.where(column == value)
        order = [(n.create_time, True), (n.id, True)]
        rows, total = page_rows(self._s, statement, order, after, limit)
        return [self._load(row) for row in rows], total


class InvoiceSettingsRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, organization_id: str) -> InvoiceSettings | None:
        row = self._s.execute(sa.select(t.invoice_settings).where(
            t.invoice_settings.c.organization_id == organization_id)).first()
        if row is None:
            return None
        percent = Decimal(row.default_tax_rate_percent) \
            if row.default_tax_rate_percent is not None else None
        return InvoiceSettings(row.organization_id, SettingsFields(
            row.payment_instructions, row.default_payment_terms_days, row.default_tax_rate_id,
            row.default_tax_rate_name, percent), row.update_time, version=row.version)

    def save(self, settings: InvoiceSettings, seen_version: int | None) -> None:
        f = settings.fields
        values = {"payment_instructions": f.payment_instructions,
                  "default_payment_terms_days": f.default_payment_terms_days,
                  "default_tax_rate_id": f.default_tax_rate_id,
                  "default_tax_rate_name": f.default_tax_rate_name,
                  "default_tax_rate_percent": str(f.default_tax_rate_percent)
                  if f.default_tax_rate_percent is not None else None,
                  "update_time": settings.update_time, "version": settings.version}
        if seen_version is None:
            if not insert_ignore(self._s, t.invoice_settings,
                                 {"organization_id": settings.organization_id, **values},
                                 ["organization_id"]):
                raise Aborted("the invoice settings were changed concurrently; read them again")
            return
        changed = self._s.execute(sa.update(t.invoice_settings).where(
            t.invoice_settings.c.organization_id == settings.organization_id,
            t.invoice_settings.c.version == seen_version).values(**values)).rowcount
        if changed != 1:
            raise Aborted("the invoice settings were changed concurrently; read them again")


class DirectoryRepository:
    """The seller's legal profile and the names of customers and projects, as carried by
    other services' events."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def apply_seller(self, seller: Seller) -> None:
        """Keeps only a newer version (a late, retried event changes nothing)."""
        values = {"display_name": seller.display_name, "legal_name": seller.legal_name,
                  "address_lines": list(seller.address_lines), "tax_id": seller.tax_id,
                  "locale": seller.locale, "version": seller.version,
                  "region_code": seller.country_code}
        insert = insert_for(self._s)
        self._s.execute(insert(t.sellers).values(organization_id=seller.organization_id,
                                                 **values)
                        .on_conflict_do_update(index_elements=["organization_id"], set_=values,
                                               where=t.sellers.c.version < seller.version))

    def seller(self, organization_id: str) -> Seller:
        row = self._s.execute(sa.select(t.sellers).where(
            t.sellers.c.organization_id == organization_id)).first()
        if row is None:
            return Seller(organization_id)
        return Seller(row.organization_id, row.display_name, row.legal_name,
                      tuple(row.address_lines), row.tax_id, row.locale, row.version,
                      row.region_code)

    def put_name(self, organization_id: str, kind: str, item_id: str, name: str) -> None:
        insert = insert_for(self._s)
        self._s.execute(insert(t.names).values(organization_id=organization_id, kind=kind,
                                               id=item_id, name=name)
                        .on_conflict_do_update(index_elements=["organization_id", "kind", "id"],
                                               set_={"name": name}))

    def name(self, organization_id: str, kind: str, item_id: str) -> str:
        return self._s.execute(sa.select(t.names.c.name).where(
            t.names.c.organization_id == organization_id, t.names.c.kind == kind,
            t.names.c.id == item_id)).scalar_one_or_none() or ""
