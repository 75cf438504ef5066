"""The yardsticks of calibration and the changes it makes (HR; DOMAIN.md §5): each unit's
organisation result for a cycle's period (it chooses the distribution curve its people are rated
within), the agency's distribution rules as a table HR edits cell by cell, and per unit the
ratings with their adjustments — a rating changed with a reason, before and after kept and shown.

The services decide: a result on a closed cycle or a unit already signed is refused (409, shown
beside the unit's field in the API's words), an adjustment outside the calibration window likewise.
The portal checks the forms first so a wrong cell is named beside it and nothing is sent."""

from __future__ import annotations

import re

from flask import Response, flash, redirect, request, url_for

from .auth import api, login_required
from .client import ApiProblem
from .pages_hr import (
    all_cycles,
    bp,
    period_choices,
    period_name,
    refusal_beside,
    selection,
    state_text,
    to_int,
    units_in_tree_order,
)
from .pages_hr_calibration import violation_text, when
from .web import BERAKHLAK, P, R, error_page, form_errors, page, t

ORG_RESULTS = ("ISTIMEWA", "BAIK", "BUTUH_PERBAIKAN", "KURANG", "SANGAT_KURANG")
PREDIKATS = ("SANGAT_BAIK", "BAIK", "BUTUH_PERBAIKAN", "KURANG_MISCONDUCT", "SANGAT_KURANG")
BOUNDS = ("max", "min")
ROUNDINGS = ("nearest", "floor", "ceil")
RATINGS = ("above", "meets", "below")
CELLS = ("org_result", "bound", "predikats", "percent", "count", "rounding")
EXTRA_ROWS = 2  # blank rows offered for new rules
NUMBER = re.compile(r"^\d+(?:[.,]\d+)?$")


# ------------------------------------------------------------------ organisation results per unit


@bp.get("/kalibrasi/capaian-organisasi")
@login_required("hr")
def org_results():
    return _org_results_page()


def _org_results_page(errors: dict | None = None, values: dict | None = None, status: int = 200, args=None) -> Response:
    cycles_ = all_cycles()
    c, seq = selection(cycles_, args)
    units, results = [], {}
    if c is not None:
        units = units_in_tree_order(api().all(f"{P}/units"))
        try:
            rows = api().get(f"{R}/org-results", cycle_id=c["id"])
        except ApiProblem as exc:
            if not (exc.status == 404 and exc.code.startswith("cycle")):
                raise
            rows = []  # reviews has not heard of the cycle yet
        results = {r["unit_code"]: r | {"when": when(r.get("set_at"))} for r in rows if r["period_seq"] == seq}
    return page(
        "portal/hr/org_results.html",
        status,
        cycles=list(reversed(cycles_)),
        c=c,
        seq=seq,
        seqs=period_choices(c),
        units=units,
        results=results,
        options=[(r, t(f"hr.org.{r}")) for r in ORG_RESULTS],
        errors=errors or {},
        values=values or {},
        period_label=period_name(c, seq) if c else "",
        state_text=state_text,
    )


@bp.post("/kalibrasi/capaian-organisasi")
@login_required("hr")
def org_result_set():
    f = request.form
    cycle_id, seq = to_int(f.get("cycle_id")), to_int(f.get("period_seq"), 0)
    unit_code = (f.get("unit_code") or "").strip()
    if not cycle_id or not unit_code:
        return error_page(400, "error.generic", detail=t("hr.cal.no_cycle"))
    name = f"result-{unit_code}"
    result = (f.get(name) or "").strip()
    values = {name: result}
    if result not in ORG_RESULTS:
        return _org_results_page({name: t("hrorg.result.choose")}, values, 422, f)
    try:
        api().put(
            f"{R}/org-results", {"cycle_id": cycle_id, "period_seq": seq, "unit_code": unit_code, "result": result}
        )
    except ApiProblem as exc:
        if exc.status not in (409, 422):
            raise
        return _org_results_page(refusal_beside(exc, "result", name), values, exc.status, f)
    flash(t("hrorg.result.saved", unit=unit_code, result=t(f"hr.org.{result}")), "ok")
    return redirect(url_for("hr.org_results", cycle_id=cycle_id, period_seq=seq) + f"#unit-{unit_code}")


# ------------------------------------------------------------------ the distribution rules


def _rule_row(rule: dict) -> dict:
    """A rule as the table's cells show it (strings; the percent without a trailing .0)."""
    percent = rule.get("percent")
    return {
        "org_result": rule.get("org_result") or "",
        "bound": rule.get("bound") or "",
        "predikats": list(rule.get("predikats") or []),
        "percent": "" if percent is None else f"{percent:g}",
        "count": "" if rule.get("count") is None else str(rule["count"]),
        "rounding": rule.get("rounding") or "nearest",
    }


def _blank_row() -> dict:
    return {"org_result": "", "bound": "", "predikats": [], "percent": "", "count": "", "rounding": "nearest"}


