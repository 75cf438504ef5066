"""The HR cycle report, built only from the HTTP APIs (plans, reviews, surveys).

``build_report(client, cycle_id, out_dir, pdf=True, documents=N)`` gathers the cycle, the
directory, the SKP plans, the evaluations of every period and the annual one, calibration
against the curve, the surveys' index (IKM) per unit and unsur, objections and follow-up, then
writes ``out_dir/report.html`` (self-contained: inline CSS and SVG charts, no JavaScript),
``out_dir/report.pdf`` (fpdf2, charts drawn with its primitives) and the first ``N`` evaluation
documents into ``out_dir/documents/``. It returns the paths.

``gather_overview`` is the part ``kinerja hr cycle status`` prints as tables.
Texts are in Bahasa Indonesia with English in parentheses.
"""

from __future__ import annotations

import html
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

from services.common.pdf import latin1

from .http import ApiError, Client

P = "/plans/api/v1"
R = "/reviews/api/v1"
S = "/surveys/api/v1"

PLAN_STATUSES = ("draft", "submitted", "returned", "approved", "revised")
EVAL_STATUSES = ("open", "self_assessed", "rated", "signed", "acknowledged", "countersigned")
EVAL_RATED = frozenset({"rated", "signed", "acknowledged", "countersigned"})
UNSUR = ("U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8", "U9")

LABELS: dict[str, tuple[str, str]] = {
    # plan statuses
    "draft": ("Draf", "draft"),
    "submitted": ("Diajukan", "submitted"),
    "returned": ("Dikembalikan", "returned"),
    "approved": ("Disetujui", "approved"),
    "revised": ("Direvisi", "revised"),
    # evaluation statuses
    "open": ("Terbuka", "open"),
    "self_assessed": ("Penilaian diri", "self-assessed"),
    "rated": ("Dinilai", "rated"),
    "signed": ("Ditandatangani", "signed"),
    "acknowledged": ("Diterima pegawai", "acknowledged"),
    "countersigned": ("Disahkan atasan", "countersigned"),
    # stages and phases
    "planning": ("Perencanaan SKP", "planning"),
    "monitoring": ("Pemantauan", "monitoring"),
    "annual_evaluation": ("Evaluasi tahunan", "annual evaluation"),
    "calibration": ("Kalibrasi", "calibration"),
    "sign_off": ("Penandatanganan", "sign-off"),
    "objections": ("Keberatan", "objections"),
    "closed": ("Ditutup", "closed"),
    "check_in": ("Check-in", "check-in"),
    "self_assessment": ("Penilaian diri", "self-assessment"),
    "supervisor_evaluation": ("Evaluasi oleh atasan", "supervisor evaluation"),
    # predikat
    "SANGAT_BAIK": ("Sangat Baik", "very good"),
    "BAIK": ("Baik", "good"),
    "BUTUH_PERBAIKAN": ("Butuh Perbaikan", "needs improvement"),
    "KURANG_MISCONDUCT": ("Kurang/Misconduct", "poor/misconduct"),
    "SANGAT_KURANG": ("Sangat Kurang", "very poor"),
    # follow-up
    "development": ("Rencana pengembangan", "development plan"),
    "recognition": ("Penghargaan", "recognition"),
    # objections
    "upheld": ("Ditolak, nilai tetap", "upheld"),
    "changed": ("Diubah", "changed"),
    "filed": ("Diajukan", "filed"),
    "under_review": ("Sedang ditinjau", "under review"),
}
PREDIKAT_SHORT = {
    "SANGAT_BAIK": "SB",
    "BAIK": "B",
    "BUTUH_PERBAIKAN": "BP",
    "KURANG_MISCONDUCT": "K",
    "SANGAT_KURANG": "SK",
}
UNSUR_LABELS = {
    "U1": ("Persyaratan", "requirements"),
    "U2": ("Sistem, mekanisme, dan prosedur", "procedures"),
    "U3": ("Waktu penyelesaian", "completion time"),
    "U4": ("Biaya/tarif", "cost/fee"),
    "U5": ("Produk spesifikasi jenis pelayanan", "service products"),
    "U6": ("Kompetensi pelaksana", "competence"),
    "U7": ("Perilaku pelaksana", "staff behaviour"),
    "U8": ("Penanganan pengaduan", "complaints handling"),
    "U9": ("Sarana dan prasarana", "facilities"),
}
ORG_RESULTS = {
    "ISTIMEWA": ("Istimewa", "outstanding"),
    "BAIK": ("Baik", "good"),
    "BUTUH_PERBAIKAN": ("Butuh Perbaikan", "needs improvement"),
    "KURANG": ("Kurang", "poor"),
    "SANGAT_KURANG": ("Sangat Kurang", "very poor"),
}
# the IKM bands on the 1–4 scale (PermenPANRB 14/2017: unit index ≥ 88.31 A, ≥ 76.61 B, ≥ 65.00 C)
IKM_BANDS = (("A", 88.31 / 25), ("B", 76.61 / 25), ("C", 65.00 / 25))

STATUS_COLOURS = {
    "draft": "#b0b7c3",
    "submitted": "#f2c14e",
    "returned": "#e4572e",
    "approved": "#2e9e5b",
    "revised": "#7d5ba6",
    "none": "#eceff3",
    "open": "#b0b7c3",
    "self_assessed": "#8fb8de",
    "rated": "#f2c14e",
    "signed": "#5b8def",
    "acknowledged": "#7d5ba6",
    "countersigned": "#2e9e5b",
}

Progress = Callable[[Iterable, str], Iterable]


def bi(key: str) -> str:
    """``Bahasa (English)`` for a known code, else the code itself."""
    if key in LABELS:
        i, e = LABELS[key]
        return i if i.lower() == e.lower() else f"{i} ({e})"
    return key


def label_id(key: str) -> str:
    return LABELS.get(key, (key, key))[0]


def state_text(cycle: dict) -> str:
    """``Pemantauan periode 2 · Penilaian diri (monitoring period 2 · self-assessment)``."""
    stage = cycle.get("stage")
    if stage == "monitoring":
        seq, phase = cycle.get("period_seq"), cycle.get("phase")
        name = next((p["name_id"] for p in cycle.get("periods", []) if p["seq"] == seq), f"periode {seq}")
        ph_i, ph_e = LABELS.get(phase, (phase, phase))
        return f"Pemantauan {name} · {ph_i} (monitoring period {seq} · {ph_e})"
    return bi(stage or "?")


def _no_progress(items: Iterable, label: str) -> Iterable:
    return items


def _try(fn: Callable[[], Any]) -> tuple[Any, str | None]:
    try:
        return fn(), None
    except ApiError as exc:
        return None, exc.message


def units_in_tree_order(units: list[dict]) -> list[dict]:
    """Units parent first, each with ``depth`` (0 for a root)."""
    by_parent: dict[str | None, list[dict]] = {}
    codes = {u["code"] for u in units}
    for u in units:
        parent = u.get("parent_code") if u.get("parent_code") in codes else None
        by_parent.setdefault(parent, []).append(u)
    out: list[dict] = []

    def walk(parent, depth):
        for u in sorted(by_parent.get(parent, []), key=lambda x: x["code"]):
            if any(o["code"] == u["code"] for o in out):
                continue
            out.append({**u, "depth": depth})
            walk(u["code"], depth + 1)

    walk(None, 0)
    seen = {u["code"] for u in out}
    out += [{**u, "depth": 0} for u in units if u["code"] not in seen]  # cycles in bad data: still listed
    return out


# ---------------------------------------------------------------------------------------------- gathering


