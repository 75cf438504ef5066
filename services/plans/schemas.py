"""marshmallow pieces several capability modules of the plans API share: the id range and the
full SKP as a response (a plan's own views and its approval steps both answer with it). Each
module keeps its other schemas beside its views; all refuse unknown fields (marshmallow's RAISE
default) and keep server-owned fields dump-only."""

from __future__ import annotations

from marshmallow import fields, validate

from services.common.http import ObjectSchema, UtcDateTime

ID = validate.Range(min=1, max=2**31 - 1)  # a larger number cannot be bound to an INTEGER column (SQLite: 500)

# OpenAPI only (``metadata``): what the use cases check, documented so clients and the fuzzer see it;
# the checks stay where they are, with their own error codes
NIP_DOC = {"pattern": r"^\s*[0-9]{18}\s*$", "description": "an 18-digit NIP (surrounding spaces ignored)"}
NIP_OPT_DOC = {"pattern": r"^\s*([0-9]{18}\s*)?$", "description": "an 18-digit NIP, or empty for none"}
UNIT_CODE_DOC = {"minLength": 1, "maxLength": 40, "description": "the code of a unit of the agency"}
TEXT_DOC = {"pattern": r"\S", "description": "not blank"}


class IkiOut(ObjectSchema):
    id = fields.String()
    aspect = fields.String()
    indicator = fields.String()
    target_value = fields.Float(allow_none=True)
    target_unit = fields.String(allow_none=True)
    target_text = fields.String(allow_none=True)
    satisfaction_unit_code = fields.String(allow_none=True)


class RhkOut(ObjectSchema):
    id = fields.String()
    kind = fields.String()
    description = fields.String()
    parent_rhk_id = fields.String(allow_none=True)
    organisation_goal = fields.String(allow_none=True)
    iki = fields.List(fields.Nested(IkiOut))


class PlanOut(ObjectSchema):
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
    behaviour_by_penilai = fields.List(fields.String(), allow_none=True)
    annex = fields.Dict()
    submitted_at = UtcDateTime(allow_none=True)
    approved_at = UtcDateTime(allow_none=True)
    approved_by = fields.String(allow_none=True)
    version = fields.Integer()
