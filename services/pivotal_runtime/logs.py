"""JSON logs carrying trace id and request id; secrets never leave the process in a log."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

from opentelemetry import trace

from pivotal_runtime.context import current_principal, current_request_id

SENSITIVE_KEY = re.compile(r"(password|passwd|secret|token|authorization|otp|totp|recovery)", re.I)
BEARER = re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]+")
JWT_LIKE = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
REDACTED = "[redacted]"


def redact_text(text: str) -> str:
    return JWT_LIKE.sub(REDACTED, BEARER.sub("Bearer " + REDACTED, text))


def redact_fields(fields: dict) -> dict:
    clean = {}
    for key, value in fields.items():
        if SENSITIVE_KEY.search(key):
            clean[key] = REDACTED
        elif isinstance(value, dict):
            clean[key] = redact_fields(value)
        elif isinstance(value, str):
            clean[key] = redact_text(value)
        else:
            clean[key] = value
    return clean


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_text(record.getMessage()),
        }
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            entry["trace_id"] = format(span.trace_id, "032x")
            entry["span_id"] = format(span.span_id, "016x")
        request_id = current_request_id()
        if request_id:
            entry["request_id"] = request_id
        principal = current_principal()
        if principal is not None:
            entry["user_id"] = principal.subject
            entry["organization_id"] = principal.organization_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(redact_fields(fields))
        if record.exc_info:
            entry["exception"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO", json_output: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_output else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def log_fields(logger: logging.Logger, level: int, message: str, **fields) -> None:
    logger.log(level, message, extra={"fields": fields})
