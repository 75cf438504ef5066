"""Checking an evaluation PDF someone was handed against the stored, hash-chained versions
(DOMAIN.md §6): ``POST /evaluations/documents:verify`` with the PDF as a multipart ``file``.

What a recipient can trust: the footer's hash and the PDF's metadata can be copied into a forged
file, so neither proves anything on its own. They only say which stored version the file claims to
be (the keywords ``kinerja-evaluation=<id> version=<n> lang=<id|en> sha256=<hash>``); the verdict is
``authentic`` only when the uploaded bytes are exactly the service's own rendering of that stored
version (rendering is byte-stable: ``document_pdf.creation_date``), so every word, rating and
signature time in the file is what the append-only ``evaluation_documents`` holds under that hash,
and that hash covers the whole sign-off chain. A file that names a stored version but differs by one
byte is ``altered``; anything else is ``unknown``.

Who may verify: any signed-in person of the evaluation's agency (HR, the parties, and a colleague or
committee member who was handed the printout) and the platform admin. Whoever holds the PDF already
holds its content; the verdict adds only whether it is genuine and whether a later version (an
acknowledgement, a countersignature, a change after an objection) supersedes it. Another agency's
document is ``unknown`` to a caller (no hint that it exists), and machine clients are refused as for
every person's appraisal (``auth.person_data``)."""

from __future__ import annotations

import hashlib
import re

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.auth import Principal, current_principal
from services.common.errors import FieldError, Problem
from services.common.http import UtcDateTime
from services.common.usecase import platform

from .access import PREFIX, can_read, refuse_machine_client, uow
from .document_pdf import render_pdf
from .models import Evaluation, EvaluationDocument

blp = Blueprint(
    "document_verify",
    __name__,
    url_prefix=f"{PREFIX}/evaluations",
    description="Check an evaluation PDF against the stored versions of its document",
)
CLAIM = re.compile(rb"/Keywords \(kinerja-evaluation=(\d{1,12}) version=(\d{1,6}) lang=(id|en) sha256=([0-9a-f]{64})\)")
VERDICTS = ("authentic", "altered", "unknown")


class PdfUpload(Schema):
    file = fields.Raw(metadata={"type": "string", "format": "binary"}, required=True)


class Signatures(Schema):
    penilai = fields.String(allow_none=True)
    employee = fields.String(allow_none=True)
    atasan_penilai = fields.String(allow_none=True)


class VerifyOut(Schema):
    verdict = fields.String(metadata={"enum": list(VERDICTS)})
    matched = fields.Boolean()
    sha256 = fields.String(metadata={"description": "SHA-256 of the uploaded file"})
    evaluation_id = fields.Integer(allow_none=True)
    version = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True, metadata={"description": "the chain step that made this version"})
    content_hash = fields.String(allow_none=True)
    created_at = UtcDateTime(allow_none=True)
    lang = fields.String(allow_none=True)
    employee_nip = fields.String(allow_none=True)
    employee_name = fields.String(allow_none=True)
    period = fields.String(allow_none=True)
    signatures = fields.Nested(Signatures, allow_none=True)
    latest_version = fields.Integer(allow_none=True)
    latest_reason = fields.String(allow_none=True)
    is_latest = fields.Boolean(allow_none=True)


def may_verify(p: Principal, ev: Evaluation) -> bool:
    return p.is_admin or (p.agency is not None and p.agency == ev.agency_code) or can_read(p, ev)


def verify_pdf(s: Session, p: Principal, data: bytes) -> dict:
    """The verdict on ``data``: which stored version it is exactly, or why it is none."""
    refuse_machine_client(p)
    if not data.startswith(b"%PDF-"):
        raise Problem(422, "validation", errors=[FieldError("file", "document.not_pdf")])
    out: dict = {"verdict": "unknown", "matched": False, "sha256": hashlib.sha256(data).hexdigest()}
    claims = CLAIM.findall(data)
    if not claims:
        return out
    evaluation_id, version, lang, claimed_hash = claims[-1]
    ev = s.get(Evaluation, int(evaluation_id))
    if ev is None or not may_verify(p, ev):
        return out
    docs = list(
        s.scalars(
            select(EvaluationDocument)
            .where(EvaluationDocument.evaluation_id == ev.id)
            .order_by(EvaluationDocument.version)
        )
    )
    if not docs:
        return out
    latest = docs[-1]
    out |= {
        "verdict": "altered",
        "evaluation_id": ev.id,
        "employee_nip": ev.employee_nip,
        "employee_name": ev.employee_name,
        "period": ev.period_name,
        "latest_version": latest.version,
        "latest_reason": latest.reason,
    }
    doc = next((d for d in docs if d.version == int(version)), None)
    if doc is None or doc.content_hash != claimed_hash.decode():
        return out
    rendered = render_pdf(doc.content, doc.content_hash, doc.version, lang=lang.decode(), created_at=doc.created_at)
    if rendered != data:
        return out | {"version": doc.version}
    return out | {
        "verdict": "authentic",
        "matched": True,
        "version": doc.version,
        "reason": doc.reason,
        "content_hash": doc.content_hash,
        "created_at": doc.created_at,
        "lang": lang.decode(),
        "signatures": doc.content.get("signatures"),
        "is_latest": doc.version == latest.version,
    }


@blp.route("/documents:verify")
class VerifyDocument(MethodView):
    @blp.arguments(PdfUpload, location="files")
    @blp.response(200, VerifyOut)
    def post(self, files):
        """Is this PDF exactly one of the stored versions of an evaluation document? ``authentic`` (with
        the version, the chain step that made it, each signature's time, and whether a later version
        supersedes it), ``altered`` (it names a stored version but its bytes differ) or ``unknown``.
        Any signed-in person of the evaluation's agency may ask; not machine clients."""
        p = current_principal()
        limit = platform().config.max_upload_bytes
        data = files["file"].read(limit + 1)
        if len(data) > limit:
            raise Problem(413, "http.too_large", limit=limit)
        with uow() as s:
            return verify_pdf(s, p, data)
