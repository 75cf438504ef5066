"""What every surveys capability reads a campaign through: finding it (by id, with object-level
access; by its public slug), who may manage it or record responses into it, and its shapes (the
API's campaign with its sample progress, the reference events carry, the public link) — plus the
few helpers the blueprints share (the unit of work, the JSON body, the documented request body)."""

from __future__ import annotations

from datetime import date

from flask import request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.common.auth import Principal
from services.common.errors import Problem
from services.common.http import with_etag
from services.common.usecase import not_found, platform, settings

from .models import Campaign, SurveyToken

PREFIX = "/surveys/api/v1"

# ------------------------------------------------------------------ access


def forbidden(p: Principal, required: str) -> Problem:
    return Problem(403, "auth.role", roles=", ".join(sorted(p.roles)) or "-", required=required)


def can_read(p: Principal, c: Campaign) -> bool:
    """HR and the agency's machine clients (kiosks, other systems) of the campaign's agency."""
    return p.is_admin or (p.has("hr", "agency") and p.agency == c.agency_code)


def require_hr(p: Principal, c: Campaign | None = None) -> None:
    """HR of the agency (or an admin) manages campaigns; anyone else: 403 (their own agency's
    campaign) — campaigns of another agency are a 404 before this is reached."""
    if p.is_admin:
        return
    if not p.has("hr") or (c is not None and p.agency != c.agency_code):
        raise forbidden(p, "hr")


def require_ingest(p: Principal, c: Campaign) -> None:
    """Kiosks and other systems of the agency (role ``agency``) and HR record responses."""
    if not can_read(p, c):
        raise forbidden(p, "hr, agency")


def get_campaign(s: Session, p: Principal, campaign_id: int) -> Campaign:
    c = s.get(Campaign, campaign_id)
    if c is None or not can_read(p, c):
        raise not_found("campaign", campaign_id)  # 404, not 403: another agency's campaign is not revealed
    return c


def campaign_by_slug(s: Session, slug: str) -> Campaign | None:
    if not slug or len(slug) > 64:
        return None
    c = s.scalar(select(Campaign).where(Campaign.slug == slug))
    if c is None or c.status == "draft":
        return None  # a draft's link is not live yet
    return c


def respondents(s: Session, campaign_id: int) -> int:
    """Responses recorded for the campaign (the counter kept with every insert)."""
    return int(s.scalar(select(Campaign.respondents).where(Campaign.id == campaign_id)) or 0)


# ------------------------------------------------------------------ shapes


def public_path(c: Campaign) -> str:
    return f"/surveys/s/{c.slug}"


def results_path(c: Campaign) -> str | None:
    """The public results page (``results.py``): a closed campaign's results are published."""
    return f"/surveys/results/{c.agency_code}/{c.id}" if c.status == "closed" else None


def public_url(c: Campaign, host_url: str | None = None) -> str:
    base = settings().public_url or (host_url or "").rstrip("/")
    return f"{base}{public_path(c)}"


def campaign_out(s: Session, c: Campaign, host_url: str | None = None) -> dict:
    n = c.respondents or 0
    issued, used = s.execute(
        select(func.count(SurveyToken.id), func.count(SurveyToken.used_at)).where(SurveyToken.campaign_id == c.id)
    ).one()
    return {
        "id": c.id,
        "agency_code": c.agency_code,
        "unit_code": c.unit_code,
        "unit_name": c.unit_name,
        "service_type": c.service_type,
        "service_options": c.service_options,
        "title": c.title,
        "start_date": c.start_date,
        "end_date": c.end_date,
        "population": c.population,
        "sample_method": c.sample_method,
        "margin": c.margin,
        "min_sample": c.min_sample,
        "respondents": n,
        "sample_progress": round(n / c.min_sample, 4) if c.min_sample else 0.0,
        "sample_reached": n >= c.min_sample,
        "status": c.status,
        "slug": c.slug,
        "public_path": public_path(c),
        "public_url": public_url(c, host_url),
        "uses_tokens": c.uses_tokens,
        "tokens_issued": int(issued or 0),
        "tokens_used": int(used or 0),
        "created_by": c.created_by,
        "created_at": c.created_at,
        "opened_at": c.opened_at,
        "closed_at": c.closed_at,
        "follow_up": c.follow_up,
        "results_path": results_path(c),
        "version": c.version,
    }


def campaign_ref(c: Campaign) -> dict:
    """The campaign as the events carry it (``events.CampaignRef``)."""
    return {
        "campaign_id": c.id,
        "agency_code": c.agency_code,
        "unit_code": c.unit_code,
        "unit_name": c.unit_name,
        "service_type": c.service_type,
        "period_start": c.start_date,
        "period_end": c.end_date,
        "population": c.population,
        "sample_method": c.sample_method,
        "min_sample": c.min_sample,
        "status": c.status,
    }


def campaign_state(c: Campaign) -> dict:
    """The reference as an audit row keeps it (dates as text)."""
    return {k: (str(v) if isinstance(v, date) else v) for k, v in campaign_ref(c).items()}


# ------------------------------------------------------------------ view helpers


def uow():
    return platform().uow()


def host_url() -> str:
    return request.host_url


def out(s: Session, c: Campaign) -> dict:
    """The campaign as the API returns it, its ETag set."""
    with_etag(c)
    return campaign_out(s, c, host_url())


def json_body():
    """The parsed JSON body (any JSON value); 415 for another media type, 400 for broken JSON."""
    if request.mimetype not in ("application/json",) and not (request.mimetype or "").endswith("+json"):
        raise Problem(415, "http.media_type", expected="application/json")
    data = request.get_json(silent=True)
    if data is None and request.get_data(cache=True).strip() != b"null":
        raise Problem(400, "http.bad_json")
    return data


def doc_body(schema, many: bool = False) -> dict:
    """``@blp.doc(**doc_body(Schema))``: a request body read by :func:`json_body`, documented."""
    body = {"type": "array", "items": schema} if many else schema
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": body}}}}
