"""Hand a message to its destination: ``.eml`` files, or an SMTP server with failures classified.

Every failure becomes a :class:`DeliveryError` saying whether trying again can help:

- *temporary* (connection refused, timeout, dropped connection, a 4xx reply): retry later;
- *permanent* (a 5xx reply to this message): the message fails now;
- *fatal* (wrong TLS or login settings, a 5xx greeting, the sender address refused): no
  message can go until the settings change, so the batch stops and its rows stay queued.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import smtplib
import socket
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol, TypedDict, TypeGuard, Unpack

from pacspdf.delivery.message import as_bytes
from pacspdf.delivery.settings import (
    DEFAULT_PORTS,
    DEFAULT_TIMEOUT,
    ENV_HOST,
    ENV_PASSWORD,
    ENV_PORT,
    ENV_SECURITY,
    ENV_TIMEOUT,
    ENV_USER,
    SECURITY_CHOICES,
    TRANSPORTS,
    Security,
)
from pacspdf.errors import UsageError

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
        mid = str(msg["Message-ID"] or "").strip("<> ")
        stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in mid.partition("@")[0])
        if not stem:
            raise DeliveryError("message has no Message-ID", temporary=False)
        return self.directory / f"{stem}.eml"

    def send(self, msg: EmailMessage, *, sender: str, recipient: str) -> str:
        path = self.path_for(msg)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".eml.tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(as_bytes(msg))
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
            for path in self._unsynced:
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
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


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# ---------------------------------------------------------------------------- smtp


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to connect; the password is kept out of ``repr`` (and out of every log)."""

    host: str
    port: int
    security: Security = "starttls"
    user: str = ""
    password: str = field(default="", repr=False)
    timeout: float = DEFAULT_TIMEOUT
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)
    local_hostname: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None,
                 **overrides: Unpack[SmtpOverrides]) -> SmtpSettings:
        """Read ``PACSPDF_SMTP_*``; raise UsageError naming the variable when one is wrong."""
        env = os.environ if environ is None else environ
        host = env.get(ENV_HOST, "").strip()
        if not host:
            raise UsageError(f"environment: {ENV_HOST} is not set (the SMTP server for --transport smtp)")
        security = env.get(ENV_SECURITY, "").strip().lower() or "starttls"
        if not _is_security(security):
            raise UsageError(f"environment: {ENV_SECURITY}={security!r} is not one of "
                             f"{', '.join(SECURITY_CHOICES)}")
        port_text = env.get(ENV_PORT, "").strip()
        if port_text:
            try:
                port = int(port_text)
            except ValueError:
                port = 0
            if not 0 < port < 65536:
                raise UsageError(f"environment: {ENV_PORT}={port_text!r} is not a port number")
        else:
            port = DEFAULT_PORTS[security]
        for name in (ENV_HOST, ENV_USER, ENV_PASSWORD):
            if any(0xD800 <= ord(c) <= 0xDFFF or ord(c) < 32 or ord(c) == 127 for c in env.get(name, "")):
                # never quote the value: it may be a secret
                raise UsageError(f"environment: {name} holds bytes that are not UTF-8 text, or a "
                                 "control character")
        user = env.get(ENV_USER, "")
        password = env.get(ENV_PASSWORD, "")
        if bool(user) != bool(password):
            missing = ENV_PASSWORD if user else ENV_USER
            raise UsageError(f"environment: {missing} is not set (login needs both "
                             f"{ENV_USER} and {ENV_PASSWORD})")
        timeout_text = env.get(ENV_TIMEOUT, "").strip()
        timeout = DEFAULT_TIMEOUT
        if timeout_text:
            try:
                timeout = float(timeout_text)
            except ValueError:
                timeout = -1.0
            if not 0 < timeout <= 3600:  # also refuses nan and inf
                raise UsageError(f"environment: {ENV_TIMEOUT}={timeout_text!r} is not a number of "
                                 "seconds between 0 and 3600")
        settings = cls(host=host, port=port, security=security,
                       user=user, password=password, timeout=timeout)
        if overrides:
            from dataclasses import replace
            settings = replace(settings, **overrides)
        return settings


def _is_security(value: str) -> TypeGuard[Security]:
    """``value in SECURITY_CHOICES``, narrowing for every mypy (only 2.x narrows the bare test)."""
    return value in SECURITY_CHOICES


class SmtpOverrides(TypedDict, total=False):
    """Keyword overrides for :meth:`SmtpSettings.from_env`: any of its fields."""

    host: str
    port: int
    security: Security
    user: str
    password: str
    timeout: float
    ssl_context: ssl.SSLContext | None
    local_hostname: str | None