def gather_overview(
    client: Client, cycle_id: int, *, seqs: Iterable[int] | None = None, progress: Progress = _no_progress
) -> dict:
    """Cycle, units (tree order), active employees per unit, plans per unit and status, and for each
    period in ``seqs`` (default: the current period, if any, and the annual one, 0) the evaluations
    and the calibration view. Reviews' absence or ignorance of the cycle is noted, not fatal."""
    cycle = client.get(f"{P}/cycles/{cycle_id}")
    agency, _ = _try(lambda: client.get(f"{P}/agencies/{cycle['agency_code']}"))
    units = units_in_tree_order(client.all(f"{P}/units"))
    if cycle.get("unit_codes"):
        wanted = set(cycle["unit_codes"])
        units = [u for u in units if u["code"] in wanted]
    employees = [e for e in client.all(f"{P}/employees") if e.get("active", True)]
    plans = client.all(f"{P}/plans", {"cycle_id": cycle_id})
    unit_code_of = {u["id"]: u["code"] for u in units}
    plans_per_unit: dict[str, Counter] = {u["code"]: Counter() for u in units}
    for p in plans:
        plans_per_unit.setdefault(unit_code_of.get(p["unit_id"], f"#{p['unit_id']}"), Counter())[p["status"]] += 1
    employees_per_unit = Counter(e["unit_code"] for e in employees)
    if seqs is None:
        seqs = ([cycle["period_seq"]] if cycle.get("period_seq") else []) + [0]
    evaluations: dict[int, list[dict]] = {}
    calibration: dict[int, dict] = {}
    notes: list[str] = []
    for seq in progress(list(seqs), "Evaluasi (evaluations)"):
        evs, err = _try(lambda seq=seq: client.all(f"{R}/evaluations", {"cycle_id": cycle_id, "period_seq": seq}))
        if err:
            notes.append(f"Evaluasi periode {seq} tidak terbaca (evaluations not readable): {err}")
            evaluations[seq] = []
            continue
        evaluations[seq] = evs
        if evs:
            cal, err = _try(lambda seq=seq: client.get(f"{R}/calibration", {"cycle_id": cycle_id, "period_seq": seq}))
            if err:
                notes.append(f"Kalibrasi periode {seq} tidak terbaca (calibration not readable): {err}")
            else:
                calibration[seq] = cal
    return {
        "cycle": cycle,
        "agency": agency or {"code": cycle["agency_code"], "name": cycle["agency_code"]},
        "units": units,
        "employees": employees,
        "employees_per_unit": employees_per_unit,
        "plans": plans,
        "plans_per_unit": plans_per_unit,
        "evaluations": evaluations,
        "calibration": calibration,
        "notes": notes,
    }


def staff_of(d: dict, code: str) -> int:
    """A unit's headcount for completion: its active employees, or its plans if there are more."""
    return max(d["employees_per_unit"].get(code, 0), sum(d["plans_per_unit"].get(code, Counter()).values()))


def period_rows(cycle: dict) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows of the stages-and-deadlines table; a 'current' column while a period runs."""
    current = any(cycle.get("period_seq") == p["seq"] for p in cycle.get("periods", []))
    rows = [["Perencanaan SKP (planning)", "–", "–", cycle.get("planning_deadline") or "–"] + ([""] if current else [])]
    for p in cycle.get("periods", []):
        rows.append(
            [f"{p['name_id']} ({p['name_en']})", p["start"], p["end"], p.get("deadline") or "–"]
            + (["◀ sekarang (current)" if cycle.get("period_seq") == p["seq"] else ""] if current else [])
        )
    headers = ["Tahap (stage)", "Mulai (start)", "Selesai (end)", "Batas pengisian (deadline)"]
    return headers + ([""] if current else []), rows


def period_name(cycle: dict, seq: int) -> str:
    if seq == 0:
        return "Tahunan (annual)"
    return next((p["name_id"] for p in cycle.get("periods", []) if p["seq"] == seq), f"Periode {seq}")


def completion(ov: dict) -> tuple[list[str], list[dict]]:
    """Completion per unit and stage: columns and rows of ``(done, total)`` pairs (None: not started)."""
    cycle = ov["cycle"]
    seqs = [p["seq"] for p in cycle.get("periods", []) if ov["evaluations"].get(p["seq"])]
    columns = ["SKP disetujui (approved)"]
    columns += [f"{period_name(cycle, s)} dinilai (rated)" for s in seqs]
    columns += ["Tahunan dinilai (annual rated)", "Tahunan disahkan (annual signed off)"]
    rows = []
    for u in ov["units"]:
        code = u["code"]
        plans = ov["plans_per_unit"].get(code, Counter())
        staff = staff_of(ov, code)
        cells: list[tuple[int, int] | None] = [(plans.get("approved", 0), staff) if staff else None]
        for s in seqs:
            evs = [e for e in ov["evaluations"][s] if e["unit_code"] == code]
            cells.append((sum(e["status"] in EVAL_RATED for e in evs), len(evs)) if evs else None)
        annual = [e for e in ov["evaluations"].get(0, []) if e["unit_code"] == code]
        cells.append((sum(e["status"] in EVAL_RATED for e in annual), len(annual)) if annual else None)
        cells.append((sum(e["status"] == "countersigned" for e in annual), len(annual)) if annual else None)
        rows.append({"unit": u, "cells": cells})
    return columns, rows


def calibration_seq(ov: dict) -> int | None:
    """The period whose curve the report shows: the annual one when it has evaluations, else the latest."""
    if ov["calibration"].get(0, {}).get("units"):
        return 0
    seqs = [s for s, c in ov["calibration"].items() if c.get("units")]
    return max(seqs) if seqs else None


def violation_text(v: dict) -> str:
    rule = v.get("rule") or {}
    preds = "+".join(PREDIKAT_SHORT.get(p, p) for p in rule.get("predikats", []))
    req, act = v.get("required"), v.get("actual")
    if v.get("code") == "curve.max_exceeded":
        return f"{preds} maks. {req}, ada {act} (max {req}, actual {act})"
    if v.get("code") == "curve.min_missing":
        return f"{preds} min. {req}, ada {act} (min {req}, actual {act})"
    return f"{v.get('code')}: {preds} {req} / {act}"


def gather_surveys(client: Client, year: int, progress: Progress = _no_progress) -> dict:
    """Campaigns overlapping the cycle's year, each with its /ikm, and the index per unit (one campaign:
    its own; several: pooled through GET /ikm?unit_code=&from=&to=)."""
    frm, to = f"{year}-01-01", f"{year}-12-31"
    campaigns, err = _try(lambda: client.all(f"{S}/campaigns"))
    if err:
        return {"campaigns": [], "units": {}, "error": err}
    campaigns = [c for c in campaigns if c["start_date"] <= to and c["end_date"] >= frm and c["status"] != "draft"]
    for c in progress(campaigns, "IKM per kampanye (campaign index)"):
        c["index"], _ = _try(lambda c=c: client.get(f"{S}/campaigns/{c['id']}/ikm"))
    per_unit: dict[str, dict] = {}
    for code in sorted({c["unit_code"] for c in campaigns}):
        mine = [c for c in campaigns if c["unit_code"] == code]
        if len(mine) == 1:
            index = mine[0].get("index")
        else:
            index, _ = _try(lambda code=code: client.get(f"{S}/ikm", {"unit_code": code, "from": frm, "to": to}))
        if index:
            nrr = index.get("nrr") or {}
            known = {u: v for u, v in nrr.items() if v is not None}
            low = min(known.values()) if known else None
            per_unit[code] = {
                **index,
                "unit_name": mine[0].get("unit_name") or code,
                "campaigns": len(mine),
                "weakest": [u for u in UNSUR if known.get(u) == low] if known else [],
            }
    return {"campaigns": campaigns, "units": per_unit, "error": None}


def gather_objections(client: Client, evaluations: list[dict], progress: Progress = _no_progress) -> dict:
    """Every objection of the cycle (``GET /reviews/api/v1/objections?cycle_id=``) with its evaluation."""
    by_id = {e["id"]: e for e in evaluations}
    cycle_ids = {e["cycle_id"] for e in evaluations}
    found = []
    for cid in cycle_ids:
        for obj in progress(client.all(f"{R}/objections", {"cycle_id": cid}), "Keberatan (objections)"):
            ev = by_id.get(obj["evaluation_id"])
            if ev is None:
                ev, _ = _try(lambda obj=obj: client.get(f"{R}/evaluations/{obj['evaluation_id']}"))
            if ev:
                found.append({"evaluation": ev, "objection": obj})
    return {"items": found, "checked": len(evaluations)}


def build_data(client: Client, cycle_id: int, progress: Progress = _no_progress) -> dict:
    cycle = client.get(f"{P}/cycles/{cycle_id}")
    seqs = [p["seq"] for p in cycle.get("periods", [])] + [0]
    ov = gather_overview(client, cycle_id, seqs=seqs, progress=progress)
    ov["surveys"] = gather_surveys(client, cycle["year"], progress)
    every = [e for s in ov["evaluations"] for e in ov["evaluations"][s]]
    ov["objections"] = gather_objections(client, every, progress)
    fus, err = _try(lambda: client.all(f"{R}/followups", {"cycle_id": cycle_id}))
    ov["followups"] = fus or []
    if err:
        ov["notes"].append(f"Tindak lanjut tidak terbaca (follow-up not readable): {err}")
    ov["generated_at"] = datetime.now(timezone.utc)
    return ov


def save_documents(client: Client, ov: dict, out_dir: Path, n: int, progress: Progress = _no_progress) -> list[Path]:
    """The evaluation documents (PDF) of the first ``n`` evaluations, annual ones first."""
    if n <= 0:
        return []
    evs = sorted(ov["evaluations"].get(0, []), key=lambda e: e["id"])
    evs += sorted((e for s, lst in ov["evaluations"].items() if s != 0 for e in lst), key=lambda e: e["id"])
    paths = []
    for e in progress(evs[:n], "Dokumen evaluasi (evaluation documents)"):
        seq = "tahunan" if e["period_seq"] == 0 else f"p{e['period_seq']}"
        dest = out_dir / "documents" / f"penilaian-{e['id']}-{e['employee_nip']}-{seq}.pdf"
        paths.append(client.download(f"{R}/evaluations/{e['id']}/document.pdf", dest))
    return paths


def build_report(
    client: Client,
    cycle_id: int,
    out_dir: Path | str,
    pdf: bool = True,
    documents: int = 0,
    progress: Progress | None = None,
) -> dict:
    """Gather everything through the APIs and write the report; returns
    ``{"html": Path, "pdf": Path | None, "documents": [Path, ...]}``."""
    progress = progress or _no_progress
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = build_data(client, cycle_id, progress)
    docs = save_documents(client, data, out_dir, documents, progress)
    data["documents"] = [p.relative_to(out_dir).as_posix() for p in docs]
    html_path = out_dir / "report.html"
    html_path.write_text(render_html(data), encoding="utf-8")
    pdf_path = None
    if pdf:
        pdf_path = out_dir / "report.pdf"
        pdf_path.write_bytes(render_pdf(data))
    return {"html": html_path, "pdf": pdf_path, "documents": docs}


# ---------------------------------------------------------------------------------------------- summaries


def summary_figures(d: dict) -> list[tuple[str, str]]:
    employees = len(d["employees"])
    approved = sum(c.get("approved", 0) for c in d["plans_per_unit"].values())
    annual = d["evaluations"].get(0, [])
    seq = calibration_seq(d)
    cal_units = d["calibration"].get(seq, {}).get("units", []) if seq is not None else []
    breaking = sum(1 for u in cal_units if u["violations"])
    overrides = sum(1 for u in cal_units if u.get("override"))
    ikm = [u["ikm_unit"] for u in d["surveys"]["units"].values() if u.get("ikm_unit") is not None]
    return [
        ("Pegawai aktif (active employees)", str(employees)),
        (
            "SKP disetujui (SKP approved)",
            f"{approved}/{employees}" + (f" · {_pct(approved, employees)} %" if employees else ""),
        ),
        (
            "Evaluasi tahunan disahkan (annual evaluations countersigned)",
            f"{sum(e['status'] == 'countersigned' for e in annual)}/{len(annual)}" if annual else "–",
        ),
        ("Unit melanggar kurva (units off the curve)", f"{breaking}/{len(cal_units)}" if cal_units else "–"),
        ("Pengecualian HR atas kurva (HR overrides)", str(overrides) if cal_units else "–"),
        ("IKM rata-rata unit (mean unit IKM)", f"{sum(ikm) / len(ikm):.2f}" if ikm else "–"),
        ("Keberatan terlihat (objections seen)", str(len(d["objections"]["items"]))),
        ("Tindak lanjut (follow-up plans)", str(len(d["followups"]))),
    ]


def _pct(n: int, total: int) -> int:
    return round(100 * n / total) if total else 0


def _unit_name(d: dict, code: str) -> str:
    return next((u["name"] for u in d["units"] if u["code"] == code), code)


def followup_rows(d: dict) -> list[list[str]]:
    names = {e["nip"]: e["name"] for e in d["employees"]}
    unit_of = {e["employee_nip"]: e["unit_code"] for s in d["evaluations"] for e in d["evaluations"][s]}
    rows = []
    for f in sorted(d["followups"], key=lambda f: (f["kind"], unit_of.get(f["employee_nip"], ""), f["employee_nip"])):
        below = len(f.get("below_iki") or []) + len(f.get("below_values") or [])
        rows.append(
            [
                label_id(f["kind"]),
                unit_of.get(f["employee_nip"], "–"),
                f"{names.get(f['employee_nip'], '')} {f['employee_nip']}".strip(),
                label_id(f["predikat"]),
                str(below) if f["kind"] == "development" else "–",
                f.get("owner_nip") or "–",
                str(f.get("due_date") or "–"),
            ]
        )
    return rows


def objection_rows(d: dict) -> list[list[str]]:
    rows = []
    for item in d["objections"]["items"]:
        ev, obj = item["evaluation"], item["objection"] or {}
        before = (obj.get("before") or {}).get("predikat")
        after = (obj.get("after") or {}).get("predikat") if obj.get("status") == "decided" else None
        rows.append(
            [
                f"#{obj['id']}" if obj else "–",
                ev["unit_code"],
                f"{ev.get('employee_name', '')} {ev['employee_nip']}",
                period_name(d["cycle"], ev["period_seq"]),
                label_id(obj.get("decision") or obj.get("status") or "filed"),
                f"{label_id(before) if before else '?'} → {label_id(after) if after else '?'}",
                f"v{ev.get('document_version')}",
            ]
        )
    return rows


# ---------------------------------------------------------------------------------------------- HTML

CSS = """
body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;margin:24px auto;max-width:1100px;color:#1f2933;
  font-size:14px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:2px solid #2e5e9e;padding-bottom:3px}
