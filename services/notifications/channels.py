"""The channels that leave the process: e-mail over SMTP and Apprise URLs (Telegram, WhatsApp
gateways, chat tools, …) here, webhooks signed as Standard Webhooks in ``webhook_channel.py``; and
which targets may be called in production (no loopback, private or link-local address).

Every sender has the same small interface — used as a context manager for one dispatcher
batch, ``send(Outgoing) -> Outcome`` per message — so the dispatcher treats them alike. A
sender never raises for a delivery problem: refusals, timeouts, 5xx and hangs (bounded by
timeouts) come back as an :class:`Outcome` the dispatcher turns into a retry or a failure.
The in-app inbox is not here: it is written in the consumer's transaction.
"""

from __future__ import annotations

import json
import logging
import smtplib
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.charset import QP, Charset
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from . import domain

log = logging.getLogger("kinerja.notifications.channels")
_MAX_ERROR = 1000


@dataclass
class Outgoing:
    """What a sender needs of one delivery (detached from the database)."""

    delivery_id: int
    channel: str
    event_id: str
    target: str | None = None  # e-mail address, Apprise URLs as JSON, or the webhook URL
    recipient_name: str | None = None
    subject: str = ""
    text: str = ""
    html: str = ""
    language: str = "id"
    body: str | None = None  # webhook: the CloudEvent JSON
    secret: str | None = None  # webhook signing secret
    group: str = ""  # what fails together (the SMTP server, a subscription, a set of URLs)


@dataclass
class Outcome:
    ok: bool
    error: str | None = None
    permanent: bool = False  # no point retrying (550, invalid address, 410 Gone, target refused)
    postponed: bool = False  # not attempted: its group failed earlier in this batch
    http_status: int | None = None
    duration_ms: int = 0
    gone: bool = False  # webhook receiver answered 410: disable the subscription


class Sender(Protocol):
    def __enter__(self) -> "Sender": ...
    def __exit__(self, *exc) -> None: ...
    def send(self, item: Outgoing) -> Outcome: ...


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:_MAX_ERROR]


class Breaker:
    """Remembers which groups failed at the connection level in this batch, so the rest of
    their messages are postponed instead of each waiting for its own timeout."""

    def __init__(self):
        self.broken: dict[str, str] = {}

    def check(self, group: str) -> Outcome | None:
        if group in self.broken:
            return Outcome(False, f"postponed: {self.broken[group]}", postponed=True)
        return None

    def trip(self, group: str, error: str) -> None:
        self.broken[group] = error


