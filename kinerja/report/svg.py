"""The HTML report's charts as inline SVG (no JavaScript): plans per unit as stacked bars, a
unit's predikat counts against the curve's allowed band, and the IKM per unsur."""

from __future__ import annotations

import html
from collections import Counter
from typing import Any

from markupsafe import Markup

from .tables import pct
from .vocabulary import IKM_BANDS, PREDIKAT_SHORT, STATUS_COLOURS, UNSUR, UNSUR_LABELS, bi, label_id


def esc(x: Any) -> str:
    """``x`` as text escaped for HTML (quotes too)."""
    return html.escape(str(x), quote=True)


def svg_stacked(rows: list[tuple[str, Counter, int]], order: tuple[str, ...], width: int = 820) -> Markup:
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
        label = esc(name if len(name) <= 42 else name[:41] + "…")
        out.append(f'<text x="{label_w - 6}" y="{y + 13}" font-size="11" text-anchor="end">{label}</text>')
        x = float(label_w)
        for status in order:
            n = counts.get(status, 0)
            if not n:
                continue
            w = bar_w * n / biggest
            out.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row_h - 5}" fill="{STATUS_COLOURS[status]}">'
                f"<title>{esc(bi(status))}: {n}</title></rect>"
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
            f'<text x="{x + 5:.1f}" y="{y + 13}" font-size="11">{approved}/{total} ({pct(approved, total)} %)</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))


def svg_band(unit: dict, width: int = 250, height: int = 170) -> Markup:
    """One unit's predikat counts as bars; the allowed band [min_count, max_count] shaded green with
    dashed limits; a bar outside its band is red."""
    bands = unit["bands"]
    top = max([unit["headcount"], 1] + [b["max_count"] or 0 for b in bands] + [b["count"] for b in bands])
    left, bottom, plot_h = 26, height - 22, height - 48
    slot = (width - left - 6) / len(bands)
    y_of = lambda v: bottom - plot_h * v / top  # noqa: E731
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="Kurva {esc(unit["unit_code"])}">',
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
            f'fill="{colour}"><title>{esc(label_id(b["predikat"]))}: {b["count"]} '
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
    return Markup("".join(out))


def svg_ikm(unit: dict, width: int = 330, height: int = 170) -> Markup:
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
                f'height="{bottom - y_of(v):.1f}" fill="{colour}"><title>{u} {esc(UNSUR_LABELS[u][0])}: '
                f"{v:.2f}</title></rect>"
            )
            out.append(
                f'<text x="{x + slot / 2:.1f}" y="{y_of(v) - 3:.1f}" font-size="8" text-anchor="middle">{v:.2f}</text>'
            )
        out.append(f'<text x="{x + slot / 2:.1f}" y="{bottom + 13}" font-size="10" text-anchor="middle">{u}</text>')
    out.append("</svg>")
    return Markup("".join(out))
