"""The HR pages (pengelola kinerja): evaluation cycles with their completion per unit and stage,
calibration against the distribution curve, public satisfaction surveys (IKM) and the HR
reports (rater consistency, follow-up, audit log).

Every page calls the services' APIs with the signed-in HR user's own token, so an HR officer of
another agency sees nothing of this one (the APIs scope each list and refuse each object)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

from flask import Blueprint, Response, current_app, flash, redirect, request, url_for

from .app import t
from .auth import api, login_required
from .client import ApiProblem
from .web import error_page, form_errors, page, today

bp = Blueprint("hr", __name__, url_prefix="/hr")
P = "/plans/api/v1"
R = "/reviews/api/v1"
S = "/surveys/api/v1"

PERIOD_TYPES = ("monthly", "quarterly", "semester")
PLAN_STATUSES = ("draft", "submitted", "returned", "approved")
EVAL_STATUSES = ("open", "self_assessed", "rated", "signed", "acknowledged", "countersigned")
EVAL_RATED = frozenset({"rated", "signed", "acknowledged", "countersigned"})
PREDIKATS = ("SANGAT_BAIK", "BAIK", "BUTUH_PERBAIKAN", "KURANG_MISCONDUCT", "SANGAT_KURANG")
AFTER_MONITORING = ("annual_evaluation", "calibration", "sign_off", "objections", "closed")
EDITABLE_PERIODS = ("draft", "planning")
AUDIT_SOURCES = {"plans": P, "reviews": R, "surveys": S}


# ------------------------------------------------------------------ small helpers


def _int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def state_text(c: dict) -> str:
    """The cycle's stage in words (with the period and phase while monitoring)."""
    text = t(f"stage.{c['stage']}")
    if c.get("stage") == "monitoring" and c.get("period_seq"):
        text += f" — {period_name(c, c['period_seq'])}, {t('phase.' + c['phase'])}"
    return text


def period_name(c: dict, seq: int) -> str:
    if not seq:
        return t("hr.annual")
    from flask import g

    for p in c.get("periods", []):
        if p["seq"] == seq:
            return p["name_en"] if g.get("lang") == "en" else p["name_id"]
    return t("hr.period_n", seq=seq)


def units_in_tree_order(units: list[dict]) -> list[dict]:
    children: dict[str | None, list[dict]] = {}
    codes = {u["code"] for u in units}
    for u in units:
        parent = u.get("parent_code") if u.get("parent_code") in codes else None
        children.setdefault(parent, []).append(u)
    out: list[dict] = []

    def walk(parent, depth):
        for u in sorted(children.get(parent, []), key=lambda x: x["code"]):
            out.append(u | {"depth": depth})
            walk(u["code"], depth + 1)

    walk(None, 0)
    return out


def _cycles() -> list[dict]:
    return api().all(f"{P}/cycles")


def _default_cycle(cycles: list[dict]) -> dict | None:
    open_ = [c for c in cycles if c["stage"] != "closed"]
    return (open_ or cycles or [None])[-1]


def _default_seq(c: dict) -> int:
    if c["stage"] == "monitoring" and c.get("period_seq"):
        return c["period_seq"]
    return 0


def _in_process() -> bool:
    """The services are called in-process (embedded): their host is not the browser's."""
    return current_app.extensions["portal"].settings.api_url is None


def _back(default: str) -> str:
    target = request.form.get("back") or ""
    return target if target.startswith("/hr/") and not target.startswith("//") else default


# ------------------------------------------------------------------ cycles


@bp.get("/siklus")
@login_required("hr")
def cycles():
    return _cycles_page({}, {}, 200)


