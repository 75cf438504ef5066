"""SIASN by hand (issue 16, Deliver 4): when SIASN's web services are not configured (no tokens), HR
downloads the payloads the push would send as a file, uploads it to SIASN themself, and marks the
evaluations uploaded; the state per employee says which results SIASN has.

**File** (``GET /siasn/export``). The payloads are built by the push's own code
(:func:`siasn_export.prepare_push` → :func:`siasn.skp22_payload` / :func:`siasn.periodic_payload`,
with the deployment's ``SIASN_CODE_MAP``), for every countersigned evaluation of the kind not yet
sent or uploaded (``include_all``: every countersigned one), ordered by NIP, then period, then
evaluation id. JSON: an array of the exact payloads. CSV: one row per payload, one column per
payload field in the builders' order (``koefisienId`` and ``id`` only when a payload has them;
an empty cell = no value). Today every payload is flat; a nested value would make
the CSV a 422 ``siasn.csv_nested`` naming the field (use JSON) — a CSV cell is never a structure.
An evaluation whose payload cannot be built (a value without a code) or misses a field SIASN
requires answers 422 ``siasn.unmapped`` naming each evaluation and field, so HR fixes them first;
``skip_unmapped=true`` downloads the others (``Kinerja-Siasn-Skipped`` lists the left-out ids).
``Repr-Digest`` (RFC 9530) carries the file's SHA-256; the hex digest (``sha256sum``) marks the
file's evaluations uploaded.

**Uploaded** (``POST /siasn/uploaded``): the evaluations (``evaluation_ids``, or ``sha256`` of a
file exported from the current results) get a ``SiasnPush`` row ``uploaded`` with who, when, the
note and the payload; later exports and pushes leave them out. Every id must be a countersigned
evaluation of the cycle and kind not yet sent or uploaded — else 422 naming each, nothing saved.

**State** (``GET /siasn/status``): per countersigned evaluation, the latest record: ``not_sent``,
``sent``, ``failed`` (with SIASN's answer) or ``uploaded`` (by whom, the note)."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
from collections.abc import Mapping

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.common.auth import Principal, require_roles
from services.common.errors import FieldError, Problem
from services.common.http import PageArgs, UtcDateTime, decode_cursor, encode_cursor
from services.common.usecase import actor_of, now, record, today, validation

from .access import ANNUAL, PREFIX, agency_cycle, uow
from .models import Evaluation, SiasnPush
from .schemas import ID
from .siasn import PATHS, REQUIRED, SiasnConfig, missing_fields
from .siasn_export import PushItem, prepare_push

__all__ = ["blp", "export_file", "mark_uploaded", "siasn_state"]

KIND_NAMES = {"annual": "annual", "periodic": "periodic", "skp22": "annual", "kinerjaperiodik": "periodic"}
FILE_KIND = {"annual": "skp22", "periodic": "kinerjaperiodik"}
FORMATS = {"json": "application/json; charset=utf-8", "csv": "text/csv; charset=utf-8"}
STATES = ("not_sent", "sent", "failed", "uploaded")
EXPORT_CAP = 20000  # payloads in one file (an agency of thousands × twelve months)
MARK_CAP = 1000  # evaluation ids in one request


def siasn_config() -> SiasnConfig:
    """The deployment's SIASN settings: the client factory a test or deployment installed, else the
    environment (the same the push uses)."""
    factory = current_app.extensions.get("siasn_client")
    return factory().config if factory is not None else SiasnConfig.from_env()


# ------------------------------------------------------------------ the file


def _problems(kind: str, item: PushItem) -> list[FieldError]:
    """Why ``item`` cannot go into a file: a value without a code, or the required fields it leaves empty."""
    about = {"id": item.evaluation_id, "nip": item.employee_nip, "employee": item.employee_name or item.employee_nip}
    where = f"evaluations[{item.evaluation_id}]"
    if item.mapping is not None:
        key = "" if item.mapping.key is None else str(item.mapping.key)
        return [
            FieldError(
                f"{where}.{item.mapping.table}", "siasn.no_code", about | {"table": item.mapping.table, "key": key}
            )
        ]
    return [
        FieldError(f"{where}.{name}", "siasn.field_empty", about | {"field_name": name})
        for name in missing_fields(kind, item.payload or {})
    ]


def _select(s: Session, p: Principal, cycle_id: int, kind: str, include_all: bool, codes: Mapping):
    plan = prepare_push(s, p, cycle_id, kind, codes, include_done=include_all)
    if len(plan.items) > EXPORT_CAP:
        raise Problem(422, "list.too_long", what="payload", limit=EXPORT_CAP)
    items = sorted(plan.items, key=lambda i: (i.employee_nip, i.period_seq, i.evaluation_id))
    good, bad = [], []
    for item in items:
        errors = _problems(kind, item)
        (bad if errors else good).append((item, errors))
    return plan, [i for i, _ in good], bad


def render(kind: str, fmt: str, payloads: list[dict]) -> bytes:
    """The file's bytes. JSON: the payloads as an array. CSV: a header of the payloads' fields in
    the builders' order (the kind's required fields when there is no payload), a row per payload."""
    if fmt == "json":
        return (json.dumps(payloads, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    columns = list(dict.fromkeys(name for body in payloads for name in body)) or list(REQUIRED[kind])
    for body in payloads:
        for name, value in body.items():
            if isinstance(value, (dict, list)):
                raise validation([("format", "siasn.csv_nested", {"field_name": name})])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for body in payloads:
        writer.writerow(["" if body.get(c) is None else body[c] for c in columns])
    return out.getvalue().encode("utf-8")


def _filename(agency: str, cycle_id: int, kind: str, fmt: str, include_all: bool) -> str:
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", agency).strip("-") or "instansi"
    tail = "-semua" if include_all else ""
    return f"siasn-{FILE_KIND[kind]}-{safe}-siklus-{cycle_id}{tail}-{today().isoformat()}.{fmt}"


def export_file(
    s: Session, p: Principal, cycle_id: int, kind: str, fmt: str, include_all=False, skip_unmapped=False, codes=None
) -> dict:
    """The file of the cycle's ``kind`` payloads: ``{"content", "filename", "sha256", "count",
    "skipped"}``; a payload that cannot be built or misses a required field → 422 ``siasn.unmapped``
    naming every such evaluation and field (unless ``skip_unmapped``)."""
    codes = codes if codes is not None else siasn_config().codes
    plan, good, bad = _select(s, p, cycle_id, kind, include_all, codes)
    if bad and not skip_unmapped:
        raise Problem(
            422,
            "siasn.unmapped",
            errors=[e for _, errs in bad for e in errs],
            count=len(bad),
            evaluation_ids=[i.evaluation_id for i, _ in bad],
        )
    content = render(kind, fmt, [i.payload for i in good])
    return {
        "content": content,
        "filename": _filename(plan.agency_code, cycle_id, kind, fmt, include_all),
        "sha256": hashlib.sha256(content).hexdigest(),
        "count": len(good),
        "skipped": [i.evaluation_id for i, _ in bad],
    }


# ------------------------------------------------------------------ marked uploaded


def _by_file(s: Session, p: Principal, cycle_id: int, kind: str, sha256: str, codes) -> list[PushItem]:
    """The evaluations of the exported file whose SHA-256 is ``sha256`` (either format, with or
    without ``include_all``, the unmapped ones left out as ``skip_unmapped`` does)."""
    for include_all in (False, True):
        _, good, _ = _select(s, p, cycle_id, kind, include_all, codes)
        for fmt in FORMATS:
            try:
                content = render(kind, fmt, [i.payload for i in good])
            except Problem:
                continue
            if hashlib.sha256(content).hexdigest() == sha256.lower():
                return good
    raise validation([("sha256", "siasn.file_unknown")])


def _by_ids(s: Session, p: Principal, cycle_id: int, kind: str, ids: list[int], codes) -> list[PushItem]:
    plan = prepare_push(s, p, cycle_id, kind, codes, include_done=True)
    found = {i.evaluation_id: i for i in plan.items}
    wanted = list(dict.fromkeys(ids))
    others = {
        ev.id: ev
        for ev in s.scalars(select(Evaluation).where(Evaluation.id.in_([i for i in wanted if i not in found])))
        if ev.cycle_id == cycle_id  # another cycle's or agency's evaluation is simply unknown here
    }
    errors = []
    for n, eid in enumerate(ids):
        item, ev = found.get(eid), others.get(eid)
        if item is not None and item.done:
            errors.append(FieldError(f"evaluation_ids[{n}]", f"siasn.already_{item.done}", {"id": eid}))
        elif item is None and ev is None:
            errors.append(FieldError(f"evaluation_ids[{n}]", "siasn.evaluation_unknown", {"id": eid}))
        elif item is None and (ev.period_seq == ANNUAL) != (kind == "annual"):
            errors.append(FieldError(f"evaluation_ids[{n}]", "siasn.evaluation_kind", {"id": eid}))
        elif item is None:
            errors.append(FieldError(f"evaluation_ids[{n}]", "siasn.not_countersigned", {"id": eid}))
    if errors:
        raise validation(errors)
    return [found[eid] for eid in wanted]


def mark_uploaded(
    s: Session, p: Principal, cycle_id: int, kind: str, *, evaluation_ids=None, sha256=None, note=None, codes=None
) -> dict:
    """Record the evaluations as uploaded to SIASN by hand (one ``SiasnPush`` row ``uploaded`` each,
    with who, when, the note and the payload of the file) and audit it."""
    if (evaluation_ids is None) == (sha256 is None):
        raise validation([("evaluation_ids", "siasn.ids_or_file")])
    codes = codes if codes is not None else siasn_config().codes
    c = agency_cycle(s, p, cycle_id, ("hr",))
    if sha256 is not None:
        items = _by_file(s, p, cycle_id, kind, sha256, codes)
        already = [i.evaluation_id for i in items if i.done]
        items = [i for i in items if not i.done]
        if not items:
            raise validation([("sha256", "siasn.file_nothing_new")])
    else:
        items, already = _by_ids(s, p, cycle_id, kind, evaluation_ids, codes), []
    at, by = now(), actor_of(p)
    for item in items:
        s.add(
            SiasnPush(
                evaluation_id=item.evaluation_id,
                endpoint=PATHS[kind],
                payload=item.payload or {},
                status="uploaded",
                attempts=0,
                response_status=None,
                response_body=None,
                at=at,
                actor=by,
                note=note,
            )
        )
    s.flush()
    out = {
        "cycle_id": cycle_id,
        "kind": kind,
        "uploaded": len(items),
        "evaluation_ids": [i.evaluation_id for i in items],
        "already": already,
        "by": by,
        "at": at,
        "note": note,
    }
    after = {"kind": kind, "evaluation_ids": out["evaluation_ids"], "note": note, "sha256": sha256}
    record(s, p, "siasn.uploaded", "cycle", cycle_id, after=after, agency=c.agency_code)
    return out


# ------------------------------------------------------------------ state per employee


def siasn_state(s: Session, p: Principal, cycle_id: int, kind=None, state=None, nip=None, cursor=None, limit=50):
    """One page of the cycle's countersigned evaluations with what SIASN has of each (the latest
    record), by evaluation id; the counts per state of the whole selection; whether the push is
    configured (else the file is the way)."""
    agency_cycle(s, p, cycle_id, ("hr",))
    latest = (
        select(SiasnPush.evaluation_id, func.max(SiasnPush.id).label("push_id"))
        .group_by(SiasnPush.evaluation_id)
        .subquery()
    )
    stmt = (
        select(Evaluation, SiasnPush)
        .outerjoin(latest, latest.c.evaluation_id == Evaluation.id)
        .outerjoin(SiasnPush, SiasnPush.id == latest.c.push_id)
        .where(Evaluation.cycle_id == cycle_id, Evaluation.status == "countersigned")
    )
    if kind:
        stmt = stmt.where((Evaluation.period_seq == ANNUAL) if kind == "annual" else (Evaluation.period_seq != ANNUAL))
    if nip:
        stmt = stmt.where(Evaluation.employee_nip == nip)
    counts_stmt = stmt.with_only_columns(SiasnPush.status, func.count()).group_by(SiasnPush.status)
    counts = dict.fromkeys(STATES, 0)
    for status, n in s.execute(counts_stmt).all():
        counts[status or "not_sent"] = counts.get(status or "not_sent", 0) + n
    if state == "not_sent":
        stmt = stmt.where(latest.c.push_id.is_(None))
    elif state:
        stmt = stmt.where(SiasnPush.status == state)
    if cursor:
        after = decode_cursor(cursor)
        if not isinstance(after, int) or isinstance(after, bool):
            raise validation([("cursor", "pagination.cursor")])
        stmt = stmt.where(Evaluation.id > after)
    rows = s.execute(stmt.order_by(Evaluation.id).limit(limit + 1)).all()
    more = len(rows) > limit
    items = [_state_row(ev, push) for ev, push in rows[:limit]]
    config = siasn_config()
    configured = config.configured or current_app.extensions.get("siasn_client") is not None
    return {
        "items": items,
        "next_cursor": encode_cursor(items[-1]["evaluation_id"]) if more else None,
        "counts": counts,
        "configured": configured,
    }


def _state_row(ev: Evaluation, push: SiasnPush | None) -> dict:
    return {
        "evaluation_id": ev.id,
        "employee_nip": ev.employee_nip,
        "employee_name": ev.employee_name,
        "unit_name": ev.unit_name,
        "kind": "annual" if ev.period_seq == ANNUAL else "periodic",
        "period_seq": ev.period_seq,
        "period_name": ev.period_name,
        "state": push.status if push else "not_sent",
        "at": push.at if push else None,
        "attempts": push.attempts if push else 0,
        "response_status": push.response_status if push else None,
        "error": push.response_body if push and push.status == "failed" else None,
        "uploaded_by": push.actor if push and push.status == "uploaded" else None,
        "note": push.note if push else None,
    }


# ------------------------------------------------------------------ HTTP

blp = Blueprint(
    "siasn_file",
    __name__,
    url_prefix=f"{PREFIX}/siasn",
    description="SIASN by hand: the payloads as a file, marked uploaded; what SIASN has per employee",
)

KIND = validate.OneOf(tuple(KIND_NAMES))
KIND_DOC = {"description": "annual (= skp22, /skp22/save) or periodic (= kinerjaperiodik, /kinerjaperiodik/save)"}


class ExportQuery(Schema):
    cycle_id = fields.Integer(required=True, validate=ID)
    kind = fields.String(required=True, validate=KIND, metadata=KIND_DOC)
    format = fields.String(load_default="json", validate=validate.OneOf(tuple(FORMATS)))
    include_all = fields.Boolean(load_default=False, metadata={"description": "also those already sent or uploaded"})
    skip_unmapped = fields.Boolean(
        load_default=False, metadata={"description": "leave out (instead of 422) payloads that cannot be built"}
    )


class UploadedIn(Schema):
    cycle_id = fields.Integer(required=True, validate=ID)
    kind = fields.String(required=True, validate=KIND, metadata=KIND_DOC)
    evaluation_ids = fields.List(fields.Integer(validate=ID), validate=validate.Length(min=1, max=MARK_CAP))
    sha256 = fields.String(
        validate=validate.Regexp(r"^[0-9a-fA-F]{64}$"), metadata={"description": "hex SHA-256 of an exported file"}
    )
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class UploadedOut(Schema):
    cycle_id = fields.Integer()
    kind = fields.String()
    uploaded = fields.Integer()
    evaluation_ids = fields.List(fields.Integer())
    already = fields.List(fields.Integer(), metadata={"description": "in the file but sent or uploaded before"})
    by = fields.String()
    at = UtcDateTime()
    note = fields.String(allow_none=True)


class StateQuery(PageArgs):
    cycle_id = fields.Integer(required=True, validate=ID)
    kind = fields.String(validate=KIND, metadata=KIND_DOC)
    state = fields.String(validate=validate.OneOf(STATES))
    nip = fields.String(validate=validate.Regexp(r"^\d{18}$"))


class StateOut(Schema):
    evaluation_id = fields.Integer()
    employee_nip = fields.String()
    employee_name = fields.String()
    unit_name = fields.String(allow_none=True)
    kind = fields.String()
    period_seq = fields.Integer()
    period_name = fields.String(allow_none=True)
    state = fields.String(metadata={"description": "not_sent, sent, failed or uploaded"})
    at = UtcDateTime(allow_none=True)
    attempts = fields.Integer()
    response_status = fields.Integer(allow_none=True)
    error = fields.String(
        allow_none=True, metadata={"description": "SIASN's answer (or the mapping error) when failed"}
    )
    uploaded_by = fields.String(allow_none=True)
    note = fields.String(allow_none=True)


class StatePage(Schema):
    items = fields.List(fields.Nested(StateOut))
    next_cursor = fields.String(allow_none=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": "per state"})
    configured = fields.Boolean(metadata={"description": "SIASN's web services are configured (else: the file)"})


@blp.route("/export")
class Export(MethodView):
    @blp.arguments(ExportQuery, location="query")
    @blp.response(200, content_type="application/json")
    def get(self, args):
        """The payloads the push would send, as a file for a manual upload to SIASN (HR of the
        agency): JSON (an array of the payloads) or CSV (a row per payload); the countersigned
        evaluations not yet sent or uploaded (``include_all``: all)."""
        p = require_roles("hr")
        kind = KIND_NAMES[args["kind"]]
        with uow() as s:
            out = export_file(s, p, args["cycle_id"], kind, args["format"], args["include_all"], args["skip_unmapped"])
        digest = base64.b64encode(bytes.fromhex(out["sha256"])).decode()
        headers = {
            "Content-Disposition": f'attachment; filename="{out["filename"]}"',
            "Repr-Digest": f"sha-256=:{digest}:",
            "Kinerja-Siasn-Count": str(out["count"]),
            "Cache-Control": "private, no-store",
        }
        if out["skipped"]:
            headers["Kinerja-Siasn-Skipped"] = ",".join(map(str, out["skipped"]))
        return Response(out["content"], content_type=FORMATS[args["format"]], headers=headers)


@blp.route("/uploaded")
class Uploaded(MethodView):
    @blp.arguments(UploadedIn)
    @blp.response(200, UploadedOut)
    def post(self, data):
        """Mark evaluations uploaded to SIASN by hand (HR of the agency): ``evaluation_ids``, or the
        ``sha256`` of a file exported from the current results; with an optional note. Later exports
        and pushes leave them out."""
        p = require_roles("hr")
        kind = KIND_NAMES[data["kind"]]
        with uow() as s:
            return mark_uploaded(
                s,
                p,
                data["cycle_id"],
                kind,
                evaluation_ids=data.get("evaluation_ids"),
                sha256=data.get("sha256"),
                note=(data.get("note") or "").strip() or None,
            )


@blp.route("/status")
class Status(MethodView):
    @blp.arguments(StateQuery, location="query")
    @blp.response(200, StatePage)
    def get(self, args):
        """What SIASN has of each countersigned evaluation of the cycle (HR of the agency): the
        latest state — not sent, sent, failed (with SIASN's answer) or uploaded by hand — page by
        page, with the counts per state and whether the push is configured."""
        p = require_roles("hr")
        kind = KIND_NAMES.get(args.get("kind") or "")
        with uow() as s:
            return siasn_state(
                s, p, args["cycle_id"], kind, args.get("state"), args.get("nip"), args["cursor"], args["limit"]
            )
