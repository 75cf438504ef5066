"""Evaluations in the portal, for the three parties of each one (DOMAIN.md §6). This module holds
the area's blueprint (endpoints ``evaluations.*``), what its pages share (the viewer's part in an
evaluation, what the cycle's stage allows, a refusal shown beside its field) and the employee's
pages: my evaluations, one evaluation (ratings and predikat, the signed document versions and
their PDF), and the self-assessment (draft with If-Match, submit).

- ``pages_rating.py``: the penilai's list of the team's evaluations and the rating page with the
  explained suggestion, feedback per IKI and per BerAKHLAK value, both ratings, and the reason
  when departing from the suggestion;
- ``pages_signoff.py``: the sign-off chain (sign, acknowledge receipt, countersign) and
  objections (keberatan) within the window after acknowledging: filing one, both sides'
  statements, the atasan penilai's decision (upheld, or changed with new ratings).

Every call goes to the reviews (and plans) API with the signed-in user's own token: the API
decides who may see and do what; these pages only choose what to offer, from the viewer's
role in the evaluation and the cycle's stage."""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, Response, flash, redirect, request, url_for

from .auth import api, current_user, login_required
from .client import ApiProblem
from .web import (
    BERAKHLAK,
    NotYours,
    P,
    R,
    acts_as,
    error_page,
    forbidden,
    form_errors,
    get_own,
    local_zone,
    page,
    settings,
    t,
    today,
)

bp = Blueprint("evaluations", __name__)
RATINGS = ("above", "meets", "below")
SELF_FIELDS = ("achievements", "challenges", "improvement_plan")
TEXT_MAX = 8000


# ------------------------------------------------------------------ shared by the evaluation pages


def load_evaluation(evaluation_id: int) -> tuple[dict, str | None]:
    return get_own(f"{R}/evaluations/{evaluation_id}")


@bp.app_template_filter("eval_date")
def eval_date(value) -> str:
    """An API timestamp as the date in the agency's zone (where the people are), ``YYYY-MM-DD``."""
    moment = _parse_dt(value) if isinstance(value, str) else value
    if moment is None:
        return str(value or "")[:10]
    if moment.tzinfo is None:
        return moment.date().isoformat()
    return moment.astimezone(local_zone()).date().isoformat()


def roles_in(ev: dict) -> dict[str, bool]:
    """The viewer's part in the evaluation (a Plt/Plh acts as the official they stand in for; HR records
    the penilai's and atasan's acts for the top official)."""
    user = current_user()
    nip = user.nip
    hr = user.is_hr
    return {
        "employee": bool(nip) and nip == ev["employee_nip"],
        "penilai": acts_as(ev.get("penilai_nip")) or (ev.get("penilai_nip") is None and hr),
        "atasan": acts_as(ev.get("atasan_nip")) or (ev.get("atasan_nip") is None and hr),
        "hr": hr,
    }


def load_cycle(cycle_id: int) -> dict | None:
    try:
        return api().get(f"{P}/cycles/{cycle_id}")
    except ApiProblem as exc:
        if exc.status in (403, 404):
            return None
        raise


def stage_allows(cycle: dict | None, ev: dict, action: str) -> bool:
    """What the reviews service allows in the cycle's stage (it refuses anything else with 409);
    the pages offer only these actions."""
    if cycle is None:
        return False
    stage, seq, phase = cycle.get("stage"), cycle.get("period_seq") or 0, cycle.get("phase")
    annual = ev["period_seq"] == 0
    here = stage == "monitoring" and seq == ev["period_seq"]
    past = (stage == "monitoring" and seq > ev["period_seq"]) or stage in (
        "annual_evaluation",
        "calibration",
        "sign_off",
        "objections",
    )
    if action == "self_assess":
        return stage == "annual_evaluation" if annual else here and phase in ("check_in", "self_assessment")
    if action == "rate":
        return stage == "annual_evaluation" if annual else here and phase == "supervisor_evaluation"
    if action in ("sign", "acknowledge", "countersign"):
        return stage in ("sign_off", "objections") if annual else (here and phase == "supervisor_evaluation") or past
    if action == "object":
        return stage != "closed"
    raise ValueError(action)


