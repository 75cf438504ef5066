"""The evaluation document (DOMAIN.md §6): what it shows, gathered from the evaluation, its SKP,
the realisations and the distribution pattern; each version stored with the SHA-256 hash of its
content — signed, acknowledged, countersigned, changed by an objection's decision — appended and
linked to the one before by ``previous_hash``, which is also part of the hashed content; the versions
and the PDF (``document_pdf.render_pdf``, the same bytes on every download of a version) served to
the parties. ``document_verify`` checks a PDF against them."""

from __future__ import annotations

from datetime import timezone

from flask import Response, g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.auth import current_principal
from services.common.http import UtcDateTime, capped
from services.common.usecase import now, platform

from . import domain
from .access import ANNUAL, PREFIX, get_evaluation, uow
from .document_pdf import render_pdf
from .evaluations import latest_realisations
from .models import CycleRef, Evaluation, EvaluationDocument, FeedbackRef, PlanRef
from .orgresults import org_result_of, rules_for

blp = Blueprint(
    "documents",
    __name__,
    url_prefix=f"{PREFIX}/evaluations",
    description="The evaluation document: its signed versions and its PDF",
)


class DocumentOut(Schema):
    version = fields.Integer()
    content_hash = fields.String()
    previous_hash = fields.String(allow_none=True)
    reason = fields.String()
    created_at = UtcDateTime()
    content = fields.Dict()


# ------------------------------------------------------------------ gather


#: ``org_result`` not given: the document reads the unit's organisation result itself
UNREAD = object()


def document_content(s: Session, ev: Evaluation, org_result=UNREAD) -> dict:
    """What the evaluation document shows (DOMAIN.md §6); its hash freezes the signed version.
    ``org_result``: the unit's organisation result when the caller has just read it (a signature
    checks the unit's curve first), else read here."""
    plan = s.get(PlanRef, ev.plan_id)
    real = {
        iki: {"value": r.value, "text": r.text, "evidence_count": r.evidence_count, "period_seq": r.period_seq}
        for iki, r in latest_realisations(s, ev).items()
    }
    view = calibration_for_document(s, ev, org_result)
    return {
        "evaluation_id": ev.id,
        "cycle_id": ev.cycle_id,
        "kind": ev.kind,
        "period": ev.period_name,
        "employee": {
            "nip": ev.employee_nip,
            "name": ev.employee_name,
            "position": ev.position,
            "grade": ev.grade,
            "unit": ev.unit_name,
        },
        "penilai": {
            "nip": ev.penilai_nip,
            "name": ev.penilai_name,
            "position": ev.penilai_position,
            "grade": ev.penilai_grade,
            "unit": ev.penilai_unit_name,
        },
        "atasan_penilai": {"nip": ev.atasan_nip, "name": ev.atasan_name},
        "org_result": ev.org_result,
        "distribution": view,
        "rhk": [
            {
                "id": r["id"],
                "kind": r["kind"],
                "description": r["description"],
                "iki": [
                    {
                        "id": i["id"],
                        "aspect": i["aspect"],
                        "indicator": i["indicator"],
                        "target": _target(i),
                        "realisation": real.get(i["id"]),
                        "feedback": (ev.iki_feedback or {}).get(i["id"]),
                    }
                    for i in r["iki"]
                ],
            }
            for r in plan.content["rhk"]
        ],
        "behaviour": [
            {"value": v, "expectation": plan.content["behaviour"].get(v), "feedback": (ev.value_feedback or {}).get(v)}
            for v in domain.BERAKHLAK
        ],
        "rating_hasil": ev.rating_hasil,
        "rating_perilaku": ev.rating_perilaku,
        "predikat": ev.predikat,
        "suggested_hasil": ev.suggested_hasil,
        "deviation_reason": ev.deviation_reason,
        "suggested_perilaku": ev.suggested_perilaku,
        "perilaku_deviation_reason": ev.perilaku_deviation_reason,
        "notes": ev.notes,
        "recommendations": ev.recommendations,
        "continuous": continuous_feedback(s, ev, plan),
        "signatures": signatures_of(ev),
    } | acting_of(ev)


def continuous_feedback(s: Session, ev: Evaluation, plan: PlanRef) -> list[dict]:
    """The continuous feedback and coaching records (bimbingan kinerja) written on the SKP, in the
    order given: for a period, those recorded for it (or, without a period, given within its dates);
    for the annual evaluation, the whole year's."""
    rows = list(s.scalars(select(FeedbackRef).where(FeedbackRef.plan_id == ev.plan_id).order_by(FeedbackRef.id)))
    days = {f.id: platform().local_date(f.given_at).isoformat() if f.given_at else None for f in rows}
    if ev.period_seq != ANNUAL:
        c = s.get(CycleRef, ev.cycle_id)
        span = next((p for p in (c.periods if c else None) or [] if p["seq"] == ev.period_seq), None)

        def within(day):
            return bool(span and day and str(span["start"]) <= day <= str(span["end"]))

        rows = [f for f in rows if f.period_seq == ev.period_seq or (f.period_seq is None and within(days[f.id]))]
    rhk = {r["id"]: r["description"] for r in plan.content["rhk"]}
    return [
        {
            "date": days[f.id],
            "kind": f.kind or "feedback",
            "rhk": rhk.get(f.rhk_id, f.rhk_id) if f.rhk_id else None,
            "value": f.value_code,
            "text": f.text,
        }
        for f in rows
    ]


