"""The transactional outbox and the relay that publishes it with publisher confirms."""

from __future__ import annotations

import functools
import json
import logging
from datetime import datetime
from typing import Callable

from kombu import Connection, Producer
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from .envelope import encode_envelope, validate_envelope
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

log = logging.getLogger("services.common.bus")

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