def _cycles_page(values: dict, errors: dict, status: int) -> Response:
    items = _cycles()
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
    year = _int(values["year"])
    if not values["year"]:
        errors["year"] = t("form.required")
    elif year is None:
        errors["year"] = t("form.number")
    if values["period_type"] not in PERIOD_TYPES:
        errors["period_type"] = t("hr.cycle.choose_period_type")
    deadline = None
    if values["planning_deadline"]:
        deadline = _date(values["planning_deadline"])
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
    for p in client.all(f"{P}/plans", cycle_id=cycle_id):
        plans_per_unit.setdefault(code_of.get(p["unit_id"], f"#{p['unit_id']}"), Counter())[p["status"]] += 1
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
    deadline = _date(raw)
    if deadline is None:
        return _cycle_page(cycle_id, errors={name: t("form.date")}, values=values, status=422)
    etag = request.form.get("etag") or None
    try:
        api().patch(f"{P}/cycles/{cycle_id}/periods/{seq}", {"deadline": deadline.isoformat()}, etag)
    except ApiProblem as exc:
        if exc.status == 412:
            return _cycle_page(cycle_id, errors={name: t("hr.cycle.stale")}, values=values, status=412)
        if exc.status == 428:
            return _cycle_page(cycle_id, errors={name: t("hr.cycle.stale")}, values=values, status=428)
        if exc.status not in (409, 422):
            raise
        errs = form_errors(exc, {"deadline": name})
        if exc.status == 409 or "_" in errs:
            errs = {name: exc.detail or errs.get("_")}
        return _cycle_page(cycle_id, errors=errs, values=values, status=exc.status if exc.status == 409 else 422)
    flash(t("hr.cycle.deadline_saved", period=seq, date=deadline.isoformat()), "ok")
    return redirect(url_for("hr.cycle", cycle_id=cycle_id) + f"#periode-{seq}")


# ------------------------------------------------------------------ calibration


def _selection(cycles: list[dict], args=None) -> tuple[dict | None, int]:
    args = request.values if args is None else args
    wanted = _int(args.get("cycle_id"))
    c = next((x for x in cycles if x["id"] == wanted), None) if wanted else _default_cycle(cycles)
    if wanted and c is None:
        c = api().get(f"{P}/cycles/{wanted}")  # another agency's or unknown: the API answers 404
    if c is None:
        return None, 0
    seq = _int(args.get("period_seq"))
    if seq is None or seq < 0:
        seq = _default_seq(c)
    return c, seq


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
    """A timestamp from an API (ISO 8601 or the RFC 822 form Flask gives a datetime) in WIB."""
    from datetime import datetime, timezone
    from email.utils import parsedate_to_datetime
    from zoneinfo import ZoneInfo

    if not value:
        return ""
    at = None
    if isinstance(value, str):
        try:
            at = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            try:
                at = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return value
    elif isinstance(value, datetime):
        at = value
    if at is None:
        return str(value)
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(ZoneInfo("Asia/Jakarta")).strftime("%Y-%m-%d %H:%M WIB")


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
    cycles_ = _cycles()
    c, seq = _selection(cycles_, args)
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
    seqs = [(0, t("hr.annual"))] + ([(p["seq"], period_name(c, p["seq"])) for p in c.get("periods", [])] if c else [])
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
    cycle_id, seq = _int(request.form.get("cycle_id")), _int(request.form.get("period_seq"), 0)
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
    cycle_id, seq, unit_code = _int(f.get("cycle_id")), _int(f.get("period_seq"), 0), (f.get("unit_code") or "").strip()
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
        errs = form_errors(exc, {"reason": name})
        if exc.status == 409 or "_" in errs:
            errs = {name: exc.detail or errs.get("_")}
        return _calibration_page(errs, values, 422 if exc.status == 422 else 409, f)
    flash(t("hr.cal.override_saved", unit=unit_code), "ok")
    return redirect(url_for("hr.calibration", cycle_id=cycle_id, period_seq=seq) + f"#unit-{unit_code}")


# ------------------------------------------------------------------ surveys

CAMPAIGN_FIELDS = ("unit_code", "service_type", "title", "start_date", "end_date", "population")


