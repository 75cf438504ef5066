"""Event bus: CloudEvents envelopes, transactional outbox relay, idempotent consumers.

DESIGN.md §3 and ENGINEERING.md "Messaging". The platform only: no service knows
about another here.

Publishing
    A service writes its state change and :func:`add_to_outbox` in one database
    transaction; on PostgreSQL that transaction also sends ``NOTIFY kinerja_outbox`` (in-process
    signal on SQLite, :mod:`.wakeup`). A :class:`Relay` sleeps on it (a slow poll as a safety
    net), then publishes the unsent outbox rows in id order, a batch at a time, as persistent
    messages to the topic exchange ``kinerja.events`` (routing key = event type) with pika and
    pipelined publisher confirms (:mod:`.publisher`: the batch, then its confirms), and marks
    the confirmed rows sent in one statement; a nack or a timeout leaves exactly the
    unconfirmed rows unsent. Unroutable events are kept by the exchange's alternate exchange
    ``kinerja.unrouted``.

Consuming
    A :class:`Consumer` owns the durable queue ``<service>.events`` bound to the keys of
    its handlers (prefetch 100). On PostgreSQL the deliveries that have arrived are applied in
    one transaction: one ``INSERT … ON CONFLICT DO NOTHING RETURNING`` records them in the inbox
    ``(event_id, consumer)`` (a replay inserts nothing and is skipped), each new event's handler
    runs, one commit, then the acks. The session's ``info[BATCH]`` lists the transaction's new
    events, so that a handler may load what all of them need at once. A handler that fails takes
    only its own event out of the batch: it is republished with an attempt counter and ends in
    ``<service>.events.dlq`` (via ``kinerja.dlx``) after ``max_attempts``, so it never blocks the
    queue. On SQLite each event is its own transaction.

Transports
    ``amqp://`` (RabbitMQ) in production, ``memory://`` for the embedded mode and unit
    tests (published with kombu, one message at a time). memory:// has no confirms,
    queue/exchange arguments, alternate exchange or DLX: the relay simply publishes,
    dead-lettering is done by the consumer itself (the same code path on both transports),
    and unroutable events are dropped. memory:// also
    keeps nothing when the process dies, so the embedded runner hands the relays its consumers
    (:meth:`Relay.confirm_by`): a row is marked sent only once every consumer bound to its
    type has recorded it in its inbox (or dead-lettered it); a row published before a crash
    and not recorded is published again at the next start.
"""

from ..rules import topic_matches
from .consumer import BATCH, Consumer
from .envelope import (
    InvalidEvent,
    Reject,
    encode_envelope,
    format_time,
    make_event,
    new_traceparent,
    valid_traceparent,
    validate_envelope,
)
from .relay import Relay, add_many_to_outbox, add_to_outbox
from .topology import (
    ATTEMPTS_HEADER,
    CONTENT_TYPE,
    DATACONTENTTYPE,
    DLX,
    ERROR_HEADER,
    EXCHANGE,
    PERSISTENT,
    SPECVERSION,
    UNROUTED_EXCHANGE,
    UNROUTED_QUEUE,
    Topology,
    declare_topology,
    utcnow,
)
from .worker import BusWorker

__all__ = [
    "ATTEMPTS_HEADER",
    "BATCH",
    "BusWorker",
    "CONTENT_TYPE",
    "Consumer",
    "DATACONTENTTYPE",
    "DLX",
    "ERROR_HEADER",
    "EXCHANGE",
    "InvalidEvent",
    "PERSISTENT",
    "Reject",
    "Relay",
    "SPECVERSION",
    "Topology",
    "UNROUTED_EXCHANGE",
    "UNROUTED_QUEUE",
    "add_many_to_outbox",
    "add_to_outbox",
    "declare_topology",
    "encode_envelope",
    "format_time",
    "make_event",
    "new_traceparent",
    "topic_matches",
    "utcnow",
    "valid_traceparent",
    "validate_envelope",
]
