"""Exchanges, queues and connections of the bus (DESIGN.md §3)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Sequence

from kombu import Connection, Exchange, Queue

log = logging.getLogger("services.common.bus")

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
