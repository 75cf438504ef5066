"""Peer feedback as people do it (umpan balik rekan): the employee proposes colleagues as peer raters
(``/rekan/usulan/<evaluation>``), the penilai approves or edits the list (``/rekan/setujui/<evaluation>``,
which nominates them: each is notified), and each nominated colleague finds the request under
"Permintaan umpan balik rekan" (``/rekan``) and answers per BerAKHLAK value (``/rekan/permintaan/<evaluation>``).

The reviews API decides who may do what and keeps the answers anonymous (the employee sees only the
aggregate, from three answers, once the round is closed); this module validates the forms beside each
field and words the states. The employee's page never shows whom the penilai nominated."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for

from .auth import api, current_user, login_required
from .client import ApiProblem
from .web import BERAKHLAK, NotYours, R, acts_as, form_errors, get_own, local_time, page, t

bp = Blueprint("peers", __name__)

RATINGS = ("above", "meets", "below")
MAX_COMMENT = 8000  # as the reviews API's TEXT
FROZEN = ("signed", "acknowledged", "countersigned")


@bp.app_template_filter("peers_time")
def peers_time(value) -> str:
    at = local_time(value) if value else None
    return at.strftime("%Y-%m-%d %H:%M") if at else "—"


def _requests() -> list[dict]:
    return api().get(f"{R}/evaluations", role="peer", limit=200)["items"]


def _proposal(evaluation_id: int) -> dict:
    try:
        return api().get(f"{R}/evaluations/{evaluation_id}/peer-proposal")
    except ApiProblem as exc:
        if exc.status in (403, 404):
            raise NotYours() from exc
        raise


def _summary(evaluation_id: int) -> dict | None:
    try:
        return api().get(f"{R}/evaluations/{evaluation_id}/peer-feedback")
    except ApiProblem:
        return None


def _chosen(errors_api: dict[str, str], nips: list[str]) -> dict[str, str]:
    """The API's errors on ``rater_nips[i]`` beside the colleague ``nips[i]``; the list's own as ``rater_nips``."""
    out: dict[str, str] = {}
    for field, message in errors_api.items():
        if field.startswith("rater_nips[") and field.endswith("]"):
            i = field[len("rater_nips[") : -1]
            if i.isdigit() and int(i) < len(nips):
                out[f"nip:{nips[int(i)]}"] = message
                continue
        out.setdefault("rater_nips" if field.startswith("rater_nips") else field, message)
    return out


def _pick(form_nips: list[str], offered: set[str], minimum: int) -> dict[str, str]:
    """The portal's own checks before the API sees the list."""
    if not form_nips:
        return {"rater_nips": t("peers.error.none")}
    if any(n not in offered for n in form_nips):
        return {"rater_nips": t("peers.error.unknown")}
    if len(form_nips) < minimum:
        return {"rater_nips": t("peers.error.too_few", minimum=minimum)}
    if len(form_nips) > 20:
        return {"rater_nips": t("peers.error.too_many")}
    return {}


# ------------------------------------------------------------------ overview


@bp.get("/rekan")
@login_required()
def index():
    user = current_user()
    client = api()
    requests_ = _requests() if user.nip else []
    mine, team = [], []
    if user.nip:
        for ev in client.get(f"{R}/evaluations", role="employee", limit=50)["items"]:
            if ev["status"] not in FROZEN:
                mine.append({**ev, "proposal": _proposal(ev["id"])})
    if user.is_supervisor:
        for ev in client.get(f"{R}/evaluations", role="penilai", limit=200)["items"]:
            if ev["status"] not in FROZEN:
                prop = _proposal(ev["id"])
                if prop["status"] != "none":
                    team.append({**ev, "proposal": prop})
    return page("portal/peers/index.html", requests=requests_, mine=mine, team=team)


# ------------------------------------------------------------------ the employee proposes


