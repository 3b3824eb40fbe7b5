"""Event handlers run in the domain's unit of work, after their subscription's prepare step
(which runs before the transaction)."""

from __future__ import annotations

import sqlalchemy as sa
from pivotal.identity.v1.events_pb2 import OrganizationCreated
from pivotal_runtime.bus import Subscription
from pivotal_runtime.bus.dispatch import Ack, Delivery, Dispatcher, Retry
from pivotal_runtime.bus.envelope import message_from_outbox
from pivotal_runtime.db import open_database
from pivotal_runtime.migrations import upgrade
from pivotal_runtime.outbox import outbox
from pivotal_runtime.uow import UnitOfWork

from tests.bus.support import write_events


class BillingUnitOfWork(UnitOfWork):
    def bind(self, session) -> None:
        super().bind(session)
        self.plans = "billing's repositories"


def deliveries(database) -> list[Delivery]:
    with database.engine.connect() as connection:
        rows = connection.execute(sa.select(outbox).order_by(outbox.c.id)).all()
    return [Delivery(message_from_outbox(row, "identity", None)) for row in rows]


def test_handlers_get_the_domains_unit_of_work_and_their_prepared_result(sqlite_settings):
    upgrade(sqlite_settings, "billing")
    database = open_database(sqlite_settings, "billing")
    write_events(database, 2, name="Acme")
    calls: list[tuple] = []

    def fetch_plan(event, envelope) -> str:
        calls.append(("prepare", database.engine.pool.checkedout()))
        return f"plan of {event.display_name}"

    def start_trial(uow, event, envelope, plan) -> None:
        calls.append(("handle", uow.plans, plan))

    dispatcher = Dispatcher("billing", database,
                            [Subscription(OrganizationCreated, start_trial, prepare=fetch_plan)],
                            unit_of_work=lambda: BillingUnitOfWork(database))
    assert dispatcher.process(deliveries(database)) == [Ack(), Ack()]
    assert calls == [("prepare", 0), ("prepare", 0),  # both before the batch's transaction
                     ("handle", "billing's repositories", "plan of Acme"),
                     ("handle", "billing's repositories", "plan of Acme")]
    database.dispose()


def test_a_failing_prepare_step_retries_the_event_without_touching_the_database(
        sqlite_settings):
    upgrade(sqlite_settings, "billing")
    database = open_database(sqlite_settings, "billing")
    write_events(database, 1)

    def unreachable(event, envelope):
        raise ConnectionError("billing's plan service is down")

    def never(uow, event, envelope, prepared):
        raise AssertionError("the handler must not run")

    dispatcher = Dispatcher("billing", database,
                            [Subscription(OrganizationCreated, never, prepare=unreachable)])
    [outcome] = dispatcher.process(deliveries(database))
    assert isinstance(outcome, Retry)
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM inbox").scalar_one() == 0
    database.dispose()
