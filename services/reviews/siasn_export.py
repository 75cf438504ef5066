"""The export of evaluation results to SIASN (DOMAIN.md §9); the payloads, codes and client are in
``siasn``.

**Push.** :func:`push_results` (HR of the agency) sends every countersigned evaluation of a
cycle of one kind that has not been sent successfully yet nor uploaded by hand (``siasn_file``),
and writes one ``SiasnPush`` row per evaluation: ``sent`` or ``failed`` with the attempts, the
HTTP status and body. The client retries connection errors and 5xx with exponential backoff; a
4xx is final. A 2xx whose JSON body says ``"success": false`` (SIASN reports some validation
errors that way) counts as failed.
The endpoint runs the HTTP calls outside any database transaction (see :func:`prepare_push`,
:func:`send_all`, :func:`record_push`) so a slow SIASN never holds the database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.auth import Principal, current_principal, require_roles
from services.common.errors import Problem
from services.common.http import PageArgs, UtcDateTime, decode_cursor, encode_cursor, page_schema
from services.common.usecase import now, record, validation

from .access import ANNUAL, PREFIX, agency_cycle, uow
from .models import Evaluation, SiasnPush
from .schemas import ID
from .siasn import (
    DEFAULT_CODES,
    KINDS,
    PATHS,
    SiasnClient,
    SiasnConfig,
    SiasnMappingError,
    SiasnResult,
    periodic_payload,
    skp22_payload,
)

__all__ = ["blp", "prepare_push", "push_results", "pushes", "record_push", "send_all"]

BODY_LIMIT = 4000  # characters of a response body kept on the push record
DONE = ("sent", "uploaded")  # an evaluation SIASN has: pushed successfully, or uploaded by hand (siasn_file)


# ------------------------------------------------------------------ use cases


@dataclass
class PushItem:
    evaluation_id: int
    employee_nip: str
    payload: dict | None
    error: str | None = None
    result: SiasnResult | None = None
    period_seq: int = ANNUAL
    employee_name: str | None = None
    mapping: SiasnMappingError | None = None  # why ``payload`` is None
    done: str | None = None  # "sent" or "uploaded" (only with ``include_done``)


@dataclass
class PushPlan:
    cycle_id: int
    agency_code: str
    kind: str
    endpoint: str
    items: list[PushItem]
    skipped: int


def prepare_push(
    s: Session,
    p: Principal,
    cycle_id: int,
    kind: str,
    codes: Mapping | None = None,
    person_extra: Callable[[Evaluation], Mapping] | None = None,
    include_done: bool = False,
) -> PushPlan:
    """What to send: every countersigned evaluation of ``kind`` in the cycle without a ``sent`` push
    or a manual upload (``uploaded``) — all of them with ``include_done`` — with its payload (or the
    mapping error that stops it). HR of the agency only."""
    if kind not in KINDS:
        raise validation([("kind", "siasn.kind")], kinds=", ".join(KINDS))
    c = agency_cycle(s, p, cycle_id, ("hr",))
    codes = codes or DEFAULT_CODES
    endpoint = PATHS[kind]
    stmt = select(Evaluation).where(Evaluation.cycle_id == cycle_id, Evaluation.status == "countersigned")
    stmt = (
        stmt.where(Evaluation.period_seq == ANNUAL) if kind == "annual" else stmt.where(Evaluation.period_seq != ANNUAL)
    )
    sent = dict(
        s.execute(
            select(SiasnPush.evaluation_id, SiasnPush.status)
            .join(Evaluation, Evaluation.id == SiasnPush.evaluation_id)
            .where(Evaluation.cycle_id == cycle_id, SiasnPush.status.in_(DONE), SiasnPush.endpoint == endpoint)
        ).all()
    )
    items, skipped = [], 0
    for ev in s.scalars(stmt.order_by(Evaluation.id)):
        if ev.id in sent and not include_done:
            skipped += 1
            continue
        about = {"period_seq": ev.period_seq, "employee_name": ev.employee_name, "done": sent.get(ev.id)}
        extra = dict(person_extra(ev) if person_extra else {})
        try:
            payload = (
                skp22_payload(ev, extra, year=c.year, codes=codes)
                if kind == "annual"
                else periodic_payload(ev, extra, cycle=c, codes=codes)
            )
            items.append(PushItem(ev.id, ev.employee_nip, payload, **about))
        except SiasnMappingError as exc:
            items.append(PushItem(ev.id, ev.employee_nip, None, error=f"mapping: {exc}", mapping=exc, **about))
    return PushPlan(cycle_id, c.agency_code, kind, endpoint, items, skipped)


def send_all(plan: PushPlan, client: SiasnClient) -> PushPlan:
    """The HTTP calls, one evaluation after the other (no database access)."""
    for item in plan.items:
        if item.payload is not None:
            item.result = client.send(plan.endpoint, item.payload)
    return plan


def record_push(s: Session, p: Principal, plan: PushPlan) -> dict:
    """One ``SiasnPush`` row per item, the audit row, and the counts."""
    counts = {"sent": 0, "failed": 0}
    failed_ids = []
    at = now()
    for item in plan.items:
        r = item.result
        ok = r is not None and r.ok
        counts["sent" if ok else "failed"] += 1
        if not ok:
            failed_ids.append(item.evaluation_id)
        s.add(
            SiasnPush(
                evaluation_id=item.evaluation_id,
                endpoint=plan.endpoint,
                payload=item.payload or {},
                status="sent" if ok else "failed",
                attempts=r.attempts if r else 0,
                response_status=r.status if r else None,
                response_body=(r.body if r else item.error or "")[:BODY_LIMIT],
                at=at,
            )
        )
    s.flush()
    out = {
        "cycle_id": plan.cycle_id,
        "kind": plan.kind,
        "endpoint": plan.endpoint,
        "sent": counts["sent"],
        "failed": counts["failed"],
        "skipped": plan.skipped,
        "total": len(plan.items) + plan.skipped,
        "failed_evaluation_ids": failed_ids,
    }
    record(
        s,
        p,
        "siasn.pushed",
        "cycle",
        plan.cycle_id,
        after={k: v for k, v in out.items() if k != "cycle_id"},
        agency=plan.agency_code,
    )
    return out


def push_results(
    s: Session,
    p: Principal,
    cycle_id: int,
    kind: str,
    client: SiasnClient,
    person_extra: Callable[[Evaluation], Mapping] | None = None,
) -> dict:
    """Push every countersigned ``kind`` evaluation of the cycle not yet sent (nor uploaded), in the
    caller's session: ``{"sent", "failed", "skipped", "total", "failed_evaluation_ids", ...}``."""
    plan = prepare_push(s, p, cycle_id, kind, client.config.codes, person_extra)
    return record_push(s, p, send_all(plan, client))


