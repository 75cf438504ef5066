"""flask-smorest blueprints of the surveys API: thin views calling ``service`` functions.

Questionnaires (single, batch, public kiosk) are read with :func:`json_body` and validated by
``service``/``schemas.load_response`` so every field error is reported at once; their request
bodies are documented with ``@blp.doc``."""

from __future__ import annotations

from flask import Response as FlaskResponse
from flask import current_app, g, request
from flask.views import MethodView
from flask_smorest import Blueprint

from services.common.auth import current_principal
from services.common.errors import FieldError, Problem
from services.common.http import page_schema, paginate, require_if_match, with_etag

from . import domain, qr
from . import report as report_mod
from . import schemas as sc
from . import service as svc
from .models import Campaign, Response, SurveyToken

PREFIX = "/surveys/api/v1"
PUBLIC_PREFIX = f"{PREFIX}/public/"
SAMPLE_SIZE_PATH = f"{PREFIX}/sample-size"

campaigns = Blueprint(
    "campaigns",
    __name__,
    url_prefix=PREFIX,
    description="Survey campaigns (SKM), one-time tokens, QR codes, the minimum sample",
)
responses = Blueprint(
    "responses",
    __name__,
    url_prefix=PREFIX,
    description="Responses: kiosk/agency API, batches, CSV import of paper questionnaires",
)
index = Blueprint(
    "index", __name__, url_prefix=PREFIX, description="The satisfaction index (IKM), aggregates, suggestions, reports"
)
public = Blueprint(
    "public",
    __name__,
    url_prefix=f"{PREFIX}/public",
    description="Anonymous kiosk API (no token; one-time tokens or a per-address rate limit)",
)


def uow():
    return current_app.extensions["kinerja"].uow()


def host_url() -> str:
    return request.host_url


def out(s, c: Campaign) -> dict:
    with_etag(c)
    return svc.campaign_out(s, c, host_url())


def json_body():
    """The parsed JSON body (any JSON value); 415 for another media type, 400 for broken JSON."""
    if request.mimetype not in ("application/json",) and not (request.mimetype or "").endswith("+json"):
        raise Problem(415, "http.media_type", expected="application/json")
    data = request.get_json(silent=True)
    if data is None and request.get_data(cache=True).strip() != b"null":
        raise Problem(400, "http.bad_json")
    return data


def _doc_body(schema, many: bool = False) -> dict:
    body = {"type": "array", "items": schema} if many else schema
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": body}}}}


# ------------------------------------------------------------------ sample size


@campaigns.route("/sample-size")
class SampleSize(MethodView):
    @campaigns.arguments(sc.SampleSizeQuery, location="query")
    @campaigns.response(200, sc.SampleSizeOut)
    @campaigns.doc(security=[])
    def get(self, args):
        """Minimum sample for a population of service users (no token needed). Krejcie & Morgan by
        default (the formula rounded to the nearest whole number reproduces the published table;
        100,000 and above: 384), or ``method=slovin``; ``margin`` defaults to 0.05."""
        try:
            sample = domain.sample_size(args["population"], args["method"], args["margin"])
        except domain.DomainError as exc:
            raise svc.validation([(exc.field or "population", exc.code, exc.params)])
        return {"population": args["population"], "method": args["method"], "sample": sample}


# ------------------------------------------------------------------ campaigns


@campaigns.route("/campaigns")
class Campaigns(MethodView):
    @campaigns.arguments(sc.CampaignQuery, location="query")
    @campaigns.response(200, page_schema(sc.CampaignOut))
    def get(self, args):
        """Campaigns of the caller's agency, filtered by unit, service type or status."""
        from sqlalchemy import select

        p = current_principal()
        with uow() as s:
            stmt = select(Campaign)
            if not p.is_admin:
                stmt = stmt.where(Campaign.agency_code == (p.agency or "\0"))
            for key in ("unit_code", "service_type", "status"):
                if key in args:
                    stmt = stmt.where(getattr(Campaign, key) == args[key])
            page = paginate(s, stmt, Campaign.id, args.get("cursor"), args["limit"])
            page["items"] = [svc.campaign_out(s, c, host_url()) for c in page["items"]]
            return page

    @campaigns.arguments(sc.CampaignIn)
    @campaigns.response(201, sc.CampaignOut)
    def post(self, data):
        """Create a campaign for a service unit, service type and period (HR); it starts as ``draft``.
        The minimum sample follows from ``population``; ``tokens`` issues one-time codes now."""
        with uow() as s:
            c = svc.create_campaign(s, current_principal(), data)
            return out(s, c)


