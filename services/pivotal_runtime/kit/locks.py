"""Serializing the transactions that check a rule over several rows (a person's allocations,
a person's day) on a key of their own.

On PostgreSQL `hold_key` takes a transaction-level advisory lock on a 64-bit hash of the key:
a second transaction holding the same key waits until the first ends, then sees its rows. On
SQLite every writing transaction is already serial (BEGIN IMMEDIATE, see db.py): nothing to do.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.orm import Session


def key_of(*parts: str) -> int:
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def hold_key(session: Session, *parts: str) -> None:
    """Holds the lock of `parts` until the transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key_of(*parts)})
