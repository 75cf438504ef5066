"""Publishing a batch to RabbitMQ with pipelined publisher confirms (pika).

kombu's ``confirm_publish`` waits for each message's confirm before sending the next: one round
trip per event, about 400 events/s here. :class:`PikaPublisher` sends the whole batch, then waits
for the broker's confirms of all of it at once (``multiple`` acks included), with a timeout. It
answers, per message, whether the broker confirmed it; a nack, a timeout, or a channel or
connection that closes leaves exactly the messages without an ack unconfirmed, and the
connection is dropped (never reused after an error, ENGINEERING.md "Messaging").

pika's ``SelectConnection`` is asynchronous: it runs only while its I/O loop runs, and the loop
runs only inside :meth:`publish` and :meth:`idle`, in the caller's thread (one publisher per
thread, like every pika connection). :meth:`idle` lets the loop answer heartbeats between
batches."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import pika
import pika.exceptions
from pika.spec import Basic

from .topology import ATTEMPTS_HEADER, CONTENT_TYPE, PERSISTENT

log = logging.getLogger("services.common.bus")
# pika logs five INFO lines per connection it opens; its warnings and errors still show
logging.getLogger("pika").setLevel(logging.WARNING)


class PublishError(Exception):
    """The broker could not be reached, or the connection or channel closed."""


@dataclass(frozen=True)
class Outgoing:
    """One message of a batch."""

    routing_key: str
    body: bytes
    message_id: str


def pika_parameters(broker_url: str, timeout: float) -> pika.URLParameters:
    """pika's parameters for a kombu-style ``amqp://user:password@host:port/vhost`` URL.

    kombu spells the default vhost ``//`` or leaves it out; pika reads the path after the first
    ``/`` as the vhost, so both forms come out as ``/``. ``pyamqp://`` is kombu's name for the
    same protocol."""
    parts = urlsplit(broker_url)
    scheme = {"pyamqp": "amqp", "amqp": "amqp", "amqps": "amqps"}.get(parts.scheme)
    if scheme is None:
        raise ValueError(f"not an AMQP URL: {parts.scheme}://")
    path = parts.path or "/"
    if path in ("/", ""):
        path = "/%2F"
    elif path.startswith("//"):
        path = "/" + path[1:].replace("/", "%2F")
    params = pika.URLParameters(urlunsplit((scheme, parts.netloc, path, parts.query, "")))
    params.socket_timeout = timeout
    params.stack_timeout = max(timeout, 1.0) * 2
    params.blocked_connection_timeout = max(timeout * 6, 30.0)
    params.connection_attempts = 1
    return params


class PikaPublisher:
    """Persistent messages to ``exchange`` with pipelined publisher confirms (see module)."""

    def __init__(self, broker_url: str, exchange: str, *, timeout: float = 5.0, on_connect=None):
        self.parameters = pika_parameters(broker_url, timeout)
        self.exchange = exchange
        self.timeout = timeout
        self.on_connect = on_connect  # called once per new connection, before anything is sent
        self._conn: pika.SelectConnection | None = None
        self._channel = None
        self._error: str | None = None
        self._tag = 0  # the last delivery tag used on this channel
        self._waiting: dict[int, int] = {}  # delivery tag -> position in the batch being confirmed
        self._outcome: list[bool | None] = []
        self.error: str | None = None  # what went wrong in the last publish()

    # -- connection

    @property
    def connected(self) -> bool:
        return self._channel is not None and self._channel.is_open

    def _stop_loop(self, conn=None) -> None:
        conn = conn or self._conn
        if conn is not None:
            conn.ioloop.stop()

    def _connect(self) -> None:
        if self.connected:
            return
        self.drop()
        self._error = None
        state: dict = {}

        def on_open(conn):
            conn.channel(on_open_callback=on_channel)

        def on_channel(channel):
            channel.add_on_close_callback(self._on_channel_closed)
            state["channel"] = channel
            channel.confirm_delivery(self._on_confirm, callback=lambda _frame: self._stop_loop())

        def on_open_error(conn, exc):
            self._error = f"cannot connect to the broker: {exc!r}"
            self._stop_loop(conn)

        self._conn = pika.SelectConnection(
            self.parameters,
            on_open_callback=on_open,
            on_open_error_callback=on_open_error,
            on_close_callback=self._on_connection_closed,
        )
        self._run_loop(self.timeout, "connecting to the broker")
        if self._error or "channel" not in state:
            error = self._error or "the connection did not open"
            self.drop()
            raise PublishError(error)
        self._channel, self._tag = state["channel"], 0
        if self.on_connect is not None:
            try:
                self.on_connect()
            except Exception:
                self.drop()
                raise

    def _on_channel_closed(self, channel, reason) -> None:
        self._error = self._error or f"the channel closed: {reason!r}"
        self._channel = None
        self._stop_loop(channel.connection)

    def _on_connection_closed(self, conn, reason) -> None:
        if conn is self._conn:
            self._error = self._error or f"the connection closed: {reason!r}"
            self._channel = None
        self._stop_loop(conn)

    def _run_loop(self, seconds: float, what: str) -> bool:
        """Run the I/O loop until something stops it or ``seconds`` pass; False on the timeout."""
        fired = []

        def timeout():
            fired.append(True)
            self._error = self._error or f"{what}: no answer in {seconds:g} s"
            self._stop_loop()

        timer = self._conn.ioloop.call_later(seconds, timeout)
        try:
            self._conn.ioloop.start()
        finally:
            self._conn.ioloop.remove_timeout(timer)
        return not fired

    def drop(self) -> None:
        """Forget the connection (closing it if it is still open; never raises)."""
        conn, self._conn, self._channel = self._conn, None, None
        self._waiting.clear()
        if conn is None:
            return
        try:
            if not (conn.is_closed or conn.is_closing):
                conn.close()
            if not conn.is_closed:  # the close handshake: at most a second on a broker that went away
                timer = conn.ioloop.call_later(1.0, conn.ioloop.stop)
                conn.ioloop.start()
                conn.ioloop.remove_timeout(timer)
        except Exception:  # pragma: no cover - best effort on a broken connection
            log.debug("publisher: error while dropping the connection", exc_info=True)
        try:
            conn.ioloop.close()
        except Exception:  # pragma: no cover
            log.debug("publisher: error while closing the I/O loop", exc_info=True)

    close = drop

    # -- confirms

    def _on_confirm(self, frame) -> None:
        method = frame.method
        ok = isinstance(method, Basic.Ack)
        tag = method.delivery_tag
        if method.multiple:
            done = [t for t in self._waiting if t <= tag]
        else:
            done = [tag] if tag in self._waiting else []
        for t in done:
            self._outcome[self._waiting.pop(t)] = ok
        if not ok and done:
            self._error = self._error or f"the broker nacked {len(done)} message(s)"
        if not self._waiting:
            self._stop_loop()

    # -- what the relay calls

    def publish(self, messages: list[Outgoing], headers: dict | None = None) -> list[bool]:
        """Send ``messages`` persistent, then wait (at most ``timeout``) for their confirms.

        Returns, per message, True when the broker confirmed it. After a nack, a timeout or a
        closed channel the connection is dropped; :attr:`error` says what happened. Raises
        :class:`PublishError` only when nothing could be sent (no connection)."""
        self.error = None
        self._connect()
        self._outcome = [None] * len(messages)
        self._waiting.clear()
        base = {ATTEMPTS_HEADER: 1, **(headers or {})}
        try:
            for position, message in enumerate(messages):
                properties = pika.BasicProperties(
                    content_type=CONTENT_TYPE,
                    content_encoding="utf-8",
                    delivery_mode=PERSISTENT,
                    message_id=message.message_id,
                    headers=base,
                )
                self._channel.basic_publish(self.exchange, message.routing_key, message.body, properties)
                self._tag += 1
                self._waiting[self._tag] = position
        except pika.exceptions.AMQPError as exc:  # the channel closed under us: the rest stays unconfirmed
            self._error = self._error or f"publishing failed: {exc!r}"
        if self._waiting and self._error is None:
            self._run_loop(self.timeout, f"waiting for {len(self._waiting)} publisher confirm(s)")
        outcome = [bool(o) for o in self._outcome]
        if self._error is not None or not all(outcome):
            self.error = self._error or "some messages were not confirmed"
            self.drop()
        return outcome

    def idle(self) -> None:
        """Let the I/O loop answer heartbeats and notice a closed connection (between batches)."""
        if self._conn is None:
            return
        self._conn.ioloop.call_later(0, self._conn.ioloop.stop)
        self._conn.ioloop.start()
        if not self.connected:
            self.drop()
