"""Evidence review (bukti dukung): the penilai opens each evidence file a subordinate uploaded and
accepts it or asks for another with a note; the employee is notified (plans publishes
``plans.evidence.reviewed``) and sees the status and the note beside the file on their progress page.

The supervisor's page ``/tim/skp/<plan_id>/bukti`` shows the subordinate's realisation per period
with every file; the rating page lists the same files with the same buttons (the macro in
``portal/evidence/_files.html``). Each file opens through the portal's ``/skp/bukti/<id>``, which
streams it with the signed-in person's token: the plans API decides who may open it (the owner,
the penilai, the atasan penilai, HR of the agency) and who may review it (the penilai or their
Plt/Plh)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for

from .auth import api, current_user, login_required
from .client import ApiProblem
from .pages_employee import cycle_of, load_plan, period_name
from .web import P, acts_as, forbidden, page, t

bp = Blueprint("evidence", __name__)

DECISIONS = ("accepted", "needs_replacement")
MAX_NOTE = 2000  # as the plans API's EvidenceReviewIn


def _period_seq(cycle: dict | None) -> int:
    seq = request.values.get("period_seq", type=int)
    periods = [p["seq"] for p in (cycle or {}).get("periods") or []]
    if seq in periods:
        return seq
    if cycle and cycle.get("period_seq") in periods:
        return cycle["period_seq"]
    return periods[0] if periods else 1


def _progress_page(plan_id: int, status: int = 200, errors: dict | None = None, values: dict | None = None):
    user = current_user()
    plan, _ = load_plan(plan_id)
    if plan["employee_nip"] == user.nip:  # my own files: my progress page
        return redirect(url_for("employee.realisation", plan_id=plan_id))
    cycle = cycle_of(plan)
    seq = _period_seq(cycle)
    recorded = {r["iki_id"]: r for r in api().get(f"{P}/plans/{plan_id}/realisations", period_seq=seq)}
    files = [ev for r in recorded.values() for ev in r["evidence"]]
    return page(
        "portal/evidence/progress.html",
        status,
        plan=plan,
        cycle=cycle,
        seq=seq,
        recorded=recorded,
        period_name=period_name(cycle, seq) if cycle else str(seq),
        can_review=acts_as(plan.get("penilai_nip")),
        counts={s: sum(1 for ev in files if ev["review_status"] == s) for s in ("pending", *DECISIONS)},
        errors=errors or {},
        values=values or {},
    )


@bp.get("/tim/skp/<int:plan_id>/bukti")
@login_required("supervisor")
def progress(plan_id: int):
    return _progress_page(plan_id)


@bp.post("/tim/bukti/<int:evidence_id>/periksa")
@login_required("supervisor")
def review(evidence_id: int):
    """Accept a file or ask for another (a note required, shown beside the file when missing)."""
    f = request.form
    plan_id = f.get("plan_id", type=int)
    if plan_id is None:
        return forbidden()
    decision = f.get("decision", "")
    key = f"note-{evidence_id}"
    note = (f.get(key) or "").strip()
    values = {key: note}
    if decision not in DECISIONS:
        return _progress_page(plan_id, 422, {"_": t("evidence.error.decision")}, values)
    if decision == "needs_replacement" and not note:
        return _progress_page(plan_id, 422, {key: t("evidence.error.note_required")}, values)
    if len(note) > MAX_NOTE:
        return _progress_page(plan_id, 422, {key: t("evidence.error.note_long", max=MAX_NOTE)}, values)
    try:
        ev = api().post(f"{P}/evidence/{evidence_id}/review", {"status": decision, "note": note or None})
    except ApiProblem as exc:
        if exc.status == 404:
            return forbidden()
        if exc.status == 403:
            return _progress_page(plan_id, 403, {"_": t("evidence.error.only_penilai")}, values)
        if exc.status == 422:
            field = exc.field_errors().get("note")
            errors = {key: field} if field else {"_": exc.detail or t("error.generic.body")}
            return _progress_page(plan_id, 422, errors, values)
        raise
    flash(t(f"evidence.saved.{decision}", name=ev["filename"]), "ok")
    back = f.get("back", "")
    if back.startswith("rating:") and back[7:].isdigit():
        return redirect(url_for("evaluations.rate", evaluation_id=int(back[7:])) + f"#bukti-{evidence_id}")
    return redirect(url_for("evidence.progress", plan_id=plan_id, period_seq=f.get("period_seq", type=int)))
