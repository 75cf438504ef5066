"""The satisfaction index (IKM): a campaign's index computed in the database, the index pooled
over an agency's campaigns, publishing ``surveys.ikm.computed``, the respondents' suggestions and
the report (JSON here; HTML and PDF drawn by ``report.py``) — the blueprint, its schemas and its
use cases."""

from __future__ import annotations

import uuid

from flask import Response as FlaskResponse
from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from services.common.auth import Principal, current_principal
from services.common.errors import FieldError, Problem
from services.common.http import PageArgs, UtcDateTime, page_schema, paginate
from services.common.scopes import accepts
from services.common.usecase import emit, record, validation

from . import domain
from . import report as report_mod
from .access import PREFIX, campaign_out, forbidden, get_campaign, host_url, require_hr, uow
from .models import ANSWER_COLUMNS, Campaign, Response
from .schemas import CampaignOut

blp = Blueprint(
    "index", __name__, url_prefix=PREFIX, description="The satisfaction index (IKM), aggregates, suggestions, reports"
)


# ------------------------------------------------------------------ schemas


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


# ------------------------------------------------------------------ use cases


def _aggregate_columns():
    cols = [func.count().label("n")]
    for u, col in ANSWER_COLUMNS.items():
        cols.append(func.count(col).label(f"c_{u}"))
        cols.append(func.sum(col).label(f"s_{u}"))
    return cols


def _result_of(row) -> domain.IkmResult:
    m = row._mapping
    return domain.compute_index(m["n"], {u: m[f"s_{u}"] for u in domain.UNSUR}, {u: m[f"c_{u}"] for u in domain.UNSUR})


def campaign_index(s: Session, c: Campaign) -> domain.IkmResult:
    """One aggregate query: COUNT and SUM per unsur over the campaign's responses (AVG = SUM/COUNT,
    kept exact); the domain rounds at the end."""
    row = s.execute(select(*_aggregate_columns()).where(Response.campaign_id == c.id)).one()
    return _result_of(row)


def _campaign_filter(p: Principal, args: dict):
    conds = []
    if not p.is_admin:
        conds.append(Campaign.agency_code == (p.agency or "\0"))
    if args.get("unit_code"):
        conds.append(Campaign.unit_code == args["unit_code"])
    if args.get("service_type"):
        conds.append(Campaign.service_type == args["service_type"])
    if args.get("status"):
        conds.append(Campaign.status == args["status"])
    if args.get("date_from"):
        conds.append(Campaign.end_date >= args["date_from"])
    if args.get("date_to"):
        conds.append(Campaign.start_date <= args["date_to"])
    return and_(*conds) if conds else True


def aggregate(s: Session, p: Principal, args: dict) -> dict:
    """The index pooled over every respondent of the campaigns matching the filters (unit,
    service type, period, status), optionally grouped by unit or service type."""
    if not (p.is_admin or p.has("hr", "agency")):
        raise forbidden(p, "hr, agency")
    if args.get("date_from") and args.get("date_to") and args["date_to"] < args["date_from"]:
        raise validation([FieldError("to", "campaign.end_before_start")])
    where = _campaign_filter(p, args)
    ids = list(s.scalars(select(Campaign.id).where(where).order_by(Campaign.id)))
    row = s.execute(
        select(*_aggregate_columns())
        .select_from(Response)
        .join(Campaign, Response.campaign_id == Campaign.id)
        .where(where)
    ).one()
    result = _result_of(row)
    filters = {key: args[key] for key in ("unit_code", "service_type", "status") if args.get(key)}
    filters |= {name: str(args[key]) for key, name in (("date_from", "from"), ("date_to", "to")) if args.get(key)}
    out = result.as_dict() | {
        "campaigns": len(ids),
        "campaign_ids": ids,
        "priority": domain.weakest(result),
        "filters": filters,
        "groups": [],
    }
    group = args.get("group_by")
    if group:
        key = getattr(Campaign, group)
        counts = dict(s.execute(select(key, func.count(Campaign.id)).where(where).group_by(key)).all())
        rows = s.execute(
            select(key.label("key"), *_aggregate_columns())
            .select_from(Response)
            .join(Campaign, Response.campaign_id == Campaign.id)
            .where(where)
            .group_by(key)
            .order_by(key)
        ).all()
        seen = set()
        for r in rows:
            res = _result_of(r)
            seen.add(r.key)
            out["groups"].append(
                res.as_dict() | {"key": r.key, "campaigns": counts.get(r.key, 0), "priority": domain.weakest(res)}
            )
        for k in sorted(set(counts) - seen):
            empty = domain.compute_index(0, {}, {})
            out["groups"].append(empty.as_dict() | {"key": k, "campaigns": counts[k], "priority": []})
        out["groups"].sort(key=lambda g: g["key"])
    return out