# --------------------------------------------------------------------------- e-mail


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    implicit_tls: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0
    verify_tls: bool = True

    @classmethod
    def from_url(cls, url: str, timeout: float = 10.0) -> "SmtpSettings":
        """``smtp://user:pass@host:port?starttls=1`` (plain or STARTTLS, port 25 by default) or
        ``smtps://user:pass@host:port`` (implicit TLS, port 465); ``timeout=`` and ``verify=0``
        (self-signed test servers only) as query parameters."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:pass@host:port?starttls=1 or smtps://host:465")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        truthy = ("1", "true", "yes", "on")
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 25),
            implicit_tls=implicit,
            starttls=(query.get("starttls", "0").lower() in truthy) and not implicit,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout=float(query.get("timeout", timeout)),
            verify_tls=query.get("verify", "1").lower() in truthy,
        )


_SMTP_LINES = compat32.clone(linesep="\r\n")
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP  # readable in any mail source view, unlike base64


def build_email(item: Outgoing, mail_from: str, now: datetime) -> bytes:
    """multipart/alternative: the plain-text part first, the HTML part second. Built with the
    compat32 MIME classes: the same message as ``EmailMessage`` at a fraction of the cost."""
    msg = MIMEMultipart("alternative")
    msg["Subject"] = Header(item.subject, "utf-8").encode() if not item.subject.isascii() else item.subject
    msg["From"] = formataddr(parseaddr(mail_from), charset="utf-8")
    msg["To"] = formataddr((item.recipient_name or "", item.target or ""), charset="utf-8")
    msg["Date"] = format_datetime(now if now.tzinfo else now.replace(tzinfo=timezone.utc))
    domain_part = parseaddr(mail_from)[1].rpartition("@")[2] or "kinerja.local"
    msg["Message-ID"] = make_msgid(idstring=f"d{item.delivery_id}", domain=domain_part)
    msg["Content-Language"] = item.language
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Kinerja-Delivery"] = str(item.delivery_id)
    msg["X-Kinerja-Event"] = item.event_id
    msg.attach(MIMEText(item.text, "plain", _UTF8_QP))
    msg.attach(MIMEText(item.html, "html", _UTF8_QP))
    return msg.as_bytes(policy=_SMTP_LINES)  # CRLF: smtplib sends bytes as they are


class EmailSender:
    """One SMTP connection for the whole batch (reconnecting once if the server drops it)."""

    def __init__(self, settings: SmtpSettings, mail_from: str, now: datetime):
        self.settings = settings
        self.mail_from = mail_from
        self.now = now
        self.smtp: smtplib.SMTP | None = None
        self.connections = 0
        self.breaker = Breaker()
        self.envelope_from = parseaddr(mail_from)[1] or "no-reply@kinerja.local"

    def __enter__(self) -> "EmailSender":
        return self

    def __exit__(self, *exc) -> None:
        self._close()

    def _close(self) -> None:
        """QUIT politely; drop the connection when the server does not answer."""
        if self.smtp is not None:
            try:
                self.smtp.quit()
                self.smtp = None
            except Exception:  # noqa: BLE001 - the connection is going away anyway
                self._drop()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context()
        if not s.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if s.implicit_tls:
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            smtp.ehlo()
            if s.starttls:
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password or "")
        except BaseException:
            try:
                smtp.close()
            finally:
                pass
            raise
        self.connections += 1
        return smtp

    def send(self, item: Outgoing) -> Outcome:
        started = time.perf_counter()
        group = item.group or "smtp"
        postponed = self.breaker.check(group)
        if postponed:
            return postponed
        if not domain.valid_email(item.target):
            return Outcome(False, "delivery.invalid_address", permanent=True)
        msg = build_email(item, self.mail_from, self.now)
        for attempt in (1, 2):
            try:
                if self.smtp is None:
                    self.smtp = self._connect()
                self.smtp.sendmail(self.envelope_from, [item.target], msg)
                return Outcome(True, duration_ms=ms_since(started))
            except smtplib.SMTPRecipientsRefused as exc:
                code, reason = next(iter(exc.recipients.values()), (0, b""))
                return self._refused(code, reason, started)
            except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
                return self._refused(exc.smtp_code, exc.smtp_error, started)
            except smtplib.SMTPServerDisconnected as exc:
                self._drop()
                if attempt == 1 and self.connections:  # a server closing an idle connection: once more
                    continue
                self.breaker.trip(group, describe(exc))
                return Outcome(False, describe(exc), duration_ms=ms_since(started))
            except (smtplib.SMTPException, OSError) as exc:  # refusal, timeout, TLS, auth
                self._drop()
                self.breaker.trip(group, describe(exc))
                return Outcome(False, describe(exc), duration_ms=ms_since(started))
        return Outcome(False, "unreachable", duration_ms=ms_since(started))  # pragma: no cover

    def _drop(self) -> None:
        smtp, self.smtp = self.smtp, None
        if smtp is not None:
            try:
                smtp.close()
            except Exception:  # noqa: BLE001 - the connection is going away anyway
                pass

    def _refused(self, code, reason, started) -> Outcome:
        text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
        error = f"SMTP {code} {text}"[:_MAX_ERROR]
        permanent = isinstance(code, int) and 500 <= code < 600
        if not permanent and self.smtp is not None:
            try:
                self.smtp.rset()
            except Exception:  # noqa: BLE001 - the connection is going away anyway
                self._drop()
        return Outcome(False, error, permanent=permanent, duration_ms=ms_since(started))


class LogOnlyEmailSender:
    """No SMTP_URL: the message stays in the delivery log (DESIGN.md §2) and is marked skipped."""

    connections = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def send(self, item: Outgoing) -> Outcome:
        return Outcome(False, "delivery.smtp_not_configured", permanent=True)


# --------------------------------------------------------------------------- Apprise

APPRISE_HTTP_SCHEMES = ("json", "jsons", "xml", "xmls", "form", "forms")


_APPRISE = None


def load_apprise():
    """``apprise`` imported on first use (its import is slow), without its DeprecationWarnings."""
    import warnings

    global _APPRISE
    if _APPRISE is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import apprise

            apprise.Apprise.instantiate("json://localhost/")  # loads the plugins (and their imports) now
        _APPRISE = apprise
    return _APPRISE


def apprise_with_timeouts(url: str, timeout: float) -> str:
    """Add Apprise's connect/read timeouts (``cto``/``rto``) unless the URL sets them."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    extra = [f"{k}={timeout:g}" for k in ("cto", "rto") if k not in query]
    if not extra:
        return url
    sep = "&" if parts.query else "?"
    return url + sep + "&".join(extra)


