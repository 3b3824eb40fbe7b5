"""Customers: create (idempotent), get, list, update (mask + etag), archive, unarchive."""

from __future__ import annotations

from pivotal.quotation.v1 import events_pb2 as ev
from pivotal_runtime.kit.caller import Caller
from pivotal_runtime.kit.masks import UpdateMask
from pivotal_runtime.kit.paging import page_request

from pivotal_quotation.application.common import Deps, found, request_key
from pivotal_quotation.application.events import customer_event
from pivotal_quotation.domain.customers import (
    UPDATABLE,
    Customer,
    CustomerFields,
    check_customer,
)
from pivotal_quotation.domain.fields import with_fields


class CustomersService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    def create(self, caller: Caller, fields: CustomerFields, request_id: str = "") -> Customer:
        fields = fields.normalized()
        check_customer(fields)
        now = self._deps.clock()
        key = request_key("customer", caller, request_id, fields)
        with self._deps.uow() as uow:
            earlier = uow.requests.reserve(key, now)
            if earlier:
                return uow.customers.get(caller.organization_id, earlier)
            customer = Customer(self._deps.new_id(), caller.organization_id, fields, now, now)
            uow.customers.add(customer)
            customer_event(uow, ev.CustomerCreated, customer)
            uow.requests.complete(key, customer.id)
            uow.commit()
        return customer

    def get(self, caller: Caller, customer_id: str) -> Customer:
        with self._deps.uow(read_only=True) as uow:
            return found(uow.customers.get(caller.organization_id, customer_id), "customer",
                         customer_id)

    def list(self, caller: Caller, page_size: int, page_token: str, query: str,
             include_archived: bool) -> tuple[list[Customer], str, int]:
        query = query.strip()
        page = page_request(page_size, page_token, query, include_archived)
        with self._deps.uow(read_only=True) as uow:
            customers, total = uow.customers.list(
                caller.organization_id, query=query, include_archived=include_archived,
                after=page.after, limit=page.size + 1)
        customers, token = page.slice(customers,
                                      key=lambda c: (c.fields.display_name, c.id))
        return customers, token, total

    def update(self, caller: Caller, customer_id: str, fields: CustomerFields,
               mask: UpdateMask, etag: str) -> Customer:
        names = mask.fields(UPDATABLE)
        now = self._deps.clock()
        with self._deps.uow() as uow:
            customer = found(uow.customers.get(caller.organization_id, customer_id),
                             "customer", customer_id, etag)
            merged = with_fields(customer.fields, fields, names).normalized()
            check_customer(merged)
            changed = customer.change(merged, names, now)
            if changed:
                uow.customers.update(customer)
                customer_event(uow, ev.CustomerUpdated, customer, changed)
                uow.commit()
        return customer

    def archive(self, caller: Caller, customer_id: str, etag: str) -> Customer:
        return self._lifecycle(caller, customer_id, etag, archive=True)

    def unarchive(self, caller: Caller, customer_id: str, etag: str) -> Customer:
        return self._lifecycle(caller, customer_id, etag, archive=False)

    def _lifecycle(self, caller: Caller, customer_id: str, etag: str, *, archive: bool
                   ) -> Customer:
        now = self._deps.clock()
        with self._deps.uow() as uow:
            customer = found(uow.customers.get(caller.organization_id, customer_id),
                             "customer", customer_id, etag)
            if archive:
                customer.archive(now)
            else:
                customer.unarchive(now)
            uow.customers.update(customer)
            customer_event(uow, ev.CustomerArchived if archive else ev.CustomerUnarchived,
                           customer)
            uow.commit()
        return customer
