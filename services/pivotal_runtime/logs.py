"""JSON logs carrying trace id and request id; secrets never leave the process in a log."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from functools import lru_cache

from opentelemetry import trace

from pivotal_runtime.context import current_principal, current_request_id

SENSITIVE_KEY = re.compile(r"(password|passwd|secret|token|authorization|otp|totp|recovery)",
                           re.IGNORECASE)
BEARER = re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]+")
JWT_LIKE = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
REDACTED = "[redacted]"


def redact_text(text: str) -> str:
    lowered = text.lower()
    if "bearer" not in lowered and "eyj" not in lowered:
        return text  # the common case, without running the patterns
    return JWT_LIKE.sub(REDACTED, BEARER.sub("Bearer " + REDACTED, text))


@lru_cache(maxsize=1024)
def _sensitive(key: str) -> bool:
    return SENSITIVE_KEY.search(key) is not None


def redact_fields(fields: dict) -> dict:
    clean = {}
    for key, value in fields.items():
        if _sensitive(key):
            clean[key] = REDACTED
        elif isinstance(value, dict):
            clean[key] = redact_fields(value)
        elif isinstance(value, str):
            clean[key] = redact_text(value)
        else:
            clean[key] = value
    return clean


class JsonFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        self._second: tuple[int, str] = (-1, "")  # replaced whole: threads share it

    def _time(self, created: float) -> str:
        """ISO 8601 in UTC with milliseconds; the date and time part is formatted once a
        second."""
        second = int(created)
        cached, text = self._second
        if cached != second:
            text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = (second, text)
        return f"{text}.{int((created - second) * 1000):03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self._time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_text(record.getMessage()),
            "pid": record.process,  # which worker process of a service wrote it
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
    # No format shows the caller's file and line: do not walk the stack for every record.
    logging._srcfile = None
    from pivotal_runtime.grpc_logs import quiet_invalid_metadata

    quiet_invalid_metadata()  # a client must not write tracebacks into the log


def log_fields(logger: logging.Logger, level: int, message: str, **fields) -> None:
    logger.log(level, message, extra={"fields": fields})
