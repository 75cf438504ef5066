"""Campaigns (SKM) of a service unit: creating, changing, opening and closing them, their one-time
tokens, the QR code of their public link and the minimum sample — the blueprint, its schemas and
its use cases. Closing publishes the final index (``index.py``)."""

from __future__ import annotations

import secrets

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from services.common.auth import Principal, current_principal
from services.common.errors import Problem
from services.common.http import PageArgs, UtcDateTime, page_schema, paginate, require_if_match
from services.common.scopes import accepts
from services.common.usecase import now, record, settings, validation

from . import directory, domain, index, qr
from .access import (
    PREFIX,
    campaign_out,
    campaign_ref,
    campaign_state,
    forbidden,
    get_campaign,
    host_url,
    out,
    public_path,
    public_url,
    require_hr,
    uow,
)
from .models import Campaign, SurveyToken
from .schemas import CampaignOut

SAMPLE_SIZE_PATH = f"{PREFIX}/sample-size"
TOKEN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are typed from paper
TOKEN_LENGTH = 10
MAX_POPULATION = 2_000_000_000
SERVICE_OPTION = fields.String(validate=validate.Length(min=1, max=200))

blp = Blueprint(
    "campaigns",
    __name__,
    url_prefix=PREFIX,
    description="Survey campaigns (SKM), one-time tokens, QR codes, the minimum sample",
)


# ------------------------------------------------------------------ schemas


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
        metadata={"description": "one-time tokens to issue now (more: POST /campaigns/{id}/tokens)"},
    )
    open_form = fields.Boolean(
        load_default=False,
        metadata={
            "description": "admit anyone without a token (rate-limited per address and day) instead of one response "
            "per one-time token, the default; needs open_form_reason"
        },
    )
    open_form_reason = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=10, max=500),
        metadata={"description": "why this campaign's form is open to anyone (kept in the audit trail)"},
    )


class CampaignUpdate(Schema):
    unit_name = fields.String(allow_none=True, validate=validate.Length(max=200))
    follow_up = fields.String(
        allow_none=True,
        validate=validate.Length(max=4000),
        metadata={
            "description": "the unit's follow-up of the results (rencana tindak lanjut), published with them; "
            "the one field that may still change once the campaign is closed"
        },
    )
    title = fields.String(allow_none=True, validate=validate.Length(max=200))
    service_options = fields.List(SERVICE_OPTION, allow_none=True, validate=validate.Length(max=50))
    end_date = fields.Date()
    population = fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_POPULATION))
    sample_method = fields.String(validate=validate.OneOf(domain.SAMPLE_METHODS))
    margin = fields.Float(allow_nan=False, validate=validate.Range(min=0.001, max=0.5))


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


# ------------------------------------------------------------------ use cases


def min_sample(population: int, method: str, margin: float) -> int:
    """The minimum sample (``domain.sample_size``); a value it refuses is a 422 on its field."""
    try:
        return domain.sample_size(population, method, margin)
    except domain.DomainError as exc:
        raise validation([(exc.field or "population", exc.code, exc.params)])


def _clean_options(options) -> list[str] | None:
    if not options:
        return None
    out: list[str] = []
    for o in options:
        o = o.strip()
        if o and o not in out:
            out.append(o)
    return out or None


def _transition(status: str, action: str) -> str:
    try:
        return domain.campaign_transition(status, action)
    except domain.InvalidTransition as exc:
        raise Problem(409, exc.code, **exc.params)


def create_campaign(s: Session, p: Principal, data: dict) -> Campaign:
    require_hr(p)
    if not p.agency:
        raise Problem(403, "campaign.no_agency")
    errors = domain.validate_period(data["start_date"], data["end_date"])
    reason = (data.get("open_form_reason") or "").strip()
    if data.get("open_form") and len(reason) < 10:
        errors = [*errors, ("open_form_reason", "campaign.open_form_reason")]
    unit = directory.find_unit(s, p.agency, data["unit_code"])
    if unit is None:  # a survey of a unit the agency's directory does not have feeds no one's indicator
        errors = [*errors, ("unit_code", "unit.unknown", {"unit_code": data["unit_code"]})]
    if errors:
        raise validation(errors)
    c = Campaign(
        agency_code=p.agency,
        unit_code=unit.code,
        unit_name=data.get("unit_name") or unit.name,
        service_type=data["service_type"].strip(),
        service_options=_clean_options(data.get("service_options")),
        title=data.get("title"),
        start_date=data["start_date"],
        end_date=data["end_date"],
        population=data["population"],
        sample_method=data["sample_method"],
        margin=data["margin"],
        min_sample=min_sample(data["population"], data["sample_method"], data["margin"]),
        status="draft",
        slug=secrets.token_urlsafe(24),
        uses_tokens=bool(settings().tokens_by_default and not data.get("open_form")),
        created_by=p.sub,
        respondents=0,
        created_at=now(),
        updated_at=now(),
    )
    s.add(c)
    s.flush()
    after = campaign_state(c) | {"uses_tokens": c.uses_tokens}
    if data.get("open_form"):
        after["open_form_reason"] = reason
    record(s, p, "campaign.created", "campaign", c.id, agency=c.agency_code, after=after)
    if data.get("tokens"):
        issue_tokens(s, p, c, data["tokens"])
    return c


