"""The printable SKP: ``GET /plans/{id}/skp.pdf`` (``?version=`` for an approved version, ``?lang=en``),
read by whoever may read the plan — the employee, the reporting line, HR of the agency; never a machine
client. This module gathers what the form prints (the parties, the cycle's period, each RHK with the
superior's RHK it intervenes, the expectations and the lampiran) from the plan or from a kept version;
``skp_pdf`` draws it. The same plan version gives the same bytes: the PDF's date is the approval's
(a draft's: its last change), never the clock."""

from __future__ import annotations

from flask import Response, g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.auth import current_principal
from services.common.i18n import LANGUAGES
from services.common.usecase import not_found, platform

from . import domain
from .access import PREFIX
from .models import Agency, Cycle, Employee, Plan, PlanVersion, Rhk, Unit
from .schemas import ID
from .skp import get_plan, plan_content_dict
from .skp_pdf import render_skp

blp = Blueprint("plan_print", __name__, url_prefix=f"{PREFIX}/plans", description="The printable SKP (PDF)")

LABEL_PREFIX = "skp_pdf."
PDF_DOC = {"type": "string", "format": "binary"}


class SkpPdfQuery(Schema):
    version = fields.Integer(
        validate=ID, metadata={"description": "an approved version (revision); default: the plan as it is now"}
    )
    lang = fields.String(validate=validate.OneOf(LANGUAGES), metadata={"description": "id (default) or en"})


def labels(lang: str) -> dict[str, str]:
    """The PDF's words in ``lang`` from the service's catalogue (Indonesian where English lacks one)."""
    messages = platform().catalogue.messages
    return {
        k[len(LABEL_PREFIX) :]: messages[lang].get(k) or v
        for k, v in messages["id"].items()
        if k.startswith(LABEL_PREFIX)
    }


def _person(s: Session, nip: str | None) -> dict:
    """A party as the directory knows them now (name, NIP, grade, position, unit); a NIP alone when unknown."""
    if not nip:
        return {}
    emp = s.scalar(select(Employee).where(Employee.nip == nip))
    if emp is None:
        return {"nip": nip}
    return {"name": emp.name, "nip": emp.nip, "grade": emp.grade, "position": emp.position, "unit": emp.unit.name}


def _cycle(s: Session, cycle_id: int) -> dict:
    c = s.get(Cycle, cycle_id)
    starts, ends = [p.start for p in c.periods], [p.end for p in c.periods]
    return {
        "name": c.name,
        "year": c.year,
        "start": str(min(starts)) if starts else f"{c.year}-01-01",
        "end": str(max(ends)) if ends else f"{c.year}-12-31",
    }


def _parents(s: Session, rhk: list[dict]) -> dict[str, dict]:
    """The superior's RHK each RHK intervenes, with the name of whose plan it is."""
    ids = {r["parent_rhk_id"] for r in rhk if r.get("parent_rhk_id")}
    if not ids:
        return {}
    rows = s.execute(select(Rhk.id, Rhk.description, Plan.employee_name).join(Plan).where(Rhk.id.in_(ids)))
    return {rid: {"description": text, "owner": owner} for rid, text, owner in rows}


def skp_content(s: Session, plan: Plan, version: PlanVersion | None) -> tuple[dict, object]:
    """What the printed SKP shows, and the time that dates the PDF. A kept version prints as it was
    approved; the plan itself prints signed only while it is approved (else as a draft)."""
    if version is not None:
        snap = version.snapshot
        body = {k: snap.get(k) for k in ("approach", "rhk", "behaviour", "annex")}
        position, grade, penilai_nip = snap.get("position"), snap.get("grade"), snap.get("penilai_nip")
        approved_at, approved_by, revision = version.approved_at, version.approved_by, version.revision
    else:
        body = plan_content_dict(plan)
        position, grade, penilai_nip = plan.position, plan.grade, plan.penilai_nip
        approved = plan.status == "approved"
        approved_at = plan.approved_at if approved else None
        approved_by = plan.approved_by if approved else None
        revision = plan.revision
    parents = _parents(s, body.get("rhk") or [])
    unit = s.get(Unit, plan.unit_id)
    agency = s.get(Agency, plan.agency_code)
    content = {
        "plan_id": plan.id,
        "revision": revision,
        "approach": body.get("approach"),
        "agency": {"code": plan.agency_code, "name": agency.name if agency else plan.agency_code},
        "cycle": _cycle(s, plan.cycle_id),
        "employee": {
            "name": plan.employee_name,
            "nip": plan.employee_nip,
            "grade": grade,
            "position": position,
            "unit": unit.name if unit else "-",
        },
        "penilai": _person(s, penilai_nip),
        "approver": _person(s, approved_by) if approved_by and approved_by.isdigit() else None,
        "approved_at": approved_at.isoformat() if approved_at else None,
        "rhk": [r | {"parent": parents.get(r.get("parent_rhk_id"))} for r in body.get("rhk") or []],
        "behaviour": body.get("behaviour") or {},
        "annex": body.get("annex") or {},
    }
    return content, approved_at or plan.updated_at


def skp_pdf(s: Session, plan: Plan, revision: int | None, lang: str) -> tuple[bytes, int | None]:
    version = None
    if revision is not None:
        version = s.scalar(select(PlanVersion).where(PlanVersion.plan_id == plan.id, PlanVersion.revision == revision))
        if version is None:
            raise not_found("plan version", revision)
    content, dated = skp_content(s, plan, version)
    pdf = render_skp(content, labels(lang), lang, list(domain.BERAKHLAK), created_at=dated)
    return pdf, (content["revision"] if content["approved_at"] else None)


@blp.route("/<int:plan_id>/skp.pdf")
class SkpPdf(MethodView):
    @blp.arguments(SkpPdfQuery, location="query")
    @blp.response(200, content_type="application/pdf")
    @blp.doc(responses={"200": {"description": "the SKP (A4)", "content": {"application/pdf": {"schema": PDF_DOC}}}})
    def get(self, args, plan_id):
        """The SKP as PDF in the layout offices print for wet signatures: header, the parties, the RHK/IKI
        matrix with the superior's RHK each one intervenes, the BerAKHLAK expectations, the signatures and
        the lampiran. An SKP not approved (or reopened) is marked DRAF; ``version`` prints a kept approved
        version. Byte-stable: the same version gives the same file."""
        lang = args.get("lang") or g.get("lang", "id")
        with platform().uow() as s:
            plan = get_plan(s, current_principal(), plan_id)
            pdf, revision = skp_pdf(s, plan, args.get("version"), lang)
        name = f"skp-{plan_id}-v{revision}.pdf" if revision else f"skp-{plan_id}-draf.pdf"
        return Response(pdf, mimetype="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'})
