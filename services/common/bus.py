"""Event bus: CloudEvents envelopes, transactional outbox relay, idempotent consumers.

DESIGN.md §3 and ENGINEERING.md "Messaging". The platform only: no service knows
about another here.

Publishing
    A service writes its state change and :func:`add_to_outbox` in one database
    transaction. A :class:`Relay` later publishes the unsent outbox rows, in id order,
    as persistent messages with publisher confirms to the topic exchange
    ``kinerja.events`` (routing key = event type), and marks each row sent after its
    confirm. Unroutable events are kept by the exchange's alternate exchange
    ``kinerja.unrouted`` (kombu cannot publish with ``mandatory``).

Consuming
    A :class:`Consumer` owns the durable queue ``<service>.events`` bound to the keys of
    its handlers. Per message, in one database transaction: insert the inbox row
    ``(event_id, consumer)`` (a replay inserts nothing and is skipped), call the handler,
    commit; then ack. A failing message is republished with an attempt counter and ends
    in ``<service>.events.dlq`` (via ``kinerja.dlx``) after ``max_attempts``, so it never
    blocks the queue.

Transports
    ``amqp://`` (RabbitMQ) in production, ``memory://`` for the embedded mode and unit
    tests. memory:// has no confirms, queue/exchange arguments, alternate exchange or
    DLX: the relay simply publishes, dead-lettering is done by the consumer itself (the
    same code path on both transports), and unroutable events are dropped.
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import re
import secrets
import socket
import threading
import time as _time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Sequence

from kombu import Connection, Exchange, Producer, Queue
from kombu import Consumer as KombuConsumer
from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.orm import Session

from .rules import topic_matches  # noqa: F401 (part of the bus's API: bindings and the memory bus)

log = logging.getLogger(__name__)

EXCHANGE = "kinerja.events"
UNROUTED_EXCHANGE = "kinerja.unrouted"
UNROUTED_QUEUE = "kinerja.unrouted"
DLX = "kinerja.dlx"

CONTENT_TYPE = "application/cloudevents+json"
ATTEMPTS_HEADER = "x-kinerja-attempts"
ERROR_HEADER = "x-kinerja-error"
PERSISTENT = 2
_MAX_ERROR_CHARS = 1000

SPECVERSION = "1.0"
DATACONTENTTYPE = "application/json"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# --------------------------------------------------------------------------- topology


@dataclass(frozen=True)
class Topology:
    """Names of the broker entities. ``prefix`` is prepended to service queue names;
    :meth:`isolated` prefixes every name (tests, side-by-side installations)."""

    exchange: str = EXCHANGE
    unrouted_exchange: str = UNROUTED_EXCHANGE
    unrouted_queue: str = UNROUTED_QUEUE
    dlx: str = DLX
    prefix: str = ""

    @classmethod
    def isolated(cls, prefix: str) -> "Topology":
        return cls(
            exchange=f"{prefix}{EXCHANGE}",
            unrouted_exchange=f"{prefix}{UNROUTED_EXCHANGE}",
            unrouted_queue=f"{prefix}{UNROUTED_QUEUE}",
            dlx=f"{prefix}{DLX}",
            prefix=prefix,
        )

    def queue(self, service: str) -> str:
        return f"{self.prefix}{service}.events"

    def dlq(self, service: str) -> str:
        return f"{self.queue(service)}.dlq"


def _is_virtual(channel) -> bool:
    """kombu virtual transports (memory://) ignore queue/exchange arguments."""
    from kombu.transport.virtual import Channel as VirtualChannel

    return isinstance(channel, VirtualChannel)


def _channel_of(channel_or_connection):
    if isinstance(channel_or_connection, Connection):
        return channel_or_connection.default_channel
    return channel_or_connection


def declare_topology(
    channel_or_connection,
    topology: Topology,
    service: str | None = None,
    bindings: Sequence[str] = (),
) -> None:
    """Declare (idempotently) the exchanges, and with ``service`` its queue, DLQ and bindings."""
    channel = _channel_of(channel_or_connection)
    with_arguments = not _is_virtual(channel)

    unrouted_x = Exchange(topology.unrouted_exchange, type="fanout", durable=True, auto_delete=False)
    events_x = Exchange(
        topology.exchange,
        type="topic",
        durable=True,
        auto_delete=False,
        arguments={"alternate-exchange": topology.unrouted_exchange} if with_arguments else None,
    )
    dlx = Exchange(topology.dlx, type="direct", durable=True, auto_delete=False)
    for exchange in (unrouted_x, events_x, dlx):
        exchange.declare(channel=channel)

    unrouted_q = Queue(topology.unrouted_queue, durable=True, auto_delete=False, channel=channel)
    unrouted_q.queue_declare()
    unrouted_q.bind_to(exchange=topology.unrouted_exchange, routing_key="", channel=channel)

    if service is None:
        return
    name = topology.queue(service)
    dlq = Queue(topology.dlq(service), durable=True, auto_delete=False, channel=channel)
    dlq.queue_declare()
    dlq.bind_to(exchange=topology.dlx, routing_key=name, channel=channel)

    queue = Queue(
        name,
        durable=True,
        auto_delete=False,
        queue_arguments={"x-dead-letter-exchange": topology.dlx, "x-dead-letter-routing-key": name}
        if with_arguments
        else None,
        channel=channel,
    )
    queue.queue_declare()
    for key in bindings:
        queue.bind_to(exchange=topology.exchange, routing_key=key, channel=channel)


def _transport_options(broker_url: str, *, confirms: bool) -> dict:
    if broker_url.startswith("memory"):
        return {"polling_interval": 0.001}
    return {"confirm_publish": True} if confirms else {}


def _is_memory(broker_url: str) -> bool:
    return broker_url.startswith("memory")


def _open_connection(broker_url: str, connect_timeout: float) -> Connection:
    """Connect now, once, without kombu's retry-with-sleep (callers retry on their own)."""
    conn = Connection(
        broker_url,
        transport_options=_transport_options(broker_url, confirms=True),
        connect_timeout=connect_timeout,
    )
    try:
        conn.ensure_connection(max_retries=0)
    except BaseException:
        _discard(conn)
        raise
    return conn


def _discard(conn: Connection | None) -> None:
    """Drop a connection without talking to the broker (it may be broken)."""
    if conn is None:
        return
    try:
        conn.collect()
    except Exception:  # pragma: no cover - best effort
        log.debug("ignored error while discarding a broker connection", exc_info=True)


def _close(conn: Connection | None) -> None:
    if conn is None:
        return
    try:
        conn.release()
    except Exception:
        _discard(conn)


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text[:_MAX_ERROR_CHARS]


# --------------------------------------------------------------------------- envelope


class InvalidEvent(Exception):
    """The message is not a valid event envelope; ``reason`` names the attribute."""

    def __init__(self, reason: str, attribute: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.attribute = attribute


class Reject(Exception):
    """Raised by a handler for a permanent failure: the message goes straight to the DLQ."""


_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_TYPE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
_MAX_TYPE = 120


def new_traceparent() -> str:
    """A fresh W3C traceparent (version 00, sampled)."""
    trace_id = secrets.token_hex(16)
    parent_id = secrets.token_hex(8)
    if trace_id == "0" * 32 or parent_id == "0" * 16:  # pragma: no cover - 2**-64
        return new_traceparent()
    return f"00-{trace_id}-{parent_id}-01"


def valid_traceparent(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    m = _TRACEPARENT.match(value)
    if not m:
        return False
    version, trace_id, parent_id, _flags = m.groups()
    return version != "ff" and trace_id != "0" * 32 and parent_id != "0" * 16


def format_time(value: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` suffix; naive datetimes are taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def make_event(
    type: str,
    source: str,
    subject: str,
    data: dict,
    *,
    traceparent: str | None = None,
    time: datetime | None = None,
    event_id: str | None = None,
) -> dict:
    """A CloudEvents 1.0 structured-mode envelope (validated)."""
    envelope = {
        "specversion": SPECVERSION,
        "id": event_id or str(uuid.uuid4()),
        "source": source,
        "type": type,
        "time": format_time(time or utcnow()),
        "subject": str(subject) if isinstance(subject, int) else subject,
        "datacontenttype": DATACONTENTTYPE,
        "data": data,
        "traceparent": traceparent or new_traceparent(),
    }
    return validate_envelope(envelope)


def _require_str(env: dict, name: str) -> str:
    if name not in env:
        raise InvalidEvent(f"missing attribute '{name}'", name)
    value = env[name]
    if not isinstance(value, str) or not value.strip():
        raise InvalidEvent(f"attribute '{name}' must be a non-empty string", name)
    return value


def validate_envelope(body) -> dict:
    """Parse (bytes/str JSON) and check a CloudEvents envelope; return it as a dict.

    Raises :class:`InvalidEvent` naming the first missing or invalid attribute."""
    if isinstance(body, (bytes, bytearray, memoryview)):
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidEvent("body is not UTF-8 encoded JSON") from None
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError as exc:
            raise InvalidEvent(f"body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidEvent("envelope must be a JSON object")
    env = body

    if env.get("specversion") != SPECVERSION:
        if "specversion" not in env:
            raise InvalidEvent("missing attribute 'specversion'", "specversion")
        raise InvalidEvent(f"attribute 'specversion' must be '{SPECVERSION}'", "specversion")

    event_id = _require_str(env, "id")
    try:
        if str(uuid.UUID(event_id)) != event_id.lower():
            raise ValueError
    except ValueError:
        raise InvalidEvent("attribute 'id' must be a UUID string", "id") from None

    _require_str(env, "source")

    type_ = _require_str(env, "type")
    if len(type_) > _MAX_TYPE or not _TYPE.match(type_):
        raise InvalidEvent(
            "attribute 'type' must be dot-separated words (letters, digits, '_', '-'),"
            f" at most {_MAX_TYPE} characters, without wildcards",
            "type",
        )

    time_ = _require_str(env, "time")
    try:
        parsed = datetime.fromisoformat(time_)
    except ValueError:
        raise InvalidEvent("attribute 'time' must be an RFC 3339 timestamp", "time") from None
    if parsed.tzinfo is None:
        raise InvalidEvent("attribute 'time' must carry a UTC offset (RFC 3339)", "time")

    _require_str(env, "subject")

    content_type = _require_str(env, "datacontenttype")
    if content_type.split(";")[0].strip().lower() != DATACONTENTTYPE:
        raise InvalidEvent(f"attribute 'datacontenttype' must be '{DATACONTENTTYPE}'", "datacontenttype")

    if "data" not in env:
        raise InvalidEvent("missing attribute 'data'", "data")
    if not isinstance(env["data"], dict):
        raise InvalidEvent("attribute 'data' must be a JSON object", "data")

    if "traceparent" not in env:
        raise InvalidEvent("missing attribute 'traceparent'", "traceparent")
    if not valid_traceparent(env["traceparent"]):
        raise InvalidEvent("attribute 'traceparent' must be a W3C traceparent", "traceparent")
    return env


def encode_envelope(envelope: dict) -> bytes:
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# --------------------------------------------------------------------------- outbox


def add_to_outbox(session: Session, tables, envelope: dict, now: datetime) -> None:
    """Queue ``envelope`` for publishing, in the caller's transaction (never publishes)."""
    envelope = validate_envelope(envelope)
    # the values as parameters, not .values(): a statement SQLAlchemy compiles once and reuses
    # (building .values() coerced every value again, ~0.25 ms of each event)
    session.execute(
        tables.outbox.insert(),
        {
            "event_id": envelope["id"],
            "type": envelope["type"],
            "envelope": envelope,
            "created_at": now,
            "sent_at": None,
            "attempts": 0,
            "last_error": None,
        },
    )


@functools.lru_cache(maxsize=32)
def _unsent(outbox, limit: int, skip_locked: bool):
    """The relay's batch query, built once (the embedded worker asks every 50 ms per service)."""
    query = select(outbox.c.id, outbox.c.envelope).where(outbox.c.sent_at.is_(None)).order_by(outbox.c.id).limit(limit)
    return query.with_for_update(skip_locked=True) if skip_locked else query


@functools.lru_cache(maxsize=32)
def _mark_sent(outbox):
    return update(outbox).where(outbox.c.id == bindparam("row_id")).values(sent_at=bindparam("sent"))


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


class Relay:
    """Publishes unsent outbox rows. Safe to run several relays on one PostgreSQL database."""

    def __init__(
        self,
        session_factory,
        tables,
        broker_url: str,
        *,
        topology: Topology = Topology(),
        confirm_timeout: float = 5.0,
        batch_size: int = 200,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.session_factory = session_factory
        self.tables = tables
        self.broker_url = broker_url
        self.topology = topology
        self.confirm_timeout = confirm_timeout
        self.batch_size = batch_size
        self.clock = clock
        self.last_error: str | None = None  # of the last round; None when it went well
        self._conn: Connection | None = None
        self._producer: Producer | None = None

    # -- broker

    def _ensure_producer(self) -> Producer:
        if self._producer is not None:
            return self._producer
        conn = _open_connection(self.broker_url, self.confirm_timeout)
        try:
            channel = conn.channel()
            if _is_virtual(channel):
                # No alternate exchange on memory://: drop unroutable events instead of
                # piling them up (with a warning each) in kombu's 'ae.undeliver' queue.
                channel.deadletter_queue = None
            declare_topology(channel, self.topology)
            producer = Producer(channel, auto_declare=False)
        except BaseException:
            _discard(conn)
            raise
        self._conn, self._producer = conn, producer
        return producer

    def _drop_connection(self) -> None:
        conn, self._conn, self._producer = self._conn, None, None
        _discard(conn)

    def _publish(self, producer: Producer, body: bytes, envelope: dict) -> None:
        kwargs = {}
        if not _is_memory(self.broker_url):
            kwargs["confirm_timeout"] = self.confirm_timeout
        producer.publish(
            body,
            exchange=self.topology.exchange,
            routing_key=envelope["type"],
            content_type=CONTENT_TYPE,
            content_encoding="utf-8",
            delivery_mode=PERSISTENT,
            message_id=envelope["id"],
            headers={ATTEMPTS_HEADER: 1},
            retry=False,
            **kwargs,
        )

    # -- rounds

    def run_once(self) -> int:
        """Publish one batch; return how many rows were published and marked sent.

        Never raises for broker errors: the failing row records ``attempts`` and
        ``last_error``, the connection is dropped and the next round reconnects."""
        outbox = self.tables.outbox
        published = 0
        with self.session_factory() as session:
            with session.begin():
                rows = session.execute(_unsent(outbox, self.batch_size, _dialect(session) == "postgresql")).all()
                if not rows:
                    self.last_error = None
                    return 0
                round_error = None
                sent: list[dict] = []  # marked sent together, before the batch commits
                for row in rows:
                    envelope = row.envelope
                    if isinstance(envelope, str):  # pragma: no cover - JSON stored as text elsewhere
                        envelope = json.loads(envelope)
                    try:
                        envelope = validate_envelope(envelope)
                        body = encode_envelope(envelope)
                    except Exception as exc:  # a bad row must not stop the others
                        log.error("outbox row %s cannot be published: %s", row.id, exc)
                        self._record_failure(session, row.id, exc)
                        continue
                    try:
                        self._publish(self._ensure_producer(), body, envelope)
                    except Exception as exc:  # broker errors: stop the round, reconnect later
                        log.warning(
                            "relay: publishing outbox row %s (%s) failed, will retry: %s",
                            row.id,
                            envelope.get("type"),
                            _describe(exc),
                        )
                        self._record_failure(session, row.id, exc)
                        self._drop_connection()
                        round_error = _describe(exc)
                        break
                    sent.append({"row_id": row.id, "sent": self.clock()})
                    published += 1
                if sent:
                    session.execute(_mark_sent(outbox), sent)
                self.last_error = round_error
        return published

    def _record_failure(self, session: Session, row_id, exc: BaseException) -> None:
        outbox = self.tables.outbox
        session.execute(
            update(outbox)
            .where(outbox.c.id == row_id)
            .values(attempts=outbox.c.attempts + 1, last_error=_describe(exc))
        )

    def pending(self) -> int:
        outbox = self.tables.outbox
        with self.session_factory() as session:
            return int(
                session.execute(select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))).scalar_one()
            )

    def close(self) -> None:
        conn, self._conn, self._producer = self._conn, None, None
        _close(conn)


# --------------------------------------------------------------------------- consumer


def _set_traceparent(value) -> None:
    """Hand the event's traceparent to ``services.common.context`` when that module exists."""
    try:
        context = importlib.import_module("services.common.context")
    except ImportError:
        return
    setter = getattr(context, "set_traceparent", None)
    if setter is not None and value:
        setter(value)


class _InfrastructureError(Exception):
    """The database could not even record the inbox row: the message was requeued."""


@functools.lru_cache(maxsize=32)
def _inbox_statement(inbox):
    """``INSERT … ON CONFLICT (event_id, consumer) DO NOTHING`` as SQL text, the same on SQLite
    and PostgreSQL. SQLAlchemy 2.0 cannot cache the compiled form of its dialects'
    ``on_conflict_do_nothing`` and compiled it again for every consumed event (about a millisecond
    each); a text statement is compiled once."""
    cols = ("event_id", "consumer", "type", "processed_at")
    return text(
        f"INSERT INTO {inbox.name} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)}) "
        "ON CONFLICT (event_id, consumer) DO NOTHING"
    ).bindparams(*(bindparam(c, type_=inbox.c[c].type) for c in cols))


def _inbox_insert(session: Session, tables, envelope: dict, consumer: str, now: datetime) -> bool:
    params = {"event_id": envelope["id"], "consumer": consumer, "type": envelope["type"], "processed_at": now}
    # preserve_rowcount: SQLAlchemy soft-closes the cursor of a plain INSERT, and a closed
    # psycopg 3 cursor reports rowcount -1 (pysqlite keeps it), so ask for it up front.
    result = session.execute(_inbox_statement(tables.inbox), params, execution_options={"preserve_rowcount": True})
    if result.rowcount not in (0, 1):  # pragma: no cover - would make duplicates undetectable
        raise RuntimeError(f"inbox insert reported rowcount {result.rowcount}")
    return result.rowcount == 1


class Consumer:
    """Consumes ``<service>.events`` and applies each event exactly once (inbox table)."""

    def __init__(
        self,
        service: str,
        session_factory,
        tables,
        broker_url: str,
        handlers: Mapping[str, Callable[[Session, dict], None]],
        *,
        topology: Topology = Topology(),
        prefetch: int = 50,
        max_attempts: int = 5,
        clock: Callable[[], datetime] = utcnow,
        confirm_timeout: float = 5.0,
    ):
        if not handlers:
            raise ValueError("a consumer needs at least one handler")
        self.service = service
        self.session_factory = session_factory
        self.tables = tables
        self.broker_url = broker_url
        self.handlers = dict(handlers)
        self.topology = topology
        self.prefetch = prefetch
        self.max_attempts = max(1, max_attempts)
        self.clock = clock
        self.confirm_timeout = confirm_timeout
        self.queue_name = topology.queue(service)
        self.last_error: str | None = None
        self._conn: Connection | None = None
        self._producer: Producer | None = None
        self._consumer: KombuConsumer | None = None
        # Deliveries are buffered and processed outside kombu's callback: a publisher
        # confirm wait (retry/dead-letter) may read further deliveries off the socket.
        self._buffer: deque = deque()

    # -- broker

    def _ensure(self) -> None:
        if self._conn is not None:
            return
        conn = _open_connection(self.broker_url, self.confirm_timeout)
        try:
            channel = conn.channel()
            declare_topology(channel, self.topology, self.service, bindings=list(self.handlers))
            producer = Producer(channel, auto_declare=False)
            consumer = KombuConsumer(
                channel,
                queues=[Queue(self.queue_name, no_declare=True)],
                on_message=self._buffer.append,
                auto_declare=False,
                prefetch_count=self.prefetch,
            )
            consumer.consume()
        except BaseException:
            _discard(conn)
            raise
        self._conn, self._producer, self._consumer = conn, producer, consumer

    def _requeue_buffered(self) -> None:
        """Hand back deliveries not processed yet. RabbitMQ would requeue them anyway when
        the connection closes, but memory:// drops unacked messages on close."""
        while self._buffer:
            message = self._buffer.popleft()
            try:
                message.requeue()
            except Exception:  # broken connection: the broker requeues them itself
                self._buffer.clear()

    def _drop(self) -> None:
        self._requeue_buffered()
        conn, self._conn, self._producer, self._consumer = self._conn, None, None, None
        _discard(conn)

    def close(self) -> None:
        self._requeue_buffered()
        conn, self._conn, self._producer, self._consumer = self._conn, None, None, None
        _close(conn)

    # -- loop

    def drain(self, timeout: float = 0.2, max_messages: int | None = None) -> int:
        """Process what is available (until ``timeout`` passes without a delivery);
        return how many messages were processed. On error the connection is dropped
        and the error raised; unacked messages are redelivered later."""
        processed = 0
        try:
            self._ensure()
            while max_messages is None or processed < max_messages:
                if self._buffer:
                    self._process(self._buffer.popleft())
                    processed += 1
                    continue
                try:
                    self._conn.drain_events(timeout=timeout)
                except (socket.timeout, TimeoutError):
                    break
        except Exception as exc:
            self.last_error = _describe(exc)
            self._drop()
            raise
        self.last_error = None
        return processed

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set, reconnecting with backoff after errors."""
        backoff = 0.5
        try:
            while not stop.is_set():
                try:
                    self.drain(timeout=0.5, max_messages=100)
                    backoff = 0.5
                except Exception as exc:
                    log.warning("consumer %s: %s; retrying in %.1fs", self.service, _describe(exc), backoff)
                    stop.wait(backoff)
                    backoff = min(backoff * 2, 30.0)
        finally:
            self.close()

    # -- one message

    def _handler_for(self, type_: str):
        for pattern, handler in self.handlers.items():
            if topic_matches(pattern, type_):
                return handler
        return None

    def _process(self, message) -> None:
        headers = dict(message.headers or {})
        try:
            attempts = max(1, int(headers.get(ATTEMPTS_HEADER) or 1))
        except (TypeError, ValueError):
            attempts = 1
        body = message.body
        try:
            envelope = validate_envelope(body)
        except InvalidEvent as exc:
            log.warning("consumer %s: dead-lettering an invalid event: %s", self.service, exc.reason)
            self._dead_letter(message, headers, attempts, f"invalid event: {exc.reason}")
            return
        handler = self._handler_for(envelope["type"])
        if handler is None:
            log.warning(
                "consumer %s: no handler for %s, dead-lettering %s", self.service, envelope["type"], envelope["id"]
            )
            self._dead_letter(message, headers, attempts, f"no handler for type {envelope['type']}")
            return

        session = self.session_factory()
        try:
            try:
                fresh = _inbox_insert(session, self.tables, envelope, self.service, self.clock())
            except Exception as exc:
                session.rollback()
                message.requeue()
                raise _InfrastructureError(f"inbox insert failed: {_describe(exc)}") from exc
            if not fresh:
                session.rollback()
                log.info("consumer %s: event %s already applied, skipping", self.service, envelope["id"])
                message.ack()
                return
            try:
                _set_traceparent(envelope.get("traceparent"))
                handler(session, envelope)
                session.commit()
            except Reject as exc:
                session.rollback()
                log.warning("consumer %s: %s %s rejected: %s", self.service, envelope["type"], envelope["id"], exc)
                self._dead_letter(message, headers, attempts, f"rejected: {_describe(exc)}")
                return
            except Exception as exc:
                session.rollback()
                self._failed(message, headers, attempts, envelope, exc)
                return
        finally:
            session.close()
        message.ack()

    def _failed(self, message, headers: dict, attempts: int, envelope: dict, exc: Exception) -> None:
        error = _describe(exc)
        if attempts < self.max_attempts:
            log.warning(
                "consumer %s: %s %s failed (attempt %d/%d), retrying: %s",
                self.service,
                envelope["type"],
                envelope["id"],
                attempts,
                self.max_attempts,
                error,
            )
            self._republish(
                message,
                {**headers, ATTEMPTS_HEADER: attempts + 1, ERROR_HEADER: error},
                exchange="",
                routing_key=self.queue_name,
            )
            message.ack()
        else:
            log.error(
                "consumer %s: %s %s failed %d times, dead-lettering: %s",
                self.service,
                envelope["type"],
                envelope["id"],
                attempts,
                error,
                exc_info=exc,
            )
            self._dead_letter(message, headers, attempts, error)

    def _dead_letter(self, message, headers: dict, attempts: int, error: str) -> None:
        self._republish(
            message,
            {**headers, ATTEMPTS_HEADER: attempts, ERROR_HEADER: error[:_MAX_ERROR_CHARS]},
            exchange=self.topology.dlx,
            routing_key=self.queue_name,
        )
        message.ack()

    def _republish(self, message, headers: dict, *, exchange: str, routing_key: str) -> None:
        body = message.body
        encoding = message.content_encoding or "utf-8"
        if isinstance(body, str):  # py-amqp decodes bodies that carry a content_encoding
            try:
                body = body.encode(encoding)
            except (LookupError, UnicodeEncodeError):
                body, encoding = body.encode("utf-8"), "utf-8"
        properties = message.properties or {}
        kwargs = {}
        if not _is_memory(self.broker_url):
            kwargs["confirm_timeout"] = self.confirm_timeout
        if properties.get("message_id"):
            kwargs["message_id"] = properties["message_id"]
        self._producer.publish(
            body,
            exchange=exchange,
            routing_key=routing_key,
            content_type=message.content_type or CONTENT_TYPE,
            content_encoding=encoding,
            delivery_mode=PERSISTENT,
            headers=headers,
            retry=False,
            **kwargs,
        )


# --------------------------------------------------------------------------- worker


class BusWorker(threading.Thread):
    """Runs relays and consumers in one thread (embedded mode, ``kinerja worker``).

    ``drain_timeout``: how long each consumer waits for a delivery per round. With the in-process
    bus (``memory://``) nothing arrives while it waits — every message comes from the relays of
    this same loop — so the embedded runner passes 0: a quiet round costs a look, not 10 ms of
    polling per consumer (kombu's memory transport polls every millisecond), and the request
    threads sharing the process are not woken from behind."""

    def __init__(
        self, relays: list[Relay], consumers: list[Consumer], interval: float = 0.05, drain_timeout: float = 0.01
    ):
        super().__init__(name="kinerja-bus", daemon=True)
        self.relays = list(relays)
        self.consumers = list(consumers)
        self.interval = interval
        self.drain_timeout = drain_timeout
        self._stopping = threading.Event()
        # per component: (next attempt at, current backoff) after a failure
        self._backoff: dict[int, tuple[float, float]] = {}

    def stop(self, timeout: float | None = 10.0) -> None:
        self._stopping.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)

    def _due(self, component) -> bool:
        entry = self._backoff.get(id(component))
        return entry is None or _time.monotonic() >= entry[0]

    def _after(self, component, failed: bool) -> None:
        if not failed:
            self._backoff.pop(id(component), None)
            return
        delay = min(self._backoff.get(id(component), (0.0, 0.25))[1] * 2, 30.0)
        self._backoff[id(component)] = (_time.monotonic() + delay, delay)

    def run(self) -> None:
        try:
            while not self._stopping.is_set():
                busy = 0
                for relay in self.relays:
                    if not self._due(relay):
                        continue
                    try:
                        busy += relay.run_once()
                        self._after(relay, relay.last_error is not None)
                    except Exception:
                        log.exception("bus worker: relay round failed")
                        self._after(relay, True)
                for consumer in self.consumers:
                    if self._stopping.is_set():
                        break
                    if not self._due(consumer):
                        continue
                    try:
                        busy += consumer.drain(timeout=self.drain_timeout, max_messages=100)
                        self._after(consumer, False)
                    except Exception as exc:
                        log.warning("bus worker: consumer %s failed: %s", consumer.service, _describe(exc))
                        self._after(consumer, True)
                if not busy:
                    self._stopping.wait(self.interval)
        finally:
            for component in (*self.relays, *self.consumers):
                try:
                    component.close()
                except Exception:  # pragma: no cover
                    log.debug("bus worker: close failed", exc_info=True)