@campaigns.route("/campaigns/<int:campaign_id>")
class CampaignItem(MethodView):
    @campaigns.response(200, sc.CampaignOut)
    def get(self, campaign_id):
        """A campaign with its progress towards the minimum sample."""
        with uow() as s:
            return out(s, svc.get_campaign(s, current_principal(), campaign_id))

    @campaigns.arguments(sc.CampaignUpdate)
    @campaigns.response(200, sc.CampaignOut)
    def patch(self, changes, campaign_id):
        """Change a draft or open campaign (HR): population, sample method, end date, options, names.
        Requires If-Match."""
        p = current_principal()
        with uow() as s:
            c = svc.get_campaign(s, p, campaign_id)
            require_if_match(c.version)
            return out(s, svc.update_campaign(s, p, c, changes))


def _campaign_action(campaign_id: int, action):
    p = current_principal()
    with uow() as s:
        c = svc.get_campaign(s, p, campaign_id)
        if request.headers.get("If-Match"):
            require_if_match(c.version)
        return out(s, action(s, p, c))


@campaigns.route("/campaigns/<int:campaign_id>/open")
class CampaignOpen(MethodView):
    @campaigns.response(200, sc.CampaignOut)
    def post(self, campaign_id):
        """Open the campaign (HR): its public link and the kiosk API accept responses."""
        return _campaign_action(campaign_id, svc.open_campaign)


@campaigns.route("/campaigns/<int:campaign_id>/close")
class CampaignClose(MethodView):
    @campaigns.response(200, sc.CampaignOut)
    def post(self, campaign_id):
        """Close the campaign (HR): no more responses; publishes ``surveys.campaign.closed`` and
        ``surveys.ikm.computed`` (the index, for the unit's IKI in plans)."""
        return _campaign_action(campaign_id, svc.close_campaign)


@campaigns.route("/campaigns/<int:campaign_id>/tokens")
class CampaignTokens(MethodView):
    @campaigns.arguments(sc.TokenQuery, location="query")
    @campaigns.response(200, page_schema(sc.TokenOut))
    def get(self, args, campaign_id):
        """The campaign's one-time tokens (to print on receipts), ``used=false`` for the unused ones."""
        p = current_principal()
        with uow() as s:
            c = svc.get_campaign(s, p, campaign_id)
            svc.require_hr(p, c)
            page = paginate(s, svc.token_query(c, args), SurveyToken.id, args.get("cursor"), args["limit"])
            page["items"] = [
                {
                    "id": t.id,
                    "code": t.code,
                    "created_at": t.created_at,
                    "used": t.used_at is not None,
                    "used_at": t.used_at,
                }
                for t in page["items"]
            ]
            return page

    @campaigns.arguments(sc.TokensIn)
    @campaigns.response(201, sc.TokensIssued)
    def post(self, data, campaign_id):
        """Issue ``count`` more one-time tokens (HR). From then on the public form admits one response
        per token instead of a per-address rate."""
        p = current_principal()
        with uow() as s:
            c = svc.get_campaign(s, p, campaign_id)
            return {"campaign_id": c.id, "codes": svc.issue_tokens(s, p, c, data["count"])}


@campaigns.route("/campaigns/<int:campaign_id>/qr")
class CampaignQr(MethodView):
    @campaigns.arguments(sc.QrQuery, location="query")
    @campaigns.response(200, content_type="image/svg+xml")
    @campaigns.alt_response(200, content_type="image/png", description="with format=png")
    def get(self, args, campaign_id):
        """The QR code of the public link, to print at the counter (``format=svg|png``)."""
        with uow() as s:
            c = svc.get_campaign(s, current_principal(), campaign_id)
            url = svc.public_url(c, host_url())
        return qr.response(url, args["format"], args["scale"], f"skm-{c.unit_code}-{c.id}")