h3{font-size:14px;margin:12px 0 4px}.en{color:#6b7785;font-weight:normal}
table{border-collapse:collapse;margin:6px 0 10px}
th,td{border:1px solid #d5dbe3;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#eef2f7;font-size:12px}td.n{text-align:right;font-variant-numeric:tabular-nums}
.kpi{display:flex;flex-wrap:wrap;gap:8px}
.kpi div{border:1px solid #d5dbe3;border-radius:6px;padding:6px 10px;min-width:150px}
.kpi b{display:block;font-size:18px}.kpi span{font-size:11px;color:#52606d}
.grid{display:flex;flex-wrap:wrap;gap:10px}.card{border:1px solid #d5dbe3;border-radius:6px;padding:6px}
.note{background:#fff8e1;border-left:4px solid #f2c14e;padding:6px 10px;font-size:12px}
.legend span{display:inline-block;margin-right:12px;font-size:12px}
.legend i{display:inline-block;width:11px;height:11px;margin-right:4px;vertical-align:-1px}
.bad{color:#c0392b}.muted{color:#6b7785}.nw{white-space:nowrap}
.card.band{width:262px}.card.ikm{width:342px}.card .sub{font-size:11px;color:#6b7785;min-height:28px}
"""


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _h(id_text: str, en_text: str) -> str:
    return f'{_e(id_text)} <span class="en">({_e(en_text)})</span>'


def _table(headers: list[str], rows: list[list[Any]], numeric: Iterable[int] = ()) -> str:
    numeric = set(numeric)
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)

    def cls(i, c):
        names = (["n"] if i in numeric else []) + (["nw"] if len(str(c)) <= 24 else [])
        return f' class="{" ".join(names)}"' if names else ""

    body = "".join("<tr>" + "".join(f"<td{cls(i, c)}>{_e(c)}</td>" for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _heat_rgb(done: float, total: float) -> tuple[int, int, int]:
    """Pale red (0 %) through amber (50 %) to green (100 %)."""
    f = min(1.0, max(0.0, done / total)) if total else 0.0
    red, amber, green = (244, 177, 164), (250, 226, 150), (178, 226, 186)
    a, b, t = (red, amber, f * 2) if f < 0.5 else (amber, green, (f - 0.5) * 2)
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))


def _heat(done: float, total: float) -> str:
    return "rgb({},{},{})".format(*_heat_rgb(done, total))


def svg_stacked(rows: list[tuple[str, Counter, int]], order: tuple[str, ...], width: int = 820) -> str:
    """Horizontal stacked bars: per unit the plans by status; the rest of the staff (no plan) in grey."""
    label_w, bar_w, row_h = 270, width - 350, 20
    h = row_h * len(rows) + 8
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" role="img" '
        f'aria-label="SKP per unit dan status">'
    ]
    biggest = max([max(total, sum(c.values())) for _, c, total in rows] or [1]) or 1
    for i, (name, counts, total) in enumerate(rows):
        y = 4 + i * row_h
        label = _e(name if len(name) <= 42 else name[:41] + "…")
        out.append(f'<text x="{label_w - 6}" y="{y + 13}" font-size="11" text-anchor="end">{label}</text>')
        x = float(label_w)
        for status in order:
            n = counts.get(status, 0)
            if not n:
                continue
            w = bar_w * n / biggest
            out.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h - 5}" fill="{STATUS_COLOURS[status]}">'
                f"<title>{_e(bi(status))}: {n}</title></rect>"
            )
            x += w
        rest = total - sum(counts.values())
        if rest > 0:
            w = bar_w * rest / biggest
            out.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h - 5}" fill="{STATUS_COLOURS["none"]}" '
                f'stroke="#c8ced6"><title>belum ada SKP (no plan): {rest}</title></rect>'
            )
            x += w
        approved = counts.get("approved", 0)
        out.append(
            f'<text x="{x + 5:.1f}" y="{y + 13}" font-size="11">{approved}/{total} ({_pct(approved, total)} %)</text>'
        )
    out.append("</svg>")
    return "".join(out)


def svg_band(unit: dict, width: int = 250, height: int = 170) -> str:
    """One unit's predikat counts as bars; the allowed band [min_count, max_count] shaded green with
    dashed limits; a bar outside its band is red."""
    bands = unit["bands"]
    top = max([unit["headcount"], 1] + [b["max_count"] or 0 for b in bands] + [b["count"] for b in bands])
    left, bottom, plot_h = 26, height - 22, height - 48
    slot = (width - left - 6) / len(bands)
    y_of = lambda v: bottom - plot_h * v / top  # noqa: E731
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="Kurva {_e(unit["unit_code"])}">',
        f'<line x1="{left}" y1="{bottom}" x2="{width - 4}" y2="{bottom}" stroke="#52606d"/>',
        f'<text x="{left - 4}" y="{y_of(top) + 4:.1f}" font-size="9" text-anchor="end">{top}</text>',
        f'<text x="{left - 4}" y="{bottom}" font-size="9" text-anchor="end">0</text>',
    ]
    for i, b in enumerate(bands):
        x = left + i * slot
        lo = b["min_count"] if b["min_count"] is not None else 0
        hi = b["max_count"] if b["max_count"] is not None else top
        if b["min_count"] is not None or b["max_count"] is not None:
            out.append(
                f'<rect x="{x + 3:.1f}" y="{y_of(hi):.1f}" width="{slot - 6:.1f}" '
                f'height="{y_of(lo) - y_of(hi):.1f}" fill="#d7f0de">'
                f"<title>rentang yang diizinkan (allowed band): {lo}–{hi}</title></rect>"
            )
            for v, known in (
                (b["min_count"], b["min_count"] is not None),
                (b["max_count"], b["max_count"] is not None),
            ):
                if known:
                    out.append(
                        f'<line x1="{x + 3:.1f}" y1="{y_of(v):.1f}" x2="{x + slot - 3:.1f}" y2="{y_of(v):.1f}" '
                        f'stroke="#2e9e5b" stroke-width="1.5" stroke-dasharray="4 2"/>'
                    )
        bad = (b["max_count"] is not None and b["count"] > b["max_count"]) or (
            b["min_count"] is not None and b["count"] < b["min_count"]
        )
        colour = "#d64545" if bad else "#2e5e9e"
        bw = slot * 0.46
        bx = x + (slot - bw) / 2
        top_y = y_of(b["count"])
        out.append(
            f'<rect x="{bx:.1f}" y="{top_y:.1f}" width="{bw:.1f}" height="{bottom - top_y:.1f}" '
            f'fill="{colour}"><title>{_e(label_id(b["predikat"]))}: {b["count"]} '
            f"({b['percent']:.0f} %)</title></rect>"
        )
        out.append(
            f'<text x="{x + slot / 2:.1f}" y="{top_y - 3:.1f}" font-size="10" text-anchor="middle">{b["count"]}</text>'
        )
        out.append(
            f'<text x="{x + slot / 2:.1f}" y="{bottom + 13}" font-size="10" text-anchor="middle">'
            f"{PREDIKAT_SHORT.get(b['predikat'], b['predikat'])}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def svg_ikm(unit: dict, width: int = 330, height: int = 170) -> str:
    """NRR of the nine unsur on the 1–4 scale, the weakest in orange, band limits A/B/C dashed."""
    left, bottom, plot_h = 26, height - 22, height - 40
    lo_v, hi_v = 1.0, 4.0
    y_of = lambda v: bottom - plot_h * (v - lo_v) / (hi_v - lo_v)  # noqa: E731
    slot = (width - left - 22) / len(UNSUR)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="IKM per unsur">',
        f'<line x1="{left}" y1="{bottom}" x2="{width - 20}" y2="{bottom}" stroke="#52606d"/>',
    ]
    for v in (1, 2, 3, 4):
        out.append(f'<text x="{left - 4}" y="{y_of(v) + 3:.1f}" font-size="9" text-anchor="end">{v}</text>')
    for mutu, v in IKM_BANDS:
        out.append(
            f'<line x1="{left}" y1="{y_of(v):.1f}" x2="{width - 20}" y2="{y_of(v):.1f}" stroke="#9aa5b1" '
            f'stroke-dasharray="3 3"/><text x="{width - 17}" y="{y_of(v) + 3:.1f}" font-size="9">{mutu}</text>'
        )
    nrr = unit.get("nrr") or {}
    for i, u in enumerate(UNSUR):
        v = nrr.get(u)
        x = left + i * slot
        if v is not None:
            colour = "#f08a24" if u in unit.get("weakest", []) else "#2e5e9e"
            out.append(
                f'<rect x="{x + slot * 0.2:.1f}" y="{y_of(v):.1f}" width="{slot * 0.6:.1f}" '
                f'height="{bottom - y_of(v):.1f}" fill="{colour}"><title>{u} {_e(UNSUR_LABELS[u][0])}: '
                f"{v:.2f}</title></rect>"
            )
            out.append(
                f'<text x="{x + slot / 2:.1f}" y="{y_of(v) - 3:.1f}" font-size="8" text-anchor="middle">{v:.2f}</text>'
            )
        out.append(f'<text x="{x + slot / 2:.1f}" y="{bottom + 13}" font-size="10" text-anchor="middle">{u}</text>')
    out.append("</svg>")
    return "".join(out)


def render_html(d: dict) -> str:
    cycle, agency = d["cycle"], d["agency"]
    parts = [
        f'<!DOCTYPE html><html lang="id"><head><meta charset="utf-8">'
        f"<title>Laporan siklus {_e(cycle['name'])} — {_e(agency['name'])}</title><style>{CSS}</style></head><body>",
        f"<h1>{_h('Laporan Siklus Penilaian Kinerja', 'HR cycle report')}</h1>",
        f"<p><b>{_e(agency['name'])}</b> ({_e(agency['code'])}) · {_e(cycle['name'])} · "
        f"{_e(cycle['period_type'])} · tahap (stage): <b>{_e(state_text(cycle))}</b><br>"
        f'<span class="muted">Dibuat (generated) {d["generated_at"]:%Y-%m-%d %H:%M} UTC · '
        f"sumber: API plans, reviews, surveys</span></p>",
        '<div class="kpi">'
        + "".join(f"<div><b>{_e(v)}</b><span>{_e(k)}</span></div>" for k, v in summary_figures(d))
        + "</div>",
    ]
    # stages and deadlines
    parts.append(f"<h2>{_h('Tahapan dan tenggat', 'stages and deadlines')}</h2>")
    parts.append(_table(*period_rows(cycle)))
    # plans per unit
    parts.append(f"<h2>{_h('SKP per unit dan status', 'plans per unit by status')}</h2>")
    legend = [s for s in PLAN_STATUSES if any(c.get(s) for c in d["plans_per_unit"].values())] or ["approved"]
    parts.append(
        '<p class="legend">'
        + "".join(f'<span><i style="background:{STATUS_COLOURS[s]}"></i>{_e(bi(s))}</span>' for s in legend)
        + f'<span><i style="background:{STATUS_COLOURS["none"]};border:1px solid #c8ced6"></i>'
        f"belum ada SKP (no plan)</span></p>"
    )
    bars = [
        (
            "  " * u["depth"] + f"{u['code']} {u['name']}",
            d["plans_per_unit"].get(u["code"], Counter()),
            staff_of(d, u["code"]),
        )
        for u in d["units"]
    ]
    parts.append(svg_stacked(bars, PLAN_STATUSES))
    # completion
    columns, comp = completion(d)
    parts.append(f"<h2>{_h('Kelengkapan per unit dan tahap', 'completion per unit and stage')}</h2>")
    head = "".join(f"<th>{_e(c)}</th>" for c in ["Unit"] + columns)
    body = []
    for r in comp:
        cells = []
        for c in r["cells"]:
            if c is None:
                cells.append('<td class="n muted">–</td>')
            else:
                cells.append(f'<td class="n" style="background:{_heat(*c)}">{c[0]}/{c[1]} · {_pct(*c)} %</td>')
        body.append(
            f"<tr><td>{'&nbsp;&nbsp;' * r['unit']['depth']}{_e(r['unit']['code'])} "
            f'<span class="muted">{_e(r["unit"]["name"])}</span></td>{"".join(cells)}</tr>'
        )
    parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
    # calibration
    seq = calibration_seq(d)
    parts.append(f"<h2>{_h('Kalibrasi: distribusi predikat terhadap kurva', 'calibration against the curve')}</h2>")
    if seq is None:
        parts.append('<p class="muted">Belum ada evaluasi yang dinilai (no rated evaluations yet).</p>')
    else:
        cal = d["calibration"][seq]
        parts.append(
            f"<p>{_e(period_name(cycle, seq))}. Batang = jumlah pegawai per predikat (bars: employees per "
            f"predikat); hijau = rentang yang diizinkan oleh hasil kerja organisasi (green: the band allowed by "
            f"the unit's organisation result); merah = di luar rentang (red: outside the band). "
            f"SB Sangat Baik · B Baik · BP Butuh Perbaikan · K Kurang/Misconduct · SK Sangat Kurang.</p>"
        )
        cards = []
        for u in cal["units"]:
            org = ORG_RESULTS.get(u.get("org_result") or "", ("belum ditetapkan", "not set"))
            status = (
                '<span class="bad">melanggar (off the curve)</span>' if u["violations"] else "sesuai (on the curve)"
            )
            if u.get("override"):
                status += " · pengecualian HR (override)"
            cards.append(
                f'<div class="card band"><h3>{_e(u["unit_code"])} <span class="muted">'
                f'{_e(u.get("unit_name") or "")}</span></h3><div class="sub">Hasil organisasi (org result): '
                f"{_e(org[0])} · {u['headcount']} pegawai · {status}</div>{svg_band(u)}</div>"
            )
        parts.append(f'<div class="grid">{"".join(cards)}</div>')
        vrows = [
            [
                u["unit_code"],
                violation_text(v),
                "ya (yes)" if u.get("override") else "tidak (no)",
                (u.get("override") or {}).get("reason", ""),
            ]
            for u in cal["units"]
            for v in u["violations"]
        ]
        if vrows:
            parts.append(f"<h3>{_h('Pelanggaran kurva', 'violations')}</h3>")
            parts.append(
                _table(["Unit", "Pelanggaran (violation)", "Pengecualian (override)", "Alasan (reason)"], vrows)
            )
    # IKM
    sv = d["surveys"]
    parts.append(f"<h2>{_h('Indeks Kepuasan Masyarakat per unsur dan unit', 'satisfaction per unsur and unit')}</h2>")
    if sv.get("error"):
        parts.append(f'<p class="note">Survei tidak terbaca (surveys not readable): {_e(sv["error"])}</p>')
    elif not sv["units"]:
        parts.append(
            f'<p class="muted">Tidak ada survei pada tahun {cycle["year"]} (no survey campaigns this year).</p>'
        )
    else:
        parts.append(
            "<p>Nilai rata-rata per unsur (NRR, skala 1–4); oranye = unsur terlemah, prioritas perbaikan "
            "(orange: the weakest unsur, the priority); garis putus-putus = batas mutu A/B/C (dashed: the "
            "quality band limits).</p>"
        )
        cards = []
        for code, u in sv["units"].items():
            cards.append(
                f'<div class="card ikm"><h3>{_e(code)} <span class="muted">{_e(u["unit_name"])}</span></h3>'
                f'<div class="sub">IKM {u.get("ikm_unit") or "–"} · mutu '
                f"{u.get('mutu') or '–'} ({_e(u.get('kinerja') or '–')}) · {u['respondents']} responden"
                f"</div>{svg_ikm(u)}</div>"
            )
        parts.append(f'<div class="grid">{"".join(cards)}</div>')
        head = ["Unit"] + list(UNSUR) + ["IKM", "Mutu"]
        trs = []
        for code, u in sv["units"].items():
            cells = "".join(
                f'<td class="n" style="background:{_heat(max(0.0, (v or 1) - 1), 3)}">{v:.2f}</td>'
                if v is not None
                else '<td class="n muted">–</td>'
                for v in (u["nrr"].get(k) for k in UNSUR)
            )
            trs.append(
                f'<tr><td>{_e(code)}</td>{cells}<td class="n">{u.get("ikm_unit") or "–"}</td>'
                f"<td>{_e(u.get('mutu') or '–')}</td></tr>"
            )
        parts.append(
            "<table><thead><tr>"
            + "".join(f"<th>{_e(h)}</th>" for h in head)
            + "</tr></thead><tbody>"
            + "".join(trs)
            + "</tbody></table>"
        )
        parts.append(
            '<p class="muted" style="font-size:11px">'
            + " · ".join(f"{k} {_e(v[0])} ({_e(v[1])})" for k, v in UNSUR_LABELS.items())
            + "</p>"
        )
        crow = [
            [
                c["id"],
                c["unit_code"],
                c.get("title") or c["service_type"],
                f"{c['start_date']} – {c['end_date']}",
                label_id(c["status"]) if c["status"] in LABELS else c["status"],
                f"{c['respondents']}/{c['min_sample']}",
                (c.get("index") or {}).get("ikm_unit") or "–",
            ]
            for c in sv["campaigns"]
        ]
        parts.append(
            _table(
                [
                    "#",
                    "Unit",
                    "Kampanye (campaign)",
                    "Periode (period)",
                    "Status",
                    "Responden/sampel min. (respondents/min. sample)",
                    "IKM",
                ],
                crow,
                numeric=(0, 5, 6),
            )
        )
    # objections
    parts.append(f"<h2>{_h('Keberatan dan hasilnya', 'objections and outcomes')}</h2>")
    orows = objection_rows(d)
    if orows:
        parts.append(
            _table(
                [
                    "Keberatan (objection)",
                    "Unit",
                    "Pegawai (employee)",
                    "Periode (period)",
                    "Keputusan (decision)",
                    "Predikat",
                    "Dokumen (document)",
                ],
                orows,
            )
        )
    else:
        parts.append(
            f'<p class="muted">Tidak ada keberatan yang terlihat dari {d["objections"]["checked"]} evaluasi '
            f"yang telah diterima pegawai (none seen among acknowledged evaluations).</p>"
        )
    # follow-up
    parts.append(f"<h2>{_h('Tindak lanjut', 'follow-up plans')}</h2>")
    kinds = Counter(f["kind"] for f in d["followups"])
    parts.append(
        "<p>" + " · ".join(f"{_e(bi(k))}: {n}" for k, n in sorted(kinds.items())) + "</p>"
        if kinds
        else '<p class="muted">Belum ada tindak lanjut (no follow-up yet).</p>'
    )
    if d["followups"]:
        parts.append(
            _table(
                [
                    "Jenis (kind)",
                    "Unit",
                    "Pegawai (employee)",
                    "Predikat",
                    "IKI/nilai di bawah ekspektasi (below expectation)",
                    "Penanggung jawab (owner)",
                    "Tenggat (due)",
                ],
                followup_rows(d),
                numeric=(4,),
            )
        )
    # documents and notes
    parts.append(f"<h2>{_h('Dokumen evaluasi', 'evaluation documents')}</h2>")
    if d.get("documents"):
        parts.append("<ul>" + "".join(f'<li><a href="{_e(p)}">{_e(p)}</a></li>' for p in d["documents"]) + "</ul>")
    else:
        parts.append('<p class="muted">Tidak ada dokumen yang disimpan (no documents saved).</p>')
    if d["notes"]:
        parts.append(
            f"<h2>{_h('Catatan data', 'data notes')}</h2><ul>"
            + "".join(f"<li>{_e(n)}</li>" for n in d["notes"])
            + "</ul>"
        )
    parts.append("</body></html>\n")
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------- PDF


def _fit(pdf, text: Any, width: float) -> str:
    """``text`` (latin-1) cut with '...' to fit ``width`` mm in the current font."""
    t = latin1(text)
    if pdf.get_string_width(t) <= width:
        return t
    while t and pdf.get_string_width(t + "...") > width:
        t = t[:-1]
    return t.rstrip() + "..."


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def render_pdf(d: dict) -> bytes:
    from fpdf import FPDF

    cycle, agency = d["cycle"], d["agency"]
    title = latin1(f"Laporan siklus {cycle['name']} - {agency['name']}")

    class Pdf(FPDF):
        def header(self):
            if self.page_no() == 1:
                return
            self.set_font("Helvetica", "", 7.5)
            self.set_text_color(110, 119, 133)
            self.cell(0, 5, title, new_x="LMARGIN", new_y="NEXT")
            self.set_text_color(31, 41, 51)
            self.ln(1)

        def footer(self):
            self.set_y(-12)
            self.set_font("Helvetica", "", 7.5)
            self.set_text_color(110, 119, 133)
            self.cell(
                0,
                5,
                latin1(
                    f"Halaman (page) {self.page_no()}/{{nb}} - dibuat (generated) "
                    f"{d['generated_at']:%Y-%m-%d %H:%M} UTC"
                ),
                align="C",
            )
            self.set_text_color(31, 41, 51)

    pdf = Pdf(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_margins(14, 12, 14)
    pdf.alias_nb_pages()
    pdf.set_title(title)
    pdf.set_author("Kinerja")
    W = pdf.w - pdf.l_margin - pdf.r_margin

    def h1(text_id, text_en):
        pdf.set_font("Helvetica", "B", 12.5)
        pdf.set_text_color(46, 94, 158)
        pdf.cell(0, 7, latin1(text_id), new_x="END")
        pdf.set_font("Helvetica", "", 10)
        pdf.set_text_color(110, 119, 133)
        pdf.cell(0, 7, latin1(f"  ({text_en})"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_draw_color(46, 94, 158)
        pdf.set_line_width(0.5)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + W, pdf.get_y())
        pdf.set_line_width(0.2)
        pdf.set_text_color(31, 41, 51)
        pdf.ln(2)

    def para(text, size=8.5, colour=(31, 41, 51)):
        pdf.set_font("Helvetica", "", size)
        pdf.set_text_color(*colour)
        pdf.multi_cell(W, size * 0.45, latin1(text), new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.set_text_color(31, 41, 51)
        pdf.ln(1)

    def table(headers, rows, widths, numeric=(), fills=None, size=7.5):
        numeric = set(numeric)
        pdf.set_draw_color(213, 219, 227)
        line_h = size * 0.5

        def head():
            pdf.set_font("Helvetica", "B", size)
            pdf.set_fill_color(238, 242, 247)
            y0, x = pdf.get_y(), pdf.l_margin
            lines = max(
                len(pdf.multi_cell(w, line_h, latin1(h), dry_run=True, output="LINES")) for h, w in zip(headers, widths)
            )
            for h, w in zip(headers, widths):
                pdf.set_xy(x, y0)
                pdf.rect(x, y0, w, lines * line_h + 1.2, style="DF")
                pdf.set_xy(x, y0 + 0.6)
                pdf.multi_cell(w, line_h, latin1(h), align="C")
                x += w
            pdf.set_xy(pdf.l_margin, y0 + lines * line_h + 1.2)
            pdf.set_font("Helvetica", "", size)

        head()
        for ri, row in enumerate(rows):
            texts = [latin1(c) for c in row]
            lines = max(
                len(pdf.multi_cell(w - 1, line_h, t, dry_run=True, output="LINES")) for t, w in zip(texts, widths)
            )
            hgt = lines * line_h + 1.2
            if pdf.get_y() + hgt > pdf.h - 16:
                pdf.add_page()
                head()
            y0, x = pdf.get_y(), pdf.l_margin
            for ci, (t, w) in enumerate(zip(texts, widths)):
                fill = fills[ri][ci] if fills else None
                if fill:
                    pdf.set_fill_color(*fill)
                pdf.rect(x, y0, w, hgt, style="DF" if fill else "D")
                pdf.set_xy(x + 0.5, y0 + 0.6)
                pdf.multi_cell(w - 1, line_h, t, align="R" if ci in numeric else "L")
                x += w
            pdf.set_xy(pdf.l_margin, y0 + hgt)
        pdf.ln(2)

    def need(height):
        if pdf.get_y() + height > pdf.h - 16:
            pdf.add_page()

    # ---------------------------------------------------------------- page 1: cover, figures, deadlines, plans
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 17)
    pdf.cell(0, 9, latin1("Laporan Siklus Penilaian Kinerja"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.set_text_color(110, 119, 133)
    pdf.cell(0, 6, "(HR cycle report)", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(31, 41, 51)
    pdf.set_font("Helvetica", "B", 10.5)
    pdf.cell(0, 6, latin1(f"{agency['name']} ({agency['code']})"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(
        W,
        4.8,
        latin1(f"{cycle['name']} · {cycle['period_type']} · tahap (stage): {state_text(cycle)}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(3)
    figures = summary_figures(d)
    box_w, box_h, per_row = (W - 3 * 3) / 4, 15, 4
    y0 = pdf.get_y()
    for i, (k, v) in enumerate(figures):
        x = pdf.l_margin + (i % per_row) * (box_w + 3)
        y = y0 + (i // per_row) * (box_h + 3)
        pdf.set_draw_color(213, 219, 227)
        pdf.set_fill_color(248, 250, 252)
        pdf.rect(x, y, box_w, box_h, style="DF", round_corners=True, corner_radius=1.5)
        pdf.set_xy(x + 2, y + 1.5)
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(box_w - 4, 6, latin1(v))
        pdf.set_xy(x + 2, y + 7.5)
        pdf.set_font("Helvetica", "", 6.5)
        pdf.set_text_color(82, 96, 109)
        pdf.multi_cell(box_w - 4, 3, latin1(k), align="L")
        pdf.set_text_color(31, 41, 51)
    pdf.set_xy(pdf.l_margin, y0 + ((len(figures) + per_row - 1) // per_row) * (box_h + 3) + 2)

    h1("Tahapan dan tenggat", "stages and deadlines")
    headers, rows = period_rows(cycle)
    table(headers, rows, [W * 0.34, W * 0.16, W * 0.16, W * 0.18, W * 0.16][: len(headers)])

    h1("SKP per unit dan status", "plans per unit by status")
    legend = [s for s in PLAN_STATUSES if any(c.get(s) for c in d["plans_per_unit"].values())] or ["approved"]
    pdf.set_font("Helvetica", "", 7)
    x = pdf.l_margin
    for s in legend + ["none"]:
        pdf.set_fill_color(*_rgb(STATUS_COLOURS[s]))
        pdf.rect(x, pdf.get_y() + 1, 3, 3, style="F")
        text = latin1(bi(s) if s != "none" else "belum ada SKP (no plan)")
        pdf.set_xy(x + 4, pdf.get_y())
        pdf.cell(pdf.get_string_width(text) + 2, 5, text)
        x += pdf.get_string_width(text) + 9
    pdf.ln(6)
    label_w, bar_w, row_h = 62, W - 62 - 26, 5.2
    biggest = max([staff_of(d, u["code"]) for u in d["units"]] or [1]) or 1
    for u in d["units"]:
        need(row_h)
        counts = d["plans_per_unit"].get(u["code"], Counter())
        total = staff_of(d, u["code"])
        y = pdf.get_y()
        pdf.set_font("Helvetica", "", 7)
        pdf.set_xy(pdf.l_margin, y)
        pdf.cell(label_w - 2, row_h - 1, _fit(pdf, "  " * u["depth"] + f"{u['code']} {u['name']}", label_w - 3))
        x = pdf.l_margin + label_w
        for s in PLAN_STATUSES:
            n = counts.get(s, 0)
            if n:
                w = bar_w * n / biggest
                pdf.set_fill_color(*_rgb(STATUS_COLOURS[s]))
                pdf.rect(x, y + 0.4, w, row_h - 1.6, style="F")
                x += w
        rest = total - sum(counts.values())
        if rest > 0:
            w = bar_w * rest / biggest
            pdf.set_fill_color(*_rgb(STATUS_COLOURS["none"]))
            pdf.set_draw_color(200, 206, 214)
            pdf.rect(x, y + 0.4, w, row_h - 1.6, style="DF")
            x += w
        pdf.set_xy(x + 1, y)
        approved = counts.get("approved", 0)
        pdf.cell(24, row_h - 1, f"{approved}/{total} ({_pct(approved, total)} %)")
        pdf.set_xy(pdf.l_margin, y + row_h)

    # ---------------------------------------------------------------- completion
    pdf.ln(4)
    need(60)
    h1("Kelengkapan per unit dan tahap", "completion per unit and stage")
    para(
        "Setiap sel: selesai/jumlah dan persentase; warna dari merah (0 %) ke hijau (100 %); '-' = tahap belum dimulai "
        "di unit ini. (Each cell: done/total and percent, red to green; '-' = not started.)",
        7.5,
        (82, 96, 109),
    )
    columns, comp = completion(d)
    first = W * 0.26
    rest_w = (W - first) / max(1, len(columns))
    rows, fills = [], []
    for r in comp:
        row = [("  " * r["unit"]["depth"]) + f"{r['unit']['code']} {r['unit']['name']}"]
        fill = [None]
        for c in r["cells"]:
            row.append("-" if c is None else f"{c[0]}/{c[1]}\n{_pct(*c)} %")
            fill.append(None if c is None else _heat_rgb(*c))
        rows.append(row)
        fills.append(fill)
    table(
        ["Unit"] + columns,
        rows,
        [first] + [rest_w] * len(columns),
        numeric=range(1, len(columns) + 1),
        fills=fills,
        size=6.8,
    )
    need(35)
    h1("SKP per status (jumlah)", "plans by status, counts")
    shown = [s for s in PLAN_STATUSES if s != "revised" or any(c.get("revised") for c in d["plans_per_unit"].values())]
    prow = []
    for u in d["units"]:
        c = d["plans_per_unit"].get(u["code"], Counter())
        staff = staff_of(d, u["code"])
        prow.append([u["code"], *(str(c.get(s, 0)) for s in shown), str(staff - sum(c.values())), str(staff)])
    table(
        ["Unit", *(bi(s) for s in shown), "Belum ada (no plan)", "Pegawai (staff)"],
        prow,
        [W * 0.2] + [(W * 0.8) / (len(shown) + 2)] * (len(shown) + 2),
        numeric=range(1, len(shown) + 3),
    )

    # ---------------------------------------------------------------- calibration
    pdf.ln(4)
    need(110)
    h1("Kalibrasi: distribusi predikat terhadap kurva", "calibration against the curve")
    seq = calibration_seq(d)
    if seq is None:
        para("Belum ada evaluasi yang dinilai (no rated evaluations yet).")
    else:
        para(
            f"{period_name(cycle, seq)}. Batang = jumlah pegawai per predikat; area hijau = rentang yang diizinkan "
            "oleh hasil kerja organisasi unit (garis putus-putus: batas bawah/atas); batang merah = di luar rentang. "
            "(Bars: employees per predikat; green: the allowed band; red: outside it.) "
            "SB Sangat Baik, B Baik, BP Butuh Perbaikan, K Kurang/Misconduct, SK Sangat Kurang.",
            7.5,
            (82, 96, 109),
        )
        units = d["calibration"][seq]["units"]
        cols, gap, ch = 3, 4, 44
        cw = (W - gap * (cols - 1)) / cols
        for i, u in enumerate(units):
            if i % cols == 0:
                need(ch + 3)
                row_y = pdf.get_y()
            _pdf_band(pdf, u, pdf.l_margin + (i % cols) * (cw + gap), row_y, cw, ch)
            if i % cols == cols - 1 or i == len(units) - 1:
                pdf.set_xy(pdf.l_margin, row_y + ch + 3)
        vrows = [
            [
                u["unit_code"],
                violation_text(v),
                "ya (yes)" if u.get("override") else "tidak (no)",
                (u.get("override") or {}).get("reason", ""),
            ]
            for u in units
            for v in u["violations"]
        ]
        if vrows:
            need(20)
            h1("Pelanggaran kurva", "violations")
            table(
                ["Unit", "Pelanggaran (violation)", "Pengecualian HR (override)", "Alasan (reason)"],
                vrows,
                [W * 0.14, W * 0.4, W * 0.14, W * 0.32],
            )

    # ---------------------------------------------------------------- IKM
    pdf.ln(4)
    need(110)
    h1("Indeks Kepuasan Masyarakat per unsur dan unit", "public satisfaction per unsur and unit")
    sv = d["surveys"]
    if sv.get("error"):
        para(f"Survei tidak terbaca (surveys not readable): {sv['error']}")
    elif not sv["units"]:
        para(f"Tidak ada survei pada tahun {cycle['year']} (no survey campaigns this year).")
    else:
        para(
            "NRR per unsur (skala 1-4); oranye = unsur terlemah (prioritas perbaikan); garis putus-putus = batas mutu "
            "A/B/C. (NRR per unsur on the 1-4 scale; orange: the weakest unsur; dashed: quality band limits.)",
            7.5,
            (82, 96, 109),
        )
        cols, gap, ch = 2, 5, 50
        cw = (W - gap) / cols
        items = list(sv["units"].items())
        for i, (code, u) in enumerate(items):
            if i % cols == 0:
                need(ch + 3)
                row_y = pdf.get_y()
            _pdf_ikm(pdf, code, u, pdf.l_margin + (i % cols) * (cw + gap), row_y, cw, ch)
            if i % cols == cols - 1 or i == len(items) - 1:
                pdf.set_xy(pdf.l_margin, row_y + ch + 3)
        rows, fills = [], []
        for code, u in items:
            vals = [u["nrr"].get(k) for k in UNSUR]
            rows.append(
                [
                    code,
                    *(f"{v:.2f}" if v is not None else "-" for v in vals),
                    str(u.get("ikm_unit") or "-"),
                    u.get("mutu") or "-",
                ]
            )
            fills.append([None, *(_heat_rgb(max(0.0, v - 1), 3) if v is not None else None for v in vals), None, None])
        need(20)
        table(
            ["Unit", *UNSUR, "IKM", "Mutu"],
            rows,
            [W * 0.16] + [W * 0.07] * 9 + [W * 0.1, W * 0.11],
            numeric=range(1, 11),
            fills=fills,
        )
        para(" · ".join(f"{k} {v[0]} ({v[1]})" for k, v in UNSUR_LABELS.items()), 6.8, (82, 96, 109))
        crow = [
            [
                str(c["id"]),
                c["unit_code"],
                c.get("title") or c["service_type"],
                f"{c['start_date']} - {c['end_date']}",
                f"{c['respondents']}/{c['min_sample']}",
                str((c.get("index") or {}).get("ikm_unit") or "-"),
            ]
            for c in sv["campaigns"]
        ]
        need(20)
        table(
            [
                "#",
                "Unit",
                "Kampanye (campaign)",
                "Periode (period)",
                "Responden / sampel min. (respondents / min.)",
                "IKM",
            ],
            crow,
            [W * 0.05, W * 0.14, W * 0.35, W * 0.2, W * 0.16, W * 0.1],
            numeric=(0, 4, 5),
        )

    # ---------------------------------------------------------------- objections, follow-up, documents, notes
    pdf.ln(4)
    need(60)
    h1("Keberatan dan hasilnya", "objections and outcomes")
    orows = objection_rows(d)
    if orows:
        table(
            ["Keberatan", "Unit", "Pegawai (employee)", "Periode", "Keputusan (decision)", "Predikat", "Dok."],
            orows,
            [W * 0.1, W * 0.12, W * 0.28, W * 0.12, W * 0.14, W * 0.17, W * 0.07],
        )
    else:
        para(
            f"Tidak ada keberatan yang terlihat dari {d['objections']['checked']} evaluasi yang telah diterima pegawai "
            "(none seen among acknowledged evaluations)."
        )
    h1("Tindak lanjut", "follow-up plans")
    kinds = Counter(f["kind"] for f in d["followups"])
    para(
        " · ".join(f"{bi(k)}: {n}" for k, n in sorted(kinds.items()))
        if kinds
        else "Belum ada tindak lanjut (no follow-up yet)."
    )
    if d["followups"]:
        table(
            [
                "Jenis (kind)",
                "Unit",
                "Pegawai (employee)",
                "Predikat",
                "Di bawah eksp. (below)",
                "Penanggung jawab (owner)",
                "Tenggat (due)",
            ],
            followup_rows(d),
            [W * 0.12, W * 0.12, W * 0.27, W * 0.14, W * 0.07, W * 0.18, W * 0.10],
            numeric=(4,),
        )
    h1("Dokumen evaluasi", "evaluation documents")
    para("\n".join(d.get("documents") or []) or "Tidak ada dokumen yang disimpan (no documents saved).", 7.5)
    if d["notes"]:
        h1("Catatan data", "data notes")
        for n in d["notes"]:
            para(f"- {n}", 7.5)
    return bytes(pdf.output())


def _pdf_band(pdf, unit: dict, x: float, y: float, w: float, h: float) -> None:
    bands = unit["bands"]
    pdf.set_draw_color(213, 219, 227)
    pdf.rect(x, y, w, h)
    pdf.set_font("Helvetica", "B", 7.5)
    pdf.set_xy(x + 1.5, y + 1)
    bad = bool(unit["violations"])
    pdf.set_text_color(*((192, 57, 43) if bad else (31, 41, 51)))
    pdf.cell(w - 3, 3.8, _fit(pdf, f"{unit['unit_code']} {(unit.get('unit_name') or '')}", w - 3))
    pdf.set_text_color(82, 96, 109)
    pdf.set_font("Helvetica", "", 6)
    org = ORG_RESULTS.get(unit.get("org_result") or "", ("belum ditetapkan", "not set"))[0]
    pdf.set_xy(x + 1.5, y + 4.8)
    pdf.cell(w - 3, 3, _fit(pdf, f"Hasil org. (org result): {org} · {unit['headcount']} pegawai", w - 3))
    status = "melanggar kurva (off the curve)" if bad else "sesuai kurva (on the curve)"
    if unit.get("override"):
        status = "melanggar; pengecualian HR (override)"
    pdf.set_text_color(*((192, 57, 43) if bad else (46, 158, 91)))
    pdf.set_xy(x + 1.5, y + 7.8)
    pdf.cell(w - 3, 3, _fit(pdf, status, w - 3))
    pdf.set_text_color(31, 41, 51)
    top = max([unit["headcount"], 1] + [b["max_count"] or 0 for b in bands] + [b["count"] for b in bands])
    left, bottom, plot_h = x + 6, y + h - 5, h - 20
    slot = (w - 8) / len(bands)
    y_of = lambda v: bottom - plot_h * v / top  # noqa: E731
    pdf.set_font("Helvetica", "", 5.5)
    pdf.set_xy(x + 0.5, y_of(top) - 1.5)
    pdf.cell(5, 3, str(top), align="R")
    pdf.set_xy(x + 0.5, bottom - 1.5)
    pdf.cell(5, 3, "0", align="R")
    for i, b in enumerate(bands):
        bx = left + i * slot
        lo = b["min_count"] if b["min_count"] is not None else 0
        hi = b["max_count"] if b["max_count"] is not None else top
        if b["min_count"] is not None or b["max_count"] is not None:
            pdf.set_fill_color(215, 240, 222)
            pdf.rect(bx + 0.8, y_of(hi), slot - 1.6, max(0.3, y_of(lo) - y_of(hi)), style="F")
            pdf.set_draw_color(46, 158, 91)
            pdf.set_line_width(0.35)
            for v in (b["min_count"], b["max_count"]):
                if v is not None:
                    pdf.set_dash_pattern(dash=1, gap=0.6)
                    pdf.line(bx + 0.8, y_of(v), bx + slot - 0.8, y_of(v))
            pdf.set_dash_pattern()
            pdf.set_line_width(0.2)
        off = (b["max_count"] is not None and b["count"] > b["max_count"]) or (
            b["min_count"] is not None and b["count"] < b["min_count"]
        )
        pdf.set_fill_color(*((214, 69, 69) if off else (46, 94, 158)))
        bw = slot * 0.46
        if b["count"]:
            pdf.rect(bx + (slot - bw) / 2, y_of(b["count"]), bw, bottom - y_of(b["count"]), style="F")
        pdf.set_font("Helvetica", "", 6)
        pdf.set_xy(bx, y_of(b["count"]) - 3)
        pdf.cell(slot, 2.8, str(b["count"]), align="C")
        pdf.set_xy(bx, bottom + 0.6)
        pdf.cell(slot, 3, PREDIKAT_SHORT.get(b["predikat"], b["predikat"]), align="C")
    pdf.set_draw_color(82, 96, 109)
    pdf.line(left, bottom, x + w - 1.5, bottom)


def _pdf_ikm(pdf, code: str, unit: dict, x: float, y: float, w: float, h: float) -> None:
    pdf.set_draw_color(213, 219, 227)
    pdf.rect(x, y, w, h)
    pdf.set_font("Helvetica", "B", 7.5)
    pdf.set_xy(x + 1.5, y + 1)
    pdf.cell(w - 3, 3.8, _fit(pdf, f"{code} {unit.get('unit_name') or ''}", w - 3))
    pdf.set_font("Helvetica", "", 6)
    pdf.set_text_color(82, 96, 109)
    pdf.set_xy(x + 1.5, y + 4.8)
    pdf.cell(
        w - 3,
        3,
        latin1(
            f"IKM {unit.get('ikm_unit') or '-'} · mutu {unit.get('mutu') or '-'} "
            f"({unit.get('kinerja') or '-'}) · {unit['respondents']} responden"
        ),
    )
    pdf.set_text_color(31, 41, 51)
    left, right, bottom, plot_h = x + 6, x + w - 6, y + h - 5, h - 17
    y_of = lambda v: bottom - plot_h * (v - 1) / 3  # noqa: E731
    pdf.set_font("Helvetica", "", 5.5)
    for v in (1, 2, 3, 4):
        pdf.set_xy(x + 0.5, y_of(v) - 1.5)
        pdf.cell(5, 3, str(v), align="R")
    pdf.set_draw_color(154, 165, 177)
    for mutu, v in IKM_BANDS:
        pdf.set_dash_pattern(dash=0.8, gap=0.8)
        pdf.line(left, y_of(v), right, y_of(v))
        pdf.set_dash_pattern()
        pdf.set_xy(right + 0.3, y_of(v) - 1.5)
        pdf.cell(4, 3, mutu)
    slot = (right - left) / len(UNSUR)
    nrr = unit.get("nrr") or {}
    for i, u in enumerate(UNSUR):
        v = nrr.get(u)
        bx = left + i * slot
        if v is not None:
            pdf.set_fill_color(*((240, 138, 36) if u in unit.get("weakest", []) else (46, 94, 158)))
            pdf.rect(bx + slot * 0.2, y_of(v), slot * 0.6, bottom - y_of(v), style="F")
            pdf.set_xy(bx, y_of(v) - 3)
            pdf.cell(slot, 2.8, f"{v:.2f}", align="C")
        pdf.set_xy(bx, bottom + 0.6)
        pdf.cell(slot, 3, u, align="C")
    pdf.set_draw_color(82, 96, 109)
    pdf.line(left, bottom, right, bottom)