def update_campaign(s: Session, p: Principal, c: Campaign, changes: dict) -> Campaign:
    require_hr(p, c)
    if c.status == "closed" and set(changes) - {"follow_up"}:  # the results are final; their follow-up is not
        raise Problem(409, "campaign.closed_immutable", status=c.status)
    before = campaign_state(c) | {"follow_up": c.follow_up}
    if "follow_up" in changes:
        changes["follow_up"] = (changes["follow_up"] or "").replace("\x00", "").strip() or None
    if "end_date" in changes:
        errors = domain.validate_period(c.start_date, changes["end_date"])
        if errors:
            raise validation(errors)
    if "service_options" in changes:
        changes["service_options"] = _clean_options(changes["service_options"])
    for key, value in changes.items():
        setattr(c, key, value)
    c.min_sample = min_sample(c.population, c.sample_method, c.margin)
    c.updated_at = now()
    s.flush()
    after = campaign_state(c) | {"service_options": c.service_options, "title": c.title, "follow_up": c.follow_up}
    record(s, p, "campaign.updated", "campaign", c.id, agency=c.agency_code, before=before, after=after)
    return c


def _move(s: Session, p: Principal, c: Campaign, action: str, done: str, *, after: dict, data: dict) -> None:
    """Move the campaign's status by ``action`` (HR) and record ``campaign.<done>`` with its event
    ``surveys.campaign.<done>`` (the campaign's reference and ``data``)."""
    require_hr(p, c)
    before = c.status
    c.status = _transition(c.status, action)
    c.updated_at = now()
    setattr(c, f"{done}_at", c.updated_at)
    s.flush()
    record(
        s,
        p,
        f"campaign.{done}",
        "campaign",
        c.id,
        agency=c.agency_code,
        before={"status": before},
        after={"status": c.status} | after,
        event=f"surveys.campaign.{done}",
        data=campaign_ref(c) | data,
    )


def open_campaign(s: Session, p: Principal, c: Campaign) -> Campaign:
    _move(s, p, c, "open", "opened", after={}, data={"public_path": public_path(c), "uses_tokens": c.uses_tokens})
    return c


def close_campaign(s: Session, p: Principal, c: Campaign) -> Campaign:
    """Close (no more responses) and publish ``surveys.campaign.closed``, then the final index
    ``surveys.ikm.computed`` when every unsur has an answer."""
    n = c.respondents or 0
    _move(
        s,
        p,
        c,
        "close",
        "closed",
        after={"respondents": n},
        data={"respondents": n, "sample_reached": n >= c.min_sample},
    )
    result = index.campaign_index(s, c)
    if result.complete:
        index.emit_ikm(s, c, result)
    return c


def issue_tokens(s: Session, p: Principal, c: Campaign, count: int) -> list[str]:
    require_hr(p, c)
    if c.status == "closed":
        raise Problem(409, "campaign.closed_immutable", status=c.status)
    existing = set(s.scalars(select(SurveyToken.code).where(SurveyToken.campaign_id == c.id)))
    codes: list[str] = []
    fresh: set[str] = set()
    while len(codes) < count:
        code = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))
        if code in existing or code in fresh:
            continue
        fresh.add(code)
        codes.append(code)
    at = now()
    s.execute(insert(SurveyToken), [{"campaign_id": c.id, "code": code, "created_at": at} for code in codes])
    c.uses_tokens = True
    c.updated_at = at
    s.flush()
    record(s, p, "tokens.issued", "campaign", c.id, agency=c.agency_code, after={"count": count})
    return codes


def token_query(c: Campaign, args: dict):
    stmt = select(SurveyToken).where(SurveyToken.campaign_id == c.id)
    if "used" in args:
        stmt = stmt.where(SurveyToken.used_at.is_not(None) if args["used"] else SurveyToken.used_at.is_(None))
    return stmt


# ------------------------------------------------------------------ views


@blp.route("/sample-size")
class SampleSize(MethodView):
    @blp.arguments(SampleSizeQuery, location="query")
    @blp.response(200, SampleSizeOut)
    @blp.doc(security=[])
    def get(self, args):
        """Minimum sample for a population of service users (no token needed). Krejcie & Morgan by
        default (the formula rounded to the nearest whole number reproduces the published table;
        100,000 and above: 384), or ``method=slovin``; ``margin`` defaults to 0.05."""
        sample = min_sample(args["population"], args["method"], args["margin"])
        return {"population": args["population"], "method": args["method"], "sample": sample}


