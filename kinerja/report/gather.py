"""Gathering the report's data through the HTTP APIs only (plans, reviews, surveys) into one
plain dict: the cycle, the directory, plans per unit, the evaluations and calibration of every
period, the surveys' index per unit, objections and follow-up; and saving evaluation documents.
Reviews' or surveys' absence or ignorance of the cycle is noted, not fatal."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

from ..http import ApiError, Client
from .vocabulary import UNSUR

P = "/plans/api/v1"
R = "/reviews/api/v1"
S = "/surveys/api/v1"

Progress = Callable[[Iterable, str], Iterable]


def no_progress(items: Iterable, label: str) -> Iterable:
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


def gather_overview(
    client: Client, cycle_id: int, *, seqs: Iterable[int] | None = None, progress: Progress = no_progress
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


def gather_surveys(client: Client, year: int, progress: Progress = no_progress) -> dict:
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


def gather_objections(client: Client, evaluations: list[dict], progress: Progress = no_progress) -> dict:
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


def build_data(client: Client, cycle_id: int, progress: Progress = no_progress) -> dict:
    """Everything the report shows, for every period of the cycle and the annual one."""
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


def save_documents(client: Client, ov: dict, out_dir: Path, n: int, progress: Progress = no_progress) -> list[Path]:
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
