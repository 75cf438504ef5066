"""marshmallow schemas the surveys capabilities share: the campaign as the API returns it (campaigns,
the index report) and the questionnaire (every recording channel). A capability's other schemas live
in its own module. Server-owned fields are dump_only; unknown fields are refused (marshmallow's RAISE
default).

Responses are loaded by :func:`load_response` rather than webargs, so one pass reports every
field error of a questionnaire at once (profile and answers alike), with codes from the
message catalogue, for the JSON API, the batch, the CSV import and the public form."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from services.common.errors import FieldError, flatten_messages
from services.common.http import UtcDateTime

from . import domain


class CampaignOut(Schema):
    id = fields.Integer()
    agency_code = fields.String()
    unit_code = fields.String()
    unit_name = fields.String(allow_none=True)
    service_type = fields.String()
    service_options = fields.List(fields.String(), allow_none=True)
    title = fields.String(allow_none=True)
    start_date = fields.Date()
    end_date = fields.Date()
    population = fields.Integer()
    sample_method = fields.String()
    margin = fields.Float()
    min_sample = fields.Integer()
    respondents = fields.Integer()
    sample_progress = fields.Float(metadata={"description": "respondents / min_sample"})
    sample_reached = fields.Boolean()
    status = fields.String()
    slug = fields.String()
    public_path = fields.String()
    public_url = fields.String()
    uses_tokens = fields.Boolean()
    tokens_issued = fields.Integer()
    tokens_used = fields.Integer()
    created_by = fields.String()
    created_at = UtcDateTime()
    opened_at = UtcDateTime(allow_none=True)
    closed_at = UtcDateTime(allow_none=True)
    follow_up = fields.String(allow_none=True, metadata={"description": "the unit's follow-up of the results"})
    results_path = fields.String(
        allow_none=True, metadata={"description": "the public results page, once the campaign is closed (published)"}
    )
    version = fields.Integer()


# ------------------------------------------------------------------ questionnaires


class ProfileIn(Schema):
    age = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=domain.AGE_MIN, max=domain.AGE_MAX, error="profile.age"),
    )
    sex = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(domain.SEXES, error="profile.sex"))
    education = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(domain.EDUCATION, error="profile.education")
    )
    occupation = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(domain.OCCUPATIONS, error="profile.occupation")
    )
    service_type = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=200, error="profile.service_type")
    )


class ResponseIn(Schema):
    answers = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(allow_none=True),
        required=True,
        metadata={
            "description": "answer 1–4 per unsur code U1..U9 (all nine)",
            "example": {u: 4 for u in domain.UNSUR},
        },
    )
    profile = fields.Nested(ProfileIn, load_default=dict)
    suggestion = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=2000, error="response.suggestion_length")
    )
    token = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=32),
        metadata={
            "description": "a one-time token of the campaign (required on the public "
            "channels when the campaign issues tokens)"
        },
    )


class ResponseCreated(Schema):
    id = fields.Integer()
    campaign_id = fields.Integer()
    channel = fields.String()
    submitted_at = UtcDateTime()


def load_response(
    raw, prefix: str = "", *, allow_blank: bool = False, codes: frozenset[str] | None = None
) -> tuple[dict | None, list[FieldError]]:
    """Validate one questionnaire: ``(data, [])`` or ``(None, field errors)`` with every error
    at once. Field names are prefixed (``[3].answers.U4`` in a batch). Messages that are
    catalogue keys (``profile.age``…) become the error code."""
    errors: list[FieldError] = []
    data = None
    if not isinstance(raw, dict):
        return None, [FieldError(prefix.rstrip(".") or "body", "field.type")]
    try:
        data = ResponseIn().load(raw)
    except ValidationError as exc:
        for fe in flatten_messages(exc.messages):
            if fe.field.startswith("answers"):
                continue  # the domain check below names the unsur precisely
            if fe.message and "." in fe.message and " " not in fe.message:
                fe = FieldError(fe.field, fe.message, {})
            errors.append(FieldError(prefix + fe.field, fe.code, fe.params, fe.message))
    for field, code, params in domain.validate_answers(raw.get("answers"), allow_blank=allow_blank):
        if code == "answer.type" and "answers" not in raw:
            code = "field.required"
        errors.append(FieldError(prefix + field, code, params))
    if errors:
        return None, errors
    return data, []
