"""The read model of recipients: people, units and acting officials (Plt/Plh) copied from the plans
directory's events (``plans.unit.upserted``, ``plans.employee.upserted``,
``plans.acting.upserted``) under the one stale rule of ``services/common/readmodel.py`` — an older
event arriving late changes nothing — and rebuilt from the plans API on HR's request."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy.orm import Session

from services.common.auth import require_roles
from services.common.bus import Reject
from services.common.http import remote_fetcher, walk_pages
from services.common.i18n import LANGUAGES
from services.common.readmodel import complete_reply, source_url, upsert_if_newer
from services.common.usecase import now, settings

from . import recording
from .models import ActingRef, Person, UnitRef
from .recipients import DIRECTORY_MEMO, forget_people
from .shared import PREFIX, uow

blp = Blueprint(
    "read_model", __name__, url_prefix=PREFIX, description="HR: the recipients copied from the plans directory"
)


class RebuildOut(Schema):
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())


# ------------------------------------------------------------------ consumers


def unit_upserted(s: Session, envelope: dict, as_of: datetime | None = None) -> dict:
    """``plans.unit.upserted``: the unit's copy, then whatever the rules and subscriptions ask for."""
    rm_unit(s, envelope.get("data") or {}, as_of)
    s.flush()
    return recording.handle_event(s, envelope)


def employee_upserted(s: Session, envelope: dict, as_of: datetime | None = None) -> dict:
    """``plans.employee.upserted``: the person's copy, then whatever the rules and subscriptions ask for."""
    rm_employee(s, envelope.get("data") or {}, as_of)
    s.flush()
    return recording.handle_event(s, envelope)


def acting_upserted(s: Session, envelope: dict, as_of: datetime | None = None) -> dict:
    """``plans.acting.upserted``: the appointment's copy (whoever stands in for a penilai or atasan
    hears what is addressed to them), then the rules (the acting official is told of the appointment)."""
    rm_acting(s, envelope.get("data") or {}, as_of)
    s.flush()
    return recording.handle_event(s, envelope)


# ------------------------------------------------------------------ use cases


def rm_unit(s: Session, d: dict, as_of: datetime | None = None) -> None:
    if not isinstance(d.get("id"), int) or not d.get("agency_code") or not d.get("code"):
        raise Reject("plans.unit.upserted needs id, agency_code and code")
    values = {"agency_code": d["agency_code"], "code": d["code"], "name": d.get("name") or d["code"]}
    values |= {"parent_code": d.get("parent_code"), "head_nip": d.get("head_nip")}
    upsert_if_newer(s, UnitRef, {"id": d["id"]}, as_of, values)
    s.info.pop(DIRECTORY_MEMO, None)  # the next event of the batch reads the unit afresh


def _text(d: dict, key: str) -> str | None:
    return d.get(key) if isinstance(d.get(key), str) else None


def rm_employee(s: Session, d: dict, as_of: datetime | None = None) -> None:
    nip, agency = d.get("nip"), d.get("agency_code")
    if not isinstance(nip, str) or not nip or len(nip) > 18 or not isinstance(agency, str) or not agency:
        raise Reject("plans.employee.upserted needs nip and agency_code")
    email = d.get("email")
    values = {
        "agency_code": agency,
        "name": str(d.get("name") or nip)[:200],
        "email": (email or None) if isinstance(email, (str, type(None))) else None,
        "phone": _text(d, "phone"),
        "position": _text(d, "position"),
        "unit_code": _text(d, "unit_code"),
        "unit_name": _text(d, "unit_name"),
        "superior_nip": _text(d, "superior_nip"),
        "language": d.get("language") if d.get("language") in LANGUAGES else "id",
        "active": d.get("active") is not False,
        "updated_at": now(),
    }
    upsert_if_newer(s, Person, {"nip": nip}, as_of, values)
    forget_people(s)  # the next event of the batch reads the person afresh


def _date(d: dict, key: str) -> date | None:
    try:
        return date.fromisoformat(d[key]) if isinstance(d.get(key), str) else None
    except ValueError:
        return None


def rm_acting(s: Session, d: dict, as_of: datetime | None = None) -> None:
    """An acting appointment, created or ended early (its end date moved)."""
    nips = [d.get(k) for k in ("acting_nip", "for_nip")]
    start, end = _date(d, "start_date"), _date(d, "end_date")
    if (
        not isinstance(d.get("id"), int)
        or not isinstance(d.get("agency_code"), str)
        or not d["agency_code"]
        or not all(isinstance(n, str) and 0 < len(n) <= 18 for n in nips)
        or d.get("kind") not in ("plt", "plh")
        or start is None
        or end is None
        or end < start
    ):
        raise Reject("plans.acting.upserted needs id, agency_code, acting_nip, for_nip, kind and its dates")
    values = {"agency_code": d["agency_code"], "acting_nip": nips[0], "for_nip": nips[1], "kind": d["kind"]}
    upsert_if_newer(s, ActingRef, {"id": d["id"]}, as_of, values | {"start_date": start, "end_date": end})
    s.info.pop(DIRECTORY_MEMO, None)  # the next event of the batch sees the appointment


def rebuild_read_model(s: Session, fetch) -> dict:
    """Replay the recipients from the plans API. ``fetch(path) -> json`` calls plans with a token
    that sees the agency (HR)."""
    snapshot = now()  # the API's answer is newer than any event sent before it
    counts = Counter()
    for u in walk_pages(fetch, "/plans/api/v1/units"):
        rm_unit(s, u, snapshot)
        counts["units"] += 1
    for e in walk_pages(fetch, "/plans/api/v1/employees"):
        rm_employee(s, e, snapshot)
        counts["people"] += 1
    for a in walk_pages(fetch, "/plans/api/v1/acting"):
        rm_acting(s, a, snapshot)
        counts["acting"] += 1
    return dict(counts)


def plans_base_url() -> str:
    """Where the rebuild reads the plans API (``services.common.readmodel.source_url``)."""
    return source_url(settings().plans_url, "PLANS_URL", "readmodel.plans_url_missing")


# ------------------------------------------------------------------ views


@blp.route("/read-model/rebuild")
class Rebuild(MethodView):
    @blp.response(200, RebuildOut)
    def post(self):
        """Rebuild the recipients (people, units, acting officials) from the plans API with the caller's token (HR)."""
        require_roles("hr")
        fetch = remote_fetcher(
            plans_base_url(), request.headers.get("Authorization", ""), "readmodel.plans_unreachable"
        )
        with uow() as s, complete_reply(fetch):  # a reply lacking a field: 502, nothing changed
            return {"counts": rebuild_read_model(s, fetch)}
