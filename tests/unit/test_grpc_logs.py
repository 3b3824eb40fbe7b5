"""grpcio's "Invalid encoding" record (client-triggered) becomes one WARNING line without
the header value or a traceback."""

from __future__ import annotations

import logging

from pivotal_runtime.grpc_logs import GRPC_CYTHON_LOGGER, quiet_invalid_metadata


def test_invalid_metadata_encoding_is_one_warning_without_the_value(caplog):
    quiet_invalid_metadata()
    logger = logging.getLogger(GRPC_CYTHON_LOGGER)
    with caplog.at_level(logging.INFO, logger=GRPC_CYTHON_LOGGER):
        try:
            b"Bearer \xe9".decode()
        except UnicodeDecodeError:
            logger.exception("Invalid encoding on %s", b"Bearer \xe9secret")
        logger.error("something else")
    quieted, other = caplog.records
    assert (quieted.levelno, quieted.exc_info) == (logging.WARNING, None)
    assert "secret" not in quieted.getMessage()
    assert other.levelno == logging.ERROR