def pushes(
    s: Session, p: Principal, cycle_id: int, status: str | None = None, cursor: str | None = None, limit: int = 50
) -> dict:
    """One page of the cycle's push records, oldest first: a log that grows with every push and retry."""
    agency_cycle(s, p, cycle_id, ("hr",))
    stmt = (
        select(SiasnPush, Evaluation.employee_nip, Evaluation.period_seq, Evaluation.kind, Evaluation.employee_name)
        .join(Evaluation, Evaluation.id == SiasnPush.evaluation_id)
        .where(Evaluation.cycle_id == cycle_id)
    )
    if status:
        stmt = stmt.where(SiasnPush.status == status)
    if cursor:
        after = decode_cursor(cursor)
        if not isinstance(after, int) or isinstance(after, bool):
            raise validation([("cursor", "pagination.cursor")])
        stmt = stmt.where(SiasnPush.id > after)
    rows = s.execute(stmt.order_by(SiasnPush.id).limit(limit + 1)).all()
    more = len(rows) > limit
    items = [
        {
            "id": row.id,
            "evaluation_id": row.evaluation_id,
            "employee_nip": nip,
            "period_seq": seq,
            "kind": kind,
            "endpoint": row.endpoint,
            "status": row.status,
            "attempts": row.attempts,
            "response_status": row.response_status,
            "response_body": row.response_body,
            "payload": row.payload,
            "at": row.at,
            "actor": row.actor,
            "note": row.note,
            "employee_name": name,
        }
        for row, nip, seq, kind, name in rows[:limit]
    ]
    return {"items": items, "next_cursor": encode_cursor(items[-1]["id"]) if more else None}


