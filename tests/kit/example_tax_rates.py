"""The example of docs/architecture.md, "Building a new domain from the kit": quotation's tax
rates (create, get, list, update) in one file. A real domain splits it into
`domain/`, `application/`, `adapters/`, `servicers/` and `service.py`; tests/kit serves it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from pivotal.quotation.v1 import tax_rate_pb2, tax_rate_service_pb2_grpc
from pivotal.quotation.v1 import tax_rate_service_pb2 as pb
from pivotal_runtime.errors import ViolationCollector
from pivotal_runtime.kit.caller import Caller, caller_of_call
from pivotal_runtime.kit.domain import Domain, ServiceDeps
from pivotal_runtime.kit.idempotency import RequestKey, fingerprint
from pivotal_runtime.kit.masks import UpdateMask
from pivotal_runtime.kit.money import round_half_even
from pivotal_runtime.kit.paging import Position, page_request
from pivotal_runtime.kit.proto_types import decimal_from_proto, decimal_to_proto, update_mask_of
from pivotal_runtime.kit.repository import VersionedRepository, after_position, order_by
from pivotal_runtime.kit.resources import Versioned, load_for_change
from pivotal_runtime.types import ExactDecimal, UtcDateTime
from pivotal_runtime.uow import UnitOfWork

# --- adapters/tables.py: the domain's tables (its migration creates exactly these) -----------
metadata = sa.MetaData()
tax_rates = sa.Table(
    "tax_rates", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("organization_id", sa.String(36), nullable=False),
    sa.Column("display_name", sa.String(100), nullable=False),
    sa.Column("rate_percent", ExactDecimal(9, 4), nullable=False),
    sa.Column("create_time", UtcDateTime(), nullable=False),
    sa.Column("update_time", UtcDateTime(), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)


# --- domain/model.py: plain Python, its own rules ----------------------------------------------
@dataclass
class TaxRate(Versioned):
    id: str
    organization_id: str
    display_name: str
    rate_percent: Decimal
    create_time: datetime
    update_time: datetime


def validated(v: ViolationCollector, display_name: str, rate_percent: Decimal) -> dict:
    if not display_name.strip() or len(display_name) > 100:
        v.add("tax_rate.display_name", "must be 1 to 100 characters")
    if not Decimal(0) <= rate_percent <= Decimal(100):
        v.add("tax_rate.rate_percent", "must be between 0 and 100")
    return {"display_name": display_name.strip(),
            "rate_percent": round_half_even(rate_percent, 4)}


# --- adapters/repositories.py and uow.py --------------------------------------------------------
class TaxRateRepository(VersionedRepository[TaxRate]):
    table = tax_rates
    aggregate = TaxRate
    resource_type = "tax_rate"

    def list(self, organization_id: str, after: Position | None, limit: int) -> list[TaxRate]:
        order = [(tax_rates.c.display_name, False), (tax_rates.c.id, False)]
        rows = self._s.execute(sa.select(tax_rates).where(
            tax_rates.c.organization_id == organization_id, after_position(order, after)
        ).order_by(*order_by(order)).limit(limit))
        return [self._from_row(row) for row in rows]


class QuotationUnitOfWork(UnitOfWork):
    def bind(self, session) -> None:
        super().bind(session)
        self.tax_rates = TaxRateRepository(session)


# --- application/tax_rates.py: the use cases ----------------------------------------------------
UPDATABLE = ("display_name", "rate_percent")


class TaxRates:
    def __init__(self, uow, clock) -> None:
        self._uow, self._clock = uow, clock

    def create(self, caller: Caller, display_name: str, rate_percent: Decimal,
               request_id: str) -> TaxRate:
        v = ViolationCollector()
        values = validated(v, display_name, rate_percent)
        v.raise_if_any()
        key = RequestKey(f"tax_rate:{caller.organization_id}", request_id, fingerprint(values))
        now = self._clock()
        with self._uow() as uow:
            if earlier := uow.requests.reserve(key, now):
                return uow.tax_rates.get_in(caller.organization_id, earlier)
            rate = TaxRate(id=str(uuid.uuid4()),
                           organization_id=caller.organization_id, create_time=now,
                           update_time=now, **values)
            uow.tax_rates.add(rate)
            uow.requests.complete(key, rate.id)
            uow.commit()
            return rate

    def get(self, caller: Caller, tax_rate_id: str) -> TaxRate:
        with self._uow(read_only=True) as uow:
            return load_for_change(uow.tax_rates.get_by_id, caller.organization_id,
                                   "tax_rate", tax_rate_id)

    def list(self, caller: Caller, page_size: int, page_token: str):
        page = page_request(page_size, page_token)
        with self._uow(read_only=True) as uow:
            found = uow.tax_rates.list(caller.organization_id, page.after, page.size + 1)
        return page.slice(found, key=lambda rate: (rate.display_name, rate.id))

    def update(self, caller: Caller, tax_rate_id: str, requested: dict, mask: UpdateMask,
               etag: str) -> TaxRate:
        with self._uow() as uow:
            rate = load_for_change(uow.tax_rates.get_by_id, caller.organization_id,
                                   "tax_rate", tax_rate_id, etag)
            fields = mask.fields(UPDATABLE)
            v = ViolationCollector()
            values = validated(v, requested["display_name"] if "display_name" in fields
                               else rate.display_name,
                               requested["rate_percent"] if "rate_percent" in fields
                               else rate.rate_percent)
            v.raise_if_any()
            for name in fields:
                setattr(rate, name, values[name])
            rate.touch(self._clock())
            uow.tax_rates.update(rate)
            uow.commit()
            return rate


# --- servicers/tax_rates.py: proto in, use case, proto out --------------------------------------
def to_proto(rate: TaxRate) -> tax_rate_pb2.TaxRate:
    message = tax_rate_pb2.TaxRate(tax_rate_id=rate.id, organization_id=rate.organization_id,
                                   display_name=rate.display_name, etag=rate.etag,
                                   rate_percent=decimal_to_proto(rate.rate_percent))
    message.create_time.FromDatetime(rate.create_time)
    message.update_time.FromDatetime(rate.update_time)
    return message


class TaxRateServicer(tax_rate_service_pb2_grpc.TaxRateServiceServicer):
    def __init__(self, tax_rates: TaxRates) -> None:
        self.tax_rates = tax_rates

    def CreateTaxRate(self, request, context):
        rate = self.tax_rates.create(
            caller_of_call(), request.tax_rate.display_name,
            decimal_from_proto(request.tax_rate.rate_percent, "tax_rate.rate_percent"),
            request.request_id)
        return pb.CreateTaxRateResponse(tax_rate=to_proto(rate))

    def GetTaxRate(self, request, context):
        rate = self.tax_rates.get(caller_of_call(), request.tax_rate_id)
        return pb.GetTaxRateResponse(tax_rate=to_proto(rate))

    def ListTaxRates(self, request, context):
        found, token = self.tax_rates.list(caller_of_call(), request.page_size,
                                           request.page_token)
        return pb.ListTaxRatesResponse(tax_rates=[to_proto(r) for r in found],
                                       next_page_token=token)

    def UpdateTaxRate(self, request, context):
        requested = request.tax_rate
        rate = self.tax_rates.update(
            caller_of_call(), requested.tax_rate_id,
            {"display_name": requested.display_name,
             "rate_percent": decimal_from_proto(requested.rate_percent, "tax_rate.rate_percent")},
            update_mask_of(request.update_mask, requested), requested.etag)
        return pb.UpdateTaxRateResponse(tax_rate=to_proto(rate))


# --- service.py: the domain's one entry point ---------------------------------------------------
def build(deps: ServiceDeps) -> Domain:
    def uow(read_only: bool = False) -> QuotationUnitOfWork:
        return QuotationUnitOfWork(deps.database, read_only=read_only)

    servicer = TaxRateServicer(TaxRates(uow, deps.clock))

    def register(server) -> list[str]:
        tax_rate_service_pb2_grpc.add_TaxRateServiceServicer_to_server(servicer, server)
        return ["pivotal.quotation.v1.TaxRateService"]

    return Domain(registrations=[register], unit_of_work=uow)
