"""Grants across agencies (issue 16), one check for every service that serves them. A grant is an
auth concept: agency A lets one machine client of agency B (its token's ``sub`` and ``agency``)
read A's data with one read scope, until a day (``expires_on``, inclusive, in the agency's zone),
unless revoked. The service that owns grants keeps them; a service that serves them keeps a copy.
Either passes its model (columns ``id``, ``grantor_agency``, ``client_id``, ``client_agency``,
``scope``, ``expires_on``, ``revoked_at``) to :func:`act_for`.

A client names the agency it reads with the query parameter ``agency`` (:func:`agency_arg`). When
it names another agency than its own, the request is served as if the client were of that agency
(``g.principal`` becomes a copy with ``agency`` = A: the operation's own filters apply) provided the
token holds a scope that opens the operation **and** an active grant for (A, the client, its agency,
that scope) exists today; otherwise 403 ``grant.missing`` naming the agency and the scopes, and
nothing of A. Each served request writes one audit row ``grant.used`` (entity the grant, agency A,
actor the client). Without ``agency`` (or naming its own) nothing changes. An admin reads every
agency already; a person's token is never served through a grant."""

from __future__ import annotations

import dataclasses
from datetime import date

from flask import current_app, g, request
from marshmallow import fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from .auth import Principal, current_principal
from .errors import Problem
from .scopes import declared, view_method
from .usecase import platform, today

AGENCY_DOC = {
    "description": "Read another agency's data (machine clients): the agency code whose data to read; served only "
    "with an active grant of that agency for this client and one of the operation's scopes, else 403 "
    "grant.missing. Left out: the client's own agency."
}


def agency_arg():
    """The query parameter ``agency`` of an operation that serves grants."""
    return fields.String(validate=validate.Length(min=1, max=40), metadata=AGENCY_DOC)


def status(grant, on: date) -> str:
    """``revoked``, ``expired`` (its last day is before ``on``) or ``active``."""
    if grant.revoked_at is not None:
        return "revoked"
    return "expired" if grant.expires_on < on else "active"


def active_grant(s: Session, model, *, grantor: str, client_id: str, client_agency: str, scopes, on: date):
    """The active grant of ``grantor`` to the client for one of ``scopes`` on the day ``on``, or None."""
    return s.scalar(
        select(model)
        .where(
            model.grantor_agency == grantor,
            model.client_id == client_id,
            model.client_agency == client_agency,
            model.scope.in_(list(scopes)),
            model.expires_on >= on,
            model.revoked_at.is_(None),
        )
        .order_by(model.expires_on.desc(), model.id)
        .limit(1)
    )


def act_for(s: Session, model, agency: str | None) -> Principal:
    """The principal the request is served as (see the module): the caller, or a machine client
    served as of ``agency`` through its grant (audited once per request); else 403 ``grant.missing``."""
    p = current_principal()
    if not agency or agency == p.agency or p.is_admin:
        return p
    wanted = declared(view_method(current_app, request.endpoint, request.method))
    held = sorted(sc for sc in wanted if sc in p.scopes) if p.is_machine and p.agency else []
    grant = None
    if held:
        grant = active_grant(s, model, grantor=agency, client_id=p.sub, client_agency=p.agency, scopes=held, on=today())
    if grant is None:
        named = held or list(wanted)
        raise Problem(403, "grant.missing", agency=agency, scopes=named, scope=" | ".join(named) or "-")
    if getattr(g, "_kinerja_grant_used", None) != grant.id:
        platform().audit(
            s,
            actor=p.sub,
            action="grant.used",
            entity_type="grant",
            entity_id=str(grant.id),
            agency=agency,
            subject=None,  # a person's rows only (the audit API shows them to that NIP)
            after={"scope": grant.scope, "client_agency": p.agency, "method": request.method, "path": request.path},
        )
        g._kinerja_grant_used = grant.id
    served = dataclasses.replace(p, agency=agency)
    g.principal = served
    return served
