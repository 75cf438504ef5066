"""Follow-up plans as people carry them out (issue 15): one follow-up's page (``/tindak-lanjut/<id>``)
where HR or the penilai change the plan — recommendation, due date, owner — and they or the owner
record its progress: in progress, completed with what was done (training attended, coaching
sessions, the result), or cancelled with a reason; and the follow-ups of a supervisor's team
(``/tim/tindak-lanjut``). HR's list is ``/hr/tindak-lanjut`` (``pages_hr_reports``); the employee
reads theirs, status and completion included, on their evaluation page.

Every save is one ``PATCH /followups/<id>`` with the version the page showed (``If-Match``): a
refusal comes back beside its field in the page's language and nothing is saved; a follow-up
changed meanwhile is refused with what is saved now shown beside what was typed."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, request, url_for

from .auth import api, current_user, login_required
from .client import ApiProblem
from .web import P, R, forbidden, page, t

bp = Blueprint("followups", __name__)

STATUSES = ("planned", "in_progress", "completed", "cancelled")
OPEN = ("planned", "in_progress")
NEXT = {"planned": ("in_progress", "completed", "cancelled"), "in_progress": ("completed", "cancelled")}
PLAN_FIELDS = ("recommendation", "due_date", "owner_nip")
PROGRESS_FIELDS = ("status", "completion_note", "cancel_reason", "completed_at")
DATES = ("due_date", "completed_at")
MAX_TEXT = {"recommendation": 4000, "completion_note": 4000, "cancel_reason": 2000}
#: the API's refusals worded by the portal's catalogue (followups.error.<code>), beside their field
WORDED = (
    "followup.completion_note_required",
    "followup.cancel_reason_required",
    "followup.cancel_reason_unexpected",
    "followup.completed_at_unexpected",
    "followup.completed_in_future",
    "followup.due_in_past",
    "followup.owner_required",
    "followup.owner_unknown",
    "followup.recommendation_required",
    "followup.transition",
    "followup.closed",
    "followup.owner_progress_only",
    "followup.only_parties",
)


def rights(fu: dict) -> tuple[bool, bool]:
    """(may change the plan: HR or the penilai, may record progress: those or the owner)."""
    user = current_user()
    plans = user.is_hr or bool(user.nip and user.nip == fu.get("penilai_nip"))
    return plans, plans or bool(user.nip and user.nip == fu.get("owner_nip"))


def _evaluation(fu: dict) -> dict | None:
    try:
        return api().get(f"{R}/evaluations/{fu['evaluation_id']}")
    except ApiProblem as exc:
        if exc.status in (403, 404):  # an owner outside the employee's line reads the follow-up only
            return None
        raise


def _names() -> dict[str, str]:
    try:
        return {e["nip"]: e["name"] for e in api().all(f"{P}/employees")}
    except ApiProblem:
        return {}


def _form() -> dict:
    return {k: (request.form.get(k) or "").strip() for k in (*PLAN_FIELDS, *PROGRESS_FIELDS)}


def _shown(fu: dict) -> dict:
    return {k: "" if fu.get(k) is None else str(fu[k]) for k in (*PLAN_FIELDS, *PROGRESS_FIELDS)}


def _check(typed: dict) -> dict[str, str]:
    """What the portal can say before asking: a date the browser did not send as a date, a text too long."""
    errors = {}
    for k in DATES:
        if typed[k]:
            try:
                date.fromisoformat(typed[k])
            except ValueError:
                errors[k] = t("followups.error.date")
    for k, n in MAX_TEXT.items():
        if len(typed[k]) > n:
            errors[k] = t("followups.error.too_long", n=n, length=len(typed[k]))
    if typed["status"] and typed["status"] not in STATUSES:
        errors["status"] = t("followups.error.status")
    return errors


def _body(fu: dict, typed: dict, may_plan: bool) -> dict:
    """The fields the form changes (an emptied text or date is cleared), the plan's only for those who plan."""
    body = {}
    for k in (*PLAN_FIELDS, *PROGRESS_FIELDS) if may_plan else PROGRESS_FIELDS:
        value = typed[k] or None
        if value != (None if fu.get(k) is None else str(fu[k])):
            body[k] = value
    if "recommendation" in body and body["recommendation"] is None:
        body["recommendation"] = " " * 3  # emptied: the API says it is required, beside the field
    return body