def ikm_event(c: Campaign, result: domain.IkmResult) -> dict:
    """The payload of ``surveys.ikm.computed`` (``final`` once the campaign is closed)."""
    data = result.as_dict()
    return {
        "campaign_id": c.id,
        "agency_code": c.agency_code,
        "unit_code": c.unit_code,
        "service_type": c.service_type,
        "period_start": c.start_date,
        "period_end": c.end_date,
        "respondents": data["respondents"],
        "nrr": data["nrr"],
        "ikm": data["ikm"],
        "ikm_unit": data["ikm_unit"],
        "mutu": data["mutu"],
        "kinerja": data["kinerja"],
        "final": c.status == "closed",
    }


def emit_ikm(s: Session, c: Campaign, result: domain.IkmResult) -> dict:
    """``surveys.ikm.computed`` in the outbox (what closing a campaign publishes besides its own event)."""
    return emit(s, "surveys.ikm.computed", c.id, ikm_event(c, result))


def publish_ikm(s: Session, p: Principal, c: Campaign) -> dict:
    """Publish ``surveys.ikm.computed`` now (an open campaign's interim index, or again after closing)."""
    require_hr(p, c)
    if c.status == "draft":
        raise Problem(409, "campaign.not_open", status=c.status)
    result = campaign_index(s, c)
    if not result.complete:
        raise Problem(409, "ikm.no_data", respondents=result.respondents)
    data = ikm_event(c, result)
    event_id = str(uuid.uuid4())  # named in the audit row, which is written first
    envelope = record(
        s,
        p,
        "ikm.published",
        "campaign",
        c.id,
        agency=c.agency_code,
        after={"ikm_unit": data["ikm_unit"], "respondents": result.respondents, "event_id": event_id},
        event="surveys.ikm.computed",
        data=data,
        event_id=event_id,
    )
    return envelope["data"] | {"event_id": envelope["id"]}


def suggestion_query(c: Campaign):
    return select(Response).where(Response.campaign_id == c.id, Response.suggestion.is_not(None))


def report(s: Session, c: Campaign, host_url: str | None = None, suggestions_limit: int = 500) -> dict:
    result = campaign_index(s, c)
    nrr = result.nrr_rounded()
    priority = domain.weakest(result)
    suggestions = list(s.scalars(suggestion_query(c).order_by(Response.id.desc()).limit(suggestions_limit)))
    total_suggestions = int(
        s.scalar(
            select(func.count())
            .select_from(Response)
            .where(Response.campaign_id == c.id, Response.suggestion.is_not(None))
        )
        or 0
    )
    return {
        "campaign": campaign_out(s, c, host_url),
        "index": result.as_dict(),
        "result": result,
        "priority": priority,
        "unsur": [
            {
                "code": u,
                "nrr": None if nrr[u] is None else float(nrr[u]),
                "answered": result.counts[u],
                "priority": u in priority,
            }
            for u in domain.UNSUR
        ],
        "suggestions": suggestions,
        "suggestions_total": total_suggestions,
    }


