"""Repositories over SQLAlchemy Core, on the kit's versioned repository: every read of a
resource is scoped to its organization, every update writes only over the version read in
the same unit of work (a concurrent change is ABORTED, never overwritten)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from pivotal_runtime.errors import Aborted, AlreadyExists
from pivotal_runtime.kit.listing import page_rows
from pivotal_runtime.kit.paging import Position
from pivotal_runtime.kit.repository import (
    VersionedRepository,
    insert_for,
    row_values,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pivotal_quotation.adapters import codecs as c
from pivotal_quotation.adapters import tables as t
from pivotal_quotation.domain.customers import Customer, CustomerFields, CustomerState
from pivotal_quotation.domain.listing import Order, QuoteFilter, net_total_e4
from pivotal_quotation.domain.quote_settings import QuoteSettings, SettingsFields
from pivotal_quotation.domain.quotes import Quote, QuoteContent, QuoteState, price_content
from pivotal_quotation.domain.rate_cards import RateCard, RateCardState, RateCardVersion
from pivotal_quotation.domain.reasons import DUPLICATE_NAME
from pivotal_quotation.domain.sellers import SellerProfile, newer
from pivotal_quotation.domain.tax_rates import TaxRate, TaxRateFields


class _Repository(VersionedRepository):
    """Aggregates whose columns are not all plain attributes: `columns(obj)` gives those
    (nested values as JSON), over the attributes of the same name."""

    def columns(self, obj: Any) -> dict[str, Any]:
        return {}

    def _row(self, obj: Any) -> SimpleNamespace:
        return SimpleNamespace(**{**row_values(obj, self.table), **self.columns(obj)})

    def add(self, obj: Any, **extra: Any) -> None:
        super().add(self._row(obj), **extra)

    def update(self, obj: Any, *, check_version: bool = True, **extra: Any) -> None:
        super().update(self._row(obj), check_version=check_version, **extra)


class CustomerRepository(_Repository):
    table = t.customers
    resource_type = "customer"

    def columns(self, customer: Customer) -> dict[str, Any]:
        f = customer.fields
        return {**{name: getattr(f, name) for name in (
            "display_name", "legal_name", "email", "phone", "contact_name", "tax_id",
            "currency_code", "payment_terms_days", "notes")},
            "billing_address": c.address_out(f.billing_address)}

    def _load(self, row) -> Customer:
        fields = CustomerFields(
            row.display_name, row.legal_name, row.email, row.phone, row.contact_name,
            c.address_in(row.billing_address), row.tax_id, row.currency_code,
            row.payment_terms_days, row.notes)
        return self._seen(Customer(row.id, row.organization_id, fields, row.create_time,
                                   row.update_time, CustomerState(row.state), row.archive_time,
                                   version=row.version))

    def get(self, organization_id: str, customer_id: str) -> Customer | None:
        row = self._s.execute(sa.select(t.customers).where(
            t.customers.c.id == customer_id,
            t.customers.c.organization_id == organization_id)).first()
        return self._load(row) if row else None

    def list(self, organization_id: str, *, query: str, include_archived: bool,
             after: Position | None, limit: int) -> tuple[list[Customer], int]:
        statement = sa.select(t.customers).where(t.customers.c.organization_id == organization_id)
        if query:
            statement = statement.where(t.customers.c.display_name.icontains(query,
                                                                             autoescape=True))
        if not include_archived:
            statement = statement.where(t.customers.c.state == CustomerState.ACTIVE.value)
        order = [(t.customers.c.display_name, False), (t.customers.c.id, False)]
        rows, total = page_rows(self._s, statement, order, after, limit)
        return [self._load(row) for row in rows], total


@contextmanager
def _unique_name(session: Session, display_name: str) -> Iterator[None]:
    """A concurrent create or rename that took the name first is ALREADY_EXISTS, not a
    database error (the unique index decides)."""
    try:
        with session.begin_nested():
            yield
    except IntegrityError:
        raise AlreadyExists(f"a tax rate named {display_name!r} exists",
                            reason=DUPLICATE_NAME) from None


class TaxRateRepository(_Repository):
    table = t.tax_rates
    resource_type = "tax rate"

    def columns(self, rate: TaxRate) -> dict[str, Any]:
        f = rate.fields
        return {"display_name": f.display_name, "rate_percent": str(f.rate_percent),
                "organization_default": f.organization_default, "description": f.description}

    def _load(self, row) -> TaxRate:
        fields = TaxRateFields(row.display_name, Decimal(row.rate_percent),
                               row.organization_default, row.description)
        return self._seen(TaxRate(row.id, row.organization_id, fields, row.create_time,
                                  row.update_time, version=row.version))

    def _where(self, organization_id: str, *conditions) -> list[TaxRate]:
        rows = self._s.execute(sa.select(t.tax_rates).where(
            t.tax_rates.c.organization_id == organization_id, *conditions)).all()
        return [self._load(row) for row in rows]

    def get(self, organization_id: str, tax_rate_id: str) -> TaxRate | None:
        found = self._where(organization_id, t.tax_rates.c.id == tax_rate_id)
        return found[0] if found else None

    def default(self, organization_id: str) -> TaxRate | None:
        found = self._where(organization_id, t.tax_rates.c.organization_default.is_(True))
        return found[0] if found else None

    def named(self, organization_id: str, display_name: str) -> TaxRate | None:
        found = self._where(organization_id, t.tax_rates.c.display_name == display_name)
        return found[0] if found else None

    def add(self, rate: TaxRate, **extra: Any) -> None:
        with _unique_name(self._s, rate.fields.display_name):
            super().add(rate, **extra)

    def update(self, rate: TaxRate, *, check_version: bool = True, **extra: Any) -> None:
        with _unique_name(self._s, rate.fields.display_name):
            super().update(rate, check_version=check_version, **extra)

    def delete(self, rate: TaxRate) -> None:
        self._s.execute(sa.delete(t.tax_rates).where(t.tax_rates.c.id == rate.id))

    def list(self, organization_id: str, *, after: Position | None, limit: int
             ) -> tuple[list[TaxRate], int]:
        statement = sa.select(t.tax_rates).where(t.tax_rates.c.organization_id == organization_id)
        order = [(t.tax_rates.c.display_name, False), (t.tax_rates.c.id, False)]
        rows, total = page_rows(self._s, statement, order, after, limit)
        return [self._load(row) for row in rows], total


class QuoteSettingsRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def columns(self, settings: QuoteSettings) -> dict[str, Any]:
        f = settings.fields
        return {"approval_thresholds": [c.money_out(m) for m in f.approval_thresholds],
                "default_validity_days": f.default_validity_days,
                "default_currency_code": f.default_currency_code,
                "default_notes": f.default_notes, "hours_per_day": str(f.hours_per_day)}

    def save(self, settings: QuoteSettings, seen_version: int | None) -> None:
        """Inserts the first stored settings, or updates over the version read (ABORTED
        when another change came first)."""
        values = {"update_time": settings.update_time, "version": settings.version,
                  **self.columns(settings)}
        table = t.quote_settings
        if seen_version is None:
            statement = insert_for(self._s)(table).values(
                organization_id=settings.organization_id, **values).on_conflict_do_nothing(
                index_elements=["organization_id"])
        else:
            statement = sa.update(table).where(
                table.c.organization_id == settings.organization_id,
                table.c.version == seen_version).values(**values)
        # RETURNING, not rowcount: an INSERT ... ON CONFLICT's rowcount is not reliable here.
        if self._s.execute(statement.returning(table.c.organization_id)).first() is None:
            raise Aborted("the quote settings were changed concurrently; read them again")

    def get(self, organization_id: str) -> QuoteSettings | None:
        """The stored settings, or None while they are the defaults."""
        row = self._s.execute(sa.select(t.quote_settings).where(
            t.quote_settings.c.organization_id == organization_id)).first()
        if row is None:
            return None
        fields = SettingsFields(tuple(c.money_in(m) for m in row.approval_thresholds),
                                row.default_validity_days, row.default_currency_code,
                                row.default_notes, Decimal(row.hours_per_day))
        return QuoteSettings(row.organization_id, fields, row.update_time, version=row.version)


class RateCardRepository(_Repository):
    table = t.rate_cards
    resource_type = "rate card"

    def _load(self, row, versions: dict[int, RateCardVersion]) -> RateCard:
        return self._seen(RateCard(row.id, row.organization_id, row.display_name,
                                   row.description, row.currency_code, versions,
                                   row.create_time, row.update_time, RateCardState(row.state),
                                   row.version))

    def _versions_of(self, card_ids: list[str]) -> dict[str, dict[int, RateCardVersion]]:
        found: dict[str, dict[int, RateCardVersion]] = {card_id: {} for card_id in card_ids}
        for row in self._s.execute(sa.select(t.rate_card_versions).where(
                t.rate_card_versions.c.rate_card_id.in_(card_ids))):
            found[row.rate_card_id][row.number] = RateCardVersion(
                row.number, tuple(c.item_in(item) for item in row.items), row.author_id,
                row.create_time, row.locked)
        return found

    def get(self, organization_id: str, rate_card_id: str, *, for_update: bool = False
            ) -> RateCard | None:
        statement = sa.select(t.rate_cards).where(
            t.rate_cards.c.id == rate_card_id, t.rate_cards.c.organization_id == organization_id)
        row = self._s.execute(statement.with_for_update() if for_update else statement).first()
        return self._load(row, self._versions_of([row.id])[row.id]) if row else None

    def add(self, card: RateCard, **extra: Any) -> None:
        super().add(card)
        self._store_versions(card)

    def update(self, card: RateCard, *, check_version: bool = True, **extra: Any) -> None:
        super().update(card, check_version=check_version)
        self._store_versions(card)

    def _store_versions(self, card: RateCard) -> None:
        for number in sorted(card.changed_versions):
            version = card.versions[number]
            values = {"items": [c.item_out(item) for item in version.items],
                      "author_id": version.author_id, "create_time": version.create_time,
                      "locked": version.locked}
            updated = self._s.execute(sa.update(t.rate_card_versions).where(
                t.rate_card_versions.c.rate_card_id == card.id,
                t.rate_card_versions.c.number == number).values(**values)).rowcount
            if not updated:
                self._s.execute(t.rate_card_versions.insert().values(
                    rate_card_id=card.id, number=number, **values))
        card.changed_versions.clear()

    def name_taken(self, organization_id: str, display_name: str, except_id: str = "") -> bool:
        return self._s.execute(sa.select(t.rate_cards.c.id).where(
            t.rate_cards.c.organization_id == organization_id,
            sa.func.lower(t.rate_cards.c.display_name) == display_name.lower(),
            t.rate_cards.c.state == RateCardState.ACTIVE.value,
            t.rate_cards.c.id != except_id)).first() is not None

    def list(self, organization_id: str, *, query: str, currency_code: str,
             include_archived: bool, after: Position | None, limit: int
             ) -> tuple[list[RateCard], int]:
        statement = sa.select(t.rate_cards).where(
            t.rate_cards.c.organization_id == organization_id)
        if query:
            statement = statement.where(t.rate_cards.c.display_name.icontains(query,
                                                                              autoescape=True))
        if currency_code:
            statement = statement.where(t.rate_cards.c.currency_code == currency_code)
        if not include_archived:
            statement = statement.where(t.rate_cards.c.state == RateCardState.ACTIVE.value)
        order = [(t.rate_cards.c.display_name, False), (t.rate_cards.c.id, False)]
        rows, total = page_rows(self._s, statement, order, after, limit)
        versions = self._versions_of([row.id for row in rows])
        return [self._load(row, versions[row.id]) for row in rows], total


QUOTE_ORDER_COLUMNS = {"create_time": t.quotes.c.create_time,
                       "valid_from": t.quotes.c.valid_from,
                       "quote_number": t.quotes.c.quote_number,
                       "net_total": t.quotes.c.net_total_e4}


class QuoteRepository(_Repository):
    table = t.quotes
    resource_type = "quote"

    def columns(self, quote: Quote) -> dict[str, Any]:
        content = quote.content
        return {
            "title": content.title, "customer_id": content.customer_id,
            "customer_display_name": content.customer_display_name,
            "currency_code": content.currency_code,
            "valid_from": content.valid_from.isoformat(),
            "valid_until": content.valid_until.isoformat(), "notes": content.notes,
            "lines": [c.line_out(line) for line in content.lines],
            "discount": c.discount_out(content.discount),
            "net_total_e4": net_total_e4(quote),
            "transitions": [c.transition_out(tr) for tr in quote.transitions],
            "decision": c.decision_out(quote.decision),
            "project_creation": c.project_creation_out(quote.project_creation),
        }

    def _load(self, row) -> Quote:
        content = QuoteContent(
            row.title, row.customer_id, row.customer_display_name, row.currency_code,
            date.fromisoformat(row.valid_from), date.fromisoformat(row.valid_until), row.notes,
            tuple(c.line_in(line) for line in row.lines), c.discount_in(row.discount))
        return self._seen(Quote(
            row.id, row.organization_id, row.quote_number, row.revision, row.author_id,
            content, price_content(content), row.create_time, row.update_time,
            QuoteState(row.state), [c.transition_in(tr) for tr in row.transitions],
            row.previous_revision_id, row.next_revision_id, row.approver_id,
            row.rejection_reason, c.decision_in(row.decision), row.send_time,
            c.project_creation_in(row.project_creation), row.version))

    def add(self, quote: Quote, **extra: Any) -> None:
        super().add(quote)
        quote.pending.clear()

    def update(self, quote: Quote, *, check_version: bool = True, **extra: Any) -> None:
        super().update(quote, check_version=check_version)
        quote.pending.clear()

    def get(self, organization_id: str, quote_id: str) -> Quote | None:
        row = self._s.execute(sa.select(t.quotes).where(
            t.quotes.c.id == quote_id, t.quotes.c.organization_id == organization_id)).first()
        return self._load(row) if row else None

    def delete(self, quote: Quote) -> None:
        self._s.execute(sa.delete(t.quotes).where(t.quotes.c.id == quote.id,
                                                  t.quotes.c.version == quote.version))

    def expiring(self, today: date, limit: int) -> list[Quote]:
        """Approved or sent quotes of every organization whose valid_until is before today."""
        rows = self._s.execute(sa.select(t.quotes).where(
            t.quotes.c.state.in_([QuoteState.APPROVED.value, QuoteState.SENT.value]),
            t.quotes.c.valid_until < today.isoformat()).order_by(t.quotes.c.id).limit(limit)).all()
        return [self._load(row) for row in rows]

    def list(self, organization_id: str, where: QuoteFilter, order: Order, *,
             after: Position | None, limit: int) -> tuple[list[Quote], int]:
        q = t.quotes.c
        statement = sa.select(t.quotes).where(q.organization_id == organization_id)
        if where.states:
            statement = statement.where(q.state.in_([s.value for s in where.states]))
        for column, value, compare in (
                (q.customer_id, where.customer_id, "eq"), (q.author_id, where.author_id, "eq"),
                (q.quote_number, where.quote_number, "eq"),
                (q.valid_from, where.valid_from_start and where.valid_from_start.isoformat(),
                 "ge"),
                (q.valid_from, where.valid_from_end and where.valid_from_end.isoformat(), "le"),
                (q.create_time, where.create_time_start, "ge"),
                (q.create_time, where.create_time_end, "lt")):
            if value:
                statement = statement.where({"eq": column == value, "ge": column >= value,
                                             "le": column <= value, "lt": column < value}[compare])
        if where.query:
            statement = statement.where(sa.or_(q.quote_number.icontains(where.query,
                                                                        autoescape=True),
                                               q.title.icontains(where.query, autoescape=True)))
        keyset = [(QUOTE_ORDER_COLUMNS[name], descending) for name, descending in order]
        keyset.append((q.id, order[-1][1] if order else True))
        rows, total = page_rows(self._s, statement, keyset, after, limit)
        return [self._load(row) for row in rows], total


class SellerProfileRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, organization_id: str) -> SellerProfile | None:
        row = self._s.execute(sa.select(t.seller_profiles).where(
            t.seller_profiles.c.organization_id == organization_id)).first()
        if row is None:
            return None
        return SellerProfile(row.organization_id, row.display_name, row.legal_name,
                             c.address_in(row.address), row.tax_id, row.locale, row.time_zone,
                             row.version)

    def apply(self, profile: SellerProfile) -> bool:
        """Stores `profile` when it is newer than the stored one; True when it was."""
        current = self.get(profile.organization_id)
        if not newer(current, profile):
            return False
        values = {**profile.__dict__, "address": c.address_out(profile.address)}
        if current is None:
            self._s.execute(t.seller_profiles.insert().values(**values))
        else:
            self._s.execute(sa.update(t.seller_profiles).where(
                t.seller_profiles.c.organization_id == profile.organization_id,
                t.seller_profiles.c.version == current.version).values(**values))
        return True
