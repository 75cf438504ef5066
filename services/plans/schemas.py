"""marshmallow schemas of the plans API: separate query, create, update and response schemas.
Server-owned fields are dump_only; unknown fields are refused (marshmallow's RAISE default)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.common.http import ImportRowError, PageArgs, UtcDateTime

from . import domain

NIP = fields.String(required=True, validate=validate.Length(min=1, max=40))
LANG = validate.OneOf(("id", "en"))
ID = validate.Range(min=1, max=2**31 - 1)  # a larger number cannot be bound to an INTEGER column (SQLite: 500)


class AgencyIn(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Z0-9_-]{2,40}$"))
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))


class AgencyOut(Schema):
    code = fields.String()
    name = fields.String()


class UnitIn(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.-]{1,40}$"))
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    parent_code = fields.String(load_default=None, allow_none=True)
    head_nip = fields.String(load_default=None, allow_none=True)


class UnitOut(Schema):
    id = fields.Integer()
    agency_code = fields.String()
    code = fields.String()
    name = fields.String()
    parent_code = fields.String(allow_none=True)
    head_nip = fields.String(allow_none=True)
    version = fields.Integer()


class UnitQuery(PageArgs):
    parent_code = fields.String()


class EmployeeIn(Schema):
    nip = fields.String(required=True)
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    email = fields.Email(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^\+?[0-9 -]{6,20}$"))
    position = fields.String(required=True, validate=validate.Length(min=2, max=200))
    grade = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))
    unit_code = fields.String(required=True)
    superior_nip = fields.String(load_default=None, allow_none=True)
    language = fields.String(load_default="id", validate=LANG)
    active = fields.Boolean(load_default=True)


class EmployeeUpdate(Schema):
    name = fields.String(validate=validate.Length(min=2, max=200))
    email = fields.Email(allow_none=True)
    phone = fields.String(allow_none=True, validate=validate.Regexp(r"^\+?[0-9 -]{6,20}$"))
    position = fields.String(validate=validate.Length(min=2, max=200))
    grade = fields.String(allow_none=True, validate=validate.Length(max=20))
    unit_code = fields.String()
    superior_nip = fields.String(allow_none=True)
    language = fields.String(validate=LANG)
    active = fields.Boolean()


class EmployeeOut(Schema):
    id = fields.Integer()
    nip = fields.String()
    agency_code = fields.String()
    name = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    position = fields.String()
    grade = fields.String(allow_none=True)
    unit_code = fields.String(attribute="unit.code")
    unit_name = fields.String(attribute="unit.name")
    superior_nip = fields.String(allow_none=True)
    language = fields.String()
    active = fields.Boolean()
    version = fields.Integer()


class EmployeeQuery(PageArgs):
    unit_code = fields.String()
    superior_nip = fields.String()
    active = fields.Boolean()


class ImportQuery(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("units", "employees")))
    dry_run = fields.Boolean(load_default=False)


class ImportReport(Schema):
    kind = fields.String()
    dry_run = fields.Boolean()
    rows = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    errors = fields.List(fields.Nested(ImportRowError))


class ActingIn(Schema):
    acting_nip = fields.String(required=True)
    for_nip = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("plt", "plh")))
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)

    @validates_schema
    def _dates(self, data, **kw):
        if data["end_date"] < data["start_date"]:
            raise ValidationError("end_date is before start_date", "end_date")


class ActingOut(ActingIn):
    id = fields.Integer()


class PeriodOut(Schema):
    seq = fields.Integer()
    name_id = fields.String()
    name_en = fields.String()
    start = fields.Date()
    end = fields.Date()
    deadline = fields.Date()


class CycleIn(Schema):
    year = fields.Integer(required=True, validate=validate.Range(min=2022, max=2100))
    name = fields.String(load_default=None, validate=validate.Length(min=2, max=200))
    period_type = fields.String(required=True, validate=validate.OneOf(domain.PERIOD_TYPES))
    planning_deadline = fields.Date(load_default=None)
    deadline_days = fields.Integer(load_default=5, validate=validate.Range(min=0, max=60))
    unit_codes = fields.List(fields.String(), load_default=None)


class CycleOut(Schema):
    id = fields.Integer()
    agency_code = fields.String()
    year = fields.Integer()
    name = fields.String()
    period_type = fields.String()
    stage = fields.String()
    period_seq = fields.Integer(allow_none=True)
    phase = fields.String(allow_none=True)
    state = fields.String()
    planning_deadline = fields.Date(allow_none=True)
    unit_codes = fields.List(fields.String(), allow_none=True)
    periods = fields.List(fields.Nested(PeriodOut))
    version = fields.Integer()


class CycleQuery(PageArgs):
    year = fields.Integer(validate=ID)
    stage = fields.String(validate=validate.OneOf(domain.STAGES))


class PeriodUpdate(Schema):
    deadline = fields.Date(required=True, metadata={"description": "batas pengisian (fill-in deadline)"})


class AdvanceIn(Schema):
    expected = fields.String(
        load_default=None,
        metadata={
            "description": "The state the caller believes the cycle is in (e.g. 'planning' or "
            "'monitoring:2:self_assessment'); when given and different, 409 and nothing changes."
        },
    )


class IkiIn(Schema):
    id = fields.String(load_default=None, allow_none=True)
    aspect = fields.String(required=True)
    indicator = fields.String(required=True)
    target_value = fields.Float(load_default=None, allow_none=True, allow_nan=False)
    target_unit = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))
    target_text = fields.String(load_default=None, allow_none=True)
    satisfaction_unit_code = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=40),
        metadata={"description": "service unit whose survey index (IKM) is recorded as this IKI's realisation"},
    )


class RhkIn(Schema):
    id = fields.String(load_default=None, allow_none=True)
    kind = fields.String(required=True)
    description = fields.String(required=True)
    parent_rhk_id = fields.String(load_default=None, allow_none=True)
    organisation_goal = fields.String(load_default=None, allow_none=True)
    iki = fields.List(fields.Nested(IkiIn), load_default=list)


class AnnexIn(Schema):
    resources = fields.String(load_default="")
    accountability = fields.String(load_default="")
    consequences = fields.String(load_default="")


class PlanContent(Schema):
    approach = fields.String(required=True, validate=validate.OneOf(domain.APPROACHES))
    rhk = fields.List(fields.Nested(RhkIn), load_default=list)
    behaviour = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    annex = fields.Nested(AnnexIn, load_default=lambda: {"resources": "", "accountability": "", "consequences": ""})


class PlanCreate(PlanContent):
    cycle_id = fields.Integer(required=True, validate=ID)


class ReturnIn(Schema):
    note = fields.String(required=True, validate=validate.Length(min=3, max=4000))


class IkiOut(Schema):
    id = fields.String()
    aspect = fields.String()
    indicator = fields.String()
    target_value = fields.Float(allow_none=True)
    target_unit = fields.String(allow_none=True)
    target_text = fields.String(allow_none=True)
    satisfaction_unit_code = fields.String(allow_none=True)


class RhkOut(Schema):
    id = fields.String()
    kind = fields.String()
    description = fields.String()
    parent_rhk_id = fields.String(allow_none=True)
    organisation_goal = fields.String(allow_none=True)
    iki = fields.List(fields.Nested(IkiOut))


class PlanOut(Schema):
    id = fields.Integer()
    cycle_id = fields.Integer()
    agency_code = fields.String()
    employee_nip = fields.String()
    employee_name = fields.String()
    position = fields.String()
    grade = fields.String(allow_none=True)
    unit_id = fields.Integer()
    penilai_nip = fields.String(allow_none=True)
    is_head_of_unit = fields.Boolean()
    approach = fields.String()
    status = fields.String()
    revision = fields.Integer()
    return_note = fields.String(allow_none=True)
    rhk = fields.List(fields.Nested(RhkOut))
    behaviour = fields.Dict()
    annex = fields.Dict()
    submitted_at = UtcDateTime(allow_none=True)
    approved_at = UtcDateTime(allow_none=True)
    approved_by = fields.String(allow_none=True)
    version = fields.Integer()


class PlanSummary(Schema):
    id = fields.Integer()
    cycle_id = fields.Integer()
    employee_nip = fields.String()
    employee_name = fields.String()
    position = fields.String()
    unit_id = fields.Integer()
    penilai_nip = fields.String(allow_none=True)
    status = fields.String()
    revision = fields.Integer()
    version = fields.Integer()


class PlanQuery(PageArgs):
    cycle_id = fields.Integer(validate=ID)
    unit_code = fields.String()
    status = fields.String(validate=validate.OneOf(domain.PLAN_STATUSES))
    employee_nip = fields.String()
    penilai_nip = fields.String()


class CascadeQuery(Schema):
    cycle_id = fields.Integer(required=True, validate=ID)


class CascadeRhkOut(Schema):
    id = fields.String()
    kind = fields.String()
    description = fields.String()


class CascadeOptionsOut(Schema):
    cycle_id = fields.Integer()
    superior_nip = fields.String(allow_none=True)
    superior_name = fields.String(allow_none=True)
    plan_id = fields.Integer(allow_none=True)
    plan_status = fields.String(allow_none=True)
    is_head_of_unit = fields.Boolean()
    rhk = fields.List(fields.Nested(CascadeRhkOut))


class PlanVersionOut(Schema):
    revision = fields.Integer()
    approved_at = UtcDateTime()
    approved_by = fields.String()
    snapshot = fields.Dict()


class CoverageOut(Schema):
    plan_id = fields.Integer()
    rhk = fields.List(fields.Dict())
    unsupported = fields.List(fields.String())
    idle_subordinates = fields.List(fields.String())
    subordinates_without_plan = fields.List(fields.String())
    ratio = fields.Float()


#: items in one ``realisations:batch`` request (an SKP has a few dozen IKI; several periods at once fit)
REALISATION_BATCH_MAX = 100


class RealisationIn(Schema):
    iki_id = fields.String(required=True)
    period_seq = fields.Integer(required=True, validate=validate.Range(min=1, max=12))
    value = fields.Float(load_default=None, allow_none=True, allow_nan=False)
    text = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    links = fields.List(fields.Url(schemes={"http", "https"}), load_default=list, validate=validate.Length(max=20))

    @validates_schema
    def _value_or_text(self, data, **kw):
        if data.get("value") is None and not data.get("text"):
            raise ValidationError("Give a numeric value or a text realisation.", "value")


class EvidenceOut(Schema):
    id = fields.Integer()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_at = UtcDateTime()


class RealisationOut(Schema):
    id = fields.Integer()
    plan_id = fields.Integer()
    iki_id = fields.String()
    period_seq = fields.Integer()
    value = fields.Float(allow_none=True)
    text = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    links = fields.List(fields.String())
    source = fields.String()
    recorded_by = fields.String()
    recorded_at = UtcDateTime()
    evidence = fields.List(fields.Nested(EvidenceOut))
    version = fields.Integer()


class RealisationQuery(Schema):
    period_seq = fields.Integer(validate=ID)


class EvidenceUpload(Schema):
    file = fields.Raw(metadata={"type": "string", "format": "binary"}, required=True)


class DailyLogIn(Schema):
    date = fields.Date(required=True)
    activity = fields.String(required=True, validate=validate.Length(min=3, max=2000))
    minutes = fields.Integer(required=True, validate=validate.Range(min=1, max=1440))
    iki_id = fields.String(load_default=None, allow_none=True)


class DailyLogOut(Schema):
    id = fields.Integer()
    employee_nip = fields.String()
    date = fields.Date()
    activity = fields.String()
    minutes = fields.Integer()
    iki_id = fields.String(allow_none=True)
    plan_id = fields.Integer(allow_none=True)
    created_at = UtcDateTime()


class DailyLogQuery(PageArgs):
    employee_nip = fields.String()
    team = fields.Boolean(load_default=False)
    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")


class FeedbackIn(Schema):
    rhk_id = fields.String(load_default=None, allow_none=True)
    value_code = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(domain.BERAKHLAK))
    period_seq = fields.Integer(load_default=None, allow_none=True)
    text = fields.String(required=True, validate=validate.Length(min=2, max=4000))

    @validates_schema
    def _target(self, data, **kw):
        if bool(data.get("rhk_id")) == bool(data.get("value_code")):
            raise ValidationError("Give exactly one of rhk_id or value_code.", "rhk_id")


class FeedbackOut(Schema):
    id = fields.Integer()
    plan_id = fields.Integer()
    giver_nip = fields.String()
    rhk_id = fields.String(allow_none=True)
    value_code = fields.String(allow_none=True)
    period_seq = fields.Integer(allow_none=True)
    text = fields.String()
    created_at = UtcDateTime()
