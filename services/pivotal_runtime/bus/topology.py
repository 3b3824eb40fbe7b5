"""Names of the exchanges and queues, and the topic matching both brokers share.

Production names are fixed by DESIGN.md: the topic exchange `pivotal.events` and, per
consuming service, the quorum queue `pivotal.<service>` with its dead-letter exchange
`pivotal.<service>.dlx` and dead-letter queue `pivotal.<service>.dlq`. Tests and the benchmark
use another prefix so that they never touch production queues.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Topology:
    prefix: str = "pivotal"

    @property
    def exchange(self) -> str:
        return f"{self.prefix}.events"

    def queue(self, service: str) -> str:
        return f"{self.prefix}.{service}"

    def dead_letter_exchange(self, service: str) -> str:
        return f"{self.prefix}.{service}.dlx"

    def dead_letter_queue(self, service: str) -> str:
        return f"{self.prefix}.{service}.dlq"


PRODUCTION = Topology()


def queue_arguments(topology: Topology, service: str, delivery_limit: int) -> dict[str, object]:
    """A consumer queue: replicated, bounded redeliveries, dead letters kept at least once."""
    return {
        "x-queue-type": "quorum",
        "x-delivery-limit": delivery_limit,
        "x-dead-letter-exchange": topology.dead_letter_exchange(service),
        "x-dead-letter-strategy": "at-least-once",
        # at-least-once dead-lettering requires it; no length limit is set, so nothing is refused.
        "x-overflow": "reject-publish",
    }


DEAD_LETTER_QUEUE_ARGUMENTS: dict[str, object] = {"x-queue-type": "quorum"}


def topic_matches(binding_key: str, routing_key: str) -> bool:
    """AMQP topic matching: `*` is exactly one word, `#` zero or more."""
    return _match(tuple(binding_key.split(".")), tuple(routing_key.split(".")))


@cache
def _match(pattern: tuple[str, ...], words: tuple[str, ...]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[skip:]) for skip in range(len(words) + 1))
    if not words:
        return False
    return (head == "*" or head == words[0]) and _match(rest, words[1:])
