"""Sign-off (DOMAIN.md §6): the chain on one evaluation (the penilai signs, the employee
acknowledges receipt, the atasan penilai countersigns) and objections (keberatan): the employee
files one within the window after acknowledging, both sides add statements, and the atasan
penilai decides (upheld, or changed with new ratings)."""

from __future__ import annotations

from flask import flash, redirect, request, url_for

from .auth import api, current_user, login_required
from .client import ApiProblem
from .pages_evaluations import (
    RATINGS,
    bp,
    check_length,
    detail_page,
    form_text,
    load_evaluation,
    refusal_errors,
    roles_in,
    shown,
)
from .web import BERAKHLAK, R, forbidden, page, t

# ------------------------------------------------------------------ the chain


def _chain_action(evaluation_id: int, action: str, done_key: str, back: str | None = None):
    """Sign, acknowledge or countersign: the API decides; a refusal comes back as a message on the page."""
    try:
        api().post(f"{R}/evaluations/{evaluation_id}/{action}")
    except ApiProblem as exc:
        shown(exc)
        flash(exc.detail or t("error.generic.body"), "error")
    else:
        flash(t(done_key), "ok")
    return redirect(back or url_for("evaluations.detail", evaluation_id=evaluation_id))


@bp.post("/evaluasi/<int:evaluation_id>/terima")
@login_required()
def acknowledge(evaluation_id: int):
    return _chain_action(evaluation_id, "acknowledge", "evaluations.chain.acknowledged")


@bp.post("/evaluasi/<int:evaluation_id>/tandatangani")
@login_required()
def sign(evaluation_id: int):
    return _chain_action(
        evaluation_id, "sign", "evaluations.chain.signed", back=url_for("evaluations.rate", evaluation_id=evaluation_id)
    )


@bp.post("/evaluasi/<int:evaluation_id>/sahkan")
@login_required()
def countersign(evaluation_id: int):
    back = url_for("evaluations.team") if request.form.get("back") == "team" else None
    return _chain_action(evaluation_id, "countersign", "evaluations.chain.countersigned", back=back)


# ------------------------------------------------------------------ objections


@bp.post("/evaluasi/<int:evaluation_id>/keberatan")
@login_required()
def object_(evaluation_id: int):
    reasons = form_text("reasons")
    form = {"reasons": reasons}
    errors: dict[str, str] = {}
    if not reasons:
        errors["reasons"] = t("form.required")
    check_length(errors, "reasons", reasons)
    if errors:
        return detail_page(evaluation_id, 422, errors=errors, form=form, posted="objection")
    try:
        obj = api().post(f"{R}/evaluations/{evaluation_id}/objections", {"reasons": reasons})
    except ApiProblem as exc:
        shown(exc)
        return detail_page(
            evaluation_id,
            422,
            errors=refusal_errors(exc, {"reasons": "reasons"}, default_field="reasons"),
            form=form,
            posted="objection",
        )
    flash(t("evaluations.objection.filed"), "ok")
    return redirect(url_for("evaluations.objection", objection_id=obj["id"]))


def _objection_page(objection_id: int, status: int = 200, *, errors: dict | None = None, form: dict | None = None):
    try:
        obj = api().get(f"{R}/objections/{objection_id}")
    except ApiProblem as exc:
        if exc.status in (403, 404):
            return forbidden()
        raise
    ev, _ = load_evaluation(obj["evaluation_id"])
    roles = roles_in(ev)
    decided = obj["status"] == "decided"
    return page(
        "portal/evaluations/objection.html",
        status,
        obj=obj,
        ev=ev,
        roles=roles,
        can_decide=roles["atasan"] and not decided,
        can_state=(roles["employee"] or (roles["penilai"] and bool(current_user().nip))) and not decided,
        errors=errors or {},
        form=form or {},
        values=BERAKHLAK,
    )


@bp.get("/keberatan/<int:objection_id>")
@login_required()
def objection(objection_id: int):
    return _objection_page(objection_id)


@bp.post("/keberatan/<int:objection_id>")
@login_required()
def decide(objection_id: int):
    form = {k: form_text(k) for k in ("decision", "reason", "rating_hasil", "rating_perilaku")}
    errors: dict[str, str] = {}
    if form["decision"] not in ("upheld", "changed"):
        errors["decision"] = t("evaluations.objection.choose_decision")
    if not form["reason"]:
        errors["reason"] = t("form.required")
    check_length(errors, "reason", form["reason"])
    if form["decision"] == "changed":
        for name in ("rating_hasil", "rating_perilaku"):
            if form[name] not in RATINGS:
                errors[name] = t("evaluations.error.new_rating_required")
    # the values a new "below" names (issue 15); the API keeps those of an earlier "below" when none are ticked
    form["perilaku_below_values"] = [v for v in request.form.getlist("perilaku_below_values") if v]
    if any(v not in BERAKHLAK for v in form["perilaku_below_values"]):
        errors["perilaku_below_values"] = t("evaluations.rate.below_values_unknown")
    if errors:
        return _objection_page(objection_id, 422, errors=errors, form=form)
    body = {"decision": form["decision"], "reason": form["reason"]}
    if form["decision"] == "changed":
        body.update(rating_hasil=form["rating_hasil"], rating_perilaku=form["rating_perilaku"])
        if form["rating_perilaku"] == "below":
            body["perilaku_below_values"] = form["perilaku_below_values"]
    try:
        api().post(f"{R}/objections/{objection_id}/decide", body)
    except ApiProblem as exc:
        shown(exc)
        errors = refusal_errors(exc, default_field="decision")
        for key in [k for k in errors if k.startswith("perilaku_below_values")]:  # beside the checkbox group
            errors.pop(key)
            errors["perilaku_below_values"] = t("evaluations.rate.below_values_unknown")
        if any(e.get("code") == "rating.perilaku_below_values_required" for e in exc.errors):
            errors["perilaku_below_values"] = t("evaluations.rate.below_values_needed")
        return _objection_page(objection_id, 422, errors=errors, form=form)
    flash(t("evaluations.objection.decided"), "ok")
    return redirect(url_for("evaluations.objection", objection_id=objection_id))


@bp.post("/keberatan/<int:objection_id>/pernyataan")
@login_required()
def statement(objection_id: int):
    text = form_text("text")
    errors: dict[str, str] = {}
    if not text:
        errors["text"] = t("form.required")
    check_length(errors, "text", text)
    if errors:
        return _objection_page(objection_id, 422, errors=errors, form={"text": text})
    try:
        api().post(f"{R}/objections/{objection_id}/statements", {"text": text})
    except ApiProblem as exc:
        shown(exc)
        return _objection_page(objection_id, 422, errors=refusal_errors(exc, default_field="text"), form={"text": text})
    flash(t("evaluations.objection.statement_added"), "ok")
    return redirect(url_for("evaluations.objection", objection_id=objection_id) + "#pernyataan")
