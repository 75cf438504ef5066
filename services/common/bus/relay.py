"""The transactional outbox and the relay that publishes it with publisher confirms.

On RabbitMQ a round sends a batch of unsent rows with pika (:mod:`.publisher`: the whole batch,
then its confirms), marks the confirmed rows sent in one statement and records an attempt on
the others; between rounds the relay sleeps until a transaction that wrote the outbox commits
(:mod:`.wakeup`: ``LISTEN/NOTIFY`` on PostgreSQL), looking anyway every ``poll`` seconds. The
in-process bus (``memory://``, embedded mode and unit tests) publishes with kombu."""

from __future__ import annotations

import functools
import json
import logging
import time as _time
from datetime import datetime
from typing import Callable, Sequence

from kombu import Connection, Producer
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from .envelope import encode_envelope, validate_envelope
from .publisher import Outgoing, PikaPublisher
from .topology import (
    ATTEMPTS_HEADER,
    CONTENT_TYPE,
    PERSISTENT,
    Topology,
    _close,
    _describe,
    _discard,
    _is_memory,
    _is_virtual,
    _open_connection,
    declare_topology,
    utcnow,
)
from .wakeup import OutboxWaiter, outbox_written

log = logging.getLogger("services.common.bus")

# --------------------------------------------------------------------------- outbox


def add_to_outbox(session: Session, tables, envelope: dict, now: datetime) -> None:
    """Queue ``envelope`` for publishing, in the caller's transaction (never publishes)."""
    add_many_to_outbox(session, tables, [envelope], now)


def add_many_to_outbox(session: Session, tables, envelopes: list[dict], now: datetime) -> None:
    """Queue ``envelopes`` for publishing in this order, in the caller's transaction: one statement
    (an executemany for several, as a directory import or a stage change writes thousands)."""
    rows = [
        {
            "event_id": envelope["id"],
            "type": envelope["type"],
            "envelope": envelope,
            "created_at": now,
            "sent_at": None,
            "attempts": 0,
            "last_error": None,
        }
        for envelope in map(validate_envelope, envelopes)
    ]
    if not rows:
        return
    # the values as parameters, not .values(): a statement SQLAlchemy compiles once and reuses
    # (building .values() coerced every value again, ~0.25 ms of each event)
    session.execute(tables.outbox.insert(), rows[0] if len(rows) == 1 else rows)
    outbox_written(session)


@functools.lru_cache(maxsize=32)
def _unsent(outbox, limit: int, skip_locked: bool):
    """The relay's batch query, built once (the embedded worker asks every 50 ms per service)."""
    query = select(outbox.c.id, outbox.c.envelope).where(outbox.c.sent_at.is_(None)).order_by(outbox.c.id).limit(limit)
    return query.with_for_update(skip_locked=True) if skip_locked else query


@functools.lru_cache(maxsize=32)
def _mark_sent(outbox):
    return update(outbox).where(outbox.c.id == bindparam("row_id")).values(sent_at=bindparam("sent"))


@functools.lru_cache(maxsize=32)
def _mark_batch_sent(outbox):
    """A whole confirmed batch in one statement (``id IN (…)``)."""
    return update(outbox).where(outbox.c.id.in_(bindparam("ids", expanding=True))).values(sent_at=bindparam("sent"))


@functools.lru_cache(maxsize=32)
def _mark_batch_failed(outbox):
    return (
        update(outbox)
        .where(outbox.c.id.in_(bindparam("ids", expanding=True)))
        .values(attempts=outbox.c.attempts + 1, last_error=bindparam("error"))
    )


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