@blp.route("/campaigns")
class Campaigns(MethodView):
    @accepts("surveys:read", "surveys:responses:write")
    @blp.arguments(CampaignQuery, location="query")
    @blp.response(200, page_schema(CampaignOut))
    def get(self, args):
        """Campaigns of the caller's agency, filtered by unit, service type or status (HR and the
        agency's machine clients, as for one campaign: an employee reads none of them)."""
        p = current_principal()
        if not p.is_admin and not p.has("hr", "agency"):
            raise forbidden(p, "hr, agency")
        with uow() as s:
            stmt = select(Campaign)
            if not p.is_admin:
                stmt = stmt.where(Campaign.agency_code == (p.agency or "\0"))
            for key in ("unit_code", "service_type", "status"):
                if key in args:
                    stmt = stmt.where(getattr(Campaign, key) == args[key])
            page = paginate(s, stmt, Campaign.id, args.get("cursor"), args["limit"])
            page["items"] = [campaign_out(s, c, host_url()) for c in page["items"]]
            return page

    @blp.arguments(CampaignIn)
    @blp.response(201, CampaignOut)
    def post(self, data):
        """Create a campaign for a service unit, service type and period (HR); it starts as ``draft``.
        The minimum sample follows from ``population``; ``tokens`` issues one-time codes now. The public
        form and the kiosk admit one response per one-time token unless ``open_form`` (with
        ``open_form_reason``) opens them to anyone, rate-limited per address and day."""
        with uow() as s:
            c = create_campaign(s, current_principal(), data)
            return out(s, c)


@blp.route("/campaigns/<int:campaign_id>")
class CampaignItem(MethodView):
    @accepts("surveys:read", "surveys:responses:write")
    @blp.response(200, CampaignOut)
    def get(self, campaign_id):
        """A campaign with its progress towards the minimum sample."""
        with uow() as s:
            return out(s, get_campaign(s, current_principal(), campaign_id))

    @blp.arguments(CampaignUpdate)
    @blp.response(200, CampaignOut)
    def patch(self, changes, campaign_id):
        """Change a draft or open campaign (HR): population, sample method, end date, options, names.
        Requires If-Match."""
        p = current_principal()
        with uow() as s:
            c = get_campaign(s, p, campaign_id)
            require_if_match(c.version)
            return out(s, update_campaign(s, p, c, changes))


def _campaign_action(campaign_id: int, action):
    p = current_principal()
    with uow() as s:
        c = get_campaign(s, p, campaign_id)
        if request.headers.get("If-Match"):
            require_if_match(c.version)
        return out(s, action(s, p, c))


@blp.route("/campaigns/<int:campaign_id>/open")
class CampaignOpen(MethodView):
    @blp.response(200, CampaignOut)
    def post(self, campaign_id):
        """Open the campaign (HR): its public link and the kiosk API accept responses."""
        return _campaign_action(campaign_id, open_campaign)


@blp.route("/campaigns/<int:campaign_id>/close")
class CampaignClose(MethodView):
    @blp.response(200, CampaignOut)
    def post(self, campaign_id):
        """Close the campaign (HR): no more responses; publishes ``surveys.campaign.closed`` and
        ``surveys.ikm.computed`` (the index, for the unit's IKI in plans)."""
        return _campaign_action(campaign_id, close_campaign)


@blp.route("/campaigns/<int:campaign_id>/tokens")
class CampaignTokens(MethodView):
    @blp.arguments(TokenQuery, location="query")
    @blp.response(200, page_schema(TokenOut))
    def get(self, args, campaign_id):
        """The campaign's one-time tokens (to print on receipts), ``used=false`` for the unused ones."""
        p = current_principal()
        with uow() as s:
            c = get_campaign(s, p, campaign_id)
            require_hr(p, c)
            page = paginate(s, token_query(c, args), SurveyToken.id, args.get("cursor"), args["limit"])
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

    @blp.arguments(TokensIn)
    @blp.response(201, TokensIssued)
    def post(self, data, campaign_id):
        """Issue ``count`` more one-time tokens (HR). From then on the public form admits one response
        per token instead of a per-address rate."""
        p = current_principal()
        with uow() as s:
            c = get_campaign(s, p, campaign_id)
            return {"campaign_id": c.id, "codes": issue_tokens(s, p, c, data["count"])}


@blp.route("/campaigns/<int:campaign_id>/qr")
class CampaignQr(MethodView):
    @accepts("surveys:read", "surveys:responses:write")
    @blp.arguments(QrQuery, location="query")
    @blp.response(200, content_type="image/svg+xml")
    @blp.alt_response(200, content_type="image/png", description="with format=png")
    def get(self, args, campaign_id):
        """The QR code of the public link, to print at the counter (``format=svg|png``)."""
        with uow() as s:
            c = get_campaign(s, current_principal(), campaign_id)
            url = public_url(c, host_url())
        return qr.response(url, args["format"], args["scale"], f"skm-{c.unit_code}-{c.id}")
