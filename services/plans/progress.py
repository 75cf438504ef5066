"""Progress against an approved SKP: the realisation of each IKI per period (one at a time or a
period's whole form at once, all or none) and the evidence files behind it. The blueprint, its
schemas and its use cases; every change is recorded with ``plans.realisation.recorded``."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from services.common.auth import Principal, current_principal
from services.common.errors import Problem
from services.common.http import ObjectSchema, UtcDateTime, capped
from services.common.scopes import accepts
from services.common.usecase import by_id, load_by_id, not_found, now, platform, record, today, validation

from .access import PREFIX, acting_for, in_agency, refuse_machine_client, superior_lookup
from .cycles import guard_stage, period_of
from .models import Cycle, Evidence, Iki, Period, Plan, Realisation, Rhk
from .schemas import ID
from .skp import get_plan, require_owner
from .skp_approval import require_penilai

blp = Blueprint("progress", __name__, url_prefix=PREFIX, description="Realisation of IKI and its evidence")

#: items in one ``realisations:batch`` request (an SKP has a few dozen IKI; several periods at once fit)
REALISATION_BATCH_MAX = 100

# type → magic bytes the content must start with (so a renamed .exe is refused)
EVIDENCE_TYPES = {
    "application/pdf": (b"%PDF",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/webp": (b"RIFF",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (b"PK\x03\x04",),
    "text/plain": (),
    "text/csv": (),
}

#: what the penilai may say of a file (a new upload starts ``pending``)
EVIDENCE_REVIEW_STATUSES = ("accepted", "needs_replacement")

# ------------------------------------------------------------------ schemas


class RealisationIn(Schema):
    iki_id = fields.String(required=True)
    period_seq = fields.Integer(required=True, validate=validate.Range(min=1, max=12))
    value = fields.Float(load_default=None, allow_none=True, allow_nan=False)
    text = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    links = fields.List(fields.Url(schemes={"http", "https"}), load_default=list, validate=validate.Length(max=20))

    @validates_schema
    def _value_or_text(self, data, **kw):
        if data.get("value") is None and not data.get("text"):
            raise ValidationError("Give a numeric value or a text realisation.", "value")


class EvidenceOut(ObjectSchema):
    id = fields.Integer()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_at = UtcDateTime()
    review_status = fields.String(metadata={"description": "pending | accepted | needs_replacement"})
    review_note = fields.String(allow_none=True)
    reviewed_by = fields.String(allow_none=True)
    reviewed_at = UtcDateTime(allow_none=True)


class RealisationOut(ObjectSchema):
    id = fields.Integer()
    plan_id = fields.Integer()
    iki_id = fields.String()
    period_seq = fields.Integer()
    value = fields.Float(allow_none=True)
    text = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    links = fields.List(fields.String())
    source = fields.String()
    recorded_by = fields.String()
    recorded_at = UtcDateTime()
    evidence = fields.List(fields.Nested(EvidenceOut))
    version = fields.Integer()


class RealisationQuery(Schema):
    period_seq = fields.Integer(validate=ID)


class EvidenceUpload(Schema):
    file = fields.Raw(metadata={"type": "string", "format": "binary"}, required=True)


class EvidenceReviewIn(Schema):
    status = fields.String(required=True, validate=validate.OneOf(EVIDENCE_REVIEW_STATUSES))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


# ------------------------------------------------------------------ realisation


def _own_iki_and_realisations(
    s: Session, plan: Plan, wanted: set[str], period_ids: set[int]
) -> tuple[set[str], dict[tuple[str, int], Realisation]]:
    """Which of ``wanted`` are IKI of the plan, and their realisations (with evidence) already
    recorded for ``period_ids`` by (IKI, period): one statement — the IKI of the plan joined with
    their realisations of those periods."""
    rows = s.execute(
        _PLAN_IKI_REALISATIONS, {"plan": plan.id, "ids": sorted(wanted), "periods": sorted(period_ids)}
    ).unique()
    own, existing = set(), {}
    for iki_id, r in rows:
        own.add(iki_id)
        if r is not None:
            existing[(r.iki_id, r.period_id)] = r
    return own, existing


# built once (per process), run with their parameters
_CYCLE_WITH_PERIODS = by_id(Cycle, joinedload(Cycle.periods))
_PLAN_IKI_REALISATIONS = (
    select(Iki.id, Realisation)
    .join(Rhk, Iki.rhk_id == Rhk.id)
    .outerjoin(
        Realisation,
        (Realisation.iki_id == Iki.id) & Realisation.period_id.in_(bindparam("periods", expanding=True)),
    )
    .options(joinedload(Realisation.evidence))  # in the same statement
    .where(Rhk.plan_id == bindparam("plan"), Iki.id.in_(bindparam("ids", expanding=True)))
)


def realisation_out(r: Realisation, s: Session) -> Realisation:
    r.period_seq = s.scalar(select(Period.seq).where(Period.id == r.period_id))
    return r


def realisation_payload(plan: Plan, r: Realisation, seq: int) -> dict:
    """The ``plans.realisation.recorded`` payload of one realisation."""
    return {
        "realisation_id": r.id,
        "plan_id": plan.id,
        "cycle_id": plan.cycle_id,
        "employee_nip": plan.employee_nip,
        "iki_id": r.iki_id,
        "period_seq": seq,
        "value": r.value,
        "text": r.text,
        "evidence_count": len(r.evidence),
        "source": r.source,
    }


def _realisation_state(r: Realisation) -> dict:
    return {"value": r.value, "text": r.text, "note": r.note, "links": r.links}


def record_realisation(s: Session, p: Principal, plan: Plan, data: dict, *, source: str = "employee") -> Realisation:
    return record_realisations(s, p, plan, [data], source=source, batch=False)[0]


def record_realisations(
    s: Session,
    p: Principal,
    plan: Plan,
    items: list[dict],
    *,
    source: str = "employee",
    batch: bool = True,
    limit: int = 100,
) -> list[Realisation]:
    """Record (or correct) the realisation of several IKI at once — the period's form, all or none,
    at most ``limit``. In a batch errors name the item (``[3].iki_id``); one item is named plainly."""
    if not items:
        raise validation([("body", "realisation.batch_empty")])
    if len(items) > limit:
        raise validation([("body", "realisation.batch_too_large")], max=limit)
    if source == "employee":
        require_owner(p, plan)
    c = load_by_id(s, Cycle, plan.cycle_id, _CYCLE_WITH_PERIODS)  # one statement, not two
    guard_stage(c, "realisation.record")
    if plan.status not in ("approved", "revised"):
        raise Problem(409, "realisation.plan_not_approved", plan_status=plan.status)

    def name(i: int, field: str) -> str:
        return f"[{i}].{field}" if batch else field

    by_seq = {pr.seq: pr for pr in c.periods}
    # which IKI are the plan's and what is already recorded for them, in one statement
    own, existing = _own_iki_and_realisations(
        s, plan, {d["iki_id"] for d in items}, {by_seq[d["period_seq"]].id for d in items if d["period_seq"] in by_seq}
    )
    periods, seen = [], {}
    for n, data in enumerate(items):
        if data["iki_id"] not in own:
            raise validation([(name(n, "iki_id"), "iki.unknown")])
        period = period_of(c, data["period_seq"], name(n, "period_seq"))
        key = (data["iki_id"], period.id)
        if key in seen:
            raise validation([(name(n, "iki_id"), "realisation.repeated")], item=seen[key])
        seen[key] = n
        periods.append(period)
    recorded, befores = [], []
    for data, period in zip(items, periods):
        r = existing.get((data["iki_id"], period.id))
        if r is None:
            r = Realisation(
                plan_id=plan.id, iki_id=data["iki_id"], period_id=period.id, evidence=[]
            )  # none yet: no query
            s.add(r)
            befores.append(None)
        else:
            befores.append(_realisation_state(r))
        r.value, r.text, r.note, r.links = (
            data.get("value"),
            data.get("text"),
            data.get("note"),
            data.get("links") or [],
        )
        r.source, r.recorded_by, r.recorded_at = source, p.sub, now()
        r.period_seq = period.seq
        recorded.append(r)
    s.flush()
    for r, before in zip(recorded, befores):
        record(
            s,
            p,
            "realisation.recorded",
            "realisation",
            r.id,
            before=before,
            after=_realisation_state(r),
            agency=plan.agency_code,
            subject=plan.employee_nip,
            event="plans.realisation.recorded",
            data=realisation_payload(plan, r, r.period_seq),
        )
    return recorded


def list_realisations(s: Session, plan: Plan, period_seq: int | None) -> list[Realisation]:
    stmt = select(Realisation).where(Realisation.plan_id == plan.id)
    if period_seq is not None:
        stmt = stmt.join(Period, Realisation.period_id == Period.id).where(Period.seq == period_seq)
    return [realisation_out(r, s) for r in capped(s, stmt.order_by(Realisation.id), "realisations")]


# ------------------------------------------------------------------ evidence


def _check_content(content_type: str, content: bytes) -> str:
    """The normalised media type, once the size, the type and the content's first bytes agree."""
    limit = platform().config.max_upload_bytes
    if len(content) > limit:
        raise Problem(413, "evidence.too_large", limit=limit, size=len(content))
    if not content:
        raise validation([("file", "evidence.empty")])
    content_type = (content_type or "").split(";")[0].strip().lower()
    if content_type not in EVIDENCE_TYPES:
        raise Problem(415, "evidence.type", content_type=content_type or "-", allowed=", ".join(EVIDENCE_TYPES))
    magic = EVIDENCE_TYPES[content_type]
    mismatch = Problem(415, "evidence.content_mismatch", content_type=content_type, allowed=", ".join(EVIDENCE_TYPES))
    if magic and not any(content.startswith(m) for m in magic):
        raise mismatch
    if not magic:
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            raise mismatch from None
    return content_type


