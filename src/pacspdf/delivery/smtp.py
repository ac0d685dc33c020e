"""Hand a message to an SMTP server over one reused session, each failure classified for the batch.

Settings come from the ``PACSPDF_SMTP_*`` variables (:class:`SmtpSettings`); replies become
:class:`~pacspdf.delivery.transport.DeliveryError`: temporary (4xx, network), permanent (5xx
to this message) or fatal (TLS, login, sender refused: no message can go).
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import smtplib
import socket
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import TypedDict, TypeGuard, Unpack

from pacspdf.delivery.message import wire_chunks
from pacspdf.delivery.settings import (
    DEFAULT_BREAKER,
    DEFAULT_PORTS,
    DEFAULT_TIMEOUT,
    ENV_BREAKER,
    ENV_HOST,
    ENV_PASSWORD,
    ENV_PORT,
    ENV_SECURITY,
    ENV_TIMEOUT,
    ENV_USER,
    MAX_BREAKER,
    SECURITY_CHOICES,
    Security,
)
from pacspdf.delivery.transport import DeliveryError, Reply
from pacspdf.errors import UsageError

log = logging.getLogger(__name__)


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


def breaker_from_env(environ: Mapping[str, str] | None = None, default: int = DEFAULT_BREAKER) -> int:
    """``PACSPDF_SMTP_BREAKER``: temporary failures in a row that stop a batch (0: never); else ``default``.

    Raises UsageError naming the variable when it is not a whole number from 0 to 100,000.
    """
    env = os.environ if environ is None else environ
    text = env.get(ENV_BREAKER, "").strip()
    if not text:
        return default
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_BREAKER:
        raise UsageError(f"environment: {ENV_BREAKER}={text!r} is not a whole number from 0 to "
                         f"{MAX_BREAKER:,} (temporary failures in a row that stop a batch; 0: never)")
    return int(text)


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
        self._awaiting: smtplib.SMTP | None = None   # the session whose reply to DATA is still unread
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
        _no_delay(conn)
        log.debug("SMTP session open with %s", where)
        return conn

    def close(self) -> None:
        if self._awaiting is not None:   # a reply never read: QUIT would read it as its own
            self._drop()
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                _abandon(conn)

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        self._awaiting = None
        _abandon(conn)

    # -------------------------------------------------------------- one message

    def send(self, msg: EmailMessage, *, sender: str, recipient: str) -> str:
        return self.submit(msg, sender=sender, recipient=recipient)()

    def submit(self, msg: EmailMessage, *, sender: str, recipient: str) -> Reply:
        """Send the envelope and the message, up to its ending ``.``; the returned call reads the
        server's verdict (250: it owns the message). The caller makes its next message meanwhile."""
        if self._awaiting is not None:   # a reply never read: the session's state is unknown
            log.debug("SMTP reply to the last message was not read; opening a new session")
            self._drop()
        if self._conn is None:
            self._conn = self._open()
        conn = self._conn
        chunks = wire_chunks(msg)
        size = sum(map(len, chunks))
        with self._failures():
            options = ""
            if conn.does_esmtp and conn.has_extn("size"):
                limit = int(conn.esmtp_features.get("size", "0") or 0)
                if limit and size > limit:
                    raise DeliveryError(f"message is {size} bytes, the server accepts at most {limit}",
                                        temporary=False)
                options = f" SIZE={size}"
            envelope = [f"mail FROM:{smtplib.quoteaddr(sender)}{options}\r\n",
                        f"rcpt TO:{smtplib.quoteaddr(recipient)}\r\n", "data\r\n"]
            if conn.does_esmtp and conn.has_extn("pipelining"):
                # RFC 2920: the three commands in one write, their replies read after.
                conn.send("".join(envelope))
                replies = [conn.getreply() for _ in envelope]
            else:
                replies = []
                for command in envelope:
                    conn.send(command)
                    replies.append(conn.getreply())
                    if replies[-1][0] not in (250, 251, 354):
                        break
            self._check_envelope(replies)
            _send_data(conn, chunks)
        self._awaiting = conn
        return self._data_reply

    def _data_reply(self) -> str:
        """The server's reply to the end of DATA. The window: once it has answered 250, the
        server owns the message; the caller commits "sent" straight after this returns."""
        conn, self._awaiting = self._awaiting, None
        if conn is None or conn is not self._conn:
            raise DeliveryError("connection lost: the session closed before the server answered",
                                temporary=True)
        with self._failures():
            code, resp = conn.getreply()
            if code != 250:
                self._reset(code)
                raise classify_reply(code, resp, "DATA")
        return _reply(code, resp)

    @contextlib.contextmanager
    def _failures(self) -> Iterator[None]:
        """Turn what smtplib and the socket raise during a message into a DeliveryError (a
        session in an unknown state is dropped, and reopened for the next message)."""
        try:
            yield
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

    def _check_envelope(self, replies: list[tuple[int, bytes]]) -> None:
        """Raise the DeliveryError the first refused step of MAIL, RCPT, DATA calls for."""
        (code, resp), rest = replies[0], replies[1:]
        if code != 250:
            self._abort_data(rest)
            self._reset(code)
            error = classify_reply(code, resp, "MAIL FROM")
            if code >= 500 and code != 552:  # the sender is refused: so is every message, stop
                error.fatal = True
            raise error
        if rest:
            (code, resp), rest = rest[0], rest[1:]
            if code not in (250, 251):
                self._abort_data(rest)
                self._reset(code)
                raise classify_reply(code, resp, "RCPT TO")
        if rest:
            code, resp = rest[0]
            if code != 354:
                self._drop()
                raise classify_reply(code, resp, "DATA")

    def _abort_data(self, rest: list[tuple[int, bytes]]) -> None:
        """A pipelined DATA the server accepted although an earlier step failed: send an empty
        message body's end and let the server refuse it (it has no valid recipient)."""
        if rest and rest[-1][0] == 354 and self._conn is not None:
            try:
                self._conn.send(".\r\n")
                self._conn.getreply()
            except (smtplib.SMTPException, OSError):
                self._drop()

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


