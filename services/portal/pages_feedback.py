"""Continuous feedback and coaching (umpan balik berkelanjutan, bimbingan kinerja) per RHK or per
BerAKHLAK value of an SKP: the superior writes a note or a coaching record from the team dashboard
(``/tim/skp/<id>/umpan-balik``), the employee reads them on their own page (``/skp/<id>/umpan-balik``,
also summarised on the SKP page) and replies to each; the penilai sees them again, per RHK and per
value, on the rating page. The plans API decides who may write (the reporting line), reply (the
employee) and read; this module only validates the forms and groups the notes for reading."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for

from .auth import api, current_user, login_required
from .client import ApiProblem
from .pages_employee import cycle_of, load_plan
from .web import BERAKHLAK, P, forbidden, form_errors, local_time, page, period_title, t

bp = Blueprint("feedback", __name__)

KINDS = ("feedback", "coaching")
MIN_TEXT, MAX_TEXT = 2, 4000  # as the plans API's FeedbackIn and ReplyIn


@bp.app_template_filter("feedback_time")
def feedback_time(value) -> str:
    """An API timestamp as date and time in the agency's zone, ``YYYY-MM-DD HH:MM``."""
    at = local_time(value) if value else None
    return at.strftime("%Y-%m-%d %H:%M") if at else "—"


def feedback_of(plan_id: int) -> list[dict]:
    """The plan's feedback and coaching records with their replies; none when the API does not answer."""
    try:
        return api().get(f"{P}/plans/{plan_id}/feedback") or []
    except ApiProblem:
        return []


def superior_name(options: dict | None) -> dict[str, str]:
    """My direct superior's name by NIP, from the cascade options (an employee cannot read the directory)."""
    options = options or {}
    return {options["superior_nip"]: options["superior_name"]} if options.get("superior_name") else {}


def grouped(plan: dict | None, items: list[dict], cycle: dict | None = None, names: dict | None = None) -> list[dict]:
    """The notes per target, in the SKP's order (its RHK, then the seven values); only targets with notes.
    ``plan`` is the live plan or an evaluation's snapshot (both carry ``rhk`` with ``id`` and ``description``)."""
    names = names or {}
    for fb in items:
        fb["giver_name"] = names.get(fb["giver_nip"]) or fb["giver_nip"]
        fb["period_name"] = period_title(cycle, fb.get("period_seq")) if fb.get("period_seq") else None
        for r in fb.get("replies") or []:
            r["author_name"] = names.get(r["author_nip"]) or r["author_nip"]
    groups = []
    for r in (plan or {}).get("rhk") or []:
        notes = [fb for fb in items if fb.get("rhk_id") == r["id"]]
        if notes:
            groups.append({"key": f"rhk:{r['id']}", "rhk_id": r["id"], "label": r["description"], "items": notes})
    known = {r["id"] for r in (plan or {}).get("rhk") or []}
    orphans = [fb for fb in items if fb.get("rhk_id") and fb["rhk_id"] not in known]
    if orphans:  # an RHK removed by a revision keeps its notes
        groups.append({"key": "rhk:-", "rhk_id": None, "label": t("feedback.rhk_removed"), "items": orphans})
    for code in BERAKHLAK:
        notes = [fb for fb in items if fb.get("value_code") == code]
        if notes:
            groups.append({"key": f"value:{code}", "value_code": code, "label": t("berakhlak." + code), "items": notes})
    return groups


def _targets(plan: dict) -> list[tuple[str, str]]:
    rhk = [(f"rhk:{r['id']}", t("feedback.target_rhk", rhk=r["description"])) for r in plan.get("rhk") or []]
    return rhk + [(f"value:{c}", t("feedback.target_value", value=t("berakhlak." + c))) for c in BERAKHLAK]


def _validate(form: dict, plan: dict, cycle: dict | None) -> tuple[dict, dict]:
    """The portal's own checks, beside each field, before the API sees the note; and the API body."""
    errors: dict[str, str] = {}
    if form["kind"] not in KINDS:
        errors["kind"] = t("feedback.error.kind")
    if not form["target"]:
        errors["target"] = t("feedback.error.target_required")
    elif form["target"] not in dict(_targets(plan)):
        errors["target"] = t("feedback.error.target_unknown")
    seqs = {str(p["seq"]) for p in (cycle or {}).get("periods") or []}
    if form["period_seq"] and form["period_seq"] not in seqs:
        errors["period_seq"] = t("feedback.error.period")
    text = form["text"]
    if not text:
        errors["text"] = t("feedback.error.text_required")
    elif len(text) < MIN_TEXT:
        errors["text"] = t("feedback.error.text_short", n=MIN_TEXT)
    elif len(text) > MAX_TEXT:
        errors["text"] = t("feedback.error.text_long", n=MAX_TEXT)
    what, _, key = form["target"].partition(":")
    body = {"kind": form["kind"], "text": text, "rhk_id": None, "value_code": None}
    body["rhk_id" if what == "rhk" else "value_code"] = key
    if form["period_seq"]:
        body["period_seq"] = int(form["period_seq"])
    return errors, body


