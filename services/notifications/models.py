"""SQLAlchemy 2.0 mappings of the notifications service: the read model of recipients fed by
plans events (people, units, acting officials), HR contacts, agency settings, the notification
rules (data), preferences, the notifications (one per event and recipient: the inbox), deliveries
per channel with their attempts (the delivery log), webhook subscriptions, reminder batches and
their items."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from services.common.tables import define_platform_tables


class Base(DeclarativeBase):
    pass


platform_tables = define_platform_tables(Base.metadata)


# ------------------------------------------------------------------ read model (owned by plans)


class Person(Base):
    __tablename__ = "rm_people"
    nip: Mapped[str] = mapped_column(String(18), primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    position: Mapped[str | None] = mapped_column(String(200), nullable=True)
    unit_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    unit_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    superior_nip: Mapped[str | None] = mapped_column(String(18), nullable=True, index=True)
    language: Mapped[str] = mapped_column(String(5), default="id")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    as_of: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)  # event time applied


class UnitRef(Base):
    __tablename__ = "rm_units"
    __table_args__ = (UniqueConstraint("agency_code", "code", name="uq_rm_unit"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the plans unit id
    agency_code: Mapped[str] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    parent_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    head_nip: Mapped[str | None] = mapped_column(String(18), nullable=True)
    as_of: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)  # event time applied


class ActingRef(Base):
    """An acting appointment (Plt/Plh) from plans: ``acting_nip`` stands in for ``for_nip`` from
    ``start_date`` to ``end_date`` (both included) and hears what is addressed to them meanwhile."""

    __tablename__ = "rm_acting"
    __table_args__ = (Index("ix_rm_acting_agency_dates", "agency_code", "end_date"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the plans appointment id
    agency_code: Mapped[str] = mapped_column(String(40))
    acting_nip: Mapped[str] = mapped_column(String(18), index=True)
    for_nip: Mapped[str] = mapped_column(String(18), index=True)
    kind: Mapped[str] = mapped_column(String(4))  # plt | plh
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    as_of: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)  # event time applied


# ------------------------------------------------------------------ settings (HR and people)


class HrContact(Base):
    """Who hears about an agency's HR matters: a person of the directory (``nip``) and/or an address."""

    __tablename__ = "hr_contacts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    nip: Mapped[str | None] = mapped_column(String(18), nullable=True)
    language: Mapped[str] = mapped_column(String(5), default="id")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AgencySettings(Base):
    __tablename__ = "agency_settings"
    agency_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    apprise_urls: Mapped[list] = mapped_column(JSON, default=list)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RuleRow(Base):
    """An agency's notification rules once HR edited them (the defaults live in ``domain``)."""

    __tablename__ = "notification_rules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(40), index=True)
    position: Mapped[int] = mapped_column(Integer)
    event_type: Mapped[str] = mapped_column(String(120))
    audience: Mapped[str] = mapped_column(String(20))
    template: Mapped[str] = mapped_column(String(80))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    when: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class Preference(Base):
    """A person's language, channels, quiet hours, digest and Apprise targets."""

    __tablename__ = "preferences"
    nip: Mapped[str] = mapped_column(String(18), primary_key=True)
    language: Mapped[str | None] = mapped_column(String(5), nullable=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    apprise: Mapped[bool] = mapped_column(Boolean, default=True)
    overrides: Mapped[dict] = mapped_column(JSON, default=dict)  # event type → channels
    quiet_start: Mapped[str | None] = mapped_column(String(5), nullable=True)
    quiet_end: Mapped[str | None] = mapped_column(String(5), nullable=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Jakarta")
    digest: Mapped[bool] = mapped_column(Boolean, default=False)
    digest_hour: Mapped[int] = mapped_column(Integer, default=7)
    apprise_urls: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# ------------------------------------------------------------------ notifications and deliveries


class Notification(Base):
    """The rendered message of one event for one recipient; the inbox shows those with a NIP."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("event_id", "recipient_key", name="uq_notification_event_recipient"),
        Index("ix_notifications_inbox", "recipient_nip", "in_inbox", "id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(120))
    template: Mapped[str] = mapped_column(String(80))
    recipient_key: Mapped[str] = mapped_column(String(60))
    recipient_nip: Mapped[str | None] = mapped_column(String(18), nullable=True)
    recipient_name: Mapped[str] = mapped_column(String(200))
    agency_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    audience: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5))
    title: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500), nullable=True)
    in_inbox: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(40), index=True)
    owner_sub: Mapped[str] = mapped_column(String(200))
    owner_nip: Mapped[str | None] = mapped_column(String(18), nullable=True)
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(500), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _where(condition: str) -> dict:
    """A partial index's condition, on PostgreSQL and SQLite alike."""
    return {"postgresql_where": text(condition), "sqlite_where": text(condition)}


class Delivery(Base):
    """One message on one channel to one recipient (or webhook subscription): the delivery log."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "recipient_key", "channel", name="uq_delivery_event_recipient"),
        # only a pending delivery has a next attempt (migration 0007): the dispatcher claims them in
        # this index's order, and the rows written sent or skipped (in-app ones, most) stay out of it
        Index("ix_deliveries_next", "next_attempt_at", "id", **_where("next_attempt_at IS NOT NULL")),
        Index("ix_deliveries_due", "status", "next_attempt_at", **_where("next_attempt_at IS NOT NULL")),
        Index("ix_deliveries_agency", "agency_code", "status", "id"),
        Index("ix_deliveries_subscription", "subscription_id", "id", **_where("subscription_id IS NOT NULL")),
        Index("ix_deliveries_bundled_into", "bundled_into", **_where("bundled_into IS NOT NULL")),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(120))
    template: Mapped[str | None] = mapped_column(String(80), nullable=True)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"), nullable=True, index=True)
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("webhook_subscriptions.id"), nullable=True)
    recipient_key: Mapped[str] = mapped_column(String(60))
    recipient_nip: Mapped[str | None] = mapped_column(String(18), nullable=True)
    agency_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    channel: Mapped[str] = mapped_column(String(12))
    target: Mapped[str | None] = mapped_column(Text, nullable=True)  # address, Apprise URLs (JSON) or URL
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    first_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    digest: Mapped[bool] = mapped_column(Boolean, default=False)  # waits for the person's daily digest
    bundled_into: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the digest delivery
    body: Mapped[str | None] = mapped_column(Text, nullable=True)  # webhook: the CloudEvent JSON as signed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    notification: Mapped[Notification | None] = relationship(lazy="raise_on_sql", viewonly=False)


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(10))  # sent | retry | failed
    http_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)


# ------------------------------------------------------------------ reminders


class ReminderBatch(Base):
    __tablename__ = "reminder_batches"
    __table_args__ = (UniqueConstraint("agency_code", "batch_key", name="uq_reminder_batch"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(40))
    batch_key: Mapped[str] = mapped_column(String(200))
    template: Mapped[str] = mapped_column(String(80))
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    escalate_to: Mapped[str] = mapped_column(String(10), default="hr")
    hr_after_hours: Mapped[int] = mapped_column(Integer, default=48)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # the batch's counts, kept as its items change (a call answers them without counting the items)
    item_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    done_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    escalated_superior: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    escalated_hr: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ReminderItem(Base):
    __tablename__ = "reminder_items"
    __table_args__ = (
        UniqueConstraint("batch_id", "recipient_nip", name="uq_reminder_item"),
        Index("ix_reminder_items_batch_page", "batch_id", "id"),  # a batch read page by page
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("reminder_batches.id"))
    recipient_nip: Mapped[str] = mapped_column(String(18))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    event_id: Mapped[str] = mapped_column(String(36))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    escalations: Mapped[list] = mapped_column(JSON, default=list)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
