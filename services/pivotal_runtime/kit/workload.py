"""Billing's entitlement check as this workload, wired from the runtime settings (its service
tokens: `service_tokens.workload_tokens`).

Without a workload client secret (`PIVOTAL_WORKLOAD_CLIENT_SECRET`) the workload cannot
obtain a service token, so it cannot ask billing: the plan's limits are then not checked
(`UncheckedEntitlements`, logged once). A deployment that enforces plans gives each workload
its secret (identity knows them from `PIVOTAL_IDENTITY_PLATFORM_CLIENT_SECRETS`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pivotal_runtime.kit.entitlements import EntitlementClient
from pivotal_runtime.kit.service_tokens import workload_tokens

if TYPE_CHECKING:
    from pivotal_runtime.kit.domain import ServiceDeps

log = logging.getLogger("pivotal.entitlements")


class UncheckedEntitlements:
    def __init__(self, workload: str) -> None:
        self._workload = workload
        self._warned = False

    def check(self, organization_id: str, key: str, current_usage: int, requested: int = 1
              ) -> None:
        if not self._warned:
            self._warned = True
            log.warning("%s has no workload client secret: plan limits (%s) are not checked",
                        self._workload, key)


def entitlement_client(deps: ServiceDeps) -> EntitlementClient | UncheckedEntitlements:
    """Billing's CheckEntitlement asked as this workload; unchecked without its secret."""
    if deps.settings.workload_client_secret is None or deps.channels is None:
        return UncheckedEntitlements(deps.name)
    tokens, channels = workload_tokens(deps), deps.channels
    return EntitlementClient(lambda: channels.channel("billing"), tokens,
                             deps.settings.entitlement_timeout_seconds)