def _parse_dt(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def objection_closes_on(ev: dict) -> date | None:
    """The last day to object, as the evaluation states it (``objection_deadline``, set once acknowledged):
    the reviews service counts the window on the agency's calendar, the page does not count again."""
    deadline = ev.get("objection_deadline")
    return date.fromisoformat(deadline) if deadline else None


def plan_snapshot(ev: dict) -> dict | None:
    """The approved SKP version the evaluation is based on (RHK, IKI, targets, BerAKHLAK expectations)."""
    try:
        return api().get(f"{P}/plans/{ev['plan_id']}/versions/{ev['plan_revision']}")["snapshot"]
    except (ApiProblem, KeyError, TypeError):
        return None


def _objection_for(evaluation_id: int) -> dict | None:
    try:
        items = api().all(f"{R}/objections", evaluation_id=evaluation_id)
    except ApiProblem:
        return None
    for o in items:
        if o["evaluation_id"] == evaluation_id:
            return o
    return None


def _documents(evaluation_id: int) -> list[dict]:
    try:
        return api().get(f"{R}/evaluations/{evaluation_id}/documents") or []
    except ApiProblem as exc:
        if exc.status in (403, 404):
            return []
        raise


def _follow_up(ev: dict) -> dict | None:
    """The development plan or recognition planned at countersigning."""
    if ev["status"] != "countersigned":
        return None
    try:
        items = api().all(f"{R}/followups", cycle_id=ev["cycle_id"])
    except ApiProblem:
        return None
    return next((f for f in items if f["evaluation_id"] == ev["id"]), None)


def form_text(name: str) -> str:
    return (request.form.get(name) or "").strip()


def check_length(errors: dict, name: str, value: str) -> None:
    if len(value) > TEXT_MAX:
        errors[name] = t("evaluations.error.too_long", n=TEXT_MAX)


def refusal_errors(
    exc: ApiProblem,
    fields: dict[str, str] | None = None,
    *,
    default_field: str | None = None,
    suggested: str | None = None,
) -> dict[str, str]:
    """The API's refusal beside the field: its field errors mapped to the form's names, a few
    codes worded here, and a refusal without a field (409) beside ``default_field``."""
    codes = {e.get("field"): e.get("code") for e in exc.errors}
    errors = form_errors(exc, fields)
    for field_name, code in codes.items():
        target = (fields or {}).get(field_name, field_name)
        if code == "rating.deviation_reason_required":
            errors[target] = t(
                "evaluations.error.deviation_reason_required",
                suggested=t(f"rating.{suggested}") if suggested in RATINGS else "-",
            )
        elif code == "objection.new_rating_required":
            errors[target] = t("evaluations.error.new_rating_required")
    if not exc.errors:
        message = exc.detail or t("error.generic.body")
        if exc.code == "objection.window_closed":
            closed = exc.body.get("closed_on")
            message = t("evaluations.objection.window_closed_on", date=closed) if closed else message
        elif exc.status == 412:
            message = t("evaluations.error.changed_meanwhile")
        errors = {default_field or "_": message}
    return errors


def shown(exc: ApiProblem) -> ApiProblem:
    """A refusal the page shows (validation, conflict, stale version) comes back; not a party (the
    API's 403/404) is "tidak berwenang"; anything else goes to the shared error pages."""
    if exc.status in (403, 404):
        raise NotYours() from exc
    if exc.status not in (409, 412, 422, 428):
        raise exc
    return exc


# ------------------------------------------------------------------ my evaluations


@bp.get("/evaluasi")
@login_required()
def mine():
    user = current_user()
    if not user.nip:
        return page("portal/evaluations/mine.html", evaluations=[], cycles={}, no_nip=True)
    items = api().all(f"{R}/evaluations", role="employee")
    cycles = {c["id"]: c for c in api().get(f"{P}/cycles", limit=50)["items"]}
    items.sort(key=lambda e: (-(e["cycle_id"]), e["period_seq"] == 0, e["period_seq"]))
    annual = [e for e in items if e["period_seq"] == 0]
    periodic = [e for e in items if e["period_seq"] != 0]
    return page(
        "portal/evaluations/mine.html", evaluations=items, annual=annual, periodic=periodic, cycles=cycles, no_nip=False
    )


# ------------------------------------------------------------------ one evaluation


def detail_page(
    evaluation_id: int,
    status: int = 200,
    *,
    errors: dict | None = None,
    form: dict | None = None,
    posted: str | None = None,
):
    ev, etag = load_evaluation(evaluation_id)
    roles = roles_in(ev)
    cycle = load_cycle(ev["cycle_id"])
    plan = plan_snapshot(ev)
    objection = _objection_for(evaluation_id) if ev.get("acknowledged_at") else None
    closes_on = objection_closes_on(ev)
    window_open = closes_on is not None and today() <= closes_on and stage_allows(cycle, ev, "object")
    iki = [(r, i) for r in (plan or {}).get("rhk", []) for i in r.get("iki", [])]
    sa = ev.get("self_assessment") or {}
    ctx = dict(
        ev=ev,
        etag=etag,
        roles=roles,
        cycle=cycle,
        plan=plan,
        iki=iki,
        objection=objection,
        documents=_documents(evaluation_id) if ev.get("document_version") else [],
        follow_up=_follow_up(ev),
        values=BERAKHLAK,
        closes_on=closes_on,
        window_open=window_open,
        can_self_assess=roles["employee"] and ev["status"] == "open" and stage_allows(cycle, ev, "self_assess"),
        can_rate=roles["penilai"]
        and ev["status"] in ("open", "self_assessed", "rated")
        and stage_allows(cycle, ev, "rate"),
        can_sign=roles["penilai"] and ev["status"] == "rated" and stage_allows(cycle, ev, "sign"),
        can_acknowledge=roles["employee"] and ev["status"] == "signed" and stage_allows(cycle, ev, "acknowledge"),
        can_countersign=roles["atasan"] and ev["status"] == "acknowledged" and stage_allows(cycle, ev, "countersign"),
        can_object=roles["employee"] and objection is None and ev["status"] in ("acknowledged", "countersigned"),
        errors=errors or {},
        posted=posted,
        objection_days=settings().objection_days,
        form=form
        if form is not None
        else {
            **{f: sa.get(f) or "" for f in SELF_FIELDS},
            **{f"iki_comments.{k}": v for k, v in (sa.get("iki_comments") or {}).items()},
        },
    )
    return page("portal/evaluations/detail.html", status, **ctx)


@bp.get("/evaluasi/<int:evaluation_id>")
@login_required()
def detail(evaluation_id: int):
    return detail_page(evaluation_id)


@bp.post("/evaluasi/<int:evaluation_id>/penilaian-diri")
@login_required()
def self_assessment(evaluation_id: int):
    """The employee's self-assessment: ``action=save`` keeps a draft (PUT with If-Match), ``submit`` sends it."""
    submit = request.form.get("action") == "submit"
    body: dict = {f: form_text(f) or None for f in SELF_FIELDS}
    comments = {
        k[len("iki_comments.") :]: (v or "").strip()
        for k, v in request.form.items()
        if k.startswith("iki_comments.") and (v or "").strip()
    }
    body["iki_comments"] = comments
    form = {**{f: body[f] or "" for f in SELF_FIELDS}, **{f"iki_comments.{k}": v for k, v in comments.items()}}
    errors: dict[str, str] = {}
    for f in SELF_FIELDS:
        if submit and not body[f]:
            errors[f] = t("form.required")
        check_length(errors, f, body[f] or "")
    for k, v in comments.items():
        check_length(errors, f"iki_comments.{k}", v)
    if errors:
        return detail_page(evaluation_id, 422, errors=errors, form=form, posted="self")
    etag = request.form.get("etag") or None
    path = f"{R}/evaluations/{evaluation_id}/self-assessment"
    try:
        if submit:
            api().post(path + "/submit", body, headers={"If-Match": etag} if etag else None)
        else:
            api().put(path, body, etag)
    except ApiProblem as exc:
        shown(exc)
        return detail_page(
            evaluation_id, 422, errors=refusal_errors(exc, {"iki_comments.": "iki_comments."}), form=form, posted="self"
        )
    flash(t("evaluations.self.submitted" if submit else "evaluations.self.saved"), "ok")
    return redirect(url_for("evaluations.detail", evaluation_id=evaluation_id) + "#penilaian-diri")


@bp.get("/evaluasi/<int:evaluation_id>/dokumen.pdf")
@login_required()
def document(evaluation_id: int):
    """The evaluation document (the latest signed version, or a draft marked as such), fetched
    from the reviews service with the user's token and passed on as it is."""
    try:
        upstream = api().request(
            "GET", f"{R}/evaluations/{evaluation_id}/document.pdf", headers={"Accept": "application/pdf"}
        )
    except ApiProblem as exc:
        if exc.status in (403, 404):
            return forbidden()
        raise
    if not upstream.headers.get("content-type", "").startswith("application/pdf"):
        return error_page(503, "error.unavailable")
    disposition = upstream.headers.get("content-disposition") or f'inline; filename="penilaian-{evaluation_id}.pdf"'
    return Response(
        upstream.content,
        mimetype="application/pdf",
        headers={"Content-Disposition": disposition, "Cache-Control": "private, no-store"},
    )
