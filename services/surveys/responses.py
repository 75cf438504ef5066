"""Responses through the agency API: one questionnaire, a batch, or a CSV file of paper
questionnaires (read by ``responses_import.py``) — the blueprint, its schemas and the use case that
checks who may record. Every channel records through ``recording.record_responses``."""

from __future__ import annotations

from flask import g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy.orm import Session

from services.common.auth import Principal, current_principal
from services.common.errors import FieldError, Problem
from services.common.http import ImportRowError
from services.common.scopes import accepts
from services.common.usecase import platform, settings, validation

from .access import PREFIX, doc_body, get_campaign, json_body, require_ingest, uow
from .models import Campaign
from .recording import created, parse_items, record_responses
from .responses_import import import_csv
from .schemas import ResponseCreated, ResponseIn

blp = Blueprint(
    "responses",
    __name__,
    url_prefix=PREFIX,
    description="Responses: kiosk/agency API, batches, CSV import of paper questionnaires",
)


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


def api_record(s: Session, p: Principal, c: Campaign, raw, *, batch: bool, max_items: int) -> list[int]:
    require_ingest(p, c)
    if batch:
        if not isinstance(raw, list):
            raise validation([FieldError("body", "response.batch_list")])
        if not raw:
            raise validation([FieldError("body", "response.batch_empty")])
        if len(raw) > max_items:
            raise validation([FieldError("body", "response.batch_too_large", {"max": max_items})])
        items, errors = parse_items(raw, prefix_index=True)
    else:
        items, errors = parse_items([raw], prefix_index=False)
    if errors:
        raise validation(errors)
    return record_responses(s, c, items, channel="api", actor=p.sub, prefix_index=batch)


# ------------------------------------------------------------------ views


@blp.route("/campaigns/<int:campaign_id>/responses")
class CampaignResponses(MethodView):
    @accepts("surveys:responses:write")
    @blp.response(201, ResponseCreated)
    @blp.doc(**doc_body(ResponseIn))
    def post(self, campaign_id):
        """Record one questionnaire (kiosk or agency system of the campaign's agency, or HR):
        ``answers`` 1–4 for every unsur U1..U9, optional ``profile`` and ``suggestion``; a
        one-time ``token`` is used up when given. The campaign must be open."""
        raw = json_body()
        p = current_principal()
        with uow() as s:
            c = get_campaign(s, p, campaign_id)
            ids = api_record(s, p, c, raw, batch=False, max_items=1)
            return created(s, c, ids[0])


@blp.route("/campaigns/<int:campaign_id>/responses:batch")
class CampaignResponsesBatch(MethodView):
    @accepts("surveys:responses:write")
    @blp.response(201, BatchCreated)
    @blp.doc(**doc_body(ResponseIn, many=True))
    def post(self, campaign_id):
        """Record a list of questionnaires at once, all or none (errors name ``[i].answers.U4``…)."""
        raw = json_body()
        p = current_principal()
        with uow() as s:
            c = get_campaign(s, p, campaign_id)
            ids = api_record(s, p, c, raw, batch=True, max_items=settings().batch_max)
            return {"campaign_id": c.id, "recorded": len(ids), "first_response_id": ids[0], "last_response_id": ids[-1]}


@blp.route("/campaigns/<int:campaign_id>/responses:import")
class CampaignResponsesImport(MethodView):
    @accepts("surveys:responses:write")
    @blp.arguments(ImportQuery, location="query")
    @blp.response(200, ImportReport)
    def post(self, args, campaign_id):
        """CSV import of paper questionnaires (``text/csv`` or a multipart ``file``): columns
        U1..U9 (1–4; an empty cell is a question left blank), optional age, sex (L/P),
        education, occupation, service_type, suggestion, token. Every row is recorded or, if any
        row is wrong, none (422 with the errors per row); ``dry_run=true`` only reports."""
        p = current_principal()
        limit = platform().config.max_content_length
        if request.mimetype == "multipart/form-data":
            f = request.files.get("file")
            if f is None:
                raise Problem(422, "validation", errors=[FieldError("file", "field.required")])
            raw = f.read(limit + 1)
        elif request.mimetype == "text/csv":
            raw = request.get_data()
        else:
            raise Problem(415, "http.media_type", expected="text/csv")
        if len(raw) > limit:
            raise Problem(413, "http.too_large", limit=limit)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Problem(422, "validation", errors=[FieldError("file", "import.encoding")])
        with uow() as s:
            c = get_campaign(s, p, campaign_id)
            result = import_csv(s, p, c, text, dry_run=args["dry_run"])
        cat = platform().catalogue
        for e in result["errors"]:
            e["detail"] = (
                cat.t(e["code"], g.lang, **(e.get("params") or {}))
                if cat.has(e["code"])
                else (e.get("message") or e["code"])
            )
        return result
