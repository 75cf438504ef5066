"""What the reviews service publishes (payload schemas, for the catalogue) and the plans events it
consumes to keep its read model (people, units, cycles, approved SKPs, realisations, feedback)."""

from __future__ import annotations

from marshmallow import Schema, fields

from services.common.catalogue import EventSpec
from services.common.consumers import on
from services.common.http import UtcDateTime

from . import readmodel
from .domain import PREDIKATS, RATINGS


class EvaluationRef(Schema):
    evaluation_id = fields.Integer(required=True)
    cycle_id = fields.Integer(required=True)
    agency_code = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "periodic | annual"})
    period_seq = fields.Integer(required=True, metadata={"description": "0 for the annual evaluation"})
    period_name = fields.String(required=True)
    employee_nip = fields.String(required=True)
    penilai_nip = fields.String(allow_none=True)
    atasan_nip = fields.String(allow_none=True)
    unit_code = fields.String(required=True)
    status = fields.String(required=True)
    predikat = fields.String(allow_none=True)


class EvaluationRated(EvaluationRef):
    rating_hasil = fields.String(required=True)
    rating_perilaku = fields.String(required=True)
    suggested_hasil = fields.String(allow_none=True)


class EvaluationSigned(EvaluationRef):
    content_hash = fields.String(required=True)


class EvaluationAcknowledged(EvaluationRef):
    objection_closes_on = fields.Date(required=True)


class ObjectionRef(Schema):
    objection_id = fields.Integer(required=True)
    evaluation_id = fields.Integer(required=True)
    cycle_id = fields.Integer(required=True)
    agency_code = fields.String(required=True)
    employee_nip = fields.String(required=True)
    penilai_nip = fields.String(allow_none=True)
    atasan_nip = fields.String(allow_none=True)
    status = fields.String(required=True)
    decision = fields.String(allow_none=True)


class ObjectionDecided(ObjectionRef):
    predikat = fields.String(required=True)
    document_version = fields.Integer(required=True)


class ViolationFound(Schema):
    cycle_id = fields.Integer(required=True)
    agency_code = fields.String(required=True)
    period_seq = fields.Integer(required=True)
    unit_code = fields.String(required=True)
    org_result = fields.String(required=True)
    violations = fields.List(fields.Dict(), required=True)


class FollowUpPlanned(Schema):
    followup_id = fields.Integer(required=True)
    evaluation_id = fields.Integer(required=True)
    cycle_id = fields.Integer(required=True)
    agency_code = fields.String(required=True)
    employee_nip = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "development | recognition"})
    predikat = fields.String(required=True)
    below_iki = fields.List(fields.String(), required=True)
    below_values = fields.List(fields.String(), required=True)
    owner_nip = fields.String(allow_none=True)
    due_date = fields.Date(allow_none=True)


class FollowUpUpdated(Schema):
    followup_id = fields.Integer(required=True)
    evaluation_id = fields.Integer(required=True)
    cycle_id = fields.Integer(required=True)
    agency_code = fields.String(required=True)
    employee_nip = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "development | recognition"})
    status = fields.String(required=True, metadata={"description": "planned | in_progress | completed | cancelled"})
    previous_status = fields.String(required=True)
    owner_nip = fields.String(allow_none=True)
    due_date = fields.Date(allow_none=True)
    completed_at = fields.Date(allow_none=True, metadata={"description": "the agency's local date, when completed"})


class PeersProposed(EvaluationRef):
    proposed = fields.Integer(required=True, metadata={"description": "how many colleagues were proposed"})


class PeerRequested(Schema):
    evaluation_id = fields.Integer(required=True)
    cycle_id = fields.Integer(required=True)
    agency_code = fields.String(required=True)
    period_name = fields.String(required=True)
    employee_nip = fields.String(required=True, metadata={"description": "the employee whose behaviour is rated"})
    employee_name = fields.String(required=True)
    rater_nip = fields.String(required=True, metadata={"description": "the colleague asked to answer"})


class ResultObjection(Schema):
    status = fields.String(
        required=True,
        metadata={"enum": ["none", "filed", "decided"], "description": "filed: filed or under review, not decided"},
    )
    decision = fields.String(required=True, allow_none=True, metadata={"enum": ["upheld", "changed", None]})
    filed_at = UtcDateTime(required=True, allow_none=True)
    decided_at = UtcDateTime(required=True, allow_none=True)


