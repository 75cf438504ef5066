"""SQLAlchemy 2.0 typed mappings of the surveys service: campaigns, responses (one row per
response, one column per unsur, so the index is one aggregate query), one-time tokens and
the per-address submission counters of the public form."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.tables import BigId, define_platform_tables

from .domain import UNSUR


class Base(DeclarativeBase):
    pass


platform_tables = define_platform_tables(Base.metadata)


class Campaign(Base):
    """One survey of one service unit, for one service type and period."""

    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_agency_unit", "agency_code", "unit_code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(40))
    unit_code: Mapped[str] = mapped_column(String(40))
    unit_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    service_type: Mapped[str] = mapped_column(String(200))
    service_options: Mapped[list | None] = mapped_column(JSON, nullable=True)  # choices offered on the form
    title: Mapped[str | None] = mapped_column(String(200), nullable=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    population: Mapped[int] = mapped_column(Integer)
    sample_method: Mapped[str] = mapped_column(String(20))
    margin: Mapped[float] = mapped_column(Float)
    min_sample: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    slug: Mapped[str] = mapped_column(String(64), unique=True)  # the unguessable public link
    uses_tokens: Mapped[bool] = mapped_column(Boolean, default=False)
    # kept by record_responses in the same transaction as the rows (a COUNT per insert grows with
    # the campaign); not part of the version: recording responses does not change the ETag
    respondents: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # the unit's follow-up of the results (rencana tindak lanjut), shown on the public results page
    follow_up: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}


class Response(Base):
    """One respondent's questionnaire. ``u1``..``u9`` hold the answers 1–4 keyed by unsur code
    (NULL: left blank on a paper questionnaire)."""

    __tablename__ = "responses"
    __table_args__ = (
        # the IKM aggregate reads only these columns: an index-only scan on PostgreSQL
        Index("ix_responses_campaign_answers", "campaign_id", postgresql_include=[u.lower() for u in UNSUR]),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    u1: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    u2: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    u3: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    u4: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    u5: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    u6: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    u7: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    u8: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    u9: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    age: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    sex: Mapped[str | None] = mapped_column(String(10), nullable=True)
    education: Mapped[str | None] = mapped_column(String(20), nullable=True)
    occupation: Mapped[str | None] = mapped_column(String(20), nullable=True)
    service_type: Mapped[str | None] = mapped_column(String(200), nullable=True)
    suggestion: Mapped[str | None] = mapped_column(Text, nullable=True)
    channel: Mapped[str] = mapped_column(String(10))  # form | kiosk | api | import
    token_id: Mapped[int | None] = mapped_column(ForeignKey("survey_tokens.id"), nullable=True, unique=True)
    form_nonce: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)  # one save per form
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SurveyToken(Base):
    """A one-time code (printed on a receipt): it admits one response."""

    __tablename__ = "survey_tokens"
    __table_args__ = (UniqueConstraint("campaign_id", "code", name="uq_token_campaign_code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RateCounter(Base):
    """Submissions per client address (hashed) per campaign per minute window, kept in the
    database so every process of the service sees the same counts."""

    __tablename__ = "rate_counters"
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class UnitRef(Base):
    """The read model of the plans directory's units (``plans.unit.upserted``): a campaign is for a
    unit of its agency that exists."""

    __tablename__ = "rm_units"
    __table_args__ = (UniqueConstraint("agency_code", "code", name="uq_rm_unit"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the plans unit id
    agency_code: Mapped[str] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    as_of: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


ANSWER_COLUMNS = {u: getattr(Response, u.lower()) for u in UNSUR}