# ------------------------------------------------------------------ responses


@responses.route("/campaigns/<int:campaign_id>/responses")
class CampaignResponses(MethodView):
    @responses.response(201, sc.ResponseCreated)
    @responses.doc(**_doc_body(sc.ResponseIn))
    def post(self, campaign_id):
        """Record one questionnaire (kiosk or agency system of the campaign's agency, or HR):
        ``answers`` 1–4 for every unsur U1..U9, optional ``profile`` and ``suggestion``; a
        one-time ``token`` is used up when given. The campaign must be open."""
        raw = json_body()
        p = current_principal()
        with uow() as s:
            c = svc.get_campaign(s, p, campaign_id)
            ids = svc.api_record(s, p, c, raw, batch=False, max_items=1)
            r = s.get(Response, ids[0])
            return {"id": r.id, "campaign_id": c.id, "channel": r.channel, "submitted_at": r.submitted_at}


@responses.route("/campaigns/<int:campaign_id>/responses:batch")
class CampaignResponsesBatch(MethodView):
    @responses.response(201, sc.BatchCreated)
    @responses.doc(**_doc_body(sc.ResponseIn, many=True))
    def post(self, campaign_id):
        """Record a list of questionnaires at once, all or none (errors name ``[i].answers.U4``…)."""
        raw = json_body()
        p = current_principal()
        with uow() as s:
            c = svc.get_campaign(s, p, campaign_id)
            ids = svc.api_record(s, p, c, raw, batch=True, max_items=current_app.extensions["surveys"].batch_max)
            return {"campaign_id": c.id, "recorded": len(ids), "first_response_id": ids[0], "last_response_id": ids[-1]}


@responses.route("/campaigns/<int:campaign_id>/responses:import")
class CampaignResponsesImport(MethodView):
    @responses.arguments(sc.ImportQuery, location="query")
    @responses.response(200, sc.ImportReport)
    def post(self, args, campaign_id):
        """CSV import of paper questionnaires (``text/csv`` or a multipart ``file``): columns
        U1..U9 (1–4; an empty cell is a question left blank), optional age, sex (L/P),
        education, occupation, service_type, suggestion, token. Every row is recorded or, if any
        row is wrong, none (422 with the errors per row); ``dry_run=true`` only reports."""
        p = current_principal()
        limit = current_app.extensions["kinerja"].config.max_content_length
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
            c = svc.get_campaign(s, p, campaign_id)
            result = svc.import_csv(s, p, c, text, dry_run=args["dry_run"])
        cat = current_app.extensions["kinerja"].catalogue
        for e in result["errors"]:
            e["detail"] = (
                cat.t(e["code"], g.lang, **(e.get("params") or {}))
                if cat.has(e["code"])
                else (e.get("message") or e["code"])
            )
        return result


# ------------------------------------------------------------------ index, suggestions, reports


@index.route("/campaigns/<int:campaign_id>/ikm")
class CampaignIkm(MethodView):
    @index.response(200, sc.IkmOut)
    def get(self, campaign_id):
        """The campaign's index: respondents, NRR per unsur (4 decimals), IKM (1–4, 4 decimals),
        IKM unit (×25, 2 decimals), mutu (A–D) and kinerja; computed in the database, rounded at
        the end. Without an answer for every unsur the index fields are null."""
        with uow() as s:
            c = svc.get_campaign(s, current_principal(), campaign_id)
            return svc.ikm_dict(svc.campaign_index(s, c))


@index.route("/campaigns/<int:campaign_id>/ikm:publish")
class CampaignIkmPublish(MethodView):
    @index.response(202, sc.IkmOut)
    def post(self, campaign_id):
        """Publish ``surveys.ikm.computed`` now (HR): the plans service records ``ikm_unit`` as the
        realisation of the IKI mapped to this unit's satisfaction."""
        p = current_principal()
        with uow() as s:
            return svc.publish_ikm(s, p, svc.get_campaign(s, p, campaign_id))


