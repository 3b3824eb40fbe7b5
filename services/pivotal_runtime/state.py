"""The embedded state folder is its owner's alone: folders 0700, files 0600 (SQLite
databases and their WAL files, keys, mails, the lock file). Folders and files are created
with those modes and tightened when they already exist with looser ones."""

from __future__ import annotations

import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path) -> Path:
    """`path` and its missing parents created 0700; `path` itself tightened to 0700."""
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o777 != FOLDER_MODE:
        path.chmod(FOLDER_MODE)
    return path


def private_file(path: Path) -> Path:
    """`path` created empty 0600 if missing (SQLite gives its -wal and -shm files the
    database file's mode), or tightened to 0600."""
    private_folder(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(descriptor)
    if path.stat().st_mode & 0o777 != FILE_MODE:
        path.chmod(FILE_MODE)
    return path