def add_evidence(
    s: Session, p: Principal, plan: Plan, r: Realisation, filename: str, content_type: str, content: bytes
) -> Evidence:
    require_owner(p, plan)
    guard_stage(s.get(Cycle, plan.cycle_id), "realisation.record")
    content_type = _check_content(content_type, content)
    ev = Evidence(
        realisation_id=r.id,
        filename=(filename or "bukti")[:255],
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        uploaded_by=p.sub,
        uploaded_at=now(),
    )
    s.add(ev)
    s.flush()
    s.refresh(r)
    seq = s.scalar(select(Period.seq).where(Period.id == r.period_id))
    record(
        s,
        p,
        "evidence.uploaded",
        "evidence",
        ev.id,
        after={"realisation_id": r.id, "filename": ev.filename, "size": ev.size, "sha256": ev.sha256},
        agency=plan.agency_code,
        subject=plan.employee_nip,
        event="plans.realisation.recorded",  # the realisation's evidence count changed
        data=realisation_payload(plan, r, seq),
        event_subject=r.id,
    )
    return ev


def may_open_evidence(s: Session, p: Principal, plan: Plan) -> bool:
    """An evidence file opens for its owner, HR of the agency (and admin), the penilai and the atasan
    penilai — each as today's directory has them, or their acting official (Plt/Plh). The atasan
    penilai is included because they countersign the evaluation and decide an objection, which
    weighs the realisation "based on evidence" (PP 30/2019 Pasal 59); officials higher up the line
    see the plan and its realisations but not the files (the issue: owner, penilai and HR)."""
    if p.nip == plan.employee_nip or in_agency(p, plan.agency_code):
        return True
    if not p.nip:
        return False
    stand_in_for = acting_for(s, p.nip, today())
    superior_of = superior_lookup(s)
    penilai = superior_of(plan.employee_nip)
    atasan = superior_of(penilai) if penilai else None
    return any(n and (n == p.nip or n in stand_in_for) for n in (penilai, atasan))


