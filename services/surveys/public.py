"""The anonymous kiosk API (no login): an open campaign's questionnaire in the shape a kiosk app
renders, and one questionnaire recorded per request — admitted by a one-time token when the campaign
issues tokens, otherwise by the per-address rate limit (``ratelimit.py``). The public HTML form is
``web.py``."""

from __future__ import annotations

from flask import g, request
from flask.views import MethodView
from flask_smorest import Blueprint

from services.common.usecase import not_found, validation

from . import domain
from .access import PREFIX, campaign_by_slug, doc_body, json_body, uow
from .recording import created, parse_items, record_responses
from .report import translator
from .schemas import ResponseCreated, ResponseIn

PUBLIC_PREFIX = f"{PREFIX}/public/"

blp = Blueprint(
    "public",
    __name__,
    url_prefix=f"{PREFIX}/public",
    description="Anonymous kiosk API (no token; one-time tokens or a per-address rate limit)",
)


def questionnaire(c, lang: str) -> dict:
    t = translator(lang)
    return {
        "campaign_id": c.id,
        "unit_code": c.unit_code,
        "unit_name": c.unit_name,
        "service_type": c.service_type,
        "title": c.title or t("form.title"),
        "status": c.status,
        "start_date": c.start_date.isoformat(),
        "end_date": c.end_date.isoformat(),
        "uses_tokens": c.uses_tokens,
        "lang": lang,
        "service_options": c.service_options or [],
        "questions": [
            {
                "code": u,
                "unsur": t(f"unsur.{u}"),
                "question": t(f"question.{u}"),
                "answers": [{"value": v, "label": t(f"answer.{u}.{v}")} for v in range(1, 5)],
            }
            for u in domain.QUESTION_ORDER
        ],
        "profile": {
            "age": {"min": domain.AGE_MIN, "max": domain.AGE_MAX},
            "sex": [{"value": v, "label": t(f"sex.{v}")} for v in domain.SEXES],
            "education": [{"value": v, "label": t(f"education.{v}")} for v in domain.EDUCATION],
            "occupation": [{"value": v, "label": t(f"occupation.{v}")} for v in domain.OCCUPATIONS],
        },
    }


@blp.route("/<slug>")
class PublicCampaign(MethodView):
    @blp.response(200)
    @blp.doc(security=[])
    def get(self, slug):
        """The questionnaire of an open campaign for a kiosk app: unsur in the form's order with
        their answer wordings (``?lang=en`` for English), profile choices, whether a token is needed."""
        with uow() as s:
            c = campaign_by_slug(s, slug)
            if c is None:
                raise not_found("campaign", slug)
            return questionnaire(c, g.lang)


@blp.route("/<slug>/responses")
class PublicResponses(MethodView):
    @blp.response(201, ResponseCreated)
    @blp.doc(security=[], **doc_body(ResponseIn))
    def post(self, slug):
        """Record one anonymous questionnaire from a kiosk: one response per one-time ``token`` when
        the campaign issues tokens, otherwise a limited number per client address and minute (429)."""
        raw = json_body()
        with uow() as s:
            c = campaign_by_slug(s, slug)
            if c is None:
                raise not_found("campaign", slug)
            items, errors = parse_items([raw], prefix_index=False)
            if errors:
                raise validation(errors)
            ids = record_responses(s, c, items, channel="kiosk", actor="public:kiosk", address=request.remote_addr)
            return created(s, c, ids[0])
