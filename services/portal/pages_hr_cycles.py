"""Evaluation cycles (HR): the agency's cycles and creating one, a cycle's page with the SKP and
evaluation completion per unit and status, moving the cycle to its next stage, and each
period's deadline."""

from __future__ import annotations

from collections import Counter

from flask import Response, flash, redirect, request, url_for

from .auth import api, login_required
from .client import ApiProblem
from .pages_hr import all_cycles, bp, period_name, refusal_beside, state_text, to_date, to_int, units_in_tree_order
from .web import P, R, form_errors, page, t, today

PERIOD_TYPES = ("monthly", "quarterly", "semester")
PLAN_STATUSES = ("draft", "submitted", "returned", "approved")
EVAL_STATUSES = ("open", "self_assessed", "rated", "signed", "acknowledged", "countersigned")
EVAL_RATED = frozenset({"rated", "signed", "acknowledged", "countersigned"})
AFTER_MONITORING = ("annual_evaluation", "calibration", "sign_off", "objections", "closed")
EDITABLE_PERIODS = ("draft", "planning")


@bp.get("/siklus")
@login_required("hr")
def cycles():
    return _cycles_page({}, {}, 200)


def _cycles_page(values: dict, errors: dict, status: int) -> Response:
    items = all_cycles()
    return page(
        "portal/hr/cycles.html",
        status,
        cycles=list(reversed(items)),
        values=values,
        errors=errors,
        period_types=[(p, t(f"hr.period_type.{p}")) for p in PERIOD_TYPES],
        state_text=state_text,
        this_year=today().year,
    )


@bp.post("/siklus")
@login_required("hr")
def cycle_create():
    f = request.form
    values = {k: (f.get(k) or "").strip() for k in ("year", "period_type", "planning_deadline", "name")}
    errors: dict[str, str] = {}
    year = to_int(values["year"])
    if not values["year"]:
        errors["year"] = t("form.required")
    elif year is None:
        errors["year"] = t("form.number")
    if values["period_type"] not in PERIOD_TYPES:
        errors["period_type"] = t("hr.cycle.choose_period_type")
    deadline = None
    if values["planning_deadline"]:
        deadline = to_date(values["planning_deadline"])
        if deadline is None:
            errors["planning_deadline"] = t("form.date")
    if errors:
        return _cycles_page(values, errors, 422)
    body = {"year": year, "period_type": values["period_type"]}
    if deadline:
        body["planning_deadline"] = deadline.isoformat()
    if values["name"]:
        body["name"] = values["name"]
    try:
        c = api().post(f"{P}/cycles", body)
    except ApiProblem as exc:
        if exc.status not in (409, 422):
            raise
        errs = form_errors(
            exc,
            {"year": "year", "period_type": "period_type", "planning_deadline": "planning_deadline", "name": "name"},
        )
        if exc.code == "cycle.exists":
            errs = {"name": exc.detail}
        return _cycles_page(values, errs, 422)
    flash(t("hr.cycle.created", name=c["name"]), "ok")
    return redirect(url_for("hr.cycle", cycle_id=c["id"]))


@bp.get("/siklus/<int:cycle_id>")
@login_required("hr")
def cycle(cycle_id: int):
    return _cycle_page(cycle_id)


