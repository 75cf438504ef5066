"""What the plans service publishes (payload schemas, for the catalogue) and what it consumes."""

from __future__ import annotations

from marshmallow import Schema, fields

from services.common.catalogue import EventSpec
from services.common.consumers import on

from . import ikm


class UnitUpserted(Schema):
    id = fields.Integer(required=True)
    agency_code = fields.String(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    parent_code = fields.String(allow_none=True)
    head_nip = fields.String(allow_none=True)


class EmployeeUpserted(Schema):
    nip = fields.String(required=True)
    agency_code = fields.String(required=True)
    name = fields.String(required=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    position = fields.String(required=True)
    grade = fields.String(allow_none=True)
    unit_code = fields.String(required=True)
    unit_name = fields.String(required=True)
    superior_nip = fields.String(allow_none=True)
    language = fields.String(required=True)
    active = fields.Boolean(required=True)


class ActingUpserted(Schema):
    id = fields.Integer(required=True)
    agency_code = fields.String(required=True)
    acting_nip = fields.String(required=True, metadata={"description": "the acting official (Plt/Plh)"})
    for_nip = fields.String(required=True, metadata={"description": "the official they stand in for"})
    kind = fields.String(required=True, metadata={"description": "plt | plh"})
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True, metadata={"description": "the last day acting (ending early moves it)"})
    ended_early = fields.Boolean(
        required=True, metadata={"description": "true when HR ended the appointment early, false when HR made it"}
    )


class GrantUpserted(Schema):
    id = fields.Integer(required=True)
    grantor_agency = fields.String(required=True, metadata={"description": "the agency whose data the grant opens"})
    client_id = fields.String(required=True, metadata={"description": "the machine client (its token's sub)"})
    client_agency = fields.String(required=True, metadata={"description": "the client's agency"})
    scope = fields.String(
        required=True, metadata={"description": "directory:read | plans:read | results:read | surveys:read"}
    )
    expires_on = fields.Date(required=True, metadata={"description": "the last day the grant is valid (agency zone)"})
    note = fields.String(allow_none=True)
    created_by = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    revoked_at = fields.DateTime(allow_none=True, metadata={"description": "set when HR revoked the grant"})
    revoked_by = fields.String(allow_none=True)


class PeriodPayload(Schema):
    seq = fields.Integer(required=True)
    name_id = fields.String(required=True)
    name_en = fields.String(required=True)
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    deadline = fields.Date(required=True)


class CycleOpened(Schema):
    cycle_id = fields.Integer(required=True)
    agency_code = fields.String(required=True)
    year = fields.Integer(required=True)
    name = fields.String(required=True)
    period_type = fields.String(required=True)
    stage = fields.String(required=True)
    planning_deadline = fields.Date(allow_none=True)
    unit_codes = fields.List(fields.String(), allow_none=True)
    periods = fields.List(fields.Nested(PeriodPayload), required=True)


class CycleStageChanged(Schema):
    cycle_id = fields.Integer(required=True)
    agency_code = fields.String(required=True)
    year = fields.Integer(required=True)
    previous = fields.String(required=True, metadata={"description": "previous state label"})
    stage = fields.String(required=True)
    period_seq = fields.Integer(allow_none=True)
    phase = fields.String(allow_none=True)
    state = fields.String(required=True, metadata={"description": "e.g. monitoring:2:self_assessment"})


class IkiPayload(Schema):
    id = fields.String(required=True)
    aspect = fields.String(required=True)
    indicator = fields.String(required=True)
    target_value = fields.Float(allow_none=True)
    target_unit = fields.String(allow_none=True)
    target_text = fields.String(allow_none=True)


class RhkPayload(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    description = fields.String(required=True)
    parent_rhk_id = fields.String(allow_none=True)
    organisation_goal = fields.String(allow_none=True)
    iki = fields.List(fields.Nested(IkiPayload), required=True)


class PlanRef(Schema):
    plan_id = fields.Integer(required=True)
    cycle_id = fields.Integer(required=True)
    agency_code = fields.String(required=True)
    employee_nip = fields.String(required=True)
    penilai_nip = fields.String(allow_none=True)
    unit_code = fields.String(required=True)
    status = fields.String(required=True)
    revision = fields.Integer(required=True)


class PlanReturned(PlanRef):
    note = fields.String(required=True)


class PlanApproved(PlanRef):
    """The full approved SKP: what reviews needs for its read model."""

    approach = fields.String(required=True)
    employee_name = fields.String(required=True)
    position = fields.String(required=True)
    grade = fields.String(allow_none=True)
    is_head_of_unit = fields.Boolean(required=True)
    approved_by = fields.String(required=True)
    rhk = fields.List(fields.Nested(RhkPayload), required=True)
    behaviour = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class RealisationRecorded(Schema):
    realisation_id = fields.Integer(required=True)
    plan_id = fields.Integer(required=True)
    cycle_id = fields.Integer(required=True)
    agency_code = fields.String(required=True)
    employee_nip = fields.String(required=True)
    iki_id = fields.String(required=True)
    period_seq = fields.Integer(required=True)
    value = fields.Float(allow_none=True)
    text = fields.String(allow_none=True)
    evidence_count = fields.Integer(required=True)
    source = fields.String(required=True)


class FeedbackGiven(Schema):
    feedback_id = fields.Integer(required=True)
    plan_id = fields.Integer(required=True)
    cycle_id = fields.Integer(required=True)
    agency_code = fields.String(required=True)
    employee_nip = fields.String(required=True)
    giver_nip = fields.String(required=True)
    kind = fields.String(load_default="feedback")  # feedback | coaching (bimbingan kinerja)
    rhk_id = fields.String(allow_none=True)
    value_code = fields.String(allow_none=True)
    period_seq = fields.Integer(allow_none=True)
    text = fields.String(required=True)


class FeedbackReplied(Schema):
    reply_id = fields.Integer(required=True)
    feedback_id = fields.Integer(required=True)
    plan_id = fields.Integer(required=True)
    cycle_id = fields.Integer(required=True)
    agency_code = fields.String(required=True)
    employee_nip = fields.String(required=True)
    giver_nip = fields.String(required=True)
    kind = fields.String(required=True)
    text = fields.String(required=True)


class EvidenceReviewed(Schema):
    evidence_id = fields.Integer(required=True)
    realisation_id = fields.Integer(required=True)
    plan_id = fields.Integer(required=True)
    cycle_id = fields.Integer(required=True)
    agency_code = fields.String(required=True)
    employee_nip = fields.String(required=True)
    penilai_nip = fields.String(allow_none=True, metadata={"description": "who reviewed (the penilai or Plt/Plh)"})
    iki_id = fields.String(required=True)
    period_seq = fields.Integer(required=True)
    filename = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "accepted | needs_replacement"})
    note = fields.String(allow_none=True)


