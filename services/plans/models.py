"""SQLAlchemy 2.0 typed mappings of the plans service (directory, cycles, SKP, progress)."""

from __future__ import annotations

import uuid
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
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from services.common.tables import define_platform_tables


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    pass


platform_tables = define_platform_tables(Base.metadata)


class Agency(Base):
    __tablename__ = "agencies"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("agency_code", "code", name="uq_unit_agency_code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), nullable=True)
    head_nip: Mapped[str | None] = mapped_column(String(18), nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    parent: Mapped["Unit | None"] = relationship(remote_side="Unit.id", lazy="joined", join_depth=1)
    __mapper_args__ = {"version_id_col": version}


class Employee(Base):
    __tablename__ = "employees"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nip: Mapped[str] = mapped_column(String(18), unique=True)
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    position: Mapped[str] = mapped_column(String(200))
    grade: Mapped[str | None] = mapped_column(String(20), nullable=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    superior_nip: Mapped[str | None] = mapped_column(String(18), nullable=True, index=True)
    language: Mapped[str] = mapped_column(String(5), default="id")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    unit: Mapped[Unit] = relationship(lazy="joined")
    __mapper_args__ = {"version_id_col": version}


class ActingAssignment(Base):
    """Plt/Plh: ``acting_nip`` stands in for ``for_nip`` as penilai between the dates."""

    __tablename__ = "acting_assignments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"))
    acting_nip: Mapped[str] = mapped_column(String(18), index=True)
    for_nip: Mapped[str] = mapped_column(String(18), index=True)
    kind: Mapped[str] = mapped_column(String(4))  # plt | plh
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Cycle(Base):
    __tablename__ = "cycles"
    __table_args__ = (UniqueConstraint("agency_code", "year", "name", name="uq_cycle_agency_year_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    period_type: Mapped[str] = mapped_column(String(12))
    stage: Mapped[str] = mapped_column(String(24))
    period_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    phase: Mapped[str | None] = mapped_column(String(32), nullable=True)
    planning_deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    unit_codes: Mapped[list | None] = mapped_column(JSON, nullable=True)  # None: the whole agency
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    periods: Mapped[list["Period"]] = relationship(order_by="Period.seq", lazy="selectin", cascade="all, delete-orphan")
    __mapper_args__ = {"version_id_col": version}


class Period(Base):
    __tablename__ = "periods"
    __table_args__ = (UniqueConstraint("cycle_id", "seq", name="uq_period_cycle_seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    name_id: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(60))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)


class Plan(Base):
    """The SKP of one employee in one cycle."""

    __tablename__ = "plans"
    __table_args__ = (
        UniqueConstraint("cycle_id", "employee_nip", name="uq_plan_cycle_employee"),
        Index("ix_plans_cycle_status", "cycle_id", "status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), index=True)
    agency_code: Mapped[str] = mapped_column(String(40), index=True)
    employee_nip: Mapped[str] = mapped_column(String(18), index=True)
    employee_name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str] = mapped_column(String(200))
    grade: Mapped[str | None] = mapped_column(String(20), nullable=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    penilai_nip: Mapped[str | None] = mapped_column(String(18), nullable=True, index=True)
    is_head_of_unit: Mapped[bool] = mapped_column(Boolean, default=False)
    approach: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12))
    revision: Mapped[int] = mapped_column(Integer, default=0)  # number of approved versions
    return_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    behaviour: Mapped[dict] = mapped_column(JSON, default=dict)  # BerAKHLAK value → ekspektasi khusus pimpinan
    #: the values whose expectation the penilai wrote: the employee's own edits keep those texts
    behaviour_by_penilai: Mapped[list | None] = mapped_column(JSON, nullable=True)
    annex: Mapped[dict] = mapped_column(JSON, default=dict)  # resources, accountability, consequences
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    rhk: Mapped[list["Rhk"]] = relationship(
        order_by="Rhk.position", lazy="selectin", cascade="all, delete-orphan", back_populates="plan"
    )
    #: read-only: lets a request load the plan with its cycle and periods in one statement
    cycle: Mapped[Cycle] = relationship(viewonly=True)
    __mapper_args__ = {"version_id_col": version}


class Rhk(Base):
    """Rencana Hasil Kerja: one result row of an SKP, cascading from the superior's RHK."""

    __tablename__ = "rhk"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(Text)
    parent_rhk_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    organisation_goal: Mapped[str | None] = mapped_column(Text, nullable=True)
    plan: Mapped[Plan] = relationship(back_populates="rhk")
    iki: Mapped[list["Iki"]] = relationship(
        order_by="Iki.position", lazy="selectin", cascade="all, delete-orphan", back_populates="rhk"
    )


class Iki(Base):
    """Indikator Kinerja Individu: one aspect of an RHK with its target."""

    __tablename__ = "iki"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    rhk_id: Mapped[str] = mapped_column(ForeignKey("rhk.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    aspect: Mapped[str] = mapped_column(String(10))
    indicator: Mapped[str] = mapped_column(Text)
    target_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    target_unit: Mapped[str | None] = mapped_column(String(40), nullable=True)
    target_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    # the service unit whose public satisfaction index (surveys.ikm.computed) is this IKI's realisation
    satisfaction_unit_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    rhk: Mapped[Rhk] = relationship(back_populates="iki")


class PlanVersion(Base):
    """Every approved version of an SKP, kept and retrievable."""

    __tablename__ = "plan_versions"
    __table_args__ = (UniqueConstraint("plan_id", "revision", name="uq_plan_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict] = mapped_column(JSON)
    approved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[str] = mapped_column(String(200))


class Realisation(Base):
    __tablename__ = "realisations"
    __table_args__ = (UniqueConstraint("iki_id", "period_id", name="uq_realisation_iki_period"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    iki_id: Mapped[str] = mapped_column(ForeignKey("iki.id", ondelete="CASCADE"))
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    links: Mapped[list] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(40), default="employee")  # employee | surveys.ikm
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    evidence: Mapped[list["Evidence"]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="Evidence.id"
    )
    __mapper_args__ = {"version_id_col": version}


class Evidence(Base):
    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    realisation_id: Mapped[int] = mapped_column(ForeignKey("realisations.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    uploaded_by: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # the penilai's check of the file: pending | accepted | needs_replacement (with a note saying what to send)
    review_status: Mapped[str] = mapped_column(String(20), default="pending", server_default="pending")
    review_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class DailyLog(Base):
    __tablename__ = "daily_logs"
    __table_args__ = (
        Index("ix_daily_logs_superior_date", "superior_nip", "date"),
        Index("ix_daily_logs_employee_date", "employee_nip", "date"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(40))
    employee_nip: Mapped[str] = mapped_column(String(18))
    superior_nip: Mapped[str | None] = mapped_column(String(18), nullable=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"), nullable=True)
    iki_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    date: Mapped[date] = mapped_column(Date)
    activity: Mapped[str] = mapped_column(Text)
    minutes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Feedback(Base):
    """Umpan balik berkelanjutan: continuous feedback from the superior per RHK or per value."""

    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    giver_nip: Mapped[str] = mapped_column(String(18))
    rhk_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    value_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    period_id: Mapped[int | None] = mapped_column(ForeignKey("periods.id"), nullable=True)
    # feedback (umpan balik) or coaching (bimbingan kinerja): a record of a coaching session
    kind: Mapped[str] = mapped_column(String(20), default="feedback", server_default="feedback")
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FeedbackReply(Base):
    """The employee's answer to a feedback or coaching record: the conversation stays beside the note."""

    __tablename__ = "feedback_replies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"), index=True)
    author_nip: Mapped[str] = mapped_column(String(18))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Grant(Base):
    """A grant across agencies (issue 16): HR of ``grantor_agency`` lets the machine client
    ``client_id`` (its token's ``sub``) of ``client_agency`` read the grantor's data with one read
    ``scope`` until ``expires_on`` (inclusive, in the agency's zone), unless revoked."""

    __tablename__ = "grants"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grantor_agency: Mapped[str] = mapped_column(ForeignKey("agencies.code"), index=True)
    client_id: Mapped[str] = mapped_column(String(200), index=True)
    client_agency: Mapped[str] = mapped_column(String(40))
    scope: Mapped[str] = mapped_column(String(40))
    expires_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