def _cycle_page(
    cycle_id: int,
    *,
    errors: dict | None = None,
    values: dict | None = None,
    status: int = 200,
    conflict: str | None = None,
) -> Response:
    client = api()
    c, etag = client.get_with_etag(f"{P}/cycles/{cycle_id}")
    units = units_in_tree_order(client.all(f"{P}/units"))
    if c.get("unit_codes"):
        units = [u for u in units if u["code"] in set(c["unit_codes"])]
    employees = [e for e in client.all(f"{P}/employees") if e.get("active", True)]
    staff = Counter(e.get("unit_code") for e in employees)
    code_of = {u["id"]: u["code"] for u in units}
    plans_per_unit: dict[str, Counter] = {u["code"]: Counter() for u in units}
    top_plans = []  # the top official's SKP: no penilai in the directory, HR records the approval
    for p in client.all(f"{P}/plans", cycle_id=cycle_id):
        plans_per_unit.setdefault(code_of.get(p["unit_id"], f"#{p['unit_id']}"), Counter())[p["status"]] += 1
        if not p.get("penilai_nip"):
            top_plans.append(p)
    plan_rows = []
    totals: Counter = Counter()
    for u in units:
        counts = plans_per_unit.get(u["code"], Counter())
        total = max(staff.get(u["code"], 0), sum(counts.values()))
        row = {
            "unit": u,
            "counts": counts,
            "total": total,
            "none": total - sum(counts.values()),
            "approved": counts.get("approved", 0) + counts.get("revised", 0),
        }
        totals.update(counts)
        totals["_total"] += total
        totals["_none"] += row["none"]
        totals["_approved"] += row["approved"]
        plan_rows.append(row)
    seqs = []
    if c["stage"] == "monitoring" and c.get("period_seq"):
        seqs.append(c["period_seq"])
    if c["stage"] in AFTER_MONITORING:
        seqs.append(0)
    eval_sections, notes = [], []
    for seq in seqs:
        try:
            evs = client.all(f"{R}/evaluations", cycle_id=cycle_id, period_seq=seq)
        except ApiProblem as exc:
            if exc.status < 500:
                raise
            notes.append(t("hr.cycle.reviews_unreachable"))
            continue
        per_unit: dict[str, Counter] = {}
        for e in evs:
            per_unit.setdefault(e["unit_code"], Counter())[e["status"]] += 1
        order = [u["code"] for u in units if u["code"] in per_unit] + sorted(set(per_unit) - {u["code"] for u in units})
        names = {u["code"]: u["name"] for u in units}
        rows = []
        for code in order:
            cnt = per_unit[code]
            rows.append(
                {
                    "code": code,
                    "name": names.get(code, code),
                    "counts": cnt,
                    "total": sum(cnt.values()),
                    "rated": sum(cnt.get(s, 0) for s in EVAL_RATED),
                    "countersigned": cnt.get("countersigned", 0),
                }
            )
        all_counts = Counter(e["status"] for e in evs)
        eval_sections.append(
            {
                "seq": seq,
                "name": period_name(c, seq),
                "rows": rows,
                "total": len(evs),
                "counts": all_counts,
                "rated": sum(all_counts.get(s, 0) for s in EVAL_RATED),
                "countersigned": all_counts.get("countersigned", 0),
            }
        )
    return page(
        "portal/hr/cycle.html",
        status,
        c=c,
        etag=etag or "",
        state_text=state_text,
        plan_rows=plan_rows,
        totals=totals,
        plan_statuses=PLAN_STATUSES,
        eval_statuses=EVAL_STATUSES,
        eval_sections=eval_sections,
        top_plans=top_plans,
        notes=notes,
        errors=errors or {},
        values=values or {},
        conflict=conflict,
        periods_editable=c["stage"] in EDITABLE_PERIODS,
        period_type=t(f"hr.period_type.{c['period_type']}"),
    )


@bp.post("/siklus/<int:cycle_id>/maju")
@login_required("hr")
def cycle_advance(cycle_id: int):
    expected = (request.form.get("expected") or "").strip() or None
    try:
        after = api().post(f"{P}/cycles/{cycle_id}/advance", {"expected": expected})
    except ApiProblem as exc:
        if exc.status != 409:
            raise
        now = api().get(f"{P}/cycles/{cycle_id}")
        message = t("hr.cycle.advance_conflict", detail=exc.detail, stage=state_text(now))
        return _cycle_page(cycle_id, status=409, conflict=message)
    flash(t("hr.cycle.advanced", stage=state_text(after)), "ok")
    return redirect(url_for("hr.cycle", cycle_id=cycle_id))


@bp.post("/siklus/<int:cycle_id>/periode/<int:seq>")
@login_required("hr")
def period_deadline(cycle_id: int, seq: int):
    name = f"deadline_{seq}"
    raw = (request.form.get(name) or "").strip()
    values = {name: raw}
    if not raw:
        return _cycle_page(cycle_id, errors={name: t("form.required")}, values=values, status=422)
    deadline = to_date(raw)
    if deadline is None:
        return _cycle_page(cycle_id, errors={name: t("form.date")}, values=values, status=422)
    etag = request.form.get("etag") or None
    try:
        api().patch(f"{P}/cycles/{cycle_id}/periods/{seq}", {"deadline": deadline.isoformat()}, etag)
    except ApiProblem as exc:
        if exc.status in (412, 428):  # changed meanwhile, or sent without the version it was read at
            return _cycle_page(cycle_id, errors={name: t("hr.cycle.stale")}, values=values, status=exc.status)
        if exc.status not in (409, 422):
            raise
        errs = refusal_beside(exc, "deadline", name)
        return _cycle_page(cycle_id, errors=errs, values=values, status=exc.status if exc.status == 409 else 422)
    flash(t("hr.cycle.deadline_saved", period=seq, date=deadline.isoformat()), "ok")
    return redirect(url_for("hr.cycle", cycle_id=cycle_id) + f"#periode-{seq}")