def _no_delay(conn: smtplib.SMTP) -> None:
    """Send each write at once (TCP_NODELAY): SMTP is request and reply, and with Nagle's
    algorithm a short write (a command, the ending ``.``) waits for the ACK of the data before
    it, which the server may delay (measured on loopback: 9-12 ms per message, most of its time)."""
    if conn.sock is not None:
        with contextlib.suppress(OSError, AttributeError):
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _send_data(conn: smtplib.SMTP, chunks: list[bytes]) -> None:
    """The message after DATA's 354, dot-stuffed (RFC 5321 4.5.2), then the ending ``.``.

    Each piece goes to the socket as it is unless a line in it starts with a dot: the shared
    base64 lines of the attachment never do, so they are not copied or scanned by a regex
    (``smtplib.SMTP.data`` rewrites the whole 400 KB text twice per message). The last piece
    and the ending go in one write, so the end of the message is not a separate short segment.
    """
    sock = conn.sock
    if sock is None:
        raise smtplib.SMTPServerDisconnected("please run connect() first")
    line_start = True
    pieces = [chunk for chunk in chunks if chunk]
    for i, chunk in enumerate(pieces, 1):
        if b"\n." in chunk or (line_start and chunk.startswith(b".")):
            chunk = chunk.replace(b"\n.", b"\n..")
            if line_start and chunk.startswith(b"."):
                chunk = b"." + chunk
        line_start = chunk.endswith(b"\n")
        if i == len(pieces):
            chunk += b".\r\n" if line_start else b"\r\n.\r\n"
        sock.sendall(chunk)
    if not pieces:
        sock.sendall(b".\r\n")


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
