"""Domain errors: plain Python, no gRPC. The error interceptor maps them to status codes.

Domain and application code raise these; they carry a stable `reason` (the
`ErrorReason` enum value name without its `ERROR_REASON_` prefix) and whatever detail the
client needs to act (field violations, the current state, the missing resource).
"""

from __future__ import annotations

from dataclasses import dataclass, field


class FieldReason:
    """The `reason` of a BadRequest field violation: each is a value of
    `pivotal.common.v1.FieldViolationReason` without its prefix (a test checks it)."""

    INVALID_FIELD = "INVALID_FIELD"  # no more specific reason applies
    REQUIRED = "REQUIRED"
    TOO_SHORT = "TOO_SHORT"
    TOO_LONG = "TOO_LONG"
    INVALID_FORMAT = "INVALID_FORMAT"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    NOT_DISTINCT = "NOT_DISTINCT"
    UNKNOWN_ENUM_VALUE = "UNKNOWN_ENUM_VALUE"
    UNKNOWN_REFERENCE = "UNKNOWN_REFERENCE"
    UNKNOWN_MASK_PATH = "UNKNOWN_MASK_PATH"
    OUTPUT_ONLY = "OUTPUT_ONLY"
    IMMUTABLE = "IMMUTABLE"
    PAGE_SIZE_OUT_OF_RANGE = "PAGE_SIZE_OUT_OF_RANGE"
    PAGE_TOKEN_INVALID = "PAGE_TOKEN_INVALID"
    REQUEST_ID_INVALID = "REQUEST_ID_INVALID"
    PERMISSION_UNKNOWN = "PERMISSION_UNKNOWN"
    # Password policy (`PasswordPolicy.broken_rule` upper-cased).
    CONTAINS_EMAIL = "CONTAINS_EMAIL"
    COMMON = "COMMON"
    UNCHANGED = "UNCHANGED"

    @classmethod
    def all(cls) -> frozenset[str]:
        return frozenset(v for k, v in vars(cls).items() if k.isupper())


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str
    reason: str = FieldReason.INVALID_FIELD


@dataclass(frozen=True)
class PreconditionViolation:
    type: str
    subject: str
    description: str


class DomainError(Exception):
    """Base class. `code` names the canonical gRPC code; `reason` is stable for clients."""

    code = "INTERNAL"
    default_reason = "INTERNAL"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        metadata: dict[str, str] | None = None,
        retry_delay_seconds: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or self.default_reason
        self.metadata = dict(metadata or {})
        # When set, the status carries a google.rpc.RetryInfo with this delay.
        self.retry_delay_seconds = retry_delay_seconds


class InvalidArgument(DomainError):
    code = "INVALID_ARGUMENT"
    default_reason = "INVALID_ARGUMENT"

    def __init__(self, violations: list[FieldViolation], message: str | None = None, **kw) -> None:
        if not violations:
            raise ValueError("InvalidArgument needs at least one field violation")
        self.violations = list(violations)
        summary = "; ".join(f"{v.field}: {v.description}" for v in self.violations)
        super().__init__(message or f"invalid request: {summary}", **kw)


class NotFound(DomainError):
    code = "NOT_FOUND"
    default_reason = "RESOURCE_NOT_FOUND"

    def __init__(self, resource_type: str, resource_name: str, **kw) -> None:
        self.resource_type = resource_type
        self.resource_name = resource_name
        super().__init__(f"{resource_type} {resource_name!r} not found", **kw)


class AlreadyExists(DomainError):
    code = "ALREADY_EXISTS"
    default_reason = "ALREADY_EXISTS"


class FailedPrecondition(DomainError):
    code = "FAILED_PRECONDITION"
    default_reason = "INVALID_STATE"

    def __init__(
        self, message: str, violations: list[PreconditionViolation] | None = None, **kw
    ) -> None:
        self.violations = list(violations or [])
        super().__init__(message, **kw)


class InvalidState(FailedPrecondition):
    """A workflow transition the current state forbids; names the current state."""

    def __init__(self, resource: str, current_state: str, action: str, **kw) -> None:
        self.current_state = current_state
        violation = PreconditionViolation(
            type="STATE",
            subject=resource,
            description=f"cannot {action} while in state {current_state}",
        )
        metadata = {"current_state": current_state, **kw.pop("metadata", {})}
        super().__init__(
            f"cannot {action} {resource}: it is {current_state}",
            [violation],
            metadata=metadata,
            **kw,
        )


class Aborted(DomainError):
    code = "ABORTED"
    default_reason = "CONCURRENT_MODIFICATION"


class EtagMismatch(Aborted):
    default_reason = "ETAG_MISMATCH"

    def __init__(self, resource: str, **kw) -> None:
        super().__init__(f"{resource} was changed by someone else; read it again", **kw)


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"
    default_reason = "TOKEN_INVALID"


class PermissionDenied(DomainError):
    code = "PERMISSION_DENIED"
    default_reason = "PERMISSION_MISSING"


class ResourceExhausted(DomainError):
    code = "RESOURCE_EXHAUSTED"
    default_reason = "QUOTA_EXCEEDED"


class Unavailable(DomainError):
    code = "UNAVAILABLE"
    default_reason = "DEPENDENCY_UNAVAILABLE"


class Unimplemented(DomainError):
    code = "UNIMPLEMENTED"
    default_reason = "NOT_IMPLEMENTED"


@dataclass
class ViolationCollector:
    """Collects every field problem of a request, then raises them together."""

    violations: list[FieldViolation] = field(default_factory=list)

    def add(self, field_path: str, description: str,
            reason: str = FieldReason.INVALID_FIELD) -> None:
        self.violations.append(FieldViolation(field_path, description, reason))

    def require(self, condition: bool, field_path: str, description: str) -> None:
        if not condition:
            self.add(field_path, description)

    def raise_if_any(self) -> None:
        if self.violations:
            raise InvalidArgument(self.violations)
