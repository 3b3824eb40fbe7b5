"""The calls a domain makes as its own workload, wired from the runtime settings: service
tokens from identity (client credentials) and billing's entitlement check.

Without a workload client secret (`PIVOTAL_WORKLOAD_CLIENT_SECRET`) the workload cannot
obtain a service token, so it cannot ask billing: the plan's limits are then not checked
(`UncheckedEntitlements`, logged once). `pivotal up` and the chart provision the secret
where billing enforces plans.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pivotal_runtime.kit.entitlements import EntitlementClient
from pivotal_runtime.kit.service_tokens import ClientCredentialsTokenSource, ServiceTokens

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


def service_tokens(deps: ServiceDeps, clock: Callable[[], datetime]) -> ServiceTokens | None:
    """This workload's service tokens, or None without a client secret or channels."""
    settings = deps.settings
    if settings.workload_client_secret is None or deps.channels is None:
        return None
    channels = deps.channels
    source = ClientCredentialsTokenSource(
        lambda: channels.channel("identity"), deps.name,
        settings.workload_client_secret.get_secret_value(), clock)
    return ServiceTokens(source, clock,
                         timedelta(seconds=settings.service_token_refresh_margin_seconds))


def entitlement_client(deps: ServiceDeps, clock: Callable[[], datetime]
                       ) -> EntitlementClient | UncheckedEntitlements:
    tokens = service_tokens(deps, clock)
    if tokens is None:
        return UncheckedEntitlements(deps.name)
    channels = deps.channels
    return EntitlementClient(
        lambda: channels.channel("billing"), tokens, deps.settings.entitlement_timeout_seconds,
        allow_when_unimplemented=deps.settings.entitlements_allow_when_unimplemented)