def public_link(c: dict) -> str:
    return c.get("public_path") if _in_process() else (c.get("public_url") or c.get("public_path"))


@bp.get("/survei")
@login_required("hr")
def surveys():
    return _surveys_page({}, {}, 200)


def _surveys_page(values: dict, errors: dict, status: int) -> Response:
    client = api()
    campaigns = client.all(f"{S}/campaigns")
    rows = []
    for c in reversed(campaigns):
        try:
            ikm = client.get(f"{S}/campaigns/{c['id']}/ikm")
        except ApiProblem as exc:
            if exc.status < 500:
                raise
            ikm = {}
        rows.append({"c": c, "ikm": ikm or {}, "link": public_link(c)})
    units = units_in_tree_order(client.all(f"{P}/units"))
    return page(
        "portal/hr/surveys.html",
        status,
        rows=rows,
        values=values,
        errors=errors,
        unit_options=[(u["code"], f"{u['code']} — {u['name']}") for u in units],
    )


@bp.post("/survei")
@login_required("hr")
def survey_create():
    f = request.form
    values = {k: (f.get(k) or "").strip() for k in CAMPAIGN_FIELDS}
    errors: dict[str, str] = {}
    for k in ("unit_code", "service_type", "start_date", "end_date", "population"):
        if not values[k]:
            errors[k] = t("form.required")
    dates = {}
    for k in ("start_date", "end_date"):
        if values[k]:
            dates[k] = _date(values[k])
            if dates[k] is None:
                errors[k] = t("form.date")
    population = _int(values["population"])
    if values["population"] and (population is None):
        errors["population"] = t("form.number")
    if errors:
        return _surveys_page(values, errors, 422)
    units = {u["code"]: u for u in api().all(f"{P}/units")}
    body = {
        "unit_code": values["unit_code"],
        "service_type": values["service_type"],
        "start_date": dates["start_date"].isoformat(),
        "end_date": dates["end_date"].isoformat(),
        "population": population,
    }
    if values["unit_code"] in units:
        body["unit_name"] = units[values["unit_code"]]["name"]
    if values["title"]:
        body["title"] = values["title"]
    try:
        c = api().post(f"{S}/campaigns", body)
    except ApiProblem as exc:
        if exc.status not in (409, 422):
            raise
        return _surveys_page(values, form_errors(exc, {k: k for k in CAMPAIGN_FIELDS}), 422)
    flash(t("hr.survey.created", title=c.get("title") or c["service_type"]), "ok")
    return redirect(url_for("hr.surveys") + f"#kampanye-{c['id']}")


@bp.post("/survei/<int:campaign_id>/<any(buka, tutup):action>")
@login_required("hr")
def survey_action(campaign_id: int, action: str):
    verb = "open" if action == "buka" else "close"
    try:
        c = api().post(f"{S}/campaigns/{campaign_id}/{verb}")
    except ApiProblem as exc:
        if exc.status != 409:
            raise
        flash(exc.detail or t("error.generic.body"), "error")
        return redirect(url_for("hr.surveys") + f"#kampanye-{campaign_id}")
    flash(
        t(
            "hr.survey.opened" if verb == "open" else "hr.survey.closed_flash",
            title=c.get("title") or c["service_type"],
        ),
        "ok",
    )
    return redirect(url_for("hr.surveys") + f"#kampanye-{campaign_id}")


@bp.get("/survei/<int:campaign_id>/qr.<any(svg, png):fmt>")
@login_required("hr")
def survey_qr(campaign_id: int, fmt: str):
    """The campaign's QR code (the public form's link), fetched with the HR token; in embedded mode
    the surveys service is told the browser's host, so the code points where the browser can go."""
    headers = {"Host": request.host} if _in_process() else None
    resp = api().request("GET", f"{S}/campaigns/{campaign_id}/qr", params={"format": fmt}, headers=headers)
    return Response(
        resp.content,
        mimetype="image/svg+xml" if fmt == "svg" else "image/png",
        headers={"Cache-Control": "private, max-age=300"},
    )


