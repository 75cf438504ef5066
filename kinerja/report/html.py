"""The report as one self-contained HTML page: ``render_html(data)`` turns the gathered data into
a plain view, one function per section, and renders ``templates/report.html`` (Jinja2,
autoescaped; inline CSS and SVG charts, no JavaScript, no external links)."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

from . import tables as tb
from .svg import svg_band, svg_ikm, svg_stacked
from .vocabulary import (
    LABELS,
    ORG_RESULT_UNSET,
    ORG_RESULTS,
    PLAN_STATUSES,
    STATUS_COLOURS,
    UNSUR,
    UNSUR_LABELS,
    bi,
    label_id,
    period_name,
    state_text,
)

TEMPLATES_DIR = Path(__file__).parent / "templates"


@lru_cache(maxsize=1)
def template() -> Template:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env.get_template("report.html")


def heat(done: float, total: float) -> str:
    """The CSS colour of a completion cell (see ``tables.heat_rgb``)."""
    return "rgb({},{},{})".format(*tb.heat_rgb(done, total))


def table(headers: list[str], rows: list[list[Any]], numeric: Iterable[int] = ()) -> dict:
    """A plain table for the template's ``table`` macro: each cell with its classes ("n" numeric,
    "nw" short enough not to wrap)."""
    numeric = set(numeric)

    def cell(i: int, c: Any) -> dict:
        names = (["n"] if i in numeric else []) + (["nw"] if len(str(c)) <= 24 else [])
        return {"cls": " ".join(names), "text": c}

    return {"headers": headers, "rows": [[cell(i, c) for i, c in enumerate(r)] for r in rows]}


def header(d: dict) -> dict:
    return {
        "cycle": d["cycle"],
        "agency": d["agency"],
        "state": state_text(d["cycle"]),
        "generated": f"{d['generated_at']:%Y-%m-%d %H:%M}",
        "figures": tb.summary_figures(d),
        "deadlines": table(*tb.period_rows(d["cycle"])),
    }


def plans(d: dict) -> dict:
    bars = [
        (tb.unit_label(u), d["plans_per_unit"].get(u["code"], Counter()), tb.staff_of(d, u["code"])) for u in d["units"]
    ]
    return {
        "legend": [(STATUS_COLOURS[s], bi(s)) for s in tb.plan_legend(d)],
        "none_colour": STATUS_COLOURS["none"],
        "chart": svg_stacked(bars, PLAN_STATUSES),
    }


def completion(d: dict) -> dict:
    columns, rows = tb.completion(d)
    return {
        "columns": ["Unit", *columns],
        "rows": [
            {
                "unit": r["unit"],
                "cells": [
                    None if c is None else {"background": heat(*c), "text": f"{c[0]}/{c[1]} · {tb.pct(*c)} %"}
                    for c in r["cells"]
                ],
            }
            for r in rows
        ],
    }


def calibration(d: dict) -> dict | None:
    seq = tb.calibration_seq(d)
    if seq is None:
        return None
    units = d["calibration"][seq]["units"]
    cards = [
        {
            "code": u["unit_code"],
            "name": u.get("unit_name") or "",
            "org": ORG_RESULTS.get(u.get("org_result") or "", ORG_RESULT_UNSET)[0],
            "headcount": u["headcount"],
            "bad": bool(u["violations"]),
            "override": bool(u.get("override")),
            "chart": svg_band(u),
        }
        for u in units
    ]
    vrows = tb.violation_rows(units)
    headers = ["Unit", "Pelanggaran (violation)", "Pengecualian (override)", "Alasan (reason)"]
    return {
        "period": period_name(d["cycle"], seq),
        "cards": cards,
        "violations": table(headers, vrows) if vrows else None,
    }


def surveys(d: dict) -> dict:
    sv = d["surveys"]
    view: dict[str, Any] = {"error": sv.get("error"), "year": d["cycle"]["year"], "units": bool(sv["units"])}
    if sv.get("error") or not sv["units"]:
        return view
    view["cards"] = [
        {
            "code": code,
            "unit": u,
            "ikm": u.get("ikm_unit") or "–",
            "mutu": u.get("mutu") or "–",
            "kinerja": u.get("kinerja") or "–",
            "chart": svg_ikm(u),
        }
        for code, u in sv["units"].items()
    ]
    view["unsur"] = UNSUR
    view["rows"] = [
        {
            "code": code,
            "cells": [
                None if v is None else {"background": heat(max(0.0, (v or 1) - 1), 3), "text": f"{v:.2f}"}
                for v in (u["nrr"].get(k) for k in UNSUR)
            ],
            "ikm": u.get("ikm_unit") or "–",
            "mutu": u.get("mutu") or "–",
        }
        for code, u in sv["units"].items()
    ]
    view["unsur_labels"] = list(UNSUR_LABELS.items())
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
    headers = [
        "#",
        "Unit",
        "Kampanye (campaign)",
        "Periode (period)",
        "Status",
        "Responden/sampel min. (respondents/min. sample)",
        "IKM",
    ]
    view["campaigns"] = table(headers, crow, numeric=(0, 5, 6))
    return view


def objections(d: dict) -> dict:
    rows = tb.objection_rows(d)
    headers = [
        "Keberatan (objection)",
        "Unit",
        "Pegawai (employee)",
        "Periode (period)",
        "Keputusan (decision)",
        "Predikat",
        "Dokumen (document)",
    ]
    return {"table": table(headers, rows) if rows else None, "checked": d["objections"]["checked"]}


def followup(d: dict) -> dict:
    headers = [
        "Jenis (kind)",
        "Unit",
        "Pegawai (employee)",
        "Predikat",
        "IKI/nilai di bawah ekspektasi (below expectation)",
        "Penanggung jawab (owner)",
        "Tenggat (due)",
    ]
    return {
        "kinds": [(bi(k), n) for k, n in tb.followup_kinds(d)],
        "table": table(headers, tb.followup_rows(d), numeric=(4,)) if d["followups"] else None,
    }


def render_html(d: dict) -> str:
    return template().render(
        **header(d),
        plans=plans(d),
        completion=completion(d),
        calibration=calibration(d),
        surveys=surveys(d),
        objections=objections(d),
        followup=followup(d),
        documents=d.get("documents") or [],
        notes=d["notes"],
    )
