"""Before `pivotal up` binds anything: every port it needs is free, or it refuses to start.

gRPC servers bind with SO_REUSEPORT, so the kernel lets a second `pivotal up` bind the same
ports as a running one (and share its traffic). A plain socket without SO_REUSEPORT cannot
bind a port that any other socket listens on: that bind is the probe. The holder is named
from /proc (Linux; the owner's own processes), and a lock file in the state folder names the
process of another `pivotal up` on the same state.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import IO

LISTEN = "0A"  # the TCP state "listen" in /proc/net/tcp


class PortInUse(SystemExit):
    """Start-up stops with a message naming the port and, when it can be found, its holder."""


class StateInUse(SystemExit):
    """Another `pivotal up` runs on the same state folder."""


@dataclass(frozen=True)
class Port:
    purpose: str  # "identity", "gateway", ...
    host: str
    number: int


def port_is_free(host: str, number: int) -> bool:
    bind_host = "0.0.0.0" if host in ("", "0.0.0.0") else host
    family = socket.AF_INET6 if ":" in bind_host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR only lets a port with connections in TIME_WAIT be reused; it never
        # lets two sockets listen on one port (that takes SO_REUSEPORT on both).
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((bind_host, number))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def _listening_inodes(number: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == LISTEN and \
                    int(fields[1].rsplit(":", 1)[1], 16) == number:
                inodes.add(fields[9])
    return inodes


def holder_of(number: int) -> str | None:
    """"pid 123 (pivotal up)" for the process listening on the port, when /proc tells."""
    inodes = {f"socket:[{inode}]" for inode in _listening_inodes(number)}
    if not inodes:
        return None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            links = {os.readlink(fd) for fd in (entry / "fd").iterdir()}
        except OSError:
            continue  # gone, or another user's
        if links & inodes:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace").strip()
            return f"pid {entry.name} ({_short(command)})"
    return "another user's process"


def _short(command: str) -> str:
    words = [os.path.basename(word) if i == 0 or "/" in word else word
             for i, word in enumerate(command.split()[:4])]
    return " ".join(words)


def ensure_free(ports: list[Port]) -> None:
    """Raises `PortInUse` naming every taken port and its holder."""
    taken = []
    for port in ports:
        if not port_is_free(port.host, port.number):
            holder = holder_of(port.number)
            taken.append(f"{port.host}:{port.number} ({port.purpose}) is in use"
                         + (f" by {holder}" if holder else ""))
    if taken:
        raise PortInUse("cannot start: " + "; ".join(taken) + ". Stop that process, or choose "
                        "other ports (PIVOTAL_<SERVICE>_PORT, PIVOTAL_GATEWAY_PORT, "
                        "PIVOTAL_GATEWAY_ADMIN_PORT).")


def lock_state(state_dir: Path) -> IO[str]:
    """Holds `<state_dir>/pivotal.lock` (with this pid in it) for the life of the process, or
    raises `StateInUse` naming the pid that holds it. Keep the returned file open."""
    from pivotal_runtime.state import private_file

    path = private_file(state_dir / "pivotal.lock")  # and the state folder 0700
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise StateInUse(f"cannot start: another `pivotal up` (pid {holder}) uses the state "
                         f"folder {state_dir} ({path} is locked)") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle
