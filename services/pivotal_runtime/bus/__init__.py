"""The event bus: outbox relay, RabbitMQ (or in-process) transport, idempotent consumers.

A domain publishes by staging events in its unit of work (`uow.add_event`) and subscribes by
exposing `consumers(deps) -> list[Subscription]` in `pivotal_<domain>/service.py`.
See docs/events.md.
"""

from pivotal_runtime.bus.dispatch import EventRejected, Subscription
from pivotal_runtime.bus.envelope import Envelope

__all__ = ["Envelope", "EventRejected", "Subscription"]
