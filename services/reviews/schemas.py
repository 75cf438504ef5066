"""marshmallow schemas of the reviews API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.common.http import PageArgs

from .domain import PREDIKATS

RATING = validate.OneOf(("above", "meets", "below"))
PREDIKAT = validate.OneOf(PREDIKATS)
ORG_RESULT = validate.OneOf(("ISTIMEWA", "BAIK", "BUTUH_PERBAIKAN", "KURANG", "SANGAT_KURANG"))
TEXT = validate.Length(max=8000)


class EvaluationQuery(PageArgs):
    cycle_id = fields.Integer()
    period_seq = fields.Integer(validate=validate.Range(min=0, max=12))
    unit_code = fields.String()
    status = fields.String()
    predikat = fields.String(validate=PREDIKAT)
    employee_nip = fields.String()
    role = fields.String(validate=validate.OneOf(("employee", "penilai", "atasan")))


class EvaluationSummary(Schema):
    id = fields.Integer()
    cycle_id = fields.Integer()
    kind = fields.String()
    period_seq = fields.Integer()
    period_name = fields.String()
    employee_nip = fields.String()
    employee_name = fields.String()
    unit_code = fields.String()
    penilai_nip = fields.String(allow_none=True)
    atasan_nip = fields.String(allow_none=True)
    status = fields.String()
    rating_hasil = fields.String(allow_none=True)
    rating_perilaku = fields.String(allow_none=True)
    predikat = fields.String(allow_none=True)
    version = fields.Integer()


class EvaluationOut(EvaluationSummary):
    agency_code = fields.String()
    plan_id = fields.Integer()
    plan_revision = fields.Integer()
    position = fields.String()
    grade = fields.String(allow_none=True)
    unit_name = fields.String()
    is_head_of_unit = fields.Boolean()
    penilai_name = fields.String(allow_none=True)
    penilai_position = fields.String(allow_none=True)
    atasan_name = fields.String(allow_none=True)
    self_assessment = fields.Dict()
    self_submitted_at = fields.DateTime(allow_none=True)
    iki_feedback = fields.Dict()
    value_feedback = fields.Dict()
    suggestion = fields.Dict(allow_none=True)
    suggested_hasil = fields.String(allow_none=True)
    deviation_reason = fields.String(allow_none=True)
    org_result = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    recommendations = fields.String(allow_none=True)
    rated_at = fields.DateTime(allow_none=True)
    signed_at = fields.DateTime(allow_none=True)
    acknowledged_at = fields.DateTime(allow_none=True)
    countersigned_at = fields.DateTime(allow_none=True)
    content_hash = fields.String(allow_none=True)
    document_version = fields.Integer()


class SelfAssessmentIn(Schema):
    achievements = fields.String(load_default=None, allow_none=True, validate=TEXT)
    challenges = fields.String(load_default=None, allow_none=True, validate=TEXT)
    improvement_plan = fields.String(load_default=None, allow_none=True, validate=TEXT)
    iki_comments = fields.Dict(keys=fields.String(), values=fields.String(validate=TEXT), load_default=dict)


class ValueFeedback(Schema):
    level = fields.String(required=True, validate=RATING)
    text = fields.String(load_default="", validate=TEXT)


class RatingIn(Schema):
    rating_hasil = fields.String(required=True, validate=RATING)
    rating_perilaku = fields.String(required=True, validate=RATING)
    deviation_reason = fields.String(load_default=None, allow_none=True, validate=TEXT)
    iki_feedback = fields.Dict(keys=fields.String(), values=fields.String(validate=TEXT), load_default=dict)
    iki_judgements = fields.Dict(
        keys=fields.String(),
        values=fields.String(validate=RATING),
        load_default=dict,
        metadata={"description": "per-IKI judgement for qualitative indicators"},
    )
    value_feedback = fields.Dict(keys=fields.String(), values=fields.Nested(ValueFeedback), load_default=dict)
    notes = fields.String(load_default=None, allow_none=True, validate=TEXT)
    recommendations = fields.String(load_default=None, allow_none=True, validate=TEXT)


class AdjustIn(Schema):
    rating_hasil = fields.String(validate=RATING)
    rating_perilaku = fields.String(validate=RATING)
    reason = fields.String(required=True, validate=validate.Length(min=5, max=4000))


class PeersIn(Schema):
    rater_nips = fields.List(fields.String(), required=True, validate=validate.Length(min=1, max=20))


class PeerAnswerIn(Schema):
    answers = fields.Dict(
        keys=fields.String(), values=fields.String(validate=RATING), required=True, validate=validate.Length(min=1)
    )
    comment = fields.String(load_default=None, allow_none=True, validate=TEXT)


class PeerSummaryOut(Schema):
    nominated = fields.Integer()
    answered = fields.Integer()
    minimum = fields.Integer()
    aggregate = fields.Dict(allow_none=True)


class OrgResultIn(Schema):
    cycle_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    period_seq = fields.Integer(load_default=0, validate=validate.Range(min=0, max=12))
    unit_code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    result = fields.String(required=True, validate=ORG_RESULT)


class OrgResultOut(Schema):
    id = fields.Integer()
    cycle_id = fields.Integer()
    period_seq = fields.Integer()
    unit_code = fields.String()
    result = fields.String()
    set_by = fields.String()
    set_at = fields.DateTime()


class RuleSchema(Schema):
    org_result = fields.String(required=True)
    bound = fields.String(required=True)
    predikats = fields.List(fields.String(), required=True)
    percent = fields.Float(load_default=None, allow_none=True, allow_nan=False)
    count = fields.Integer(load_default=None, allow_none=True)
    rounding = fields.String(load_default="nearest")


class RulesIn(Schema):
    rules = fields.List(fields.Nested(RuleSchema), required=True)


class RulesOut(Schema):
    rules = fields.List(fields.Dict())


class CalibrationQuery(Schema):
    cycle_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    period_seq = fields.Integer(load_default=0, validate=validate.Range(min=0, max=12))
    unit_code = fields.String()


class CalibrationOut(Schema):
    cycle_id = fields.Integer()
    period_seq = fields.Integer()
    units = fields.List(fields.Dict())


class OverrideIn(Schema):
    cycle_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    period_seq = fields.Integer(load_default=0, validate=validate.Range(min=0, max=12))
    unit_code = fields.String(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=10, max=4000))


class OverrideOut(Schema):
    cycle_id = fields.Integer()
    period_seq = fields.Integer()
    unit_code = fields.String()
    reason = fields.String()
    violations = fields.List(fields.Dict())
    set_by = fields.String()
    set_at = fields.DateTime()


class DocumentOut(Schema):
    version = fields.Integer()
    content_hash = fields.String()
    previous_hash = fields.String(allow_none=True)
    reason = fields.String()
    created_at = fields.DateTime()
    content = fields.Dict()


class ObjectionIn(Schema):
    reasons = fields.String(required=True, validate=validate.Length(min=10, max=8000))


class StatementIn(Schema):
    text = fields.String(required=True, validate=validate.Length(min=3, max=8000))


class DecisionIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(("upheld", "changed")))
    reason = fields.String(required=True, validate=validate.Length(min=5, max=8000))
    rating_hasil = fields.String(load_default=None, allow_none=True, validate=RATING)
    rating_perilaku = fields.String(load_default=None, allow_none=True, validate=RATING)


class ObjectionQuery(PageArgs):
    cycle_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    evaluation_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    status = fields.String(validate=validate.OneOf(("filed", "under_review", "decided")))
    decision = fields.String(validate=validate.OneOf(("upheld", "changed")))


class ObjectionOut(Schema):
    id = fields.Integer()
    evaluation_id = fields.Integer()
    employee_nip = fields.String()
    atasan_nip = fields.String(allow_none=True)
    reasons = fields.String()
    status = fields.String()
    statements = fields.List(fields.Dict())
    decision = fields.String(allow_none=True)
    decision_reason = fields.String(allow_none=True)
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    filed_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)


class FollowUpQuery(PageArgs):
    cycle_id = fields.Integer()
    kind = fields.String(validate=validate.OneOf(("development", "recognition")))


class FollowUpOut(Schema):
    id = fields.Integer()
    evaluation_id = fields.Integer()
    cycle_id = fields.Integer()
    employee_nip = fields.String()
    kind = fields.String()
    predikat = fields.String()
    below_iki = fields.List(fields.String())
    below_values = fields.List(fields.String())
    recommendation = fields.String()
    owner_nip = fields.String(allow_none=True)
    due_date = fields.Date(allow_none=True)


class FollowUpUpdate(Schema):
    recommendation = fields.String(validate=validate.Length(min=3, max=4000))
    owner_nip = fields.String(allow_none=True)
    due_date = fields.Date(allow_none=True)


class ConsistencyQuery(Schema):
    cycle_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    period_seq = fields.Integer(validate=validate.Range(min=0, max=12))


class ConsistencyOut(Schema):
    cycle_id = fields.Integer()
    period_seq = fields.Integer(allow_none=True)
    raters = fields.List(fields.Dict())


class RebuildOut(Schema):
    counts = fields.Dict()