def _evidence_and_plan(s: Session, p: Principal, evidence_id: int) -> tuple[Evidence, Plan]:
    """The file and its plan, 404 for whoever may not read the plan (nothing said of its existence)."""
    refuse_machine_client(p)
    ev = s.get(Evidence, evidence_id)
    if ev is None:
        raise not_found("evidence", evidence_id)
    r = s.get(Realisation, ev.realisation_id)
    return ev, get_plan(s, p, r.plan_id)


def get_evidence(s: Session, p: Principal, evidence_id: int) -> tuple[Evidence, bytes]:
    ev, plan = _evidence_and_plan(s, p, evidence_id)
    if not may_open_evidence(s, p, plan):
        raise Problem(403, "evidence.only_reader")
    content = s.scalar(select(Evidence.content).where(Evidence.id == evidence_id))
    return ev, content


def _review_state(ev: Evidence) -> dict:
    return {"status": ev.review_status, "note": ev.review_note}


def review_evidence(s: Session, p: Principal, evidence_id: int, data: dict) -> Evidence:
    """The penilai (or their Plt/Plh) accepts a file or asks for another — then a note saying what
    to send is required. Audited; ``plans.evidence.reviewed`` tells the employee."""
    ev, plan = _evidence_and_plan(s, p, evidence_id)
    require_penilai(s, p, plan)
    note = (data.get("note") or "").strip() or None
    if data["status"] == "needs_replacement" and not note:
        raise validation([("note", "evidence.note_required")])
    before = _review_state(ev)
    ev.review_status, ev.review_note = data["status"], note
    ev.reviewed_by, ev.reviewed_at = p.sub, now()
    s.flush()
    r = s.get(Realisation, ev.realisation_id)
    record(
        s,
        p,
        "evidence.reviewed",
        "evidence",
        ev.id,
        before=before,
        after=_review_state(ev),
        agency=plan.agency_code,
        subject=plan.employee_nip,
        event="plans.evidence.reviewed",
        data={
            "evidence_id": ev.id,
            "realisation_id": r.id,
            "plan_id": plan.id,
            "cycle_id": plan.cycle_id,
            "agency_code": plan.agency_code,
            "employee_nip": plan.employee_nip,
            "penilai_nip": p.nip,
            "iki_id": r.iki_id,
            "period_seq": s.scalar(select(Period.seq).where(Period.id == r.period_id)),
            "filename": ev.filename,
            "status": ev.review_status,
            "note": ev.review_note,
        },
    )
    return ev


