"""The superior's pages: the team dashboard (SKP waiting for my approval, my direct reports' plans,
today's daily logs of the team, evaluations to rate) and the SKP review with approve / return with
a note. The list of today's logs is also served as an HTML fragment that static/team.js re-fetches
every 20 s; without JavaScript the page shows the same list when loaded."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for

from .auth import api, current_user, login_required
from .client import ApiProblem
from .pages_employee import cycle_of, cycles, load_plan, my_rhk_labels
from .web import BERAKHLAK, P, R, decides_for, forbidden, local_time, page, t, team_plans, today

bp = Blueprint("supervisor", __name__)


def _running_cycle() -> dict | None:
    running = [c for c in cycles() if c["stage"] != "closed"]
    return running[-1] if running else None


def _team(user) -> dict[str, dict]:
    """My direct reports, by NIP."""
    return {e["nip"]: e for e in api().all(f"{P}/employees", superior_nip=user.nip, active=True)}


def _today_logs(user, team: dict[str, dict] | None = None) -> list[dict]:
    team = team if team is not None else _team(user)
    day = today().isoformat()
    logs = api().all(f"{P}/daily-logs", team=True, **{"from": day, "to": day})
    for entry in logs:
        person = team.get(entry["employee_nip"])
        entry["employee_name"] = person["name"] if person else entry["employee_nip"]
    return sorted(logs, key=lambda e: e["id"], reverse=True)


@bp.get("/tim")
@login_required("supervisor")
def team():
    user = current_user()
    cycle = _running_cycle()
    people = _team(user)
    ctx: dict = {
        "cycle": cycle,
        "people": people,
        "waiting": [],
        "plans": [],
        "without_plan": [],
        "to_rate": None,
        "coverage": None,
        "my_plan": None,
    }
    if cycle:
        plans = team_plans(cycle["id"])  # my reports', and as Plt/Plh those of whom I stand in for
        ctx["waiting"] = [p for p in plans if p["status"] == "submitted"]
        ctx["plans"] = sorted(plans, key=lambda p: p["employee_name"])
        with_plan = {p["employee_nip"] for p in plans}
        ctx["without_plan"] = sorted((e for n, e in people.items() if n not in with_plan), key=lambda e: e["name"])
        mine = api().get(f"{P}/plans", cycle_id=cycle["id"], employee_nip=user.nip, limit=1)["items"]
        if mine:  # how my RHK are supported by the team's SKP (the cascade)
            ctx["coverage"] = api().get(f"{P}/plans/{mine[0]['id']}/coverage")
            ctx["my_plan"] = mine[0]
        try:
            evaluations = api().get(f"{R}/evaluations", role="penilai", cycle_id=cycle["id"], limit=200)["items"]
            ctx["to_rate"] = sum(1 for e in evaluations if e["status"] in ("open", "self_assessed"))
        except ApiProblem:
            ctx["to_rate"] = None  # the reviews service is away: the rest of the dashboard still works
    ctx["logs"] = _today_logs(user, people)
    ctx["today"] = today()
    return page("portal/supervisor/team.html", **ctx)


@bp.get("/tim/log-hari-ini")
@login_required("supervisor")
def team_logs_fragment():
    user = current_user()
    return page("portal/supervisor/_team_logs.html", logs=_today_logs(user), today=today())


def _review(plan_id: int, status: int = 200, errors: dict | None = None, note: str = ""):
    from .pages_expectations import WRITABLE, written  # the penilai's expectations, written on their own page

    user = current_user()
    data, etag = load_plan(plan_id)
    if data["employee_nip"] == user.nip:
        return redirect(url_for("employee.plan", plan_id=plan_id))
    parents = my_rhk_labels(data["cycle_id"])  # my own RHK, which the subordinate's RHK support
    cycle = cycle_of(data)
    versions = api().get(f"{P}/plans/{plan_id}/versions") if data["revision"] else []
    return page(
        "portal/supervisor/review.html",
        status,
        plan=data,
        etag=etag,
        cycle=cycle,
        parents=parents,
        versions=versions,
        berakhlak=BERAKHLAK,
        errors=errors or {},
        note=note,
        penilai_name=user.name,
        can_decide=data["status"] == "submitted" and decides_for(data["penilai_nip"]),
        can_write=data["status"] in WRITABLE and decides_for(data["penilai_nip"]),
        who=written(data),  # per BerAKHLAK value: written by the penilai, by the employee, or missing
    )


@bp.get("/tim/skp/<int:plan_id>")
@login_required("supervisor", "hr")  # HR: the top official's SKP
def plan_review(plan_id: int):
    return _review(plan_id)


@bp.post("/tim/skp/<int:plan_id>/approve")
@login_required("supervisor", "hr")  # HR: the top official's SKP
def plan_approve(plan_id: int):
    try:
        plan = api().post(
            f"{P}/plans/{plan_id}/approve",
            headers={"If-Match": request.form["etag"]} if request.form.get("etag") else None,
        )
    except ApiProblem as exc:
        return _decision_failed(plan_id, exc)
    flash(t("supervisor.approved", name=plan["employee_name"]), "ok")
    return redirect(url_for("supervisor.plan_review", plan_id=plan_id))


@bp.post("/tim/skp/<int:plan_id>/return")
@login_required("supervisor", "hr")  # HR: the top official's SKP
def plan_return(plan_id: int):
    note = (request.form.get("note") or "").strip()
    if not note:
        return _review(plan_id, 422, {"note": t("supervisor.error.note_required")}, note)
    if len(note) < 3:
        return _review(plan_id, 422, {"note": t("supervisor.error.note_short")}, note)
    try:
        plan = api().post(
            f"{P}/plans/{plan_id}/return",
            {"note": note},
            headers={"If-Match": request.form["etag"]} if request.form.get("etag") else None,
        )
    except ApiProblem as exc:
        if exc.status == 422:
            return _review(plan_id, 422, {"note": exc.field_errors().get("note") or exc.detail}, note)
        return _decision_failed(plan_id, exc, note)
    flash(t("supervisor.returned", name=plan["employee_name"]), "ok")
    return redirect(url_for("supervisor.plan_review", plan_id=plan_id))


def _decision_failed(plan_id: int, exc: ApiProblem, note: str = ""):
    if exc.status in (403, 404):
        return forbidden()
    if exc.status == 412:
        return _review(plan_id, 409, {"_": t("supervisor.error.stale")}, note)
    missing = expectations_missing(exc)
    if missing:  # approving needs the seven expectations: name them (the page links to writing them)
        return _review(plan_id, 422, {"_": missing}, note)
    if exc.status in (409, 422):
        return _review(plan_id, 409, {"_": exc.detail or t("error.generic.body")}, note)
    raise exc


def expectations_missing(exc: ApiProblem) -> str | None:
    """An approval refused for want of the ekspektasi khusus pimpinan, in words naming the values."""
    fields = exc.field_errors() if exc.status == 422 else {}
    missing = [f.split(".", 1)[1] for f in fields if f.startswith("behaviour.")]
    if not missing:
        return None
    return t("expectations.review.blocked", values=", ".join(t(f"berakhlak.{v}") for v in BERAKHLAK if v in missing))


@bp.app_template_filter("supervisor_time")
def _fmt_time(value) -> str:
    """An API timestamp (UTC) as the wall-clock time in the agency's zone, ``HH:MM``."""
    at = local_time(value)
    return at.strftime("%H:%M") if at else str(value)