@bp.get("/survei/<int:campaign_id>/laporan.<any(html, pdf):fmt>")
@login_required("hr")
def survey_report(campaign_id: int, fmt: str):
    from flask import g

    resp = api().request("GET", f"{S}/campaigns/{campaign_id}/report.{fmt}", params={"lang": g.get("lang", "id")})
    if fmt == "pdf":
        return Response(
            resp.content,
            mimetype="application/pdf",
            headers={"Content-Disposition": resp.headers.get("Content-Disposition", "inline")},
        )
    # the report is a self-contained page (its own stylesheet, an inline SVG chart, no scripts)
    return Response(
        resp.content,
        mimetype="text/html",
        headers={
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        },
    )


# ------------------------------------------------------------------ reports


@bp.get("/laporan")
@login_required("hr")
def more():
    cycles_ = _cycles()
    c = _default_cycle(cycles_)
    return page("portal/hr/more.html", c=c, state_text=state_text)


@bp.get("/konsistensi")
@login_required("hr")
def consistency():
    cycles_ = _cycles()
    c, _ = _selection(cycles_)
    raw_seq = request.args.get("period_seq", "")
    seq = _int(raw_seq) if raw_seq != "" else None
    data = {"raters": []}
    if c is not None:
        try:
            data = api().get(f"{R}/rater-consistency", cycle_id=c["id"], period_seq=seq)
        except ApiProblem as exc:
            if not (exc.status == 404 and exc.code.startswith("cycle")):
                raise
    seqs = [(0, t("hr.annual"))] + ([(p["seq"], period_name(c, p["seq"])) for p in c.get("periods", [])] if c else [])
    return page(
        "portal/hr/consistency.html",
        cycles=list(reversed(cycles_)),
        c=c,
        seq=seq,
        seqs=seqs,
        raters=data.get("raters", []),
    )


@bp.get("/tindak-lanjut")
@login_required("hr")
def followups():
    cycles_ = _cycles()
    c, _ = _selection(cycles_)
    kind = request.args.get("kind") if request.args.get("kind") in ("development", "recognition") else None
    data = {"items": [], "next_cursor": None}
    if c is not None:
        data = api().get(f"{R}/followups", cycle_id=c["id"], kind=kind, limit=50, cursor=request.args.get("cursor"))
    names = {e["nip"]: e["name"] for e in api().all(f"{P}/employees")}
    return page(
        "portal/hr/followups.html",
        cycles=list(reversed(cycles_)),
        c=c,
        kind=kind,
        items=data["items"],
        next_cursor=data.get("next_cursor"),
        names=names,
    )


@bp.get("/audit")
@login_required("hr")
def audit():
    source = request.args.get("source") if request.args.get("source") in AUDIT_SOURCES else "plans"
    filters = {k: (request.args.get(k) or "").strip() or None for k in ("entity_type", "entity_id")}
    limit = min(max(_int(request.args.get("limit"), 50), 1), 200)
    data = api().get(f"{AUDIT_SOURCES[source]}/audit", limit=limit, cursor=request.args.get("cursor"), **filters)
    items = [
        row | {"before_text": _compact(row.get("before")), "after_text": _compact(row.get("after"))}
        for row in data.get("items", [])
    ]
    nxt = None
    if data.get("next_cursor"):
        nxt = url_for(
            "hr.audit",
            source=source,
            cursor=data["next_cursor"],
            limit=limit if limit != 50 else None,
            **{k: v for k, v in filters.items() if v},
        )
    return page(
        "portal/hr/audit.html", items=items, source=source, sources=list(AUDIT_SOURCES), filters=filters, next_url=nxt
    )


def _compact(value) -> str:
    if value in (None, {}, []):
        return ""
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_compact(v) if isinstance(v, (dict, list)) else v}" for k, v in value.items())
    return json.dumps(value, ensure_ascii=False, default=str)
