"""Encryption at rest for private signing keys and TOTP secrets (Fernet: AES-128-CBC with
HMAC-SHA256), keyed by the key-encryption key from settings."""

from __future__ import annotations

import base64
import logging
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pivotal_runtime.state import private_folder

log = logging.getLogger("pivotal.identity")


class SecretBox:
    def __init__(self, key_encryption_key: str) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                       info=b"pivotal-identity-secrets-v1").derive(key_encryption_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, plaintext: bytes) -> bytes:
        return self._fernet.encrypt(plaintext)

    def open(self, sealed: bytes) -> bytes:
        try:
            return self._fernet.decrypt(sealed)
        except InvalidToken:
            raise RuntimeError("a stored secret cannot be decrypted: the key-encryption key "
                               "(PIVOTAL_IDENTITY_KEY_ENCRYPTION_KEY) changed") from None


def key_encryption_key(configured: str | None, state_dir: Path, embedded: bool) -> str:
    """The configured key, or one kept in the state folder (created on first start)."""
    if configured:
        return configured
    path = state_dir / "identity" / "key-encryption.key"
    if not embedded:
        log.warning("PIVOTAL_IDENTITY_KEY_ENCRYPTION_KEY is not set; keeping a generated key "
                    "in %s (set the variable outside embedded mode)", path)
    if path.exists():
        return path.read_text().strip()
    private_folder(path.parent)
    value = secrets.token_urlsafe(32)
    # Written aside, then linked into place: worker processes starting together all end up
    # with the one key that was linked first, never with a half-written file.
    draft = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(value)
    try:
        os.link(draft, path)
    except FileExistsError:
        value = path.read_text().strip()
    finally:
        draft.unlink()
    return value
