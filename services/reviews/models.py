"""SQLAlchemy 2.0 mappings of the reviews service: the read model fed by plans events, and the
evaluations, peer feedback, organisation results, calibration, sign-off, objections, follow-up."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

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
    position: Mapped[str] = mapped_column(String(200))
    grade: Mapped[str | None] = mapped_column(String(20), nullable=True)
    unit_code: Mapped[str] = mapped_column(String(40), index=True)
    unit_name: Mapped[str] = mapped_column(String(200))
    superior_nip: Mapped[str | None] = mapped_column(String(18), nullable=True, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(5), default="id")
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
    as_of: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ActingRef(Base):
    """An acting appointment (Plt/Plh) from plans: ``acting_nip`` stands in for ``for_nip`` from
    ``start_date`` to ``end_date`` (both included) — as penilai, atasan penilai, or decider."""

    __tablename__ = "rm_acting"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the plans appointment id
    agency_code: Mapped[str] = mapped_column(String(40))
    acting_nip: Mapped[str] = mapped_column(String(18), index=True)
    for_nip: Mapped[str] = mapped_column(String(18), index=True)
    kind: Mapped[str] = mapped_column(String(4))  # plt | plh
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    as_of: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class GrantRef(Base):
    """A grant across agencies from plans (``plans.grant.upserted``): the machine client
    ``client_id`` of ``client_agency`` reads ``grantor_agency``'s data with ``scope`` until
    ``expires_on`` (inclusive), unless revoked (``services/common/grants.py`` checks it)."""

    __tablename__ = "rm_grants"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the plans grant id
    grantor_agency: Mapped[str] = mapped_column(String(40), index=True)
    client_id: Mapped[str] = mapped_column(String(200), index=True)
    client_agency: Mapped[str] = mapped_column(String(40))
    scope: Mapped[str] = mapped_column(String(40))
    expires_on: Mapped[date] = mapped_column(Date)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    as_of: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CycleRef(Base):
    __tablename__ = "rm_cycles"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the plans cycle id
    agency_code: Mapped[str] = mapped_column(String(40), index=True)
    year: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    period_type: Mapped[str] = mapped_column(String(12))
    stage: Mapped[str] = mapped_column(String(24))
    period_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    phase: Mapped[str | None] = mapped_column(String(32), nullable=True)
    periods: Mapped[list] = mapped_column(JSON, default=list)


class PlanRef(Base):
    """The latest approved version of each SKP."""

    __tablename__ = "rm_plans"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the plans plan id
    cycle_id: Mapped[int] = mapped_column(Integer, index=True)
    agency_code: Mapped[str] = mapped_column(String(40))
    employee_nip: Mapped[str] = mapped_column(String(18), index=True)
    penilai_nip: Mapped[str | None] = mapped_column(String(18), nullable=True)
    unit_code: Mapped[str] = mapped_column(String(40))
    revision: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))
    is_head_of_unit: Mapped[bool] = mapped_column(Boolean, default=False)
    content: Mapped[dict] = mapped_column(JSON)  # {approach, rhk: [...], behaviour: {...}}


class RealisationRef(Base):
    __tablename__ = "rm_realisations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the plans realisation id
    plan_id: Mapped[int] = mapped_column(Integer, index=True)
    iki_id: Mapped[str] = mapped_column(String(36))
    period_seq: Mapped[int] = mapped_column(Integer)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    evidence_count: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(40), default="employee")
    as_of: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)  # event time applied


class FeedbackRef(Base):
    __tablename__ = "rm_feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the plans feedback id
    plan_id: Mapped[int] = mapped_column(Integer, index=True)
    giver_nip: Mapped[str] = mapped_column(String(18))
    rhk_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    value_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    period_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(String(16), nullable=True)  # feedback | coaching (bimbingan)
    given_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


# ------------------------------------------------------------------ evaluations


class Evaluation(Base):
    __tablename__ = "evaluations"
    __table_args__ = (
        UniqueConstraint("plan_id", "kind", "period_seq", name="uq_evaluation_plan_period"),
        Index("ix_evaluations_cycle_unit", "cycle_id", "period_seq", "unit_code"),
        Index("ix_evaluations_result_changed", "result_changed_at", "id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(Integer, index=True)
    agency_code: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # periodic | annual
    period_seq: Mapped[int] = mapped_column(Integer)  # 0 for the annual evaluation
    period_name: Mapped[str] = mapped_column(String(60))
    plan_id: Mapped[int] = mapped_column(Integer, index=True)
    plan_revision: Mapped[int] = mapped_column(Integer)
    # snapshot of the parties at opening (reporting lines change during a year)
    employee_nip: Mapped[str] = mapped_column(String(18), index=True)
    employee_name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str] = mapped_column(String(200))
    grade: Mapped[str | None] = mapped_column(String(20), nullable=True)
    unit_code: Mapped[str] = mapped_column(String(40))
    unit_name: Mapped[str] = mapped_column(String(200))
    is_head_of_unit: Mapped[bool] = mapped_column(Boolean, default=False)
    penilai_nip: Mapped[str | None] = mapped_column(String(18), nullable=True, index=True)
    penilai_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    penilai_position: Mapped[str | None] = mapped_column(String(200), nullable=True)
    penilai_grade: Mapped[str | None] = mapped_column(String(20), nullable=True)
    penilai_unit_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    atasan_nip: Mapped[str | None] = mapped_column(String(18), nullable=True, index=True)
    atasan_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    self_assessment: Mapped[dict] = mapped_column(JSON, default=dict)
    self_submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    iki_feedback: Mapped[dict] = mapped_column(JSON, default=dict)
    value_feedback: Mapped[dict] = mapped_column(JSON, default=dict)
    suggestion: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    suggested_hasil: Mapped[str | None] = mapped_column(String(10), nullable=True)
    rating_hasil: Mapped[str | None] = mapped_column(String(10), nullable=True)
    rating_perilaku: Mapped[str | None] = mapped_column(String(10), nullable=True)
    #: the BerAKHLAK values a "below" rating perilaku names (none otherwise)
    perilaku_below_values: Mapped[list | None] = mapped_column(JSON, nullable=True)
    deviation_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: the suggested rating perilaku kerja and its per-value explanation (domain.suggest_perilaku), and the
    #: penilai's reason when the rating departs from it
    perilaku_suggestion: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    suggested_perilaku: Mapped[str | None] = mapped_column(String(10), nullable=True)
    perilaku_deviation_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    predikat: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    org_result: Mapped[str | None] = mapped_column(String(20), nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    recommendations: Mapped[str | None] = mapped_column(Text, nullable=True)
    rated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    rated_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    signed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: the acting official (Plt/Plh) who signed in the penilai's place: kind, nip, name, position, for_nip
    signed_acting: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    countersigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    countersigned_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    countersigned_acting: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # as ``signed_acting``
    content_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    document_version: Mapped[int] = mapped_column(Integer, default=0)
    #: the results feed's order: when the result became final (countersigned), or an objection against it
    #: was filed or decided; unique and increasing (results.stamp_result); None until final
    result_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __mapper_args__ = {"version_id_col": version}


class EvaluationDocument(Base):
    """Every signed version of an evaluation document, frozen with its content hash."""

    __tablename__ = "evaluation_documents"
    __table_args__ = (UniqueConstraint("evaluation_id", "version", name="uq_evaluation_document"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    previous_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str] = mapped_column(String(40))  # signed | acknowledged | countersigned | objection_changed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PeerRater(Base):
    __tablename__ = "peer_raters"
    __table_args__ = (UniqueConstraint("evaluation_id", "rater_nip", name="uq_peer_rater"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), index=True)
    rater_nip: Mapped[str] = mapped_column(String(18), index=True)
    nominated_by: Mapped[str] = mapped_column(String(200))
    answers: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PeerProposal(Base):
    """The employee's proposal of peer raters; the penilai approves it by nominating (``approved_at``)."""

    __tablename__ = "peer_proposals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), unique=True)
    rater_nips: Mapped[list] = mapped_column(JSON)
    proposed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class OrgResult(Base):
    """Capaian kinerja organisasi of a unit for a period (period_seq 0 = annual)."""

    __tablename__ = "org_results"
    __table_args__ = (UniqueConstraint("cycle_id", "period_seq", "unit_code", name="uq_org_result"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(Integer)
    agency_code: Mapped[str] = mapped_column(String(40))
    period_seq: Mapped[int] = mapped_column(Integer)
    unit_code: Mapped[str] = mapped_column(String(40))
    result: Mapped[str] = mapped_column(String(20))
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DistributionRuleRow(Base):
    """The agency's editable distribution rules (seeded from DOMAIN.md §5)."""

    __tablename__ = "distribution_rules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(40), index=True)
    position: Mapped[int] = mapped_column(Integer)
    rule: Mapped[dict] = mapped_column(JSON)


class CalibrationOverride(Base):
    __tablename__ = "calibration_overrides"
    __table_args__ = (UniqueConstraint("cycle_id", "period_seq", "unit_code", name="uq_calibration_override"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(Integer)
    agency_code: Mapped[str] = mapped_column(String(40))
    period_seq: Mapped[int] = mapped_column(Integer)
    unit_code: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    violations: Mapped[list] = mapped_column(JSON)
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Adjustment(Base):
    """A calibration change of ratings, with the values before and after and the reason."""

    __tablename__ = "adjustments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), index=True)
    before: Mapped[dict] = mapped_column(JSON)
    after: Mapped[dict] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Objection(Base):
    """Keberatan (PP 30/2019 Pasal 59): one per evaluation."""

    __tablename__ = "objections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), unique=True)
    agency_code: Mapped[str] = mapped_column(String(40))
    employee_nip: Mapped[str] = mapped_column(String(18))
    atasan_nip: Mapped[str | None] = mapped_column(String(18), nullable=True, index=True)
    reasons: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    statements: Mapped[list] = mapped_column(JSON, default=list)
    decision: Mapped[str | None] = mapped_column(String(10), nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    before: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decided_acting: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # a Plt/Plh of the atasan decided
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}


class FollowUp(Base):
    __tablename__ = "followups"
    __table_args__ = (UniqueConstraint("evaluation_id", name="uq_followup_evaluation"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"))
    cycle_id: Mapped[int] = mapped_column(Integer, index=True)
    agency_code: Mapped[str] = mapped_column(String(40))
    employee_nip: Mapped[str] = mapped_column(String(18))
    kind: Mapped[str] = mapped_column(String(12))  # development | recognition
    predikat: Mapped[str] = mapped_column(String(20))
    below_iki: Mapped[list] = mapped_column(JSON, default=list)
    below_values: Mapped[list] = mapped_column(JSON, default=list)
    recommendation: Mapped[str] = mapped_column(Text)
    owner_nip: Mapped[str | None] = mapped_column(String(18), nullable=True)
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # progress (domain.FOLLOWUP_STATUSES): planned → in_progress → completed, or cancelled with a reason
    status: Mapped[str] = mapped_column(String(12), default="planned", server_default="planned", index=True)
    completed_at: Mapped[date | None] = mapped_column(Date, nullable=True)  # the agency's local date
    completion_note: Mapped[str | None] = mapped_column(Text, nullable=True)  # what was done
    cancel_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    __mapper_args__ = {"version_id_col": version}


class SiasnPush(Base):
    """A record of each push of results to SIASN (BKN)."""

    __tablename__ = "siasn_pushes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), index=True)
    endpoint: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12))  # sent | failed | uploaded (by hand, siasn_file)
    attempts: Mapped[int] = mapped_column(Integer)
    response_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_body: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str | None] = mapped_column(String(200), nullable=True)  # who marked it uploaded
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
