"""The idempotent consumer: inbox row, handler and ack in one transaction; retries and DLQ."""

from __future__ import annotations

import importlib
import logging
import socket
import threading
import time
from collections import deque
from datetime import datetime
from typing import Callable, Mapping

from kombu import Connection, Producer, Queue
from kombu import Consumer as KombuConsumer
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import dead_letters
from ..rules import topic_matches
from .envelope import InvalidEvent, Reject, validate_envelope
from .inbox import inbox_insert, inbox_insert_many
from .topology import (
    _MAX_ERROR_CHARS,
    ATTEMPTS_HEADER,
    CONTENT_TYPE,
    ERROR_HEADER,
    PERSISTENT,
    Topology,
    _close,
    _describe,
    _discard,
    _is_memory,
    _open_connection,
    declare_topology,
    utcnow,
)

log = logging.getLogger("services.common.bus")

#: Seconds a batch (PostgreSQL) waits after its first delivery for more to arrive, up to the batch
#: size. At a steady trickle (a year's people acting: about a hundred events a second) the
#: deliveries otherwise come one per transaction, each paying the inbox statement, the commit and
#: the handlers' once-per-batch lookups alone; a backlog fills a batch at once, and a lone event
#: waits at most this long. The 1,000-person year: the notifications worker's CPU −17 %, the
#: reviews worker's −9 % (bench/README.md, cycle section).
LINGER = 0.05

