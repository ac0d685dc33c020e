"""Drain the store: send due confirmation and sales mails, then the outbox's queued copies, one at a time.

The queued copies go through the delivery pipeline (``retry_pending``: the same claims,
personalisation, message and transport code as ``pacspdf send``), so any number of workers,
``send`` and ``outbox retry`` runs on any hosts may drain one outbox at once: each copy is
claimed by one of them. A stop request is honoured between two messages: the one in flight
is always finished and recorded.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from pacspdf.web import core
from pacspdf.web.mails import confirmation_message, sales_message
from pacspdf.web.settings import Settings
from pacspdf.web.store import Mail, WebStore, later
from pacspdf.web.tokens import Purpose, sign

log = logging.getLogger("pacspdf.web.worker")


class _Stopping(Exception):
    """Raised between two messages when the worker was asked to stop."""


class _Turn(Exception):
    """Raised after a slice of copies, so new visitors' confirmation mails never wait for a backlog."""


COPIES_PER_TURN = 10


class Worker:
    """Sends what the intake and ``pacspdf send`` left to send; safe to run beside other workers."""

    def __init__(self, db: Path | str | core.Target, settings: Settings, *, pdf_dir: Path = core.DEFAULT_OUT,
                 outbox_dir: Path | None = None,
                 environ: Mapping[str, str] | None = None, poll: float = 1.0,
                 retry: core.RetryPolicy | None = None) -> None:
        self.db = core.parse_target(db)
        self.settings = settings
        self.pdf_dir = Path(pdf_dir)
        self.outbox_dir = outbox_dir or core.files_dir(self.db)
        self.environ = environ
        self.poll = poll
        self.retry = retry or core.RetryPolicy(attempts=3, first_delay=1.0, max_delay=10.0)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._contexts: dict[str, core.MailContext] = {}
        self._bindings: dict[str, core.ReportBinding] = {}
        self._transports: dict[str, core.Transport] = {}
        self._thread: threading.Thread | None = None
        self.sent = 0
        self._next_expiry = 0.0
        self._drain_after = 0.0   # monotonic time before which a failing outbox is left alone
        self._backoff = 0.0

    # ------------------------------------------------------------------ control

    def wake(self) -> None:
        self._drain_after = 0.0  # something new: try the outbox again now
        self._wake.set()

    def stop(self, timeout: float | None = 60.0) -> None:
        """Ask the worker to stop after the message in flight, and wait for it."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> threading.Thread:
        self._thread = threading.Thread(target=self.run, name="pacspdf-worker", daemon=True)
        self._thread.start()
        return self._thread

    def run(self) -> None:
        """Drain until stopped. After a failure of the database (a PostgreSQL restart ends every
        connection) the outbox and the store are opened anew: rows this worker held are then
        claimable again at once, by it or by any worker on this machine."""
        store = WebStore(self.db)
        outbox: core.Outbox | None = None
        try:
            while not self._stop.is_set():
                try:
                    outbox = outbox or core.Outbox(self.db)
                    done = self.run_once(store, outbox)
                except _Stopping:
                    break
                except core.PacspdfError as exc:
                    log.error("worker: %s", exc)
                    done = 0
                    if outbox is not None:
                        with contextlib.suppress(Exception):
                            outbox.close()
                    outbox = None
                    store.close()   # its connection in this thread opens again when next used
                if not done:
                    self._wake.wait(self.poll)
                    self._wake.clear()
        finally:
            if outbox is not None:
                outbox.close()
            for transport in self._transports.values():
                with contextlib.suppress(Exception):
                    transport.close()
            store.close()

    def run_once(self, store: WebStore, outbox: core.Outbox) -> int:
        """Send every due web mail, then every queued copy; the number of messages handled."""
        done = 0
        if time.monotonic() >= self._next_expiry:
            self._next_expiry = time.monotonic() + 60.0
            hours = self.settings.confirm_hours
            expired = outbox.expire_unconfirmed(later(-hours * 3600), f"not confirmed within {hours:g} hours")
            if expired:
                log.info("%d unconfirmed request%s expired", expired, "s" * (expired != 1))
        while (mail := store.claim_mail()) is not None:
            self._send_mail(store, outbox, mail)
            done += 1
            if self._stop.is_set():
                raise _Stopping
        if time.monotonic() >= self._drain_after and outbox.pending():
            sent = self._drain(outbox)
            if sent:
                self._backoff = 0.0
            else:  # nothing went through (server down, every copy failing): back off, up to a minute
                self._backoff = min(60.0, max(1.0, self._backoff * 2))
                self._drain_after = time.monotonic() + self._backoff
            done += sent
        return done

    # ------------------------------------------------------------------ web mails

    def _context(self, report_dir: str) -> core.MailContext:
        if report_dir not in self._contexts:
            self._contexts[report_dir] = core.context_from_content(core.load(Path(report_dir)), self.environ)
        return self._contexts[report_dir]

    def _transport(self, name: str) -> core.Transport:
        if name not in self._transports:
            self._transports[name] = core.make_transport(name, outbox_dir=self.outbox_dir,
                                                         environ=self.environ)
        return self._transports[name]

    def _send_mail(self, store: WebStore, outbox: core.Outbox, mail: Mail) -> None:
        request = store.request(mail.request_id)
        entry = outbox.get(request.outbox_key) if request else None
        if request is None or entry is None:
            store.finish_mail(mail.id, "failed", "its request is gone")
            return
        ctx = self._context(entry.report_dir)
        message_id = core.message_id_for(f"web:{mail.purpose}:{request.id}", ctx.domain)
        if mail.purpose == "confirm":
            if entry.state is not core.State.UNCONFIRMED:
                store.finish_mail(mail.id, "failed", f"not sent: the request is already {entry.state.value}")
                return
            lifetime = self.settings.confirm_hours * 3600
            token = sign(self.settings.secret_key, Purpose.CONFIRM, request.id, lifetime)
            link = f"{self.settings.public_url}/confirm/{token}"
            msg = confirmation_message(ctx, entry.email, link, request.kind, self.settings.confirm_hours,
                                       message_id)
            recipient = entry.email
        else:
            msg = sales_message(ctx, entry, request.marketing_consent, message_id)
            recipient = ctx.reply_to.addr_spec
        try:
            transport = self._transport(mail.transport)
            receipt = transport.send(msg, sender=ctx.sender.addr_spec, recipient=recipient)
        except core.DeliveryError as exc:
            if exc.temporary or exc.fatal:
                delay = min(600.0, 5.0 * 2 ** min(mail.attempts, 7))
                store.finish_mail(mail.id, "pending", exc.reason, retry_in=delay)
                log.warning("%s mail for request %s: %s; next try in %.0f s", mail.purpose, request.id,
                            exc.reason, delay)
            else:
                store.finish_mail(mail.id, "failed", exc.reason)
                log.error("%s mail for request %s failed: %s", mail.purpose, request.id, exc.reason)
            return
        store.finish_mail(mail.id, "sent", receipt[:200])
        self.sent += 1
        log.info("%s mail sent for request %s", mail.purpose, request.id)

    # ------------------------------------------------------------------ the outbox

    def _binding(self, entry: core.Entry) -> core.ReportBinding:
        if entry.report_dir not in self._bindings:
            self._bindings[entry.report_dir] = core.default_binding(Path(entry.report_dir), self.pdf_dir)
        return self._bindings[entry.report_dir]

    def _drain(self, outbox: core.Outbox) -> int:
        """One turn of the outbox; the number of copies that went out."""
        sent = 0

        def progress(done: int, total: int, result: object) -> None:
            nonlocal sent
            sent += str(getattr(result, "outcome", "")) == "sent"
            log.info("copy %s: %s", getattr(result, "key", "?"), getattr(result, "outcome", "?"))
            if self._stop.is_set():
                raise _Stopping
            if done >= COPIES_PER_TURN and done < total:
                raise _Turn

        options = core.SendOptions(retry=self.retry, sleep=self._sleep)
        with contextlib.suppress(_Turn):
            core.retry_pending(outbox=outbox, bindings=self._binding, transports=self._transport,
                               options=options, progress=progress)
        self.sent += sent
        return sent

    def _sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)


def run_forever(worker: Worker, install: Callable[[Callable[[], None]], None]) -> None:
    """Run ``worker`` in this thread until ``install``'s callback (a signal handler) asks it to stop."""
    install(lambda: worker.stop(timeout=0))
    worker.run()