class ResultItem(Schema):
    """A final (countersigned) result: an item of ``GET /reviews/api/v1/results`` and the payload of
    ``reviews.result.finalized`` / ``reviews.result.changed``."""

    evaluation_id = fields.Integer(required=True)
    agency_code = fields.String(required=True)
    employee_nip = fields.String(required=True)
    employee_name = fields.String(required=True)
    unit_code = fields.String(required=True)
    unit_name = fields.String(required=True)
    cycle_id = fields.Integer(required=True)
    year = fields.Integer(required=True, allow_none=True, metadata={"description": "the cycle's year"})
    kind = fields.String(required=True, metadata={"enum": ["periodic", "annual"]})
    period_seq = fields.Integer(required=True, metadata={"description": "0 for the annual result"})
    period_name = fields.String(required=True)
    period_start = fields.Date(required=True, allow_none=True)
    period_end = fields.Date(required=True, allow_none=True)
    rating_hasil = fields.String(required=True, metadata={"enum": list(RATINGS)})
    rating_perilaku = fields.String(required=True, metadata={"enum": list(RATINGS)})
    predikat = fields.String(required=True, metadata={"enum": list(PREDIKATS)})
    org_result = fields.String(required=True, allow_none=True, metadata={"description": "capaian kinerja organisasi"})
    content_hash = fields.String(required=True, metadata={"description": "SHA-256 of the latest signed document"})
    document_version = fields.Integer(required=True)
    signed_at = UtcDateTime(required=True)
    acknowledged_at = UtcDateTime(required=True)
    countersigned_at = UtcDateTime(required=True)
    objection = fields.Nested(ResultObjection, required=True)
    changed_at = UtcDateTime(
        required=True,
        metadata={
            "description": "when the item last changed: final, an objection filed or decided, the ratings changed; "
            "unique and increasing (the feed's order and its changed_since)"
        },
    )


PUBLISHES = [
    EventSpec(
        "reviews.evaluation.opened",
        EvaluationRef,
        "An evaluation was opened for an employee and period (parties snapshotted).",
        ("notifications",),
    ),
    EventSpec(
        "reviews.self_assessment.submitted",
        EvaluationRef,
        "The employee submitted the self-assessment.",
        ("notifications",),
    ),
    EventSpec(
        "reviews.evaluation.rated",
        EvaluationRated,
        "The penilai rated results and behaviour (or calibration adjusted them).",
        ("notifications",),
    ),
    EventSpec(
        "reviews.evaluation.signed", EvaluationSigned, "The penilai signed; the document is frozen.", ("notifications",)
    ),
    EventSpec(
        "reviews.evaluation.acknowledged",
        EvaluationAcknowledged,
        "The employee acknowledged receipt; the 14-day objection window runs.",
        ("notifications",),
    ),
    EventSpec(
        "reviews.evaluation.countersigned", EvaluationSigned, "The atasan penilai countersigned.", ("notifications",)
    ),
    EventSpec(
        "reviews.objection.filed", ObjectionRef, "The employee filed an objection (keberatan).", ("notifications",)
    ),
    EventSpec(
        "reviews.objection.decided",
        ObjectionDecided,
        "The atasan penilai decided the objection (final).",
        ("notifications",),
    ),
    EventSpec(
        "reviews.peers.proposed",
        PeersProposed,
        "The employee proposed colleagues as peer raters; the penilai approves by nominating.",
        ("notifications",),
    ),
    EventSpec(
        "reviews.peer.requested",
        PeerRequested,
        "A colleague was nominated as peer rater and is asked for feedback per BerAKHLAK value (one per rater).",
        ("notifications",),
    ),
    EventSpec(
        "reviews.calibration.violation_found",
        ViolationFound,
        "A unit's predikat distribution breaks the curve for its organisation result.",
        ("notifications",),
    ),
    EventSpec(
        "reviews.followup.planned",
        FollowUpPlanned,
        "A development plan (Butuh Perbaikan and below) or a recognition (Sangat Baik).",
        ("notifications",),
    ),
    EventSpec(
        "reviews.followup.updated",
        FollowUpUpdated,
        "HR, the penilai or the owner changed a follow-up: its plan, or its progress (in progress, completed with "
        "what was done, cancelled with a reason; the texts stay in the service).",
        ("notifications",),
    ),
    EventSpec(
        "reviews.result.finalized",
        ResultItem,
        "A result became final (countersigned): the results feed's item, for allowance (TPP) and career systems "
        "(consumed only by agency webhooks).",
        ("notifications",),
    ),
    EventSpec(
        "reviews.result.changed",
        ResultItem,
        "An objection decision changed a final result's ratings: the feed's item as it now stands (consumed only "
        "by agency webhooks).",
        ("notifications",),
    ),
]
TYPES = {spec.type: spec for spec in PUBLISHES}


CONSUMES = {
    "plans.unit.upserted": on(readmodel.rm_unit, timed=True),
    "plans.employee.upserted": on(readmodel.rm_employee, timed=True),
    "plans.acting.upserted": on(readmodel.rm_acting, timed=True),
    "plans.grant.upserted": on(readmodel.rm_grant, timed=True),
    "plans.cycle.opened": on(readmodel.rm_cycle_opened),
    "plans.cycle.stage_changed": on(readmodel.rm_stage_changed),
    "plans.plan.approved": on(readmodel.rm_plan_approved),
    "plans.plan.revised": on(readmodel.rm_plan_revised),
    "plans.realisation.recorded": on(readmodel.rm_realisation, timed=True),
    "plans.feedback.given": on(readmodel.rm_feedback, timed=True),
}