@bp.get("/kalibrasi/aturan-distribusi")
@login_required("hr")
def distribution_rules():
    rules = api().get(f"{R}/distribution-rules")["rules"]
    rows = [_rule_row(r) for r in rules] + [_blank_row() for _ in range(EXTRA_ROWS)]
    return _rules_page(rows)


def _rules_page(rows: list[dict], errors: dict | None = None, status: int = 200) -> Response:
    return page(
        "portal/hr/distribution_rules.html",
        status,
        rows=[r | {"i": i} for i, r in enumerate(rows)],
        errors=errors or {},
        org_options=[(o, t(f"hr.org.{o}")) for o in ORG_RESULTS],
        bound_options=[(b, t(f"hrorg.bound.{b}")) for b in BOUNDS],
        rounding_options=[(r, t(f"hrorg.rounding.{r}")) for r in ROUNDINGS],
        predikats=PREDIKATS,
    )


def _read_rows(form) -> list[dict]:
    """The table's rows as sent (``<cell>-<i>``), each with ``delete`` ticked or not."""
    count = min(to_int(form.get("rows"), 0) or 0, 200)
    rows = []
    for i in range(count):
        rows.append(
            {
                "org_result": (form.get(f"org_result-{i}") or "").strip(),
                "bound": (form.get(f"bound-{i}") or "").strip(),
                "predikats": [p for p in form.getlist(f"predikats-{i}") if p],
                "percent": (form.get(f"percent-{i}") or "").strip(),
                "count": (form.get(f"count-{i}") or "").strip(),
                "rounding": (form.get(f"rounding-{i}") or "nearest").strip(),
                "delete": bool(form.get(f"delete-{i}")),
            }
        )
    return rows


def _check_row(row: dict, i: int, errors: dict) -> dict | None:
    """The rule a row says, or None with each wrong cell's error in ``errors`` (``<cell>-<i>``)."""
    bad = len(errors)
    if row["org_result"] not in ORG_RESULTS:
        errors[f"org_result-{i}"] = t("hrorg.rules.err_org_result")
    if row["bound"] not in BOUNDS:
        errors[f"bound-{i}"] = t("hrorg.rules.err_bound")
    if not row["predikats"] or any(p not in PREDIKATS for p in row["predikats"]):
        errors[f"predikats-{i}"] = t("hrorg.rules.err_predikats")
    if row["rounding"] not in ROUNDINGS:
        errors[f"rounding-{i}"] = t("hrorg.rules.err_rounding")
    percent = count = None
    if row["percent"]:
        if NUMBER.match(row["percent"]) and 0 <= float(row["percent"].replace(",", ".")) <= 100:
            percent = float(row["percent"].replace(",", "."))
        else:
            errors[f"percent-{i}"] = t("hrorg.rules.err_percent")
    if row["count"]:
        if row["count"].isdigit() and len(row["count"]) <= 6:
            count = int(row["count"])
        else:
            errors[f"count-{i}"] = t("hrorg.rules.err_count")
    if not row["percent"] and not row["count"]:
        errors[f"percent-{i}"] = t("hrorg.rules.err_amount")
    elif row["percent"] and row["count"] and f"percent-{i}" not in errors and f"count-{i}" not in errors:
        errors[f"count-{i}"] = t("hrorg.rules.err_amount")
    if len(errors) > bad:
        return None
    return {
        "org_result": row["org_result"],
        "bound": row["bound"],
        "predikats": row["predikats"],
        "percent": percent,
        "count": count,
        "rounding": row["rounding"],
    }


@bp.post("/kalibrasi/aturan-distribusi")
@login_required("hr")
def distribution_rules_save():
    rows = _read_rows(request.form)
    errors: dict[str, str] = {}
    rules, sent = [], []  # sent[k]: the row of the k-th rule sent (the API names rules by that index)
    for i, row in enumerate(rows):
        empty = not (row["org_result"] or row["bound"] or row["predikats"] or row["percent"] or row["count"])
        if row["delete"] or empty:
            continue
        rule = _check_row(row, i, errors)
        if rule is not None:
            rules.append(rule)
            sent.append(i)
    if not errors and not rules:
        errors["_"] = t("hrorg.rules.err_none")
    if errors:
        return _rules_page(rows, errors, 422)
    try:
        api().put(f"{R}/distribution-rules", {"rules": rules})
    except ApiProblem as exc:
        if exc.status != 422:
            raise
        errors = {}
        for path, message in form_errors(exc).items():
            m = re.match(r"rules\[(\d+)\]\.(\w+)", path)
            if m and int(m.group(1)) < len(sent):
                cell = m.group(2) if m.group(2) in CELLS else "org_result"
                errors[f"{cell}-{sent[int(m.group(1))]}"] = message
            else:
                errors["_"] = message
        return _rules_page(rows, errors, 422)
    flash(t("hrorg.rules.saved", n=len(rules)), "ok")
    return redirect(url_for("hr.distribution_rules"))


# ------------------------------------------------------------------ a unit's ratings and their adjustments


