"""AIP-155 idempotent creates: the request id is reserved first, in the creating transaction.

    with deps.uow() as uow:
        earlier = uow.requests.reserve(key, now)
        if earlier:
            return uow.quotes.get_by_id(earlier)       # the first call's resource
        quote = ...; uow.quotes.add(quote)
        uow.requests.complete(key, quote.id)
        uow.commit()

`reserve` is `INSERT ... ON CONFLICT DO NOTHING` of (scope, request_id, fingerprint). A
concurrent duplicate's insert waits for the first transaction (PostgreSQL waits on the
conflicting key; SQLite's write transactions queue), then finds the row and returns the
resource the first one created. If the first rolled back, the duplicate's insert succeeds and
it creates the resource itself. Same request id, different content: ALREADY_EXISTS with
reason REQUEST_ID_REUSED.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pivotal_runtime.errors import Aborted, AlreadyExists, DomainError
from pivotal_runtime.kit.repository import insert_ignore
from pivotal_runtime.kit.tables import idempotent_requests as table

REQUEST_ID_REUSED = "REQUEST_ID_REUSED"


def fingerprint(*parts: object) -> str:
    """A stable hash of a request's content (what makes two requests "the same")."""
    return hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class RequestKey:
    """One create request: `scope` names what is created and for whom (for example
    `user:<organization id>`), `request_id` is the client's UUID (may be empty: no
    idempotency), `fingerprint` hashes the request's content."""

    scope: str
    request_id: str
    fingerprint: str


class IdempotentRequests:
    def __init__(self, session: Session) -> None:
        self._s = session

    def reserve(self, key: RequestKey, now: datetime) -> str | None:
        """None when this call owns the request id (create now, then `complete`); else the
        id of the resource an earlier call with the same request created."""
        if not key.request_id:
            return None
        if insert_ignore(self._s, table, {"scope": key.scope, "request_id": key.request_id,
                                          "fingerprint": key.fingerprint, "resource_id": "",
                                          "create_time": now}, ["scope", "request_id"]):
            return None
        row = self._s.execute(sa.select(table.c.fingerprint, table.c.resource_id).where(
            table.c.scope == key.scope, table.c.request_id == key.request_id)).one()
        if row.fingerprint != key.fingerprint:
            raise AlreadyExists("this request_id was used for a different request",
                                reason=REQUEST_ID_REUSED)
        if not row.resource_id:
            raise Aborted("the first request with this request_id is still running; retry")
        return row.resource_id

    def find(self, key: RequestKey) -> str | None:
        """The resource of an earlier, committed request with this id (a read, for a check
        before the creating transaction: a retry is answered without redoing the work)."""
        if not key.request_id:
            return None
        row = self._s.execute(sa.select(table.c.fingerprint, table.c.resource_id).where(
            table.c.scope == key.scope, table.c.request_id == key.request_id)).first()
        if row is None:
            return None
        if row.fingerprint != key.fingerprint:
            raise AlreadyExists("this request_id was used for a different request",
                                reason=REQUEST_ID_REUSED)
        return row.resource_id or None

    def find_after(self, key: RequestKey, checks: Callable[[], None]) -> str | None:
        """`find`, after the create's conflict checks: `checks()` runs first, and when it
        raises, an earlier request with this id still wins. A retry that raced the first
        call sees what that call created (the email it took, the name it used) and must
        answer with the first call's resource, not with the conflict."""
        try:
            checks()
        except DomainError:
            if earlier := self.find(key):
                return earlier
            raise
        return self.find(key)

    def complete(self, key: RequestKey, resource_id: str) -> None:
        if key.request_id:
            self._s.execute(sa.update(table).where(
                table.c.scope == key.scope, table.c.request_id == key.request_id
            ).values(resource_id=resource_id))
