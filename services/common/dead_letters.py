"""Dead letters counted where every process of a service can see them: the consumer (``kinerja worker``,
a process without ``/metrics``) writes one row per message it sends to the dead-letter queue into the
service's own database, and the service's ``/metrics`` (any gunicorn process) reports
``kinerja_events_dead_lettered_total{service,reason}`` from that table at each scrape. A counter in the
worker's memory would be lost with the worker and never reach the web processes that are scraped."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily
from sqlalchemy import func, select

log = logging.getLogger("services.common.bus")

#: why a message was dead-lettered: not a CloudEvent (bad JSON, wrong envelope), a type the queue has no
#: handler for, refused by its handler (wrong payload), or failed on every attempt
REASONS = ("invalid", "unknown_type", "rejected", "failed")
METRIC = "kinerja_events_dead_lettered"


def columns() -> list[sa.Column]:
    """The table's columns, shared by ``tables.define_platform_tables`` and the services' migrations."""
    from .tables import BigId

    return [
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(200), nullable=True),  # the message id, when it had one
        sa.Column("consumer", sa.String(80), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    ]


def record(session_factory, tables, *, consumer: str, reason: str, event_id, error: str, at) -> None:
    """One row per dead letter, in a transaction of its own (the message is already in the DLQ: a
    database that refuses the row costs one count, never the message)."""
    try:
        with session_factory() as session:
            session.execute(
                tables.dead_letters.insert().values(
                    event_id=str(event_id)[:200] if event_id else None,
                    consumer=consumer,
                    reason=reason,
                    error=error[:1000],
                    at=at,
                )
            )
            session.commit()
    except Exception:  # noqa: BLE001 - counted in the log instead
        log.warning("consumer %s: could not count a dead letter (%s)", consumer, reason, exc_info=True)


class _Collector:
    def __init__(self, platform):
        self.platform = platform

    def collect(self):
        family = CounterMetricFamily(
            METRIC, "Events sent to the dead-letter queue, by reason", labels=["service", "reason"]
        )
        table = self.platform.tables.dead_letters
        counts = {reason: 0 for reason in REASONS}
        try:
            with self.platform.session_factory() as session:
                query = select(table.c.reason, func.count()).where(table.c.consumer == self.platform.service)
                counts.update(dict(session.execute(query.group_by(table.c.reason)).all()))
        except Exception:  # noqa: BLE001 - no database: the metric is absent rather than a 500 on /metrics
            log.warning("dead letters not counted: the database did not answer", exc_info=True)
            return
        for reason, count in sorted(counts.items()):
            family.add_metric([self.platform.service, reason], count)
        yield family


def exposition(platform) -> bytes:
    """``kinerja_events_dead_lettered_total`` in the text format, appended to ``/metrics``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(platform))
    return generate_latest(registry)
