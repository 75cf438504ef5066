"""The figures and rows both renderings (HTML and PDF) show: the key figures, stages and
deadlines, headcount and plans per unit, completion per unit and stage, the curve's period and
its violations, objections and follow-up. Plain strings and numbers; no markup."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .vocabulary import EVAL_RATED, PLAN_STATUSES, label_id, period_name, violation_text


def pct(n: int, total: int) -> int:
    return round(100 * n / total) if total else 0


def heat_rgb(done: float, total: float) -> tuple[int, int, int]:
    """Pale red (0 %) through amber (50 %) to green (100 %)."""
    f = min(1.0, max(0.0, done / total)) if total else 0.0
    red, amber, green = (244, 177, 164), (250, 226, 150), (178, 226, 186)
    a, b, t = (red, amber, f * 2) if f < 0.5 else (amber, green, (f - 0.5) * 2)
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))


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


def plan_legend(d: dict) -> list[str]:
    """The plan statuses that occur (at least "approved"), in their order."""
    return [s for s in PLAN_STATUSES if any(c.get(s) for c in d["plans_per_unit"].values())] or ["approved"]


def unit_label(u: dict) -> str:
    """``code name`` indented two spaces per level."""
    return "  " * u["depth"] + f"{u['code']} {u['name']}"


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


def violation_rows(units: list[dict]) -> list[list[str]]:
    """Unit, violation, overridden or not, the override's reason: one row per violation of the curve."""
    return [
        [
            u["unit_code"],
            violation_text(v),
            "ya (yes)" if u.get("override") else "tidak (no)",
            (u.get("override") or {}).get("reason", ""),
        ]
        for u in units
        for v in u["violations"]
    ]


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
            f"{approved}/{employees}" + (f" · {pct(approved, employees)} %" if employees else ""),
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


def followup_kinds(d: dict) -> list[tuple[str, int]]:
    """How many follow-up plans of each kind, by kind."""
    return sorted(Counter(f["kind"] for f in d["followups"]).items())


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
