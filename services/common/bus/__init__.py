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
    same code path on both transports), and unroutable events are dropped. memory:// also
    keeps nothing when the process dies, so the embedded runner hands the relays its consumers
    (:meth:`Relay.confirm_by`): a row is marked sent only once every consumer bound to its
    type has recorded it in its inbox (or dead-lettered it); a row published before a crash
    and not recorded is published again at the next start.
"""

from ..rules import topic_matches
from .consumer import Consumer, _inbox_insert, _inbox_statement, _InfrastructureError, _set_traceparent
from .envelope import (
    _MAX_TYPE,
    _TRACEPARENT,
    _TYPE,
    InvalidEvent,
    Reject,
    _require_str,
    encode_envelope,
    format_time,
    make_event,
    new_traceparent,
    valid_traceparent,
    validate_envelope,
)
from .relay import Relay, add_to_outbox
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
    "_InfrastructureError",
    "_MAX_ERROR_CHARS",
    "_MAX_TYPE",
    "_TRACEPARENT",
    "_TYPE",
    "_channel_of",
    "_close",
    "_describe",
    "_dialect",
    "_discard",
    "_inbox_insert",
    "_inbox_statement",
    "_is_memory",
    "_is_virtual",
    "_mark_sent",
    "_open_connection",
    "_require_str",
    "_set_traceparent",
    "_transport_options",
    "_unsent",
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
