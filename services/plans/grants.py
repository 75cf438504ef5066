"""Grants across agencies (issue 16, Deliver 2), owned here beside the agencies and the directory.
HR of agency A grants a named machine client of agency B (its token's ``sub``) one read scope over
A's data until a day (``expires_on``, inclusive, in the agency's zone); it lists the grants its
agency gave and revokes them. A machine client lists the grants given to it (any read scope opens
the list), so it can see what it may read. Every change is audited and published as
``plans.grant.upserted`` (the whole grant; reviews keeps a copy). How a grant is used — the
``agency`` parameter of the reads — is :mod:`services.common.grants`."""

from __future__ import annotations

from datetime import date, datetime, timezone

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.auth import Principal, current_principal, forbid
from services.common.grants import active_grant, status
from services.common.http import PageArgs, page_schema, paginate
from services.common.scopes import accepts
from services.common.usecase import not_found, now, platform, record, today, validation

from .access import PREFIX, in_agency, machine_client
from .models import Agency, Grant

blp = Blueprint(
    "grants",
    __name__,
    url_prefix=f"{PREFIX}/grants",
    description="Grants across agencies: read scopes for another agency's clients",
)

#: the scopes a grant may carry: reads only (a client never writes another agency's data)
READ_SCOPES = ("directory:read", "plans:read", "results:read", "surveys:read")
WRITE_SCOPES = ("surveys:responses:write", "webhooks:manage")
MAX_YEARS = 2  # the furthest expiry: two years from today


class GrantIn(Schema):
    client_id = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "the machine client, as its token's sub (its client id at the identity provider)"},
    )
    client_agency = fields.String(
        required=True, validate=validate.Length(min=1, max=40), metadata={"description": "the client's agency code"}
    )
    scope = fields.String(
        required=True, validate=validate.Length(min=1, max=40), metadata={"description": " | ".join(READ_SCOPES)}
    )
    expires_on = fields.Date(
        required=True, metadata={"description": "the last day the grant is valid (inclusive); at most two years ahead"}
    )
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class GrantOut(GrantIn):
    id = fields.Integer()
    grantor_agency = fields.String()
    created_by = fields.String()
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    revoked_by = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "active | expired | revoked"})


class GrantQuery(PageArgs):
    pass


def grant_payload(gr: Grant) -> dict:
    """The whole grant, as ``plans.grant.upserted`` carries it."""
    return {
        "id": gr.id,
        "grantor_agency": gr.grantor_agency,
        "client_id": gr.client_id,
        "client_agency": gr.client_agency,
        "scope": gr.scope,
        "expires_on": gr.expires_on,
        "note": gr.note,
        "created_by": gr.created_by,
        "created_at": _utc(gr.created_at),
        "revoked_at": _utc(gr.revoked_at) if gr.revoked_at else None,
        "revoked_by": gr.revoked_by,
    }


def _utc(at: datetime) -> datetime:
    """An instant in UTC (SQLite hands stored instants back naive, in UTC)."""
    return at.astimezone(timezone.utc) if at.tzinfo else at.replace(tzinfo=timezone.utc)


def grant_out(gr: Grant, on: date) -> dict:
    return grant_payload(gr) | {"status": status(gr, on)}


