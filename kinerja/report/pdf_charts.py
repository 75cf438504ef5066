"""The PDF report's charts drawn with fpdf2's rectangles and lines: plans per unit as stacked
bars, a unit's predikat counts against the curve's allowed band, and the IKM per unsur."""

from __future__ import annotations

from collections import Counter

from fpdf import FPDF

from services.common.pdf import latin1

from .pdf_kit import Sheet, fit, rgb
from .tables import pct, plan_legend, staff_of, unit_label
from .vocabulary import (
    IKM_BANDS,
    ORG_RESULT_UNSET,
    ORG_RESULTS,
    PLAN_STATUSES,
    PREDIKAT_SHORT,
    STATUS_COLOURS,
    UNSUR,
    bi,
)


def plan_bars(sheet: Sheet, d: dict) -> None:
    """The legend, then per unit its plans by status as one bar; the rest of its staff (no plan) in grey."""
    pdf, W = sheet.pdf, sheet.W
    pdf.set_font("Helvetica", "", 7)
    x = pdf.l_margin
    for s in plan_legend(d) + ["none"]:
        pdf.set_fill_color(*rgb(STATUS_COLOURS[s]))
        pdf.rect(x, pdf.get_y() + 1, 3, 3, style="F")
        text = latin1(bi(s) if s != "none" else "belum ada SKP (no plan)")
        pdf.set_xy(x + 4, pdf.get_y())
        pdf.cell(pdf.get_string_width(text) + 2, 5, text)
        x += pdf.get_string_width(text) + 9
    pdf.ln(6)
    label_w, bar_w, row_h = 62, W - 62 - 26, 5.2
    biggest = max([staff_of(d, u["code"]) for u in d["units"]] or [1]) or 1
    for u in d["units"]:
        sheet.need(row_h)
        counts = d["plans_per_unit"].get(u["code"], Counter())
        total = staff_of(d, u["code"])
        y = pdf.get_y()
        pdf.set_font("Helvetica", "", 7)
        pdf.set_xy(pdf.l_margin, y)
        pdf.cell(label_w - 2, row_h - 1, fit(pdf, unit_label(u), label_w - 3))
        x = pdf.l_margin + label_w
        for s in PLAN_STATUSES:
            n = counts.get(s, 0)
            if n:
                w = bar_w * n / biggest
                pdf.set_fill_color(*rgb(STATUS_COLOURS[s]))
                pdf.rect(x, y + 0.4, w, row_h - 1.6, style="F")
                x += w
        rest = total - sum(counts.values())
        if rest > 0:
            w = bar_w * rest / biggest
            pdf.set_fill_color(*rgb(STATUS_COLOURS["none"]))
            pdf.set_draw_color(200, 206, 214)
            pdf.rect(x, y + 0.4, w, row_h - 1.6, style="DF")
            x += w
        pdf.set_xy(x + 1, y)
        approved = counts.get("approved", 0)
        pdf.cell(24, row_h - 1, f"{approved}/{total} ({pct(approved, total)} %)")
        pdf.set_xy(pdf.l_margin, y + row_h)


def band(pdf: FPDF, unit: dict, x: float, y: float, w: float, h: float) -> None:
    """One unit's predikat counts against the allowed band, in a box at (x, y) of w × h mm."""
    bands = unit["bands"]
    pdf.set_draw_color(213, 219, 227)
    pdf.rect(x, y, w, h)
    pdf.set_font("Helvetica", "B", 7.5)
    pdf.set_xy(x + 1.5, y + 1)
    bad = bool(unit["violations"])
    pdf.set_text_color(*((192, 57, 43) if bad else (31, 41, 51)))
    pdf.cell(w - 3, 3.8, fit(pdf, f"{unit['unit_code']} {(unit.get('unit_name') or '')}", w - 3))
    pdf.set_text_color(82, 96, 109)
    pdf.set_font("Helvetica", "", 6)
    org = ORG_RESULTS.get(unit.get("org_result") or "", ORG_RESULT_UNSET)[0]
    pdf.set_xy(x + 1.5, y + 4.8)
    pdf.cell(w - 3, 3, fit(pdf, f"Hasil org. (org result): {org} · {unit['headcount']} pegawai", w - 3))
    status = "melanggar kurva (off the curve)" if bad else "sesuai kurva (on the curve)"
    if unit.get("override"):
        status = "melanggar; pengecualian HR (override)"
    pdf.set_text_color(*((192, 57, 43) if bad else (46, 158, 91)))
    pdf.set_xy(x + 1.5, y + 7.8)
    pdf.cell(w - 3, 3, fit(pdf, status, w - 3))
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


def ikm(pdf: FPDF, code: str, unit: dict, x: float, y: float, w: float, h: float) -> None:
    """One unit's NRR per unsur with the A/B/C limits, in a box at (x, y) of w × h mm."""
    pdf.set_draw_color(213, 219, 227)
    pdf.rect(x, y, w, h)
    pdf.set_font("Helvetica", "B", 7.5)
    pdf.set_xy(x + 1.5, y + 1)
    pdf.cell(w - 3, 3.8, fit(pdf, f"{code} {unit.get('unit_name') or ''}", w - 3))
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
