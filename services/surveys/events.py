"""What the surveys service publishes (payload schemas, for the catalogue) and what it consumes."""

from __future__ import annotations

from marshmallow import Schema, fields

from services.common.catalogue import EventSpec
from services.common.consumers import on

from . import directory


class CampaignRef(Schema):
    campaign_id = fields.Integer(required=True)
    agency_code = fields.String(required=True)
    unit_code = fields.String(required=True)
    unit_name = fields.String(allow_none=True)
    service_type = fields.String(required=True)
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    population = fields.Integer(required=True)
    sample_method = fields.String(required=True, metadata={"description": "krejcie-morgan | slovin"})
    min_sample = fields.Integer(required=True)
    status = fields.String(required=True)


class CampaignOpened(CampaignRef):
    public_path = fields.String(required=True, metadata={"description": "path of the public form"})
    uses_tokens = fields.Boolean(required=True)


class CampaignClosed(CampaignRef):
    respondents = fields.Integer(required=True)
    sample_reached = fields.Boolean(required=True)


class ResponseRecorded(Schema):
    campaign_id = fields.Integer(required=True)
    agency_code = fields.String(required=True)
    unit_code = fields.String(required=True)
    channel = fields.String(required=True, metadata={"description": "form | kiosk | api | import"})
    count = fields.Integer(required=True, metadata={"description": "responses recorded by this one call"})
    first_response_id = fields.Integer(required=True)
    last_response_id = fields.Integer(required=True)
    respondents = fields.Integer(required=True, metadata={"description": "campaign total after this call"})


Nrr = fields.Dict(
    keys=fields.String(),
    values=fields.Float(allow_none=True),
    required=True,
    metadata={"description": "NRR per unsur U1..U9 (1–4, 4 decimals)"},
)


class IkmComputed(Schema):
    campaign_id = fields.Integer(required=True)
    agency_code = fields.String(required=True)
    unit_code = fields.String(required=True)
    service_type = fields.String(required=True)
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    respondents = fields.Integer(required=True)
    nrr = Nrr
    ikm = fields.Float(required=True, metadata={"description": "1–4, 4 decimals"})
    ikm_unit = fields.Float(required=True, metadata={"description": "IKM × 25 (25–100), 2 decimals"})
    mutu = fields.String(required=True, metadata={"description": "A | B | C | D"})
    kinerja = fields.String(required=True, metadata={"description": "Sangat Baik | Baik | Kurang Baik | Tidak Baik"})
    final = fields.Boolean(required=True, metadata={"description": "true when the campaign is closed"})


PUBLISHES = [
    EventSpec(
        "surveys.campaign.opened",
        CampaignOpened,
        "HR opened a satisfaction survey campaign of a service unit; its public form accepts responses.",
        ("notifications",),
    ),
    EventSpec(
        "surveys.response.recorded",
        ResponseRecorded,
        "One or more survey responses were recorded (form, kiosk, API batch or paper import).",
        (),
    ),
    EventSpec(
        "surveys.campaign.closed",
        CampaignClosed,
        "HR closed a campaign; no more responses are accepted.",
        ("notifications",),
    ),
    EventSpec(
        "surveys.ikm.computed",
        IkmComputed,
        "The satisfaction index (IKM) of a campaign, on closing or on demand. Plans records ikm_unit as "
        "the realisation of every IKI mapped to the unit's satisfaction for the period containing "
        "period_end.",
        ("plans",),
    ),
]
TYPES = {spec.type: spec for spec in PUBLISHES}

CONSUMES = {
    # the directory's units: a campaign must name one of its agency (directory.py)
    "plans.unit.upserted": on(directory.rm_unit, timed=True),
}
