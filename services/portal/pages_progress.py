"""Recording progress on my approved SKP (employee): the realisation of each IKI per period with
its evidence files, downloading a piece of evidence, and the daily log of activities."""

from __future__ import annotations

from collections import OrderedDict
from datetime import date, timedelta

from flask import Response, flash, redirect, request, url_for

from .auth import api, current_user, login_required
from .client import ApiProblem
from .pages_employee import bp, cycle_of, cycles, my_plan, parse_number, period_name
from .web import P, forbidden, form_errors, page, t, today


def _period_seq(cycle: dict | None) -> int:
    seq = request.values.get("period_seq", type=int)
    periods = [p["seq"] for p in (cycle or {}).get("periods") or []]
    if seq in periods:
        return seq
    if cycle and cycle.get("period_seq"):
        return cycle["period_seq"]
    return periods[0] if periods else 1


@bp.route("/skp/<int:plan_id>/realisasi", methods=["GET", "POST"])
@login_required("employee")
def realisation(plan_id: int):
    data, _ = my_plan(plan_id)
    cycle = cycle_of(data)
    seq = _period_seq(cycle)
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        errors, values = _record_realisation(plan_id, data, seq)
        if not errors:
            flash(t("employee.realisation.saved"), "ok")
            return redirect(url_for("employee.realisation", plan_id=plan_id, period_seq=seq))
        status = 422
    recorded = {r["iki_id"]: r for r in api().get(f"{P}/plans/{plan_id}/realisations", period_seq=seq)}
    return page(
        "portal/employee/realisation.html",
        status,
        plan=data,
        cycle=cycle,
        seq=seq,
        recorded=recorded,
        errors=errors,
        values=values,
        approved=data["status"] in ("approved", "revised"),
        period_name=period_name(cycle, seq) if cycle else str(seq),
    )


def _record_realisation(plan_id: int, plan: dict, seq: int) -> tuple[dict, dict]:
    f = request.form
    iki_id = f.get("iki_id", "")
    iki = next((k for r in plan["rhk"] for k in r["iki"] if k["id"] == iki_id), None)
    p = f"iki-{iki_id}-"
    values = {p + k: f.get(p + k, "").strip() for k in ("value", "text", "note")}
    values["iki_id"] = iki_id
    if iki is None:
        return {"_": t("employee.realisation.unknown_iki")}, values
    errors: dict[str, str] = {}
    raw, text = values[p + "value"], values[p + "text"]
    value = None
    if raw:
        try:
            value = parse_number(raw)
        except ValueError:
            errors[p + "value"] = t("form.number")
    elif not text:
        errors[p + "value"] = t("employee.realisation.value_required")
    uploads = [u for u in request.files.getlist(p + "file") if u.filename]
    if errors:
        return errors, values
    body = {
        "iki_id": iki_id,
        "period_seq": seq,
        "value": value,
        "text": text or None,
        "note": values[p + "note"] or None,
    }
    try:
        rec = api().post(f"{P}/plans/{plan_id}/realisations", body)
    except ApiProblem as exc:
        if exc.status not in (409, 422):
            raise
        mapped = {p + (k if k in ("value", "text", "note") else "value"): v for k, v in exc.field_errors().items()}
        return mapped or {"_": exc.detail or t("error.generic.body")}, values
    for upload in uploads:  # each file on its own: one refused file does not lose the others
        try:
            api().request(
                "POST",
                f"{P}/plans/{plan_id}/realisations/{rec['id']}/evidence",
                files={"file": (upload.filename, upload.stream.read(), upload.mimetype)},
            )
        except ApiProblem as exc:
            if exc.status not in (409, 413, 415, 422):
                raise
            return {p + "file": t("employee.realisation.file_refused", name=upload.filename, detail=exc.detail)}, values
    return {}, values


@bp.get("/skp/bukti/<int:evidence_id>")
@login_required()
def evidence(evidence_id: int):
    try:
        resp = api().request("GET", f"{P}/evidence/{evidence_id}")
    except ApiProblem as exc:
        if exc.status in (403, 404):
            return forbidden()
        raise
    return Response(
        resp.content,
        mimetype=resp.headers.get("Content-Type", "application/octet-stream"),
        headers={
            "Content-Disposition": resp.headers.get("Content-Disposition", "attachment"),
            "X-Content-Type-Options": "nosniff",
        },
    )


# ------------------------------------------------------------------ daily log


def _approved_ikis(user) -> list[tuple[str, str]]:
    """IKI of my approved SKP in the cycle that is running (for the optional link of a log entry)."""
    running = [c for c in cycles() if c["stage"] != "closed"]
    if not running or not user.nip:
        return []
    mine = api().get(f"{P}/plans", cycle_id=running[-1]["id"], employee_nip=user.nip, limit=1)["items"]
    if not mine or mine[0]["status"] not in ("approved", "revised"):
        return []
    plan = api().get(f"{P}/plans/{mine[0]['id']}")
    return [(k["id"], f"{k['indicator']} — {r['description']}") for r in plan["rhk"] for k in r["iki"]]


@bp.route("/log-harian", methods=["GET", "POST"])
@login_required("employee")
def daily_logs():
    user = current_user()
    ikis = _approved_ikis(user)
    errors: dict[str, str] = {}
    values = {"date": today().isoformat(), "activity": "", "minutes": "", "iki_id": ""}
    status = 200
    if request.method == "POST":
        values = {k: request.form.get(k, "").strip() for k in values}
        body: dict = {"activity": values["activity"], "iki_id": values["iki_id"] or None}
        try:
            body["date"] = date.fromisoformat(values["date"]).isoformat()
        except ValueError:
            errors["date"] = t("form.date")
        if not values["activity"]:
            errors["activity"] = t("form.required")
        try:
            body["minutes"] = int(values["minutes"])
            if not 1 <= body["minutes"] <= 1440:
                errors["minutes"] = t("employee.log.minutes_range")
        except ValueError:
            errors["minutes"] = t("form.number") if values["minutes"] else t("form.required")
        if not errors:
            try:
                api().post(f"{P}/daily-logs", body)
            except ApiProblem as exc:
                if exc.status not in (409, 422):
                    raise
                errors = form_errors(exc)
            else:
                flash(t("employee.log.saved"), "ok")
                return redirect(url_for("employee.daily_logs"))
        status = 422
    since = today() - timedelta(days=30)
    logs = api().all(f"{P}/daily-logs", **{"from": since.isoformat()})
    days: OrderedDict[str, list] = OrderedDict()
    for entry in sorted(logs, key=lambda e: (e["date"], e["id"]), reverse=True):
        days.setdefault(entry["date"], []).append(entry)
    labels = dict(ikis)
    return page(
        "portal/employee/daily_logs.html",
        status,
        errors=errors,
        values=values,
        ikis=ikis,
        labels=labels,
        days=[(d, items, sum(e["minutes"] for e in items)) for d, items in days.items()],
    )
