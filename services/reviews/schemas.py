"""marshmallow schemas and validators shared by several capability modules of the reviews API
(each module keeps its own request and response schemas beside its views)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.common.http import ObjectSchema, UtcDateTime
from services.common.usecase import platform, settings

from .domain import PREDIKATS, RATINGS, objection_closes_on

RATING = validate.OneOf(RATINGS)
PREDIKAT = validate.OneOf(PREDIKATS)
TEXT = validate.Length(max=8000)
ID = validate.Range(min=1, max=2**31 - 1)  # a database id in a query or a body
SEQ = validate.Range(min=0, max=12)  # a period of the cycle; 0 is the annual evaluation
# OpenAPI only (``metadata``): what the use cases check, documented; the checks keep their own error codes
NIP_DOC = {"pattern": r"^[0-9]{18}$", "description": "the 18-digit NIP of a person of the agency"}
UNIT_CODE_DOC = {"minLength": 1, "maxLength": 40, "description": "the code of a unit of the agency"}


class ObjectionDeadline(fields.Date):
    """The objection window's last day, computed as filing an objection checks it (the acknowledgement's
    date in the agency's zone + the window), so the evaluation states the date the inbox announced."""

    def get_value(self, obj, attr, accessor=None, default=None):
        acknowledged_at = getattr(obj, "acknowledged_at", None)
        if acknowledged_at is None:
            return None
        return objection_closes_on(platform().local_date(acknowledged_at), int(settings().objection_days))


class EvaluationSummary(ObjectSchema):
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
    self_submitted_at = UtcDateTime(allow_none=True)
    iki_feedback = fields.Dict()
    value_feedback = fields.Dict()
    perilaku_below_values = fields.List(fields.String(), allow_none=True)
    suggestion = fields.Dict(allow_none=True)
    suggested_hasil = fields.String(allow_none=True)
    deviation_reason = fields.String(allow_none=True)
    perilaku_suggestion = fields.Dict(
        allow_none=True,
        metadata={"description": "the suggested rating perilaku kerja with its per-value explanation, as rated"},
    )
    suggested_perilaku = fields.String(allow_none=True)
    perilaku_deviation_reason = fields.String(allow_none=True)
    org_result = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    recommendations = fields.String(allow_none=True)
    rated_at = UtcDateTime(allow_none=True)
    signed_at = UtcDateTime(allow_none=True)
    signed_acting = fields.Dict(
        allow_none=True,
        metadata={
            "description": "the acting official (Plt/Plh) who signed in the penilai's place: "
            "kind, nip, name, position, for_nip, start_date, end_date; null when the penilai signed"
        },
    )
    acknowledged_at = UtcDateTime(allow_none=True)
    countersigned_at = UtcDateTime(allow_none=True)
    countersigned_acting = fields.Dict(
        allow_none=True, metadata={"description": "as signed_acting, for the atasan penilai's countersignature"}
    )
    content_hash = fields.String(allow_none=True)
    document_version = fields.Integer()
    objection_deadline = ObjectionDeadline(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "the last day an objection may be filed (inclusive), a date in the agency's time zone: "
            "the day the employee acknowledged receipt + REVIEWS_OBJECTION_DAYS (14); null until acknowledged"
        },
    )


class CalibrationQuery(Schema):
    """A cycle's period (0: the annual evaluation), optionally one unit."""

    cycle_id = fields.Integer(required=True, validate=ID)
    period_seq = fields.Integer(load_default=0, validate=SEQ)
    unit_code = fields.String()