@bp.route("/rekan/usulan/<int:evaluation_id>", methods=["GET", "POST"])
@login_required()
def propose(evaluation_id: int):
    ev, _ = get_own(f"{R}/evaluations/{evaluation_id}")
    if ev["employee_nip"] != current_user().nip:
        raise NotYours()
    prop = _proposal(evaluation_id)
    chosen = list(prop["rater_nips"])
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST" and prop["status"] != "approved":
        chosen = [n for n in request.form.getlist("rater_nips") if n]
        errors = _pick(chosen, {c["nip"] for c in prop["candidates"]}, prop["minimum"])
        if not errors:
            try:
                api().put(f"{R}/evaluations/{evaluation_id}/peer-proposal", json={"rater_nips": chosen})
                flash(t("peers.proposed_ok"), "ok")
                return redirect(url_for("peers.propose", evaluation_id=evaluation_id))
            except ApiProblem as exc:
                if exc.status not in (409, 422):
                    raise
                errors = _chosen(form_errors(exc), chosen) if exc.status == 422 else {"_": exc.detail}
        status = 422
    summary = _summary(evaluation_id) if prop["status"] == "approved" else None
    return page("portal/peers/propose.html", status, ev=ev, prop=prop, chosen=chosen, errors=errors, summary=summary)


# ------------------------------------------------------------------ the penilai approves (or edits)


@bp.route("/rekan/setujui/<int:evaluation_id>", methods=["GET", "POST"])
@login_required()
def approve(evaluation_id: int):
    ev, _ = get_own(f"{R}/evaluations/{evaluation_id}")
    if not acts_as(ev.get("penilai_nip")):
        raise NotYours()
    prop = _proposal(evaluation_id)
    chosen = list(prop["rater_nips"])
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST" and prop["status"] != "approved":
        chosen = [n for n in request.form.getlist("rater_nips") if n]
        offered = {c["nip"] for c in prop["candidates"]} | set(prop["rater_nips"])
        errors = _pick(chosen, offered, prop["minimum"])
        if not errors:
            try:
                api().post(f"{R}/evaluations/{evaluation_id}/peers", json={"rater_nips": chosen})
                flash(t("peers.approved_ok", n=len(chosen)), "ok")
                return redirect(url_for("peers.approve", evaluation_id=evaluation_id))
            except ApiProblem as exc:
                if exc.status not in (409, 422):
                    raise
                errors = _chosen(form_errors(exc), chosen) if exc.status == 422 else {"_": exc.detail}
        status = 422
    proposed = {p["nip"] for p in prop["proposed"]}
    people = prop["proposed"] + [c for c in prop["candidates"] if c["nip"] not in proposed]
    summary = _summary(evaluation_id) if prop["status"] == "approved" else None
    return page(
        "portal/peers/approve.html",
        status,
        ev=ev,
        prop=prop,
        people=people,
        chosen=chosen,
        errors=errors,
        summary=summary,
    )


# ------------------------------------------------------------------ the peer answers


@bp.route("/rekan/permintaan/<int:evaluation_id>", methods=["GET", "POST"])
@login_required()
def answer(evaluation_id: int):
    req = next((r for r in _requests() if r["id"] == evaluation_id), None) if current_user().nip else None
    if req is None:  # not asked, already answered, or the evaluation is signed
        raise NotYours()
    form = {code: "" for code in BERAKHLAK} | {"comment": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {code: request.form.get(code, "").strip() for code in BERAKHLAK}
        form["comment"] = request.form.get("comment", "").strip()
        for code in BERAKHLAK:
            if form[code] not in RATINGS:
                errors[code] = t("peers.error.value_required")
        if len(form["comment"]) > MAX_COMMENT:
            errors["comment"] = t("peers.error.comment_long", max=MAX_COMMENT)
        if not errors:
            body = {"answers": {c: form[c] for c in BERAKHLAK}, "comment": form["comment"] or None}
            try:
                api().post(f"{R}/evaluations/{evaluation_id}/peer-feedback", json=body)
                flash(t("peers.answered_ok", name=req["employee_name"]), "ok")
                return redirect(url_for("peers.index"))
            except ApiProblem as exc:
                if exc.status not in (409, 422):
                    raise
                errors = form_errors(exc, {"answers.": ""}) if exc.status == 422 else {"_": exc.detail}
    ratings = [(r, t("rating." + r)) for r in RATINGS]
    return page(
        "portal/peers/answer.html",
        422 if errors else 200,
        req=req,
        form=form,
        errors=errors,
        ratings=ratings,
        BERAKHLAK=BERAKHLAK,
    )
