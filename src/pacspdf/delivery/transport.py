"""Hand a message to its destination: the Transport contract, its failures, and ``.eml`` files.

The SMTP client is :mod:`pacspdf.delivery.smtp`. Every failure becomes a
:class:`DeliveryError` saying whether trying again can help:

- *temporary* (connection refused, timeout, dropped connection, a 4xx reply): retry later;
- *permanent* (a 5xx reply to this message): the message fails now;
- *fatal* (wrong TLS or login settings, a 5xx greeting, the sender address refused): no
  message can go until the settings change, so the batch stops and its rows stay queued.
"""

from __future__ import annotations

import contextlib
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from pacspdf.delivery.message import wire_chunks

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """The transport could not deliver; ``reason`` is what the server (or the network) said."""

    def __init__(self, reason: str, *, temporary: bool, fatal: bool = False,
                 connection: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.temporary = temporary
        self.fatal = fatal
        self.connection = connection  # failed before a session existed (connect, TLS, login)


class Transport(Protocol):
    """Delivers one message at a time; may keep a connection open between calls."""

    name: str

    def send(self, msg: EmailMessage, *, sender: str, recipient: str) -> str:
        """Deliver ``msg`` to ``recipient``; return the receipt (server reply or file path)."""
        ...

    def close(self) -> None: ...

    def describe(self) -> str: ...


def flush(transport: Transport) -> None:
    """Make what ``transport`` delivered so far durable (files); a no-op for a server."""
    done = getattr(transport, "flush", None)
    if done is not None:
        done()


def sync_every(transport: Transport) -> int:
    """How many messages may be delivered before :func:`flush` (0: every message is durable at once)."""
    return int(getattr(transport, "sync_every", 0))


# ---------------------------------------------------------------------------- file


class FileTransport:
    """One ``.eml`` file per message, named after its Message-ID, written atomically.

    Writing the same message again replaces the file with identical content, so a resend
    after a crash leaves one file, never two.
    """

    name = "file"
    #: Sending the same message again rewrites the same file, so the files (and the outbox's
    #: ``sent``) need only be made durable in groups: a power cut resends, never loses.
    sync_every = 64

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._unsynced: list[Path] = []

    def path_for(self, msg: EmailMessage) -> Path:
        # The raw header as written (reading msg["Message-ID"] would parse it again, per message).
        raw = next((v for k, v in msg.raw_items() if k.lower() == "message-id"), "")
        mid = str(raw).strip().strip("<> ")
        stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in mid.partition("@")[0])
        if not stem:
            raise DeliveryError("message has no Message-ID", temporary=False)
        return self.directory / f"{stem}.eml"

    def send(self, msg: EmailMessage, *, sender: str, recipient: str) -> str:
        path = self.path_for(msg)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # One writer per outbox (the batch lock), so the process id makes the name unique.
            tmp = str(self.directory / f".{path.stem}.{os.getpid()}.eml.tmp")
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)  # left by a killed run of a process with the same id
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.writelines(wire_chunks(msg))  # the shared base64 piece as is, no join
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            raise DeliveryError(f"cannot write {path}: {exc.strerror}", temporary=False,
                                fatal=True) from None
        self._unsynced.append(path)
        return str(path)

    def flush(self) -> None:
        """fsync every file written since the last flush, then the folder (the renames)."""
        try:
            if len(self._unsynced) > 1:
                # fsync releases the GIL: several in flight let the file system commit them together.
                with ThreadPoolExecutor(max_workers=SYNC_THREADS) as pool:
                    list(pool.map(_fsync_file, self._unsynced))
            else:
                for path in self._unsynced:
                    _fsync_file(path)
        except OSError as exc:
            raise DeliveryError(f"cannot make {self.directory} durable: {exc.strerror}", temporary=False,
                                fatal=True) from None
        if self._unsynced:
            _fsync_dir(self.directory)
        self._unsynced.clear()

    def close(self) -> None:
        self.flush()

    def describe(self) -> str:
        return f"file transport: {self.directory}"


SYNC_THREADS = 8


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