def _iso(d):
    """A time as ISO 8601 in UTC, however the database gave it back (SQLite: naive UTC), so a step's
    time reads the same in every version that carries it."""
    if not d:
        return None
    return (d if d.tzinfo else d.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).isoformat()


def _target(i: dict) -> str:
    if i.get("target_value") is not None:
        v = i["target_value"]
        return f"{int(v) if float(v).is_integer() else v} {i.get('target_unit') or ''}".strip()
    return i.get("target_text") or ""


def calibration_for_document(s: Session, ev: Evaluation, org_result=UNREAD) -> dict | None:
    org = org_result_of(s, ev) if org_result is UNREAD else org_result
    if org is None:
        return None
    c = s.get(CycleRef, ev.cycle_id)
    return {
        "org_result": org,
        "rules": [domain.rule_to_dict(r) for r in rules_for(s, c.agency_code) if r.org_result == org],
    }


def latest_document(s: Session, ev: Evaluation) -> EvaluationDocument | None:
    return s.scalar(
        select(EvaluationDocument)
        .where(EvaluationDocument.evaluation_id == ev.id)
        .order_by(EvaluationDocument.version.desc())
        .limit(1)
    )


def signatures_of(ev: Evaluation) -> dict:
    """Each step of the sign-off chain with its time: what every version's hash covers."""
    return {
        "penilai": _iso(ev.signed_at),
        "employee": _iso(ev.acknowledged_at),
        "atasan_penilai": _iso(ev.countersigned_at),
    }


def acting_of(ev: Evaluation) -> dict:
    """``{"acting": {"penilai": …, "atasan_penilai": …}}`` when a Plt/Plh signed or countersigned in
    the official's place (who, as what, for whom), else nothing: the document names them as such."""
    if not (ev.signed_acting or ev.countersigned_acting):
        return {}
    return {"acting": {"penilai": ev.signed_acting, "atasan_penilai": ev.countersigned_acting}}


def store_document(
    s: Session, ev: Evaluation, reason: str, *, regather: bool = True, org_result=UNREAD
) -> EvaluationDocument:
    """A new frozen version of the document, appended (``evaluation_documents`` is append-only).

    ``signed`` and ``objection_changed`` gather the content afresh; ``acknowledged`` and
    ``countersigned`` (``regather=False``) copy the version before and add only their step, so what the
    penilai signed stays exactly as signed. Every version's content names the hash of the one before
    (``previous_hash``) and carries every step with its time, so its own hash covers the whole chain.
    ``org_result``: as :func:`document_content` takes it."""
    previous = latest_document(s, ev)
    if regather or previous is None:
        content = document_content(s, ev, org_result)
    else:
        content = {**previous.content, "signatures": signatures_of(ev)} | acting_of(ev)
    content["previous_hash"] = previous.content_hash if previous else None
    doc = EvaluationDocument(
        evaluation_id=ev.id,
        version=(previous.version + 1) if previous else 1,
        content=content,
        content_hash=domain.content_hash(content),
        previous_hash=previous.content_hash if previous else None,
        reason=reason,
        created_at=now(),
    )
    s.add(doc)
    ev.content_hash, ev.document_version = doc.content_hash, doc.version
    return doc


def documents(s: Session, ev: Evaluation) -> list[EvaluationDocument]:
    return list(
        s.scalars(
            select(EvaluationDocument)
            .where(EvaluationDocument.evaluation_id == ev.id)
            .order_by(EvaluationDocument.version)
        )
    )


# ------------------------------------------------------------------ HTTP


@blp.route("/<int:evaluation_id>/documents")
class Documents(MethodView):
    @blp.response(200, DocumentOut(many=True))
    def get(self, evaluation_id):
        """Every signed version of the evaluation document with its content hash."""
        p = current_principal()
        with uow() as s:
            ev = get_evaluation(s, p, evaluation_id)
            stmt = select(EvaluationDocument).where(EvaluationDocument.evaluation_id == ev.id)
            return capped(s, stmt.order_by(EvaluationDocument.version), "documents")  # one per signed version


@blp.route("/<int:evaluation_id>/document.pdf")
class DocumentPdf(MethodView):
    @blp.response(200)
    def get(self, evaluation_id):
        """The evaluation document as PDF (latest signed version, or a draft marked as such)."""
        p = current_principal()
        with uow() as s:
            ev = get_evaluation(s, p, evaluation_id)
            latest = latest_document(s, ev)
            if latest is not None:  # exactly the stored version: every signature in it is covered by its hash
                content, digest, version, created = (
                    latest.content,
                    latest.content_hash,
                    latest.version,
                    latest.created_at,
                )
            else:
                content, digest, version, created = document_content(s, ev), None, 0, ev.updated_at
        pdf = render_pdf(content, digest, version, lang=g.get("lang", "id"), created_at=created)
        return Response(
            pdf,
            mimetype="application/pdf",
            headers={"Content-Disposition": f'inline; filename="penilaian-{evaluation_id}-v{version}.pdf"'},
        )
