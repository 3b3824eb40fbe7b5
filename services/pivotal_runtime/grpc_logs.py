"""grpcio's own log records that a client can trigger at will.

A request whose metadata holds bytes that are not UTF-8 (an `Authorization: Bearer \\xe9...`
sent through the gateway, or straight to a service) makes grpcio log "Invalid encoding on
b'<the whole header value>'" at ERROR with a traceback; the call itself goes on (the value
reaches the handler as bytes, and the auth interceptor sees no bearer token: 401). A client
must not be able to write tracebacks, or echo a header value (a token) into the log, so the
record becomes one WARNING line without the value.
"""

from __future__ import annotations

import logging

GRPC_CYTHON_LOGGER = "grpc._cython.cygrpc"


class InvalidMetadataEncoding(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith("Invalid encoding on"):
            record.msg, record.args = "a request's metadata is not valid UTF-8 (ignored)", ()
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True


def quiet_invalid_metadata() -> None:
    """Installs the filter (idempotent)."""
    logger = logging.getLogger(GRPC_CYTHON_LOGGER)
    if not any(isinstance(f, InvalidMetadataEncoding) for f in logger.filters):
        logger.addFilter(InvalidMetadataEncoding())