#: Key in ``Session.info``: the events the consumer's transaction applies (the fresh ones of a batch,
#: or the one event), set before the first handler runs, so that a handler may load what all of
#: them need at once instead of once per event.
BATCH = "bus.batch"

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
        prefetch: int = 100,
        batch: int | None = None,
        max_attempts: int = 5,
        clock: Callable[[], datetime] = utcnow,
        confirm_timeout: float = 5.0,
        linger: float = LINGER,
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
        # events applied in one transaction: PostgreSQL only (SQLite, the embedded mode, commits
        # each event: it has no network round trip to save, and its writers queue on one lock)
        self.batch = max(1, batch if batch is not None else (prefetch if self._dialect() == "postgresql" else 1))
        self.max_attempts = max(1, max_attempts)
        self.clock = clock
        self.confirm_timeout = confirm_timeout
        self.linger = linger
        self.queue_name = topology.queue(service)
        self.last_error: str | None = None
        self._conn: Connection | None = None
        self._producer: Producer | None = None
        self._consumer: KombuConsumer | None = None
        # Deliveries are buffered and processed outside kombu's callback: a publisher
        # confirm wait (retry/dead-letter) may read further deliveries off the socket.
        self._buffer: deque = deque()
        # in-process bus: events sent to the dead-letter queue, which a relay counts as delivered
        self.dead_lettered: set[str] = set()

    def _dialect(self) -> str:
        bind = getattr(self.session_factory, "kw", {}).get("bind")
        return bind.dialect.name if bind is not None else ""

    # -- what a relay on the in-process bus asks (Relay.confirm_by)

    def binds(self, type_: str) -> bool:
        """Whether the queue is bound to ``type_`` (the handlers' keys are its bindings)."""
        return self._handler_for(type_) is not None

    def recorded(self, event_ids: set[str]) -> set[str]:
        """Which of ``event_ids`` this consumer has applied (its inbox, committed) or dead-lettered."""
        inbox = self.tables.inbox
        found = set(self.dead_lettered & event_ids)
        ids = sorted(event_ids - found)
        with self.session_factory() as session:
            for i in range(0, len(ids), 500):
                query = select(inbox.c.event_id).where(
                    inbox.c.consumer == self.service, inbox.c.event_id.in_(ids[i : i + 500])
                )
                found.update(session.scalars(query))
        return found

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
                    room = self.batch if max_messages is None else min(self.batch, max_messages - processed)
                    if self.batch > 1 and len(self._buffer) < room:
                        self._fill(room)
                    processed += self._process_many(room)
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

    def _fill(self, room: int) -> None:
        """Read further deliveries, up to ``room``: those already waiting on the socket, and those
        arriving within ``linger`` seconds (:data:`LINGER`) of the batch's first."""
        deadline = time.monotonic() + self.linger
        while len(self._buffer) < room:
            before = len(self._buffer)
            try:
                self._conn.drain_events(timeout=max(0.001, deadline - time.monotonic()))
            except (socket.timeout, TimeoutError):
                return
            if len(self._buffer) == before:
                return

    def _process_many(self, room: int) -> int:
        """Apply up to ``room`` buffered messages; return how many were taken."""
        if self.batch == 1 or room == 1 or len(self._buffer) == 1:
            self._process(self._buffer.popleft())
            return 1
        taken = [self._buffer.popleft() for _ in range(min(room, len(self._buffer)))]
        self._process_batch(taken)
        return len(taken)

    # -- one message

    def _handler_for(self, type_: str):
        for pattern, handler in self.handlers.items():
            if topic_matches(pattern, type_):
                return handler
        return None

    def _process(self, message) -> None:
        screened = self._screen(message)
        if screened is None:
            return
        headers, attempts, envelope, handler = screened
        session = self.session_factory()
        try:
            try:
                fresh = inbox_insert(session, self.tables, envelope, self.service, self.clock())
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
                session.info[BATCH] = [envelope]
                handler(session, envelope)
                session.commit()
            except Reject as exc:
                session.rollback()
                log.warning("consumer %s: %s %s rejected: %s", self.service, envelope["type"], envelope["id"], exc)
                self._dead_letter(message, headers, attempts, f"rejected: {_describe(exc)}", reason="rejected")
                return
            except Exception as exc:
                session.rollback()
                self._failed(message, headers, attempts, envelope, exc)
                return
        finally:
            session.close()
        message.ack()

    def _screen(self, message):
        """Headers, attempt, envelope and handler of a delivery, or None when it was
        dead-lettered at once (not a CloudEvent, no handler)."""
        headers = dict(message.headers or {})
        try:
            attempts = max(1, int(headers.get(ATTEMPTS_HEADER) or 1))
        except (TypeError, ValueError):
            attempts = 1
        try:
            envelope = validate_envelope(message.body)
        except InvalidEvent as exc:
            log.warning("consumer %s: dead-lettering an invalid event: %s", self.service, exc.reason)
            self._dead_letter(message, headers, attempts, f"invalid event: {exc.reason}", reason="invalid")
            return None
        handler = self._handler_for(envelope["type"])
        if handler is None:
            log.warning(
                "consumer %s: no handler for %s, dead-lettering %s", self.service, envelope["type"], envelope["id"]
            )
            self._dead_letter(
                message, headers, attempts, f"no handler for type {envelope['type']}", reason="unknown_type"
            )
            return None
        return headers, attempts, envelope, handler

    def _process_batch(self, messages: list) -> None:
        """Several deliveries in one transaction: one statement records them all in the inbox
        (``RETURNING`` says which are new), each new one's handler runs, one commit, then the
        acks. Each event's inbox row and effect still stand or fall together; a crash before the
        commit redelivers the batch and the inbox skips nothing that was not applied. If a handler
        fails or rejects, the batch is rolled back, that event is retried or dead-lettered as it
        would be alone, and the others are applied again as a batch without it. If the database
        fails, the whole batch goes back to the queue."""
        work = [(message, screened) for message in messages if (screened := self._screen(message)) is not None]
        if not work:
            return
        session = self.session_factory()
        try:
            try:
                fresh = inbox_insert_many(session, self.tables, [w[1][2] for w in work], self.service, self.clock())
            except Exception as exc:
                session.rollback()
                for message, _ in work:
                    message.requeue()
                raise _InfrastructureError(f"inbox insert failed: {_describe(exc)}") from exc
            failure = None
            session.info[BATCH] = [w[1][2] for w in work if w[1][2]["id"] in fresh]
            for position, (_message, (_headers, _attempts, envelope, handler)) in enumerate(work):
                if envelope["id"] not in fresh:
                    log.info("consumer %s: event %s already applied, skipping", self.service, envelope["id"])
                    continue
                fresh.discard(envelope["id"])  # the same event twice in a batch: applied once
                try:
                    _set_traceparent(envelope.get("traceparent"))
                    handler(session, envelope)
                except Exception as exc:
                    failure = (position, exc)
                    break
            if failure is None:
                try:
                    session.commit()
                except Exception as exc:
                    session.rollback()
                    for message, _ in work:
                        message.requeue()
                    raise _InfrastructureError(f"committing a batch failed: {_describe(exc)}") from exc
            else:
                session.rollback()
        finally:
            session.close()
        if failure is None:
            self._ack_all([message for message, _ in work])
            return
        # the failing event counts this as its attempt; the others are applied again without it
        position, exc = failure
        message, (headers, attempts, envelope, _handler) = work[position]
        if isinstance(exc, Reject):
            log.warning("consumer %s: %s %s rejected: %s", self.service, envelope["type"], envelope["id"], exc)
            self._dead_letter(message, headers, attempts, f"rejected: {_describe(exc)}", reason="rejected")
        else:
            self._failed(message, headers, attempts, envelope, exc)
        rest = [m for i, (m, _) in enumerate(work) if i != position]
        if rest:
            self._process_batch(rest)

    def _ack_all(self, messages: list) -> None:
        """Ack a batch. On RabbitMQ one ``multiple`` ack of the last delivery tag: every delivery
        before it on this channel is in the batch or already settled (the buffer is taken in
        order, each delivery acked, rejected or republished before the next batch)."""
        if _is_memory(self.broker_url) or len(messages) == 1:  # kombu's memory:// ignores ``multiple``
            for message in messages:
                message.ack()
            return
        last = max(messages, key=lambda m: m.delivery_tag)
        last.channel.basic_ack(last.delivery_tag, multiple=True)
        for message in messages:  # kombu's own bookkeeping: settled, never acked twice
            message._state = "ACK"

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

    def _dead_letter(self, message, headers: dict, attempts: int, error: str, reason: str = "failed") -> None:
        self._republish(
            message,
            {**headers, ATTEMPTS_HEADER: attempts, ERROR_HEADER: error[:_MAX_ERROR_CHARS]},
            exchange=self.topology.dlx,
            routing_key=self.queue_name,
        )
        event_id = (message.properties or {}).get("message_id")
        if event_id and _is_memory(self.broker_url):
            self.dead_lettered.add(str(event_id))
        if getattr(self.tables, "dead_letters", None) is not None:  # counted for /metrics (dead_letters.py)
            dead_letters.record(
                self.session_factory,
                self.tables,
                consumer=self.service,
                reason=reason,
                event_id=event_id,
                error=error,
                at=self.clock(),
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
