"""Platform tables every service database holds: outbox, inbox, idempotency keys, audit log.

Each service calls :func:`define_platform_tables` on its own ``MetaData`` so the tables
live in that service's database and its Alembic migrations.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


@dataclass(frozen=True)
class PlatformTables:
    outbox: Table
    inbox: Table
    idempotency: Table
    audit: Table
    dead_letters: Table


def define_platform_tables(metadata: MetaData) -> PlatformTables:
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("type", String(120), nullable=False),
        Column("envelope", JSON, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("sent_at", DateTime(timezone=True), nullable=True),
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", Text, nullable=True),
        Index("ix_outbox_unsent", "sent_at", "id"),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("event_id", String(36), primary_key=True),
        Column("consumer", String(80), primary_key=True),
        Column("type", String(120), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    )
    idempotency = Table(
        "idempotency_keys",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("principal", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("method", String(10), nullable=False),
        Column("path", String(500), nullable=False),
        Column("request_hash", String(64), nullable=False),
        Column("state", String(12), nullable=False),  # in_flight | done
        Column("status_code", Integer, nullable=True),
        Column("response_body", LargeBinary, nullable=True),
        Column("response_headers", JSON, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        UniqueConstraint("principal", "key", name="uq_idempotency_principal_key"),
    )
    audit = Table(
        "audit_log",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("actor", String(200), nullable=False),
        Column("action", String(80), nullable=False),
        Column("entity_type", String(60), nullable=False),
        Column("entity_id", String(80), nullable=False),
        Column("agency", String(40), nullable=True),
        Column("subject", String(40), nullable=True),  # the person the row concerns (NIP)
        Column("before", JSON, nullable=True),
        Column("after", JSON, nullable=True),
        Column("request_id", String(64), nullable=True),
        Column("prev_hash", String(64), nullable=False),
        Column("hash", String(64), nullable=False),
        Index("ix_audit_entity", "entity_type", "entity_id"),
        Index("ix_audit_subject", "subject"),
    )
    from .dead_letters import columns as dead_letter_columns

    # one row per message the consumer sent to the dead-letter queue (services/common/dead_letters.py)
    dead_letters = Table("dead_letters", metadata, *dead_letter_columns())
    return PlatformTables(outbox=outbox, inbox=inbox, idempotency=idempotency, audit=audit, dead_letters=dead_letters)
