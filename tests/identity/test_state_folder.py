"""Issue 9: the embedded state folder and its files are readable by their owner only."""

from __future__ import annotations

import stat

from pivotal.identity.v1 import credential_service_pb2 as cred_pb
from pivotal_runtime.ports import lock_state
from pivotal_runtime.state import private_file, private_folder

from tests.identity.conftest import fast_identity_settings, identity_server, settings_for


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_existing_loose_folders_and_files_are_tightened(tmp_path):
    folder = tmp_path / "state"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    loose = folder / "old.db"
    loose.write_text("")
    loose.chmod(0o644)
    assert _mode(private_folder(folder)) == 0o700
    assert _mode(private_file(loose)) == 0o600


def test_databases_keys_mail_and_lock_file_are_owner_only(tmp_path):
    state = tmp_path / "state"
    lock = lock_state(state)
    try:
        # No configured key-encryption key: identity keeps a generated one in the folder.
        identity = fast_identity_settings(key_encryption_key=None)
        with identity_server(settings_for("sqlite", state, None), identity) as server:
            owner = server.register("Private").owner
            server.login(owner.email)  # writes the WAL
            server.credentials.RequestPasswordReset(cred_pb.RequestPasswordResetRequest(
                email=owner.email))
            server.token_mailed_to(owner.email)
    finally:
        lock.close()
    folders = [state, *(p for p in state.rglob("*") if p.is_dir())]
    files = [p for p in state.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"identity.db", "pivotal.lock", "key-encryption.key"} <= names, names
    assert any(name.endswith(".eml") for name in names), names
    assert {str(p.relative_to(state)): oct(_mode(p)) for p in folders
            if _mode(p) != 0o700} == {}
    assert {str(p.relative_to(state)): oct(_mode(p)) for p in files
            if _mode(p) != 0o600} == {}