def _reply(code: int, resp: bytes | str) -> str:
    text = resp.decode("utf-8", "replace") if isinstance(resp, bytes) else str(resp)
    return f"{code} {' '.join(text.split())}".strip()


def classify_reply(code: int, resp: bytes | str, stage: str) -> DeliveryError:
    """A negative SMTP reply as a DeliveryError: 4xx temporary, 5xx permanent."""
    reason = f"{stage}: {_reply(code, resp)}"
    return DeliveryError(reason, temporary=400 <= code < 500 or code < 200)


class SmtpTransport:
    """Sends over one SMTP session, reused across messages and reopened after a failure."""

    name = "smtp"

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._conn: smtplib.SMTP | None = None
        if settings.user and settings.security == "none":
            log.warning("SMTP login to %s without TLS: the password crosses the network in clear text",
                        settings.host)

    def describe(self) -> str:
        s = self.settings
        login = f", login as {s.user}" if s.user else ""
        return f"smtp transport: {s.host}:{s.port} ({s.security}{login})"

    # -------------------------------------------------------------- session

    def _context(self) -> ssl.SSLContext:
        return self.settings.ssl_context or ssl.create_default_context()

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        where = f"{s.host}:{s.port}"
        conn: smtplib.SMTP | None = None
        try:
            if s.security == "ssl":
                conn = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self._context(),
                                        local_hostname=s.local_hostname)
            else:
                conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout, local_hostname=s.local_hostname)
            conn.ehlo()
            if s.security == "starttls":
                if not conn.has_extn("starttls"):
                    raise DeliveryError(f"{where} does not offer STARTTLS "
                                        f"(set PACSPDF_SMTP_SECURITY to ssl or none)",
                                        temporary=False, fatal=True, connection=True)
                conn.starttls(context=self._context())
                conn.ehlo()
            if s.user:
                _login(conn, s.user, s.password)
        except DeliveryError:
            _abandon(conn)
            raise
        except smtplib.SMTPAuthenticationError as exc:
            _abandon(conn)
            reply = _reply(exc.smtp_code, exc.smtp_error)
            raise DeliveryError(f"login to {where} as {s.user} refused: {reply}",
                                temporary=False, fatal=True, connection=True) from None
        except smtplib.SMTPNotSupportedError as exc:
            _abandon(conn)
            raise DeliveryError(f"{where}: {exc}", temporary=False, fatal=True, connection=True) from None
        except smtplib.SMTPResponseException as exc:  # incl. SMTPConnectError (greeting), HELO errors
            _abandon(conn)
            temporary = 400 <= exc.smtp_code < 500
            raise DeliveryError(f"{where} refused the session: {_reply(exc.smtp_code, exc.smtp_error)}",
                                temporary=temporary, fatal=not temporary, connection=True) from None
        except ssl.SSLError as exc:
            _abandon(conn)
            raise DeliveryError(f"TLS with {where} failed: {exc.reason or exc}", temporary=False,
                                fatal=True, connection=True) from None
        except smtplib.SMTPServerDisconnected as exc:
            _abandon(conn)
            raise DeliveryError(f"{where} closed the connection: {exc}", temporary=True,
                                connection=True) from None
        except TimeoutError:
            _abandon(conn)
            raise DeliveryError(f"connection to {where} timed out", temporary=True,
                                connection=True) from None
        except ConnectionRefusedError:
            _abandon(conn)
            raise DeliveryError(f"connection to {where} refused (is the server running?)",
                                temporary=True, connection=True) from None
        except socket.gaierror as exc:
            _abandon(conn)
            raise DeliveryError(f"cannot resolve {s.host}: {exc.strerror}", temporary=True,
                                connection=True) from None
        except OSError as exc:
            _abandon(conn)
            raise DeliveryError(f"cannot connect to {where}: {exc.strerror or exc}", temporary=True,
                                connection=True) from None
        except smtplib.SMTPException as exc:  # e.g. "No suitable authentication method found."
            _abandon(conn)
            raise DeliveryError(f"{where}: {exc}", temporary=False, fatal=True, connection=True) from None
        except (UnicodeError, ValueError) as exc:  # an unusable host name; never quote the text
            _abandon(conn)
            raise DeliveryError(f"cannot open a session with {where}: the settings cannot be encoded "
                                f"({type(exc).__name__})", temporary=False, fatal=True,
                                connection=True) from None
        log.debug("SMTP session open with %s", where)
        return conn

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                _abandon(conn)

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        _abandon(conn)

    # -------------------------------------------------------------- one message

    def send(self, msg: EmailMessage, *, sender: str, recipient: str) -> str:
        if self._conn is None:
            self._conn = self._open()
        conn = self._conn
        data = as_bytes(msg)
        try:
            options: list[str] = []
            if conn.does_esmtp and conn.has_extn("size"):
                limit = int(conn.esmtp_features.get("size", "0") or 0)
                if limit and len(data) > limit:
                    raise DeliveryError(f"message is {len(data)} bytes, the server accepts at most {limit}",
                                        temporary=False)
                options.append(f"SIZE={len(data)}")
            code, resp = conn.mail(sender, options)
            if code != 250:
                self._reset(code)
                error = classify_reply(code, resp, "MAIL FROM")
                if code >= 500 and code != 552:  # the sender is refused: so is every message, stop
                    error.fatal = True
                raise error
            code, resp = conn.rcpt(recipient)
            if code not in (250, 251):
                self._reset(code)
                raise classify_reply(code, resp, "RCPT TO")
            # The window: once the server has answered 250 to the end of DATA, it owns the
            # message; the caller commits "sent" straight after this returns.
            code, resp = conn.data(data)
            if code != 250:
                self._reset(code)
                raise classify_reply(code, resp, "DATA")
        except DeliveryError:
            raise
        except smtplib.SMTPServerDisconnected as exc:
            self._drop()
            raise DeliveryError(f"connection lost: {exc}", temporary=True) from None
        except smtplib.SMTPResponseException as exc:  # e.g. 354 expected but something else came
            self._drop()
            raise classify_reply(exc.smtp_code, exc.smtp_error, "DATA") from None
        except TimeoutError:
            self._drop()
            raise DeliveryError("the server did not answer in time", temporary=True) from None
        except OSError as exc:
            self._drop()
            raise DeliveryError(f"connection lost: {exc.strerror or exc}", temporary=True) from None
        except smtplib.SMTPException as exc:  # anything else smtplib raises: try again later, keep it
            self._drop()
            raise DeliveryError(f"SMTP error: {exc}", temporary=True) from None
        return _reply(code, resp)

    def _reset(self, code: int) -> None:
        """After a refusal, reset the transaction (or drop a session the server is closing)."""
        if code == 421:
            self._drop()
            return
        if self._conn is None:
            return
        try:
            self._conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _login(conn: smtplib.SMTP, user: str, password: str) -> None:
    """AUTH PLAIN (else LOGIN) with the credentials in UTF-8 (RFC 4954 and 6531).

    ``smtplib.SMTP.login`` encodes them as ASCII, so a non-ASCII password crashed with a
    UnicodeEncodeError quoting a character of it. Here nothing derived from the secret ever
    reaches an exception message: failures carry only the server's reply code and text.
    """
    conn.ehlo_or_helo_if_needed()
    if not conn.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("the server offers no login (no AUTH extension)")
    methods = conn.esmtp_features.get("auth", "").upper().split()
    u = user.encode("utf-8", "surrogateescape")
    p = password.encode("utf-8", "surrogateescape")
    if "PLAIN" in methods:
        code, resp = conn.docmd("AUTH", "PLAIN " + _b64(b"\0" + u + b"\0" + p))
    elif "LOGIN" in methods:
        code, resp = conn.docmd("AUTH", "LOGIN " + _b64(u))
        if code == 334:
            code, resp = conn.docmd(_b64(p))
    else:
        raise smtplib.SMTPNotSupportedError(f"the server offers no login method pacspdf speaks "
                                            f"(PLAIN or LOGIN; it offers {' '.join(methods) or 'none'})")
    if code not in (235, 503):  # 503: already authenticated
        raise smtplib.SMTPAuthenticationError(code, resp)


def _abandon(conn: smtplib.SMTP | None) -> None:
    if conn is not None:
        with contextlib.suppress(Exception):
            conn.close()


def make_transport(name: str, *, outbox_dir: Path, environ: Mapping[str, str] | None = None,
                   **smtp_overrides: Unpack[SmtpOverrides]) -> Transport:
    """The transport called ``name`` (``file`` or ``smtp``), configured from the environment."""
    if name == "file":
        return FileTransport(outbox_dir)
    if name == "smtp":
        return SmtpTransport(SmtpSettings.from_env(environ, **smtp_overrides))
    raise UsageError(f"--transport: {name!r} is not one of {', '.join(TRANSPORTS)}")
