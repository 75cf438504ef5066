"""What surveys knows of the agencies' directory: the units, copied from the plans service's
``plans.unit.upserted`` (registered in ``events.CONSUMES``) and rebuilt from its API on request
(``POST /read-model/rebuild``: a surveys deployment that started after the directory was imported,
or a queue that was purged). A campaign surveys one service unit, so creating one checks its unit
against this copy instead of calling plans: the public form and the index keep working while plans
is down."""

from __future__ import annotations

from datetime import datetime

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.auth import current_principal, require_roles
from services.common.http import remote_fetcher, walk_pages
from services.common.readmodel import complete_reply, source_url, upsert_if_newer
from services.common.usecase import now, record, settings

from .access import PREFIX, uow
from .models import UnitRef

blp = Blueprint(
    "directory",
    __name__,
    url_prefix=PREFIX,
    description="The units of the plans directory (read model), and its rebuild",
)


def rm_unit(s: Session, d: dict, as_of: datetime | None = None) -> None:
    """``plans.unit.upserted``: the unit's copy (an older event arriving late changes nothing)."""
    values = {"agency_code": d["agency_code"], "code": d["code"], "name": d["name"]}
    upsert_if_newer(s, UnitRef, {"id": d["id"]}, as_of, values)


def find_unit(s: Session, agency_code: str, code: str) -> UnitRef | None:
    """The agency's unit ``code``, or None when the directory has no such unit."""
    return s.scalar(select(UnitRef).where(UnitRef.agency_code == agency_code, UnitRef.code == code))


def rebuild_units(s: Session, fetch) -> int:
    """Replay the units from the plans API (``fetch(path) -> json`` with the caller's token: the
    units their agency holds). The API's answer is newer than any event sent before it."""
    snapshot = now()
    count = 0
    for u in walk_pages(fetch, "/plans/api/v1/units"):
        rm_unit(s, u, snapshot)
        count += 1
    return count


class RebuildOut(Schema):
    counts = fields.Dict(metadata={"description": "units read from the plans API"})


@blp.route("/read-model/rebuild")
class Rebuild(MethodView):
    @blp.response(200, RebuildOut)
    def post(self):
        """Rebuild the units read model from the plans API (``PLANS_URL``) with the caller's token
        (HR of the agency): the units campaigns are checked against."""
        require_roles("hr")
        base = source_url(settings().plans_url, "PLANS_URL", "readmodel.plans_url_missing")
        fetch = remote_fetcher(base, request.headers.get("Authorization", ""), "readmodel.plans_unreachable")
        p = current_principal()
        with uow() as s, complete_reply(fetch):  # a reply lacking a field: 502, nothing changed
            units = rebuild_units(s, fetch)
            record(s, p, "readmodel.rebuilt", "read_model", "units", agency=p.agency, after={"units": units})
            return {"counts": {"units": units}}