def _supervise_page(plan_id: int, status: int = 200, *, errors: dict | None = None, form: dict | None = None):
    user = current_user()
    plan, _ = load_plan(plan_id)
    if plan["employee_nip"] == user.nip:
        return redirect(url_for("feedback.mine", plan_id=plan_id))
    cycle = cycle_of(plan)
    items = feedback_of(plan_id)
    names = {user.nip: user.name, plan["employee_nip"]: plan["employee_name"]}
    return page(
        "portal/feedback/supervise.html",
        status,
        plan=plan,
        cycle=cycle,
        groups=grouped(plan, items, cycle, names),
        count=len(items),
        targets=_targets(plan),
        kinds=[(k, t("feedback.kind." + k)) for k in KINDS],
        periods=[(str(p["seq"]), period_title(cycle, p["seq"])) for p in (cycle or {}).get("periods") or []],
        form=form or {"kind": "feedback", "target": request.args.get("target", ""), "period_seq": "", "text": ""},
        errors=errors or {},
        can_write=bool(cycle) and cycle["stage"] in ("monitoring", "annual_evaluation"),
    )


@bp.get("/tim/skp/<int:plan_id>/umpan-balik")
@login_required("supervisor")
def supervise(plan_id: int):
    return _supervise_page(plan_id)


@bp.post("/tim/skp/<int:plan_id>/umpan-balik")
@login_required("supervisor")
def give(plan_id: int):
    plan, _ = load_plan(plan_id)
    form = {k: (request.form.get(k) or "").strip() for k in ("kind", "target", "period_seq", "text")}
    errors, body = _validate(form, plan, cycle_of(plan))
    if errors:
        return _supervise_page(plan_id, 422, errors=errors, form=form)
    try:
        api().post(f"{P}/plans/{plan_id}/feedback", body)
    except ApiProblem as exc:
        if exc.status in (403, 404):
            return forbidden()
        if exc.status == 422:
            fields = {
                "rhk_id": "target",
                "value_code": "target",
                "kind": "kind",
                "text": "text",
                "period_seq": "period_seq",
            }
            return _supervise_page(plan_id, 422, errors=form_errors(exc, fields), form=form)
        if exc.status == 409:
            return _supervise_page(plan_id, 409, errors={"_": exc.detail or t("error.generic.body")}, form=form)
        raise
    flash(t("feedback.saved." + form["kind"], name=plan["employee_name"]), "ok")
    return redirect(url_for("feedback.supervise", plan_id=plan_id) + "#riwayat")


def _mine_page(plan_id: int, status: int = 200, *, errors: dict | None = None, replies: dict | None = None):
    user = current_user()
    plan, _ = load_plan(plan_id)
    if plan["employee_nip"] != user.nip:
        if user.is_supervisor:  # a superior reading a subordinate's notes writes them on the team pages
            return redirect(url_for("feedback.supervise", plan_id=plan_id))
        return forbidden()
    cycle = cycle_of(plan)
    items = feedback_of(plan_id)
    try:
        options = api().get(f"{P}/plans/cascade-options", cycle_id=plan["cycle_id"])
    except ApiProblem:
        options = None
    names = {user.nip: user.name} | superior_name(options)
    return page(
        "portal/feedback/mine.html",
        status,
        plan=plan,
        cycle=cycle,
        groups=grouped(plan, items, cycle, names),
        count=len(items),
        errors=errors or {},
        replies=replies or {},
        can_reply=bool(cycle) and cycle["stage"] in ("monitoring", "annual_evaluation"),
    )


@bp.get("/skp/<int:plan_id>/umpan-balik")
@login_required()
def mine(plan_id: int):
    return _mine_page(plan_id)


@bp.post("/skp/<int:plan_id>/umpan-balik/<int:feedback_id>/balas")
@login_required("employee")
def reply(plan_id: int, feedback_id: int):
    field = f"reply.{feedback_id}"
    text = (request.form.get("text") or "").strip()
    error = None
    if not text:
        error = t("feedback.error.reply_required")
    elif len(text) < MIN_TEXT:
        error = t("feedback.error.text_short", n=MIN_TEXT)
    elif len(text) > MAX_TEXT:
        error = t("feedback.error.text_long", n=MAX_TEXT)
    if error:
        return _mine_page(plan_id, 422, errors={field: error}, replies={field: text})
    try:
        api().post(f"{P}/plans/{plan_id}/feedback/{feedback_id}/replies", {"text": text})
    except ApiProblem as exc:
        if exc.status in (403, 404):
            return forbidden()
        if exc.status in (409, 422):
            message = exc.field_errors().get("text") or exc.detail or t("error.generic.body")
            return _mine_page(plan_id, exc.status, errors={field: message}, replies={field: text})
        raise
    flash(t("feedback.replied"), "ok")
    return redirect(url_for("feedback.mine", plan_id=plan_id) + f"#fb-{feedback_id}")


def rating_notes(ev: dict, plan: dict | None, cycle: dict | None) -> list[dict]:
    """The notes the penilai sees on the rating page: for a period's evaluation that period's and the
    whole year's, for the annual one all; grouped per RHK of the evaluated SKP and per value."""
    items = feedback_of(ev["plan_id"])
    if ev.get("period_seq"):
        items = [fb for fb in items if fb.get("period_seq") in (None, ev["period_seq"])]
    user = current_user()
    names = {user.nip: user.name, ev.get("employee_nip"): ev.get("employee_name")}
    return grouped(plan, items, cycle, {k: v for k, v in names.items() if k and v})