class Relay:
    """Publishes unsent outbox rows. Safe to run several relays on one PostgreSQL database.

    On RabbitMQ a row is marked sent after the broker's publisher confirm: the broker keeps the
    persistent message in durable queues. The in-process bus (memory://) keeps nothing once the
    process dies, so there the embedded runner calls :meth:`confirm_by` with its consumers: a
    published row stays unsent ("in flight") until every consumer bound to its type has recorded it
    in its inbox (or dead-lettered it), and only then is marked sent. A process killed in between
    publishes the row again at its next start; the consumers' inboxes skip what they had applied."""

    def __init__(
        self,
        session_factory,
        tables,
        broker_url: str,
        *,
        topology: Topology = Topology(),
        confirm_timeout: float = 5.0,
        batch_size: int = 500,
        clock: Callable[[], datetime] = utcnow,
        redeliver_after: float = 30.0,
    ):
        self.session_factory = session_factory
        self.tables = tables
        self.broker_url = broker_url
        self.topology = topology
        self.confirm_timeout = confirm_timeout
        self.batch_size = batch_size
        self.clock = clock
        self.last_error: str | None = None  # of the last round; None when it went well
        self._conn: Connection | None = None  # memory:// (kombu)
        self._producer: Producer | None = None
        self._publisher: PikaPublisher | None = None  # RabbitMQ (pika, pipelined confirms)
        self._waiter: OutboxWaiter | None = None
        self.redeliver_after = redeliver_after  # in-process bus: publish again what no consumer recorded
        self._consumers: list | None = None  # see confirm_by
        self._in_flight: dict = {}  # row id -> (event id, type, monotonic time published)

    def confirm_by(self, consumers: Sequence) -> None:
        """In-process bus only: mark a row sent once each of ``consumers`` bound to its type has
        recorded it (``Consumer.recorded``), not when it is handed to memory://. No effect on a real
        broker, whose durable queues and publisher confirms already answer for the message."""
        if _is_memory(self.broker_url):
            self._consumers = list(consumers)

    def _bound(self, type_: str) -> list:
        return [c for c in self._consumers if c.binds(type_)]

    def _confirm(self, session: Session) -> int:
        """Mark sent the in-flight rows every bound consumer has recorded; return how many."""
        if not self._in_flight:
            return 0
        done = set(self._in_flight)
        for consumer in self._consumers:
            mine = {
                row_id: event_id for row_id, (event_id, type_, _) in self._in_flight.items() if consumer.binds(type_)
            }
            if not mine:
                continue
            try:
                recorded = consumer.recorded(set(mine.values()))
            except Exception as exc:  # its database is away: the rows stay in flight
                log.warning("relay: cannot read the inbox of %s: %s", consumer.service, _describe(exc))
                recorded = set()
            done -= {row_id for row_id, event_id in mine.items() if event_id not in recorded}
        if done:
            now = self.clock()
            session.execute(_mark_sent(self.tables.outbox), [{"row_id": row_id, "sent": now} for row_id in done])
            for row_id in done:
                event_id = self._in_flight.pop(row_id)[0]
                for consumer in self._consumers:
                    consumer.dead_lettered.discard(event_id)
        return len(done)

    def _due(self, rows) -> list:
        """The rows to publish now: all of them, or with :meth:`confirm_by` those in flight for longer
        than ``redeliver_after`` (lost inside the process) and new ones while fewer than
        ``batch_size`` are in flight."""
        if self._consumers is None:
            return rows
        stale = _time.monotonic() - self.redeliver_after
        room = max(0, self.batch_size - len(self._in_flight))
        new = [r for r in rows if r.id not in self._in_flight][:room]
        again = [r for r in rows if r.id in self._in_flight and self._in_flight[r.id][2] < stale]
        return sorted(again + new, key=lambda r: r.id)

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
        if self._publisher is not None:
            self._publisher.drop()

    def _declare(self) -> None:
        """The exchanges, declared over kombu (the same code as the consumers') once per
        connection of the publisher, before its first message."""
        conn = _open_connection(self.broker_url, self.confirm_timeout)
        try:
            declare_topology(conn, self.topology)
        finally:
            _close(conn)

    def _pika(self) -> PikaPublisher:
        if self._publisher is None:
            self._publisher = PikaPublisher(
                self.broker_url, self.topology.exchange, timeout=self.confirm_timeout, on_connect=self._declare
            )
        return self._publisher

    def _publish(self, producer: Producer, body: bytes, envelope: dict) -> None:
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
        )

    # -- rounds

    def run_once(self) -> int:
        """Publish one batch; return how many rows were published and marked sent (with
        :meth:`confirm_by`: published, plus the rows marked sent as their consumers recorded them).

        Never raises for broker errors: the failing row records ``attempts`` and
        ``last_error``, the connection is dropped and the next round reconnects."""
        outbox = self.tables.outbox
        published = 0
        with self.session_factory() as session:
            if self._consumers is not None:
                with session.begin():
                    published += self._confirm(session)
            with session.begin():
                # with confirm_by at most batch_size rows are in flight, and they come first
                limit = self.batch_size if self._consumers is None else 2 * self.batch_size
                rows = self._due(session.execute(_unsent(outbox, limit, _dialect(session) == "postgresql")).all())
                if not rows:
                    self.last_error = None
                    return published
                batch: list[tuple[int, dict, bytes]] = []
                for row in rows:
                    envelope = row.envelope
                    if isinstance(envelope, str):  # pragma: no cover - JSON stored as text elsewhere
                        envelope = json.loads(envelope)
                    try:
                        envelope = validate_envelope(envelope)
                        batch.append((row.id, envelope, encode_envelope(envelope)))
                    except Exception as exc:  # a bad row must not stop the others
                        log.error("outbox row %s cannot be published: %s", row.id, exc)
                        self._record_failure(session, row.id, exc)
                if _is_memory(self.broker_url):
                    published += self._publish_in_process(session, batch)
                else:
                    published += self._publish_confirmed(session, batch)
        return published

    def _publish_confirmed(self, session: Session, batch: list) -> int:
        """RabbitMQ: the batch with pipelined confirms; the confirmed rows marked sent in one
        statement, the others (a nack, a timeout, a broken connection) left unsent with an
        attempt recorded."""
        if not batch:
            self.last_error = None
            return 0
        outbox = self.tables.outbox
        try:
            confirmed = self._pika().publish([Outgoing(env["type"], body, env["id"]) for _, env, body in batch])
            error = self._pika().error
        except Exception as exc:  # no connection at all (PublishError), or declaring the topology failed
            confirmed, error = [False] * len(batch), _describe(exc)
            self._drop_connection()
        sent = [row_id for (row_id, _, _), ok in zip(batch, confirmed) if ok]
        failed = [row_id for (row_id, _, _), ok in zip(batch, confirmed) if not ok]
        if sent:
            session.execute(_mark_batch_sent(outbox), {"ids": sent, "sent": self.clock()})
        if failed:
            log.warning(
                "relay: %d of %d outbox rows not confirmed (first %s, %s), will retry: %s",
                len(failed),
                len(batch),
                failed[0],
                next(env["type"] for row_id, env, _ in batch if row_id == failed[0]),
                error,
            )
            session.execute(_mark_batch_failed(outbox), {"ids": failed, "error": (error or "not confirmed")[:1000]})
        self.last_error = error if failed else None
        return len(sent)

    def _publish_in_process(self, session: Session, batch: list) -> int:
        """memory://: one message at a time with kombu (nothing to confirm)."""
        published, round_error = 0, None
        sent: list[dict] = []  # marked sent together, before the batch commits
        for row_id, envelope, body in batch:
            try:
                self._publish(self._ensure_producer(), body, envelope)
            except Exception as exc:  # broker errors: stop the round, reconnect later
                log.warning(
                    "relay: publishing outbox row %s (%s) failed, will retry: %s",
                    row_id,
                    envelope.get("type"),
                    _describe(exc),
                )
                self._record_failure(session, row_id, exc)
                self._drop_connection()
                round_error = _describe(exc)
                break
            if self._consumers is not None and self._bound(envelope["type"]):
                self._in_flight[row_id] = (envelope["id"], envelope["type"], _time.monotonic())
            else:  # no consumer is bound (memory:// drops it)
                sent.append({"row_id": row_id, "sent": self.clock()})
            published += 1
        if sent:
            session.execute(_mark_sent(self.tables.outbox), sent)
        self.last_error = round_error
        return published

    def wait(self, timeout: float) -> bool:
        """Sleep until a transaction that wrote the outbox commits, or ``timeout`` passes; True
        when woken. Meanwhile a RabbitMQ connection answers its heartbeats."""
        if self._publisher is not None and self._publisher.connected:
            self._publisher.idle()
        if self._waiter is None:
            self._waiter = OutboxWaiter(self.session_factory.kw["bind"])
        return self._waiter.wait(timeout)

    def wake(self) -> None:
        """End a :meth:`wait` from another thread."""
        if self._waiter is not None:
            self._waiter.wake()

    @property
    def in_flight(self) -> int:
        """memory:// with :meth:`confirm_by`: rows published and not yet recorded by their consumers."""
        return len(self._in_flight)

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
        if self._publisher is not None:
            self._publisher.close()
        if self._waiter is not None:
            self._waiter.close()
