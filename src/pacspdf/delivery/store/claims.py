"""Turn this process into a claim owner's name, and a stored owner's name into "is it still alive here?".

A sender names itself ``machine|pid|start|nonce`` when it opens an outbox: the machine is the
host name, the boot and the PID namespace; ``start`` is the process's start time (so a reused
PID is not mistaken for its predecessor); the nonce tells apart two outboxes open in one
process. A row claimed by an owner that is provably gone (its process ended on this machine,
or its outbox was closed in this process) can be claimed again at once; any other owner's
row waits for its lease to run out, since another host's process cannot be looked at.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from functools import cache
from pathlib import Path

from pacspdf.errors import PacspdfError

DEFAULT_LEASE = 300.0  # seconds a claim holds a row; renewed before every try of the transport
LEASE_ENV = "PACSPDF_CLAIM_LEASE"
_LIVE: set[str] = set()  # owners of the outboxes open in this process
_LIVE_LOCK = threading.Lock()


class LeaseLost(PacspdfError):
    """This sender no longer holds the row: its lease ran out and another sender took it over."""

    def __init__(self, key: str, holder: str) -> None:
        super().__init__(f"{key}: the claim has passed to {holder}")
        self.key = key
        self.holder = holder


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


@cache
def machine() -> str:
    """This machine as claims name it: host, boot, PID namespace (a container is its own machine)."""
    boot = _read("/proc/sys/kernel/random/boot_id")[:8]
    try:
        pidns = str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        pidns = ""
    host = socket.gethostname().replace("|", "_")
    return f"{host}/{boot}/{pidns}" if boot else host


def start_time(pid: int) -> str:
    """When process ``pid`` started (clock ticks since boot), or '' where that cannot be read."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return ""
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else ""


def new_owner() -> str:
    """A fresh owner name for an outbox opened in this process; alive until :func:`end_owner`."""
    pid = os.getpid()
    owner = f"{machine()}|{pid}|{start_time(pid)}|{secrets.token_hex(4)}"
    with _LIVE_LOCK:
        _LIVE.add(owner)
    return owner


def end_owner(owner: str) -> None:
    """The outbox of ``owner`` is closed: rows it still holds may be claimed at once."""
    with _LIVE_LOCK:
        _LIVE.discard(owner)


def is_dead(owner: str) -> bool:
    """Whether ``owner`` is provably gone; False for another machine's owner (only its lease frees it)."""
    parts = owner.split("|")
    if len(parts) != 4 or parts[0] != machine() or not parts[1].isdigit():
        return False
    pid, started = int(parts[1]), parts[2]
    if pid == os.getpid() and started == start_time(pid):
        with _LIVE_LOCK:
            return owner not in _LIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, as another user
        pass
    return bool(started) and start_time(pid) not in ("", started)  # the PID now names another process


def on_this_machine(owner: str) -> bool:
    return owner.split("|", 1)[0] == machine()


def describe(owner: str) -> str:
    """``host:pid`` for messages ('another sender' when the name is not one of ours)."""
    parts = owner.split("|")
    if len(parts) != 4:
        return "another sender"
    return f"{parts[0].split('/', 1)[0]}:{parts[1]}"


def new_token() -> str:
    """The token of one claim: mark-sent and the other outcomes must quote it to write the row."""
    return secrets.token_hex(12)
