"""Evidence behind a realisation: upload (type checked against the file's first bytes), download
for the owner, HR, the penilai and the atasan penilai, and the penilai's review of a file. The
blueprint, its schemas and its use cases; an upload is recorded with ``plans.realisation.recorded``
(the evidence count changed), a review with ``plans.evidence.reviewed``."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.auth import Principal, current_principal
from services.common.errors import Problem
from services.common.usecase import not_found, now, platform, record, today, validation

from .access import PREFIX, acting_for, in_agency, refuse_machine_client, superior_lookup
from .cycles import guard_stage
from .models import Cycle, Evidence, Period, Plan, Realisation
from .progress import EvidenceOut, realisation_payload
from .skp import get_plan, require_owner
from .skp_approval import require_penilai

blp = Blueprint(
    "evidence", __name__, url_prefix=PREFIX, description="Evidence files behind a realisation, and their review"
)

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


class EvidenceUpload(Schema):
    file = fields.Raw(metadata={"type": "string", "format": "binary"}, required=True)


class EvidenceReviewIn(Schema):
    status = fields.String(required=True, validate=validate.OneOf(EVIDENCE_REVIEW_STATUSES))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


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