PUBLISHES = [
    EventSpec(
        "plans.unit.upserted",
        UnitUpserted,
        "A unit of an agency was created or changed.",
        ("reviews", "notifications", "surveys"),
    ),
    EventSpec(
        "plans.employee.upserted",
        EmployeeUpserted,
        "An employee was created or changed (position, unit, superior, contact, active).",
        ("reviews", "notifications"),
    ),
    EventSpec(
        "plans.acting.upserted",
        ActingUpserted,
        "HR appointed an acting official (Plt/Plh) for someone, or ended the appointment early.",
        ("reviews", "notifications"),
    ),
    EventSpec(
        "plans.grant.upserted",
        GrantUpserted,
        "HR of an agency granted a machine client of another agency a read scope over its data, or revoked it.",
        ("reviews",),
    ),
    EventSpec(
        "plans.cycle.opened",
        CycleOpened,
        "HR created an evaluation cycle with its periods.",
        ("reviews", "notifications"),
    ),
    EventSpec(
        "plans.cycle.stage_changed",
        CycleStageChanged,
        "The cycle moved to another stage (or period/phase inside monitoring).",
        ("reviews", "notifications"),
    ),
    EventSpec("plans.plan.submitted", PlanRef, "An employee submitted their SKP to the penilai.", ("notifications",)),
    EventSpec("plans.plan.returned", PlanReturned, "The penilai returned an SKP with a note.", ("notifications",)),
    EventSpec(
        "plans.plan.approved",
        PlanApproved,
        "The penilai approved an SKP (a new approved version).",
        ("reviews", "notifications"),
    ),
    EventSpec(
        "plans.plan.revised", PlanRef, "An approved SKP was reopened for revision.", ("reviews", "notifications")
    ),
    EventSpec(
        "plans.realisation.recorded",
        RealisationRecorded,
        "A realisation of an IKI for a period was recorded or changed.",
        ("reviews",),
    ),
    EventSpec(
        "plans.feedback.given",
        FeedbackGiven,
        "The superior gave continuous feedback or recorded a coaching session (kind).",
        ("reviews", "notifications"),
    ),
    EventSpec(
        "plans.feedback.replied",
        FeedbackReplied,
        "The employee replied to feedback or a coaching record; the superior who wrote it is told.",
        ("notifications",),
    ),
    EventSpec(
        "plans.evidence.reviewed",
        EvidenceReviewed,
        "The penilai accepted an evidence file or asked for another (with a note).",
        ("notifications",),
    ),
]
TYPES = {spec.type: spec for spec in PUBLISHES}


# a unit's public satisfaction index becomes the realisation of the IKI mapped to it
CONSUMES: dict = {"surveys.ikm.computed": on(ikm.record_ikm, envelope=True)}
