"""The state of one connection of the bus (relay publisher, consumer), for health and metrics."""

from __future__ import annotations

import logging
import threading
from enum import Enum

from pivotal_runtime.bus.metrics import LINK_UP

log = logging.getLogger("pivotal.bus")


class LinkState(str, Enum):
    STARTING = "starting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    STOPPED = "stopped"


class Link:
    """Holds a state, logs its changes and mirrors it in `pivotal_bus_link_up`."""

    def __init__(self, service: str, name: str) -> None:
        self.service = service
        self.name = name
        self._state = LinkState.STARTING
        self._reason = ""
        self._lock = threading.Lock()
        self._gauge = LINK_UP.labels(service=service, link=name)
        self._gauge.set(0)

    @property
    def state(self) -> LinkState:
        return self._state

    @property
    def reason(self) -> str:
        return self._reason

    @property
    def up(self) -> bool:
        return self._state is LinkState.CONNECTED

    def set(self, state: LinkState, reason: str = "") -> None:
        with self._lock:
            changed = state is not self._state
            self._state, self._reason = state, reason
        self._gauge.set(1 if state is LinkState.CONNECTED else 0)
        if changed:
            level = logging.WARNING if state is LinkState.RECONNECTING else logging.INFO
            log.log(level, "%s %s %s%s", self.service, self.name, state.value,
                    f": {reason}" if reason else "")
