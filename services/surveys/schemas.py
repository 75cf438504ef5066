"""marshmallow schemas of the surveys API: separate query, create, update and response schemas.
Server-owned fields are dump_only; unknown fields are refused (marshmallow's RAISE default).

Responses are loaded by :func:`load_response` rather than webargs, so one pass reports every
field error of a questionnaire at once (profile and answers alike), with codes from the
message catalogue, for the JSON API, the batch, the CSV import and the public form."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from services.common.errors import FieldError, flatten_messages
from services.common.http import ImportRowError, PageArgs, UtcDateTime

from . import domain

ID = validate.Range(min=1, max=2**31 - 1)
MAX_POPULATION = 2_000_000_000


# ------------------------------------------------------------------ sample size


class SampleSizeQuery(Schema):
    population = fields.Integer(required=True, strict=False, validate=validate.Range(min=1, max=MAX_POPULATION))
    method = fields.String(load_default="krejcie-morgan", validate=validate.OneOf(domain.SAMPLE_METHODS))
    margin = fields.Float(
        load_default=domain.DEFAULT_MARGIN, allow_nan=False, validate=validate.Range(min=0.001, max=0.5)
    )


class SampleSizeOut(Schema):
    population = fields.Integer()
    method = fields.String()
    sample = fields.Integer()


# ------------------------------------------------------------------ campaigns

SERVICE_OPTION = fields.String(validate=validate.Length(min=1, max=200))


class CampaignIn(Schema):
    unit_code = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.-]{1,40}$"))
    unit_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    service_type = fields.String(required=True, validate=validate.Length(min=2, max=200))
    service_options = fields.List(
        SERVICE_OPTION,
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=50),
        metadata={"description": "service types the form offers to choose from"},
    )
    title = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    population = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_POPULATION),
        metadata={"description": "service users in the period (for the minimum sample)"},
    )
    sample_method = fields.String(load_default="krejcie-morgan", validate=validate.OneOf(domain.SAMPLE_METHODS))
    margin = fields.Float(
        load_default=domain.DEFAULT_MARGIN, allow_nan=False, validate=validate.Range(min=0.001, max=0.5)
    )
    tokens = fields.Integer(
        load_default=0,
        strict=True,
        validate=validate.Range(min=0, max=10_000),
        metadata={
            "description": "one-time tokens to issue now (0: the form is open to anyone, rate-limited per address)"
        },
    )


class CampaignUpdate(Schema):
    unit_name = fields.String(allow_none=True, validate=validate.Length(max=200))
    title = fields.String(allow_none=True, validate=validate.Length(max=200))
    service_options = fields.List(SERVICE_OPTION, allow_none=True, validate=validate.Length(max=50))
    end_date = fields.Date()
    population = fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_POPULATION))
    sample_method = fields.String(validate=validate.OneOf(domain.SAMPLE_METHODS))
    margin = fields.Float(allow_nan=False, validate=validate.Range(min=0.001, max=0.5))


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
    version = fields.Integer()


class CampaignQuery(PageArgs):
    unit_code = fields.String()
    service_type = fields.String()
    status = fields.String(validate=validate.OneOf(domain.STATUSES))


class TokensIn(Schema):
    count = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=10_000))


class TokensIssued(Schema):
    campaign_id = fields.Integer()
    codes = fields.List(fields.String())


class TokenOut(Schema):
    id = fields.Integer()
    code = fields.String()
    created_at = UtcDateTime()
    used = fields.Boolean()
    used_at = UtcDateTime(allow_none=True)


class TokenQuery(PageArgs):
    used = fields.Boolean()


class QrQuery(Schema):
    format = fields.String(load_default="svg", validate=validate.OneOf(("svg", "png")))
    scale = fields.Integer(load_default=8, validate=validate.Range(min=1, max=40))


# ------------------------------------------------------------------ responses


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


class BatchCreated(Schema):
    campaign_id = fields.Integer()
    recorded = fields.Integer()
    first_response_id = fields.Integer()
    last_response_id = fields.Integer()


class ImportQuery(Schema):
    dry_run = fields.Boolean(load_default=False)


class ImportReport(Schema):
    campaign_id = fields.Integer()
    dry_run = fields.Boolean()
    rows = fields.Integer()
    recorded = fields.Integer()
    errors = fields.List(fields.Nested(ImportRowError))


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


class IkmOut(Schema):
    respondents = fields.Integer()
    nrr = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True))
    ikm = fields.Float(allow_none=True)
    ikm_unit = fields.Float(allow_none=True)
    mutu = fields.String(allow_none=True)
    kinerja = fields.String(allow_none=True)


class AggregateQuery(Schema):
    unit_code = fields.String(validate=validate.Length(max=40))
    service_type = fields.String(validate=validate.Length(max=200))
    date_from = fields.Date(data_key="from", metadata={"description": "campaigns ending on or after"})
    date_to = fields.Date(data_key="to", metadata={"description": "campaigns starting on or before"})
    status = fields.String(validate=validate.OneOf(domain.STATUSES))
    group_by = fields.String(validate=validate.OneOf(("unit_code", "service_type")))


class AggregateGroup(IkmOut):
    key = fields.String()
    campaigns = fields.Integer()
    priority = fields.List(fields.String())


class AggregateOut(IkmOut):
    campaigns = fields.Integer()
    campaign_ids = fields.List(fields.Integer())
    priority = fields.List(fields.String(), metadata={"description": "the weakest unsur (lowest NRR)"})
    filters = fields.Dict()
    groups = fields.List(fields.Nested(AggregateGroup))


class SuggestionOut(Schema):
    id = fields.Integer()
    suggestion = fields.String()
    service_type = fields.String(allow_none=True)
    channel = fields.String()
    submitted_at = UtcDateTime()


class ReportOut(Schema):
    campaign = fields.Nested(CampaignOut)
    index = fields.Nested(IkmOut)
    priority = fields.List(fields.String())
    unsur = fields.List(fields.Dict())
    suggestions = fields.List(fields.Nested(SuggestionOut))
    suggestions_total = fields.Integer()