@bp.get("/kalibrasi/unit/<unit_code>")
@login_required("hr")
def calibration_unit(unit_code: str):
    return _unit_page(unit_code)


def _unit_page(unit_code: str, errors: dict | None = None, values: dict | None = None, status: int = 200, args=None):
    cycles_ = all_cycles()
    c, seq = selection(cycles_, args)
    if c is None:
        return error_page(404, "error.not_found")
    view = api().get(f"{R}/calibration", cycle_id=c["id"], period_seq=seq, unit_code=unit_code)
    unit = next(iter(view.get("units") or []), None)
    evaluations = api().all(f"{R}/evaluations", cycle_id=c["id"], period_seq=seq, unit_code=unit_code)
    rows = []
    for ev in sorted(evaluations, key=lambda e: (e.get("employee_name") or "", e["id"])):
        history = [a | {"when": when(a.get("at"))} for a in api().get(f"{R}/evaluations/{ev['id']}/adjustments")]
        rows.append(ev | {"history": history, "adjustable": ev["status"] == "rated"})
    return page(
        "portal/hr/calibration_unit.html",
        status,
        c=c,
        seq=seq,
        unit_code=unit_code,
        unit=unit,
        violation_texts=[violation_text(v) for v in (unit or {}).get("violations", [])],
        rows=rows,
        ratings=[(r, t(f"rating.{r}")) for r in RATINGS],
        errors=errors or {},
        values=values or {},
        period_label=period_name(c, seq),
        state_text=state_text,
        berakhlak=BERAKHLAK,
    )


@bp.post("/kalibrasi/penilaian/<int:evaluation_id>/sesuaikan")
@login_required("hr")
def calibration_adjust(evaluation_id: int):
    f = request.form
    cycle_id, seq = to_int(f.get("cycle_id")), to_int(f.get("period_seq"), 0)
    unit_code = (f.get("unit_code") or "").strip()
    if not cycle_id or not unit_code:
        return error_page(400, "error.generic", detail=t("hr.cal.no_cycle"))
    ev = api().get(f"{R}/evaluations/{evaluation_id}")  # another agency's: 404; the unit's own page is shown back
    names = {k: f"{k}-{evaluation_id}" for k in ("rating_hasil", "rating_perilaku", "reason")}
    values = {n: (f.get(n) or "").strip() for n in names.values()}
    errors = {}
    for k in ("rating_hasil", "rating_perilaku"):
        if values[names[k]] not in RATINGS:
            errors[names[k]] = t("hrorg.adjust.err_rating")
    reason = values[names["reason"]]
    if len(reason) < 5:
        errors[names["reason"]] = t("hrorg.adjust.err_reason")
    below_name = f"perilaku_below_values-{evaluation_id}"  # the values a "below" names (issue 15)
    below = values[below_name] = [v for v in f.getlist(below_name) if v]
    if any(v not in BERAKHLAK for v in below):
        errors[below_name] = t("evaluations.rate.below_values_unknown")
    ratings = (values[names["rating_hasil"]], values[names["rating_perilaku"]])
    same_values = not below or below == (ev.get("perilaku_below_values") or [])
    if not errors and ratings == (ev.get("rating_hasil"), ev.get("rating_perilaku")) and same_values:
        errors[names["rating_hasil"]] = t("hrorg.adjust.err_unchanged")
    if errors:
        return _unit_page(unit_code, errors, values, 422, f)
    body = {"rating_hasil": values[names["rating_hasil"]], "rating_perilaku": values[names["rating_perilaku"]]}
    if body["rating_perilaku"] == "below" and below:
        body["perilaku_below_values"] = below
    try:
        after = api().post(f"{R}/evaluations/{evaluation_id}/adjust", body | {"reason": reason})
    except ApiProblem as exc:
        if exc.status not in (409, 422):
            raise
        errs = form_errors(exc, names | {"perilaku_below_values": below_name})
        for key in [k for k in errs if k.startswith("perilaku_below_values")]:  # beside the checkbox group
            errs.pop(key)
            errs[below_name] = t("evaluations.rate.below_values_unknown")
        if any(e.get("code") == "rating.perilaku_below_values_required" for e in exc.errors):
            errs[below_name] = t("evaluations.rate.below_values_needed")
        if exc.status == 409 or "_" in errs:
            errs = {names["reason"]: exc.detail or errs.get("_")}
        return _unit_page(unit_code, errs, values, exc.status, f)
    flash(
        t(
            "hrorg.adjust.saved",
            name=ev.get("employee_name") or ev.get("employee_nip"),
            before=t(f"predikat.{ev['predikat']}") if ev.get("predikat") else "—",
            after=t(f"predikat.{after['predikat']}") if after.get("predikat") else "—",
        ),
        "ok",
    )
    return redirect(
        url_for("hr.calibration_unit", unit_code=unit_code, cycle_id=cycle_id, period_seq=seq) + f"#ev-{evaluation_id}"
    )