def _years_ahead(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def create_grant(s: Session, p: Principal, data: dict) -> Grant:
    """422 field by field (nothing saved): a scope unknown or not a read scope, an expiry in the past
    or beyond two years, a client agency unknown or the grantor itself, an active grant alike."""
    if not (p.has("hr") and p.agency):  # an agency's HR grants over its own data (an admin has none)
        raise forbid()
    grantor = p.agency
    on = today()
    errors = []
    if data["scope"] in WRITE_SCOPES:
        errors.append(("scope", "grants.scope_write", {"scope": data["scope"]}))
    elif data["scope"] not in READ_SCOPES:
        errors.append(("scope", "grants.scope_unknown", {"scope": data["scope"], "allowed": ", ".join(READ_SCOPES)}))
    if data["expires_on"] < on:
        errors.append(("expires_on", "grants.expiry_past", {"today": on.isoformat()}))
    elif data["expires_on"] > _years_ahead(on, MAX_YEARS):
        errors.append(("expires_on", "grants.expiry_too_far", {"latest": _years_ahead(on, MAX_YEARS).isoformat()}))
    if data["client_agency"] == grantor:
        errors.append(("client_agency", "grants.agency_own", {"agency": grantor}))
    elif s.get(Agency, data["client_agency"]) is None:
        errors.append(("client_agency", "grants.agency_unknown", {"agency": data["client_agency"]}))
    if not errors:
        same = active_grant(
            s,
            Grant,
            grantor=grantor,
            client_id=data["client_id"],
            client_agency=data["client_agency"],
            scopes=[data["scope"]],
            on=on,
        )
        if same is not None:
            errors.append(("scope", "grants.duplicate", {"id": same.id, "expires_on": same.expires_on.isoformat()}))
    if errors:
        raise validation(errors)
    gr = Grant(grantor_agency=grantor, created_by=p.sub, created_at=now(), **data)
    s.add(gr)
    s.flush()
    payload = grant_payload(gr)
    record(
        s,
        p,
        "grant.created",
        "grant",
        gr.id,
        after={k: str(v) if v is not None else None for k, v in payload.items()},
        agency=grantor,
        subject=None,  # not a person: the audit API shows the row to HR of the agency
        event="plans.grant.upserted",
        data=payload,
    )
    return gr


def revoke_grant(s: Session, p: Principal, grant_id: int) -> Grant:
    """Revoke (HR of the grantor); a revoked grant stays revoked (idempotent: nothing recorded again)."""
    gr = s.get(Grant, grant_id)
    if gr is None or not in_agency(p, gr.grantor_agency):
        raise not_found("grant", grant_id)  # another agency's grant is not revealed
    if gr.revoked_at is None:
        gr.revoked_at, gr.revoked_by = now(), p.sub
        s.flush()
        record(
            s,
            p,
            "grant.revoked",
            "grant",
            gr.id,
            before={"revoked_at": None},
            after={"revoked_at": str(gr.revoked_at), "revoked_by": p.sub},
            agency=gr.grantor_agency,
            subject=None,
            event="plans.grant.upserted",
            data=grant_payload(gr),
        )
    return gr


def grant_query(p: Principal):
    """HR: the grants its agency gave (admin: all); a machine client: those given to it."""
    stmt = select(Grant)
    if p.is_admin:
        return stmt
    if p.has("hr") and p.agency:
        return stmt.where(Grant.grantor_agency == p.agency)
    if machine_client(p) and p.agency:
        return stmt.where(Grant.client_id == p.sub, Grant.client_agency == p.agency)
    raise forbid()


@blp.route("")
class Grants(MethodView):
    @accepts(*READ_SCOPES)  # a machine client sees the grants given to it with any read scope
    @blp.arguments(GrantQuery, location="query")
    @blp.response(200, page_schema(GrantOut))
    def get(self, args):
        """HR: the grants its agency gave (active, expired, revoked), oldest first; a machine client: the
        grants given to it by other agencies — what it may read with ``agency=``."""
        p = current_principal()
        with platform().uow() as s:
            page = paginate(s, grant_query(p), Grant.id, args.get("cursor"), args["limit"])
            on = today()
            return page | {"items": [grant_out(gr, on) for gr in page["items"]]}

    @blp.arguments(GrantIn)
    @blp.response(201, GrantOut)
    def post(self, data):
        """Grant a machine client of another agency one read scope over this agency's data until a day (HR)."""
        with platform().uow() as s:
            return grant_out(create_grant(s, current_principal(), data), today())


@blp.route("/<int:grant_id>/revoke")
class GrantRevoke(MethodView):
    @blp.response(200, GrantOut)
    def post(self, grant_id):
        """Revoke a grant (HR of the granting agency); revoking a revoked grant changes nothing."""
        with platform().uow() as s:
            return grant_out(revoke_grant(s, current_principal(), grant_id), today())
