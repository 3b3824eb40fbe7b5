"""Prometheus metrics of the event bus."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

PUBLISHED = Counter(
    "pivotal_bus_published_total",
    "Events sent to the broker by the outbox relay (before confirmation).",
    ["service"],
)
CONFIRMED = Counter(
    "pivotal_bus_confirmed_total",
    "Events the broker confirmed; their outbox rows are then marked published.",
    ["service"],
)
PUBLISH_FAILURES = Counter(
    "pivotal_bus_publish_failures_total",
    "Relay batches that were not confirmed (broker down, nack, timeout) and will be retried.",
    ["service"],
)
OUTBOX_BACKLOG = Gauge(
    "pivotal_outbox_backlog",
    "Outbox rows not yet published.",
    ["service"],
)
OUTBOX_OLDEST_UNSENT_AGE = Gauge(
    "pivotal_outbox_oldest_unsent_age_seconds",
    "Age of the oldest outbox row not yet published (0 when none).",
    ["service"],
)
OUTBOX_PURGED = Counter(
    "pivotal_outbox_purged_total",
    "Published outbox rows deleted after the retention period.",
    ["service"],
)
CONSUMED = Counter(
    "pivotal_bus_consumed_total",
    "Events whose handler effect committed, by consumer and event type.",
    ["consumer", "event_type"],
)
DUPLICATES = Counter(
    "pivotal_bus_duplicates_total",
    "Deliveries of events the consumer had already processed (acknowledged, no effect).",
    ["consumer"],
)
REDELIVERED = Counter(
    "pivotal_bus_redelivered_total",
    "Deliveries the broker flagged as redelivered.",
    ["consumer"],
)
RETRIED = Counter(
    "pivotal_bus_retried_total",
    "Handler failures returned to the queue for another attempt after a back-off.",
    ["consumer"],
)
DEAD_LETTERED = Counter(
    "pivotal_bus_dead_lettered_total",
    "Messages moved to the dead-letter queue, by consumer and reason.",
    ["consumer", "reason"],
)
CONSUME_LAG = Histogram(
    "pivotal_bus_consume_lag_seconds",
    "Time from the event's occurrence to the commit of its effect.",
    ["consumer"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
LINK_UP = Gauge(
    "pivotal_bus_link_up",
    "1 while a bus connection (relay, consumer) is connected, else 0.",
    ["service", "link"],
)
