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
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
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


#: the reply to a message in flight: read it, returning the receipt or raising DeliveryError
Reply = Callable[[], str]


class Submit(Protocol):
    """Hand ``msg`` over without waiting for the server's verdict; the returned :data:`Reply` reads it.

    Raises :class:`DeliveryError` as ``send`` does for what goes wrong before the message's end
    has gone. Nothing else may be sent on the transport until the reply has been read.
    """

    def __call__(self, msg: EmailMessage, *, sender: str, recipient: str) -> Reply: ...


def submitter(transport: Transport) -> Submit | None:
    """The transport's ``submit`` if it can overlap a reply with the making of the next message."""
    submit: Submit | None = getattr(transport, "submit", None)
    return submit


def flush(transport: Transport) -> None:
    """Make what ``transport`` delivered so far durable (files); a no-op for a server."""
    done = getattr(transport, "flush", None)
    if done is not None:
        done()


def begin_flush(transport: Transport) -> Callable[[], None]:
    """Start making what ``transport`` delivered so far durable; the returned wait raises
    :class:`DeliveryError` if that failed (a transport without ``begin_flush`` flushes at once)."""
    start = getattr(transport, "begin_flush", None)
    if start is not None:
        wait: Callable[[], None] = start()
        return wait
    flush(transport)
    return _nothing


def _nothing() -> None:
    """The wait for a flush that has already happened."""


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
        self._unsynced: list[Path] = []              # written, not yet handed to a flush
        self._flushing: list[Future[None]] = []      # the fsyncs of the flush under way
        self._pool: ThreadPoolExecutor | None = None

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
        self.begin_flush()()

    def begin_flush(self) -> Callable[[], None]:
        """:meth:`flush` in the background: the files written so far are fsynced (in parallel),
        then the folder, in threads of their own while the caller goes on writing the next files.
        The returned wait raises :class:`DeliveryError` if that failed; the next flush waits for
        this one first."""
        self._settle()
        paths, self._unsynced = self._unsynced, []
        if not paths:
            return _nothing
        if self._pool is None:  # fsync releases the GIL: several in flight let the disk take them together
            self._pool = ThreadPoolExecutor(max_workers=SYNC_THREADS, thread_name_prefix="pacspdf-eml-sync")
        futures = [self._pool.submit(_fsync_file, path) for path in paths]
        self._flushing = futures
        return self._settle

    def _settle(self) -> None:
        """Wait for the files of the last :meth:`begin_flush`, then fsync the folder (their names)."""
        futures, self._flushing = self._flushing, []
        if not futures:
            return
        errors = [exc for exc in (f.exception() for f in futures) if exc is not None]
        if errors:
            strerror = getattr(errors[0], "strerror", None) or str(errors[0])
            raise DeliveryError(f"cannot make {self.directory} durable: {strerror}", temporary=False,
                                fatal=True) from None
        _fsync_dir(self.directory)

    def close(self) -> None:
        try:
            self.flush()
        finally:
            if self._pool is not None:
                self._pool.shutdown()
                self._pool = None

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