# ------------------------------------------------------------------ HTTP

blp = Blueprint(
    "siasn", __name__, url_prefix=f"{PREFIX}/siasn", description="Export of countersigned results to SIASN (BKN)"
)


class PushIn(Schema):
    cycle_id = fields.Integer(required=True, validate=ID)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))


class PushOut(Schema):
    cycle_id = fields.Integer()
    kind = fields.String()
    endpoint = fields.String()
    sent = fields.Integer()
    failed = fields.Integer()
    skipped = fields.Integer()
    total = fields.Integer()
    failed_evaluation_ids = fields.List(fields.Integer())


class PushQuery(PageArgs):
    cycle_id = fields.Integer(required=True, validate=ID)
    status = fields.String(validate=validate.OneOf(("sent", "failed", "uploaded")))


class PushRecordOut(Schema):
    id = fields.Integer()
    evaluation_id = fields.Integer()
    employee_nip = fields.String()
    period_seq = fields.Integer()
    kind = fields.String()
    endpoint = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    response_status = fields.Integer(allow_none=True)
    response_body = fields.String(allow_none=True)
    payload = fields.Dict()
    at = UtcDateTime()
    actor = fields.String(allow_none=True, metadata={"description": "who marked it uploaded by hand"})
    note = fields.String(allow_none=True)
    employee_name = fields.String(allow_none=True)


def make_client() -> SiasnClient:
    """The client for this request: ``app.extensions["siasn_client"]`` when a test or a deployment
    put a factory there, else one configured from the environment."""
    factory = current_app.extensions.get("siasn_client")
    if factory is not None:
        return factory()
    config = SiasnConfig.from_env()
    if not config.configured:
        raise Problem(
            503,
            "siasn.not_configured",
            missing=[
                name
                for name, value in (
                    ("SIASN_URL", config.url),
                    ("SIASN_GATEWAY_TOKEN", config.gateway_token),
                    ("SIASN_SSO_TOKEN", config.sso_token),
                )
                if not value
            ],
        )
    return SiasnClient(config)


@blp.route("/push")
class Push(MethodView):
    @blp.arguments(PushIn)
    @blp.response(200, PushOut)
    def post(self, data):
        """Push the cycle's countersigned annual (``/skp22/save``) or periodic
        (``/kinerjaperiodik/save``) results not yet sent successfully nor marked uploaded by hand
        (HR of the agency). Each
        evaluation gets a push record, sent or failed; failed ones are retried on the next push."""
        p = require_roles("hr")
        client = make_client()
        with uow() as s:  # read and build, then release the database during the HTTP calls
            plan = prepare_push(s, p, data["cycle_id"], data["kind"], client.config.codes)
        send_all(plan, client)
        with uow() as s:
            return record_push(s, p, plan)


@blp.route("/pushes")
class Pushes(MethodView):
    @blp.arguments(PushQuery, location="query")
    @blp.response(200, page_schema(PushRecordOut))
    def get(self, args):
        """The cycle's push records, oldest first, page by page (HR of the agency)."""
        p = current_principal()
        with uow() as s:
            return pushes(s, p, args["cycle_id"], args.get("status"), args["cursor"], args["limit"])