def _api_errors(exc: ApiProblem, fu: dict) -> dict[str, str]:
    """The API's refusal beside its field, in the portal's words where it has them; a refusal without
    a field (409, 403) above the form — a forbidden status change beside the status."""
    out: dict[str, str] = {}
    for e in exc.errors:
        code, name = e.get("code") or "", e.get("field") or "_"
        words = t("followups.error." + code.removeprefix("followup."), **(e.get("params") or {}))
        out.setdefault(name, words if code in WORDED else e.get("detail") or code)
    if not exc.errors:
        if exc.code in WORDED:
            action = exc.body.get("action")
            words = t(
                "followups.error." + exc.code.removeprefix("followup."),
                status=t(f"followups.status.{fu['status']}"),
                action=t(f"followups.status.{action}") if action in STATUSES else action or "",
            )
        else:
            words = exc.detail or t("error.generic.body")
        out["status" if exc.code == "followup.transition" else "_"] = words
    return out


def _page(fu: dict, etag: str | None, status: int = 200, *, typed=None, errors=None, current=None):
    may_plan, may_progress = rights(fu)
    ev = _evaluation(fu)
    names = _names()
    editable = may_progress and fu["status"] in OPEN
    return page(
        "portal/followups/edit.html",
        status,
        fu=fu,
        ev=ev,
        etag=etag,
        names=names,
        employee_name=(ev or {}).get("employee_name") or names.get(fu["employee_nip"], fu["employee_nip"]),
        may_plan=may_plan and editable,
        editable=editable,
        typed=typed or _shown(fu),
        errors=errors or {},
        current=current or {},
        choices=[fu["status"], *NEXT.get(fu["status"], ())],
        owners=sorted(names.items(), key=lambda x: x[1]),
    )


def _load(followup_id: int) -> tuple[dict, str | None]:
    return api().get_with_etag(f"{R}/followups/{followup_id}")


@bp.route("/tindak-lanjut/<int:followup_id>", methods=["GET", "POST"])
@login_required()
def edit(followup_id: int):
    """One follow-up: HR, the penilai and the owner change it; the employee reads it."""
    fu, etag = _load(followup_id)
    if request.method == "GET":
        return _page(fu, etag)
    may_plan, may_progress = rights(fu)
    if not may_progress:
        return forbidden()
    typed = _form()
    errors = _check(typed)
    if errors:
        return _page(fu, request.form.get("etag") or etag, 422, typed=typed, errors=errors)
    body = _body(fu, typed, may_plan)
    if not body:
        flash(t("followups.unchanged"), "ok")
        return redirect(url_for("followups.edit", followup_id=followup_id))
    try:
        api().patch(f"{R}/followups/{followup_id}", body, request.form.get("etag") or etag)
    except ApiProblem as exc:
        if exc.status in (403, 404) and exc.code != "followup.owner_progress_only":
            return forbidden()
        if exc.status in (412, 428):  # changed since the page was opened: what I typed stays, beside what is saved
            fu, etag = _load(followup_id)
            saved = _shown(fu)
            current = {k: saved[k] for k in saved if k in body and saved[k] != typed[k]}
            return _page(fu, etag, 409, typed=typed, errors={"_": t("followups.error.stale")}, current=current)
        if exc.status not in (403, 409, 422):
            raise
        return _page(fu, request.form.get("etag") or etag, 422, typed=typed, errors=_api_errors(exc, fu))
    flash(t("followups.saved"), "ok")
    return redirect(url_for("followups.edit", followup_id=followup_id))


@bp.get("/tim/tindak-lanjut")
@login_required()
def team():
    """The follow-ups of the evaluations I rate and those I own (not my own), by status."""
    user = current_user()
    if not user.nip:
        return redirect(url_for("hr.followups")) if user.is_hr else forbidden()
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    items = [f for f in api().all(f"{R}/followups", status=status) if f["employee_nip"] != user.nip]
    items.sort(key=lambda f: (f["status"] not in OPEN, f.get("due_date") or "9999", f["id"]))
    return page("portal/followups/team.html", items=items, status=status, statuses=STATUSES, names=_names())
