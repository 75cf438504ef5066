"""The webhook channel: POSTs an event's CloudEvent JSON to an agency's URL, signed as Standard
Webhooks, with one kept-alive HTTP/1.1 connection per host for a dispatcher batch. A receiver's
refusal, timeout, 5xx or hang comes back as an :class:`~services.notifications.channels.Outcome`;
410 Gone asks to disable the subscription."""

from __future__ import annotations

import http.client
import ssl
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

from services.common.bus.topology import CONTENT_TYPE

from . import domain
from .channels import Breaker, Outcome, Outgoing, describe, ms_since, refuse_private_target


class WebhookSender:
    """POSTs the CloudEvent JSON with Standard Webhooks headers; keeps one HTTP/1.1 connection
    per host for the batch."""

    USER_AGENT = "Kinerja-Webhooks/1.0"

    def __init__(self, timeout: float = 10.0, allow_private: bool = True, now: datetime | None = None):
        self.timeout = timeout
        self.allow_private = allow_private
        self.now = now
        self.connections: dict[tuple[str, str, int], http.client.HTTPConnection] = {}
        self.opened = 0
        self.breaker = Breaker()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        for conn in self.connections.values():
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - the connection is going away anyway
                pass
        self.connections.clear()

    def _connection(self, scheme: str, host: str, port: int) -> http.client.HTTPConnection:
        key = (scheme, host, port)
        conn = self.connections.get(key)
        if conn is None:
            if scheme == "https":
                conn = http.client.HTTPSConnection(
                    host, port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
            self.connections[key] = conn
            self.opened += 1
        return conn

    def _forget(self, key) -> None:
        conn = self.connections.pop(key, None)
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - the connection is going away anyway
                pass

    def send(self, item: Outgoing) -> Outcome:
        started = time.perf_counter()
        postponed = self.breaker.check(item.group)
        if postponed:
            return postponed
        parts = urlsplit(item.target or "")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return Outcome(False, "invalid webhook URL", permanent=True)
        if not self.allow_private:
            refused = refuse_private_target(item.target)
            if refused:
                return Outcome(False, f"target refused: {refused}", permanent=True)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        key = (parts.scheme, parts.hostname, port)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        body = (item.body or "").encode("utf-8")
        now = self.now or datetime.now(timezone.utc)
        timestamp = int(now.timestamp())
        headers = {
            "Content-Type": CONTENT_TYPE,  # the body is a CloudEvent in structured mode
            "User-Agent": self.USER_AGENT,
            "webhook-id": item.event_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": domain.sign_webhook(item.secret or "", item.event_id, timestamp, body),
        }
        for attempt in (1, 2):
            reused = key in self.connections
            conn = self._connection(*key)
            try:
                conn.request("POST", path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read(64 * 1024)
                status = resp.status
                if resp.will_close:
                    self._forget(key)
                else:
                    resp.close()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                self._forget(key)
                if attempt == 1 and reused:  # the server closed a kept-alive connection: once more
                    continue
                self.breaker.trip(item.group, describe(exc))
                return Outcome(False, describe(exc), duration_ms=ms_since(started))
            except (OSError, http.client.HTTPException) as exc:  # refused, timeout, TLS, bad response
                self._forget(key)
                self.breaker.trip(item.group, describe(exc))
                return Outcome(False, describe(exc), duration_ms=ms_since(started))
            if 200 <= status < 300:
                return Outcome(True, http_status=status, duration_ms=ms_since(started))
            if status == 410:
                return Outcome(
                    False, "HTTP 410 Gone", permanent=True, gone=True, http_status=status, duration_ms=ms_since(started)
                )
            return Outcome(False, f"HTTP {status}", http_status=status, duration_ms=ms_since(started))
        return Outcome(False, "unreachable", duration_ms=ms_since(started))  # pragma: no cover