# ------------------------------------------------------------------ views


@blp.route("/campaigns/<int:campaign_id>/ikm")
class CampaignIkm(MethodView):
    @accepts("surveys:read")
    @blp.response(200, IkmOut)
    def get(self, campaign_id):
        """The campaign's index: respondents, NRR per unsur (4 decimals), IKM (1–4, 4 decimals),
        IKM unit (×25, 2 decimals), mutu (A–D) and kinerja; computed in the database, rounded at
        the end. Without an answer for every unsur the index fields are null."""
        with uow() as s:
            c = get_campaign(s, current_principal(), campaign_id)
            return campaign_index(s, c).as_dict()


@blp.route("/campaigns/<int:campaign_id>/ikm:publish")
class CampaignIkmPublish(MethodView):
    @blp.response(202, IkmOut)
    def post(self, campaign_id):
        """Publish ``surveys.ikm.computed`` now (HR): the plans service records ``ikm_unit`` as the
        realisation of the IKI mapped to this unit's satisfaction."""
        p = current_principal()
        with uow() as s:
            return publish_ikm(s, p, get_campaign(s, p, campaign_id))


@blp.route("/ikm")
class AggregateIkm(MethodView):
    @accepts("surveys:read")
    @blp.arguments(AggregateQuery, location="query")
    @blp.response(200, AggregateOut)
    def get(self, args):
        """The index pooled over the respondents of every campaign of the agency matching the
        filters: ``unit_code``, ``service_type``, ``from``/``to`` (campaign period overlapping),
        ``status``; ``group_by=unit_code|service_type`` adds one index per group."""
        with uow() as s:
            return aggregate(s, current_principal(), args)


@blp.route("/campaigns/<int:campaign_id>/suggestions")
class CampaignSuggestions(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(SuggestionOut))
    def get(self, args, campaign_id):
        """The respondents' suggestions (saran), oldest first, paginated (HR: what citizens wrote is
        not for the agency's machine clients)."""
        p = current_principal()
        with uow() as s:
            c = get_campaign(s, p, campaign_id)
            require_hr(p, c)
            return paginate(s, suggestion_query(c), Response.id, args.get("cursor"), args["limit"])


def _report(campaign_id: int) -> tuple[Campaign, dict]:
    """The report lists suggestions: HR only (a machine client reads the index instead)."""
    p = current_principal()
    with uow() as s:
        c = get_campaign(s, p, campaign_id)
        require_hr(p, c)
        return c, report(s, c, host_url())


@blp.route("/campaigns/<int:campaign_id>/report")
class CampaignReport(MethodView):
    @blp.response(200, ReportOut)
    def get(self, campaign_id):
        """The report as JSON: campaign, index, improvement priority, NRR per unsur, the latest
        suggestions. ``report.html`` and ``report.pdf`` render the same with the chart."""
        return _report(campaign_id)[1]


@blp.route("/campaigns/<int:campaign_id>/report.html")
class CampaignReportHtml(MethodView):
    @blp.response(200, content_type="text/html")
    def get(self, campaign_id):
        """The report as an HTML page (chart as inline SVG, no JavaScript); ``?lang=en`` for English."""
        _, data = _report(campaign_id)
        return FlaskResponse(report_mod.render_html(data, g.lang), mimetype="text/html")


@blp.route("/campaigns/<int:campaign_id>/report.pdf")
class CampaignReportPdf(MethodView):
    @blp.response(200, content_type="application/pdf")
    def get(self, campaign_id):
        """The report as a PDF (A4) with the bar chart of the nine unsur."""
        c, data = _report(campaign_id)
        pdf = report_mod.render_pdf(data, g.lang)
        return FlaskResponse(
            pdf,
            mimetype="application/pdf",
            headers={"Content-Disposition": f'inline; filename="skm-{c.unit_code}-{c.id}.pdf"'},
        )
