"""Excel exports, because offices keep their records in spreadsheets: the SKP plans (RHK, IKI and
targets per employee), the realisations per period, and the predikat per unit (from the reviews
evaluations). HR gets the whole agency (``/hr/ekspor``, or one unit with the units below it); a
supervisor their team, the people whose penilai they are (``/tim/ekspor``).

The workbook is composed from the APIs with the signed-in user's own token, walking every page of
each list (``client.all``), so a file holds exactly what the person may see in the portal. Each
sheet has a bold header row in the page's language, frozen under it, and column widths that fit."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import datetime
from io import BytesIO

from flask import Blueprint, Response, abort, request
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .auth import api, login_required
from .client import ApiProblem
from .pages_hr import all_cycles, period_choices, period_name, selection, to_int, units_in_tree_order
from .web import P, R, page, t, team_plans

bp = Blueprint("exports", __name__)
PREDIKATS = ("SANGAT_BAIK", "BAIK", "BUTUH_PERBAIKAN", "KURANG_MISCONDUCT", "SANGAT_KURANG")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KINDS = ("rencana", "realisasi", "predikat")


# ------------------------------------------------------------------ pages


@bp.get("/hr/ekspor")
@login_required("hr")
def hr_index():
    return _index("hr")


@bp.get("/tim/ekspor")
@login_required("supervisor")
def team_index():
    return _index("team")


@bp.get("/hr/ekspor/<kind>.xlsx")
@login_required("hr")
def hr_file(kind: str):
    return _file("hr", kind)


@bp.get("/tim/ekspor/<kind>.xlsx")
@login_required("supervisor")
def team_file(kind: str):
    return _file("team", kind)


def _index(scope: str):
    cycles_ = all_cycles()
    c, seq = selection(cycles_)
    units = units_in_tree_order(_units()) if scope == "hr" else []
    return page(
        "portal/exports/index.html",
        scope=scope,
        cycles=list(reversed(cycles_)),
        c=c,
        seq=seq,
        seqs=period_choices(c),
        units=units,
        unit_code=request.args.get("unit_code") or "",
        kinds=KINDS,
    )


def _file(scope: str, kind: str):
    if kind not in KINDS:
        abort(404)
    c, seq = selection(all_cycles())
    if c is None:
        return page("portal/error.html", 404, code=404, title=t("export.no_cycle"), message=t("export.no_cycle"))
    unit_code = (request.args.get("unit_code") or "").strip() or None if scope == "hr" else None
    period = to_int(request.args.get("period_seq")) if request.args.get("period_seq") not in (None, "") else None
    units = {u["id"]: u for u in _units()}
    by_code = {u["code"]: u for u in units.values()}
    if unit_code and unit_code not in by_code:  # a unit of another agency, or none: say so, not an empty file
        return page(
            "portal/error.html", 404, code=404, title=t("export.unit_unknown"), message=t("export.unit_unknown")
        )
    within = _subtree(by_code, unit_code) if unit_code else None
    if kind == "rencana":
        wb = plans_workbook(_plans(scope, c, within, units), units)
    elif kind == "realisasi":
        wb = realisations_workbook(_plans(scope, c, within, units), units, c, period)
    else:
        wb = predikat_workbook(_evaluations(scope, c, seq, within), by_code)
    out = BytesIO()
    wb.save(out)
    name = re.sub(
        r"[^A-Za-z0-9._-]", "_", f"{t('export.file.' + kind)}-{c['id']}{'-' + unit_code if unit_code else ''}"
    )
    name += ".xlsx"  # the unit's code is HR's text: only safe characters in the header
    return Response(
        out.getvalue(),
        mimetype=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


# ------------------------------------------------------------------ what the user may see


def _units() -> list[dict]:
    try:
        return api().all(f"{P}/units")
    except ApiProblem as exc:
        if exc.status in (403, 404):
            return []  # the unit's code stands in for its name
        raise


def _subtree(by_code: dict, code: str) -> set[str]:
    """The unit ``code`` and every unit below it: a unit's export holds its sub-units' people too."""
    out, todo = set(), [code]
    while todo:
        current = todo.pop()
        out.add(current)
        todo += [u["code"] for u in by_code.values() if u.get("parent_code") == current and u["code"] not in out]
    return out


def _plans(scope: str, c: dict, within: set[str] | None, units: dict) -> list[dict]:
    """Every SKP of the selection, in full (the list gives summaries: one read per plan)."""
    if scope == "hr":
        summaries = api().all(f"{P}/plans", cycle_id=c["id"])
        if within is not None:
            summaries = [p for p in summaries if units.get(p["unit_id"], {}).get("code") in within]
    else:
        summaries = team_plans(c["id"])  # my reports', and as Plt/Plh those of whom I stand in for
    summaries.sort(key=lambda p: (p["employee_name"], p["id"]))
    return [api().get(f"{P}/plans/{p['id']}") for p in summaries]


def _evaluations(scope: str, c: dict, seq: int, within: set[str] | None) -> list[dict]:
    params = {"cycle_id": c["id"], "period_seq": seq}
    if scope == "hr":
        items = api().all(f"{R}/evaluations", **params)
        if within is not None:
            items = [e for e in items if e.get("unit_code") in within]
    else:
        items = api().all(f"{R}/evaluations", role="penilai", **params)
    return sorted(items, key=lambda e: (e.get("unit_code") or "", e["employee_name"]))


# ------------------------------------------------------------------ workbooks


def _sheet(wb: Workbook, title: str, headers: list[str], rows: list[list], first: bool = False):
    ws = wb.active if first else wb.create_sheet()
    ws.title = title[:31]  # Excel's limit for a sheet name
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    ws.freeze_panes = "A2"  # the header stays while scrolling
    for i, header in enumerate(headers, start=1):
        longest = max([len(str(header))] + [len(str(r[i - 1])) for r in rows if r[i - 1] is not None])
        ws.column_dimensions[get_column_letter(i)].width = min(max(longest + 2, 8), 60)
    return ws


def _unit_name(units: dict, unit_id) -> str:
    u = units.get(unit_id)
    return u["name"] if u else ""


def plans_workbook(plans: list[dict], units: dict) -> Workbook:
    headers = [
        t(f"export.col.{k}")
        for k in ("nip", "name", "position", "unit", "status", "revision", "rhk_no", "rhk_kind", "rhk")
        + ("aspect", "iki", "target", "target_unit")
    ]
    rows = []
    for p in plans:
        person = [p["employee_nip"], p["employee_name"], p["position"], _unit_name(units, p["unit_id"])]
        state = [t(f"status.{p['status']}"), p["revision"]]
        for n, r in enumerate(p["rhk"], start=1):
            rhk_cells = [n, t(f"export.rhk_kind.{r['kind']}"), r["description"]]
            for i in r["iki"] or [{}]:
                target = i.get("target_value") if i.get("target_value") is not None else i.get("target_text")
                aspect = t(f"export.aspect.{i['aspect']}") if i.get("aspect") else ""
                rows.append(
                    person + state + rhk_cells + [aspect, i.get("indicator", ""), target, i.get("target_unit") or ""]
                )
        if not p["rhk"]:
            rows.append(person + state + ["", "", "", "", "", "", ""])
    wb = Workbook()
    _sheet(wb, t("export.sheet.plans"), headers, rows, first=True)
    return wb


def realisations_workbook(plans: list[dict], units: dict, c: dict, period: int | None) -> Workbook:
    headers = [
        t(f"export.col.{k}")
        for k in ("nip", "name", "unit", "period", "rhk", "iki", "target", "target_unit", "realisation")
        + ("achievement", "note", "evidence", "recorded_at")
    ]
    rows = []
    for p in plans:
        ikis = {i["id"]: (r, i) for r in p["rhk"] for i in r["iki"]}
        params = {"period_seq": period} if period else {}
        found = api().get(f"{P}/plans/{p['id']}/realisations", **params)
        for x in sorted(found, key=lambda x: (x["period_seq"], x["iki_id"])):
            r, i = ikis.get(x["iki_id"], ({"description": ""}, {"indicator": x["iki_id"]}))
            target = i.get("target_value")
            value = x.get("value") if x.get("value") is not None else x.get("text")
            achieved = round(100 * x["value"] / target, 1) if target and x.get("value") is not None else None
            rows.append(
                [
                    p["employee_nip"],
                    p["employee_name"],
                    _unit_name(units, p["unit_id"]),
                    period_name(c, x["period_seq"]),
                ]
                + [r["description"], i.get("indicator", ""), target if target is not None else i.get("target_text")]
                + [i.get("target_unit") or "", value, achieved, x.get("note") or "", len(x.get("evidence") or [])]
                + [_when(x.get("recorded_at"))]
            )
    wb = Workbook()
    _sheet(wb, t("export.sheet.realisations"), headers, rows, first=True)
    return wb


def predikat_workbook(evaluations: list[dict], units_by_code: dict) -> Workbook:
    per_unit: dict[str, Counter] = defaultdict(Counter)
    for e in evaluations:
        per_unit[e.get("unit_code") or ""][e.get("predikat") or "-"] += 1
    headers = [t("export.col.unit_code"), t("export.col.unit"), t("export.col.people")]
    headers += [t(f"predikat.{k}") for k in PREDIKATS] + [t("export.col.not_rated")]
    summary = []
    for code in sorted(per_unit):
        counts = per_unit[code]
        name = units_by_code.get(code, {}).get("name", "")
        summary.append([code, name, sum(counts.values())] + [counts[k] for k in PREDIKATS] + [counts["-"]])
    if per_unit:
        total = Counter()
        for counts in per_unit.values():
            total.update(counts)
        summary.append(["", t("export.total"), sum(total.values())] + [total[k] for k in PREDIKATS] + [total["-"]])
    people_headers = [
        t(f"export.col.{k}")
        for k in ("nip", "name", "unit_code", "unit", "period", "status", "rating_hasil", "rating_perilaku", "predikat")
    ]
    people = [
        [e["employee_nip"], e["employee_name"], e.get("unit_code") or ""]
        + [units_by_code.get(e.get("unit_code"), {}).get("name", ""), e.get("period_name") or ""]
        + [t(f"status.{e['status']}")]
        + [t(f"rating.{e[k]}") if e.get(k) else "" for k in ("rating_hasil", "rating_perilaku")]
        + [t(f"predikat.{e['predikat']}") if e.get("predikat") else ""]
        for e in evaluations
    ]
    wb = Workbook()
    _sheet(wb, t("export.sheet.per_unit"), headers, summary, first=True)
    _sheet(wb, t("export.sheet.per_person"), people_headers, people)
    return wb


def _when(value) -> str:
    if not value:
        return ""
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return str(value)
