"""Whether an organization may use more of a limit or a flagged feature (CheckEntitlement).
Pure code: deny by default, a refusal is an answer, not an error."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from pivotal_runtime.errors import FailedPrecondition, PreconditionViolation

from pivotal_billing.domain import reasons
from pivotal_billing.domain.plans import Entitlement, EntitlementKind


class Denial(Enum):
    LIMIT_EXCEEDED = 1
    FEATURE_DISABLED = 2
    NOT_IN_PLAN = 3
    SUBSCRIPTION_CANCELED = 4


@dataclass(frozen=True)
class Decision:
    key: str
    allowed: bool
    denial: Denial | None
    entitlement: Entitlement | None
    used: int
    requested: int

    @property
    def remaining(self) -> int:
        e = self.entitlement
        if e is None or e.kind is not EntitlementKind.LIMIT or e.unlimited:
            return 0
        return max(e.limit - self.used, 0)


def decide(key: str, entitlements: tuple[Entitlement, ...], *, canceled: bool, used: int,
           requested: int) -> Decision:
    entitlement = next((e for e in entitlements if e.key == key), None)

    def answer(denial: Denial | None) -> Decision:
        return Decision(key, denial is None, denial, entitlement, used, requested)

    if canceled:
        return answer(Denial.SUBSCRIPTION_CANCELED)
    if entitlement is None:
        return answer(Denial.NOT_IN_PLAN)
    if entitlement.kind is EntitlementKind.FLAG:
        return answer(None if entitlement.enabled else Denial.FEATURE_DISABLED)
    if entitlement.unlimited or used + requested <= entitlement.limit:
        return answer(None)
    return answer(Denial.LIMIT_EXCEEDED)


def check_limits_cover(entitlements: tuple[Entitlement, ...], usage: dict[str, int]) -> None:
    """FAILED_PRECONDITION (LIMIT_BELOW_USAGE) when a limit of `entitlements` is below the
    usage billing knows of (3 users on a plan of 2); the metadata names the first key, the
    PreconditionFailure lists each."""
    below = [(e.key, e.limit, usage[e.key]) for e in entitlements
             if e.kind is EntitlementKind.LIMIT and not e.unlimited and e.key in usage
             and usage[e.key] > e.limit]
    if below:
        raise FailedPrecondition(
            "the plan's limits are below the organization's usage: " + ", ".join(
                f"{key} {limit} < {used}" for key, limit, used in below),
            [PreconditionViolation("LIMIT", key, f"limit {limit} is below the usage {used}")
             for key, limit, used in below],
            reason=reasons.LIMIT_BELOW_USAGE, metadata={"limit": below[0][0]})
