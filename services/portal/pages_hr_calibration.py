"""Calibration (HR): per unit, the predikat distribution of a cycle's period against the
distribution curve (a chart per unit, the rules it breaks in words), checking the curve, and an
exception with its reason where a unit may depart from it."""

from __future__ import annotations

from flask import Response, flash, redirect, request, url_for

from .auth import api, login_required
from .client import ApiProblem
from .pages_hr import all_cycles, bp, period_choices, period_name, refusal_beside, selection, state_text, to_int
from .web import R, error_page, local_time, page, t


def chart(unit: dict) -> dict:
    """The geometry of a unit's curve chart (SVG attributes only: the CSP forbids inline styles)."""
    bands = unit["bands"]
    top = max(
        [unit["headcount"], 1]
        + [b["count"] for b in bands]
        + [b["max_count"] or 0 for b in bands]
        + [b["min_count"] or 0 for b in bands]
    )
    width, height, left, base, plot = 380, 210, 34, 170, 140
    slot = (width - left - 6) / len(bands)
    bars = []
    for i, b in enumerate(bands):
        x = left + i * slot
        h = plot * b["count"] / top
        over = b["max_count"] is not None and b["count"] > b["max_count"]
        under = b["min_count"] is not None and b["count"] < b["min_count"]
        bar = {
            "x": round(x + slot * 0.2, 1),
            "w": round(slot * 0.6, 1),
            "y": round(base - h, 1),
            "h": round(h, 1),
            "cx": round(x + slot / 2, 1),
            "count": b["count"],
            "predikat": b["predikat"],
            "bad": over or under,
            "marks": [],
        }
        for kind, value in (("max", b["max_count"]), ("min", b["min_count"])):
            if value is not None:
                y = round(base - plot * value / top, 1)
                bar["marks"].append(
                    {
                        "kind": kind,
                        "y": y,
                        "x1": round(x + slot * 0.08, 1),
                        "x2": round(x + slot * 0.92, 1),
                        "value": value,
                    }
                )
        bars.append(bar)
    ticks = sorted({0, top} | ({top // 2} if top >= 4 else set()))
    return {
        "width": width,
        "height": height,
        "left": left,
        "base": base,
        "right": width - 6,
        "bars": bars,
        "ticks": [{"value": v, "y": round(base - plot * v / top, 1)} for v in ticks],
    }


def when(value) -> str:
    """A timestamp from an API (ISO 8601, or RFC 822 as Flask gives a datetime) in the agency's zone (WIB/WITA/WIT)."""
    if not value:
        return ""
    at = local_time(value)
    return at.strftime("%Y-%m-%d %H:%M %Z") if at else str(value)


def violation_text(v: dict) -> str:
    rule = v.get("rule") or {}
    preds = " + ".join(t(f"predikat.{p}") for p in rule.get("predikats", []))
    key = "hr.cal.violation_max" if v.get("code") == "curve.max_exceeded" else "hr.cal.violation_min"
    if rule.get("percent") is None:  # a rule in people (e.g. "at least one"): no percentage to show
        key += "_count"
    bound = f"{rule['percent']:g} %" if rule.get("percent") is not None else ""
    return t(
        key,
        predikats=preds,
        bound=bound,
        required=v.get("required"),
        actual=v.get("actual"),
        headcount=v.get("headcount"),
    )


@bp.get("/kalibrasi")
@login_required("hr")
def calibration():
    return _calibration_page()


def _calibration_page(errors: dict | None = None, values: dict | None = None, status: int = 200, args=None) -> Response:
    cycles_ = all_cycles()
    c, seq = selection(cycles_, args)
    view, unavailable = None, False
    if c is not None:
        try:
            view = api().get(f"{R}/calibration", cycle_id=c["id"], period_seq=seq)
        except ApiProblem as exc:
            if exc.status == 404 and exc.code.startswith("cycle"):
                view = {"units": []}  # reviews has not heard of the cycle yet
            elif exc.status >= 500:
                unavailable = True
            else:
                raise
    units = []
    for u in (view or {}).get("units", []):
        override = u.get("override")
        if override:
            override = override | {"when": when(override.get("set_at"))}
        units.append(
            u
            | {
                "chart": chart(u),
                "violation_texts": [violation_text(v) for v in u["violations"]],
                "anchor": "unit-" + u["unit_code"],
                "override": override,
            }
        )
    seqs = period_choices(c)
    return page(
        "portal/hr/calibration.html",
        status,
        cycles=list(reversed(cycles_)),
        c=c,
        seq=seq,
        seqs=seqs,
        units=units,
        unavailable=unavailable,
        errors=errors or {},
        values=values or {},
        period_label=period_name(c, seq) if c else "",
        state_text=state_text,
    )


@bp.post("/kalibrasi/periksa")
@login_required("hr")
def calibration_check():
    cycle_id, seq = to_int(request.form.get("cycle_id")), to_int(request.form.get("period_seq"), 0)
    if not cycle_id:
        return error_page(400, "error.generic", detail=t("hr.cal.no_cycle"))
    view = api().post(f"{R}/calibration/check?cycle_id={cycle_id}&period_seq={seq}")
    bad = [u["unit_code"] for u in (view or {}).get("units", []) if u.get("violations")]
    if bad:
        flash(t("hr.cal.checked_bad", n=len(bad), units=", ".join(bad)), "warn")
    else:
        flash(t("hr.cal.checked_ok"), "ok")
    return redirect(url_for("hr.calibration", cycle_id=cycle_id, period_seq=seq))


@bp.post("/kalibrasi/pengecualian")
@login_required("hr")
def calibration_override():
    f = request.form
    cycle_id, seq, unit_code = (
        to_int(f.get("cycle_id")),
        to_int(f.get("period_seq"), 0),
        (f.get("unit_code") or "").strip(),
    )
    if not cycle_id or not unit_code:
        return error_page(400, "error.generic", detail=t("hr.cal.no_cycle"))
    name = f"reason-{unit_code}"
    reason = (f.get(name) or "").strip()
    values = {name: reason}
    if not reason:
        return _calibration_page({name: t("form.required")}, values, 422, f)
    try:
        api().post(
            f"{R}/calibration/overrides",
            {"cycle_id": cycle_id, "period_seq": seq, "unit_code": unit_code, "reason": reason},
        )
    except ApiProblem as exc:
        if exc.status not in (409, 422):
            raise
        errs = refusal_beside(exc, "reason", name)
        return _calibration_page(errs, values, 422 if exc.status == 422 else 409, f)
    flash(t("hr.cal.override_saved", unit=unit_code), "ok")
    return redirect(url_for("hr.calibration", cycle_id=cycle_id, period_seq=seq) + f"#unit-{unit_code}")