@index.route("/ikm")
class AggregateIkm(MethodView):
    @index.arguments(sc.AggregateQuery, location="query")
    @index.response(200, sc.AggregateOut)
    def get(self, args):
        """The index pooled over the respondents of every campaign of the agency matching the
        filters: ``unit_code``, ``service_type``, ``from``/``to`` (campaign period overlapping),
        ``status``; ``group_by=unit_code|service_type`` adds one index per group."""
        with uow() as s:
            return svc.aggregate(s, current_principal(), args)


@index.route("/campaigns/<int:campaign_id>/suggestions")
class CampaignSuggestions(MethodView):
    @index.arguments(sc.PageArgs, location="query")
    @index.response(200, page_schema(sc.SuggestionOut))
    def get(self, args, campaign_id):
        """The respondents' suggestions (saran), oldest first, paginated."""
        with uow() as s:
            c = svc.get_campaign(s, current_principal(), campaign_id)
            return paginate(s, svc.suggestion_query(c), Response.id, args.get("cursor"), args["limit"])


@index.route("/campaigns/<int:campaign_id>/report")
class CampaignReport(MethodView):
    @index.response(200, sc.ReportOut)
    def get(self, campaign_id):
        """The report as JSON: campaign, index, improvement priority, NRR per unsur, the latest
        suggestions. ``report.html`` and ``report.pdf`` render the same with the chart."""
        with uow() as s:
            c = svc.get_campaign(s, current_principal(), campaign_id)
            return svc.report(s, c, host_url())


@index.route("/campaigns/<int:campaign_id>/report.html")
class CampaignReportHtml(MethodView):
    @index.response(200, content_type="text/html")
    def get(self, campaign_id):
        """The report as an HTML page (chart as inline SVG, no JavaScript); ``?lang=en`` for English."""
        with uow() as s:
            c = svc.get_campaign(s, current_principal(), campaign_id)
            data = svc.report(s, c, host_url())
        return FlaskResponse(report_mod.render_html(data, g.lang), mimetype="text/html")


@index.route("/campaigns/<int:campaign_id>/report.pdf")
class CampaignReportPdf(MethodView):
    @index.response(200, content_type="application/pdf")
    def get(self, campaign_id):
        """The report as a PDF (A4) with the bar chart of the nine unsur."""
        with uow() as s:
            c = svc.get_campaign(s, current_principal(), campaign_id)
            data = svc.report(s, c, host_url())
        pdf = report_mod.render_pdf(data, g.lang)
        return FlaskResponse(
            pdf,
            mimetype="application/pdf",
            headers={"Content-Disposition": f'inline; filename="skm-{c.unit_code}-{c.id}.pdf"'},
        )


# ------------------------------------------------------------------ public kiosk API (no login)


@public.route("/<slug>")
class PublicCampaign(MethodView):
    @public.response(200)
    @public.doc(security=[])
    def get(self, slug):
        """The questionnaire of an open campaign for a kiosk app: unsur in the form's order with
        their answer wordings (``?lang=en`` for English), profile choices, whether a token is needed."""
        with uow() as s:
            c = svc.campaign_by_slug(s, slug)
            if c is None:
                raise svc.not_found("campaign", slug)
            return report_mod.questionnaire(c, g.lang)


@public.route("/<slug>/responses")
class PublicResponses(MethodView):
    @public.response(201, sc.ResponseCreated)
    @public.doc(security=[], **_doc_body(sc.ResponseIn))
    def post(self, slug):
        """Record one anonymous questionnaire from a kiosk: one response per one-time ``token`` when
        the campaign issues tokens, otherwise a limited number per client address and minute (429)."""
        raw = json_body()
        with uow() as s:
            c = svc.campaign_by_slug(s, slug)
            if c is None:
                raise svc.not_found("campaign", slug)
            items, errors = svc.parse_items([raw], prefix_index=False)
            if errors:
                raise svc.validation(errors)
            ids = svc.record_responses(s, c, items, channel="kiosk", actor="public:kiosk", address=request.remote_addr)
            r = s.get(Response, ids[0])
            return {"id": r.id, "campaign_id": c.id, "channel": r.channel, "submitted_at": r.submitted_at}


BLUEPRINTS = [campaigns, responses, index, public]