# ------------------------------------------------------------------ views


@blp.route("/plans/<int:plan_id>/realisations")
class Realisations(MethodView):
    @accepts("plans:read")
    @blp.arguments(RealisationQuery, location="query")
    @blp.response(200, RealisationOut(many=True))
    def get(self, args, plan_id):
        with platform().uow() as s:
            plan = get_plan(s, current_principal(), plan_id)
            return list_realisations(s, plan, args.get("period_seq"))

    @blp.arguments(RealisationIn())  # one instance, not one per request
    @blp.response(201, RealisationOut)
    def post(self, data, plan_id):
        """Record (or correct) the realisation of one IKI for one period."""
        p = current_principal()
        with platform().uow() as s:
            return record_realisation(s, p, get_plan(s, p, plan_id, content=False), data)


@blp.route("/plans/<int:plan_id>/realisations:batch")
class RealisationsBatch(MethodView):
    @blp.arguments(RealisationIn(many=True))
    @blp.response(201, RealisationOut(many=True))
    def post(self, items, plan_id):
        """Record (or correct) several IKI at once — a period's whole form: all or none, errors
        name the item (``[3].value``); at most 100 items."""
        p = current_principal()
        with platform().uow() as s:
            plan = get_plan(s, p, plan_id, content=False)
            return record_realisations(s, p, plan, items, limit=REALISATION_BATCH_MAX)


@blp.route("/plans/<int:plan_id>/realisations/<int:realisation_id>/evidence")
class EvidenceUploadView(MethodView):
    @blp.arguments(EvidenceUpload, location="files")
    @blp.response(201, EvidenceOut)
    def post(self, files, plan_id, realisation_id):
        """Upload an evidence file (PDF, PNG, JPEG, WebP, DOCX, XLSX, TXT, CSV; size-limited)."""
        p = current_principal()
        f = files["file"]
        content = f.read(platform().config.max_upload_bytes + 1)
        with platform().uow() as s:
            plan = get_plan(s, p, plan_id)
            r = s.get(Realisation, realisation_id)
            if r is None or r.plan_id != plan.id:
                raise not_found("realisation", realisation_id)
            return add_evidence(s, p, plan, r, f.filename, f.mimetype, content)


@blp.route("/evidence/<int:evidence_id>")
class EvidenceDownload(MethodView):
    @blp.response(200)
    def get(self, evidence_id):
        with platform().uow() as s:
            ev, content = get_evidence(s, current_principal(), evidence_id)
        # header values must be latin-1 and may not break out of the quotes: an ASCII fallback name
        # plus the exact one in RFC 5987 form (a name like “laporan”.pdf broke the response)
        fallback = "".join(c for c in ev.filename if " " <= c <= "~" and c not in '"\\') or "bukti"
        return Response(
            content,
            mimetype=ev.content_type,
            headers={
                "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(ev.filename)}",
                "X-Content-Type-Options": "nosniff",
            },
        )


@blp.route("/evidence/<int:evidence_id>/review")
class EvidenceReview(MethodView):
    @blp.arguments(EvidenceReviewIn)
    @blp.response(200, EvidenceOut)
    def post(self, data, evidence_id):
        """Accept an evidence file or ask for another (``needs_replacement``, a note required): the
        penilai or their acting official; the employee is notified."""
        p = current_principal()
        with platform().uow() as s:
            return review_evidence(s, p, evidence_id, data)
