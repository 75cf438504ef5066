"""marshmallow pieces the notifications capability modules share (each module holds its own
schemas beside its views; unknown fields are refused: marshmallow's default)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.common.i18n import LANGUAGES

LANG = validate.OneOf(LANGUAGES)
NIP = validate.Length(min=1, max=18)


class AgencyQuery(Schema):
    agency_code = fields.String(validate=validate.Length(min=1, max=40), metadata={"description": "admin only"})