class AppriseSender:
    """Apprise URLs from the person's or the agency's settings, one notify() per delivery."""

    def __init__(self, timeout: float = 10.0, allow_private: bool = True):
        self.timeout = timeout
        self.allow_private = allow_private
        self.breaker = Breaker()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def send(self, item: Outgoing) -> Outcome:
        apprise = load_apprise()
        started = time.perf_counter()
        postponed = self.breaker.check(item.group)
        if postponed:
            return postponed
        try:
            urls = json.loads(item.target or "[]")
        except ValueError:
            urls = []
        if not urls:
            return Outcome(False, "no Apprise URL", permanent=True)
        if not self.allow_private:
            for url in urls:
                refused = refuse_private_target(url, apprise_scheme=True)
                if refused:
                    return Outcome(False, refused, permanent=True)
        obj = apprise.Apprise()
        added = sum(1 for url in urls if obj.add(apprise_with_timeouts(url, self.timeout)))
        if not added:
            return Outcome(False, "no supported Apprise URL", permanent=True)
        with apprise.LogCapture(level=logging.WARNING) as captured:
            try:
                ok = bool(obj.notify(title=item.subject, body=item.text))
            except Exception as exc:  # noqa: BLE001 - a plugin bug must not stop the batch
                ok, detail = False, describe(exc)
            else:
                detail = ""
        if ok:
            return Outcome(True, duration_ms=ms_since(started))
        logs = captured.getvalue().strip().splitlines()
        error = detail or " | ".join(line.split(" - ", 2)[-1] for line in logs[-3:]) or "Apprise notify failed"
        self.breaker.trip(item.group, error[:200])
        return Outcome(False, error[:_MAX_ERROR], duration_ms=ms_since(started))


# --------------------------------------------------------------------------- targets in production


def resolve_addresses(host: str, port: int | None) -> list[str]:
    infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    return sorted({info[4][0] for info in infos})


def private_address(host: str, port: int | None) -> str | None:
    """The first loopback, private or link-local address ``host`` resolves to, or None (raises
    ``OSError``/``UnicodeError`` when it does not resolve)."""
    return next((a for a in resolve_addresses(host, port) if not domain.is_public_address(a)), None)


def refuse_private_target(url: str, apprise_scheme: bool = False) -> str | None:
    """Why ``url`` may not be called in production (a loopback, private or link-local address,
    after resolving the host), or None. Apprise URLs are checked when they are HTTP-based."""
    parts = urlsplit(url)
    if apprise_scheme and parts.scheme.lower() not in APPRISE_HTTP_SCHEMES:
        return None
    host = parts.hostname
    if not host:
        return "no host"
    try:
        address = private_address(host, parts.port)
    except (OSError, UnicodeError) as exc:
        return f"unresolvable: {exc}"
    return f"private address {address}" if address else None


def ms_since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
