"""The survey report: the nine unsur as a bar chart (inline SVG we draw; no JavaScript), the index,
its band, respondents against the minimum sample and the suggestions — as HTML (Jinja2
template) and as PDF (fpdf2, the chart drawn with its rectangles and lines)."""

from __future__ import annotations

from datetime import date, datetime, timezone

from flask import current_app, render_template, request
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from markupsafe import Markup, escape

from services.common.pdf import latin1

BAR = "#2e6da4"
PRIORITY = "#c0392b"
GRID = "#d0d7de"


def catalogue():
    return current_app.extensions["kinerja"].catalogue


def translator(lang: str):
    cat = catalogue()

    def t(key: str, **params) -> str:
        return cat.t(key, lang, **params)

    return t


def fmt_number(value, places: int, lang: str) -> str:
    if value is None:
        return "–"
    text = f"{value:.{places}f}"
    return text.replace(".", ",") if lang == "id" else text


def fmt_date(value: date | None, lang: str) -> str:
    if value is None:
        return "–"
    return value.strftime("%d-%m-%Y") if lang == "id" else value.isoformat()


# ------------------------------------------------------------------ chart (SVG)


def svg_chart(unsur: list[dict], lang: str, width: int = 680) -> Markup:
    """Horizontal bars of the NRR per unsur on the 1–4 scale (axis 0–4); the improvement
    priority in red. Accessible: a title, and each bar's value as text."""
    t = translator(lang)
    label_w, right = 290, 56
    row_h, top, bottom = 30, 28, 26
    plot_w = width - label_w - right
    height = top + row_h * len(unsur) + bottom

    def x(v: float) -> float:
        return label_w + plot_w * v / 4

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-labelledby="chart-title" font-family="sans-serif" font-size="13">',
        f'<title id="chart-title">{escape(t("report.chart"))}</title>',
    ]
    for tick in range(5):
        gx = x(tick)
        parts.append(f'<line x1="{gx:.1f}" y1="{top - 6}" x2="{gx:.1f}" y2="{height - bottom}" stroke="{GRID}"/>')
        parts.append(f'<text x="{gx:.1f}" y="{height - bottom + 16}" text-anchor="middle" fill="#555">{tick}</text>')
    for i, row in enumerate(unsur):
        y = top + i * row_h
        label = f"{row['code']} {t('unsur.' + row['code'])}"
        if len(label) > 40:
            label = label[:39] + "…"
        parts.append(f'<text x="{label_w - 8}" y="{y + row_h / 2 + 4:.1f}" text-anchor="end">{escape(label)}</text>')
        value = row["nrr"]
        if value is None:
            parts.append(f'<text x="{label_w + 4}" y="{y + row_h / 2 + 4:.1f}" fill="#777">–</text>')
            continue
        color = PRIORITY if row.get("priority") else BAR
        parts.append(
            f'<rect x="{label_w}" y="{y + 5}" width="{max(0.0, x(value) - label_w):.1f}" '
            f'height="{row_h - 10}" fill="{color}"><title>{escape(row["code"])}: '
            f"{fmt_number(value, 4, lang)}</title></rect>"
        )
        parts.append(
            f'<text x="{x(value) + 4:.1f}" y="{y + row_h / 2 + 4:.1f}" '
            f'font-weight="{"bold" if row.get("priority") else "normal"}">{fmt_number(value, 2, lang)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


# ------------------------------------------------------------------ HTML


def _view(data: dict, lang: str) -> dict:
    c, idx = data["campaign"], data["index"]
    t = translator(lang)
    missing = max(0, c["min_sample"] - c["respondents"])
    return {
        "lang": lang,
        "t": t,
        "c": c,
        "idx": idx,
        "unsur": data["unsur"],
        "priority": data["priority"],
        "suggestions": data["suggestions"],
        "suggestions_total": data["suggestions_total"],
        "missing": missing,
        "num": lambda v, p: fmt_number(v, p, lang),
        "date": lambda d: fmt_date(d, lang),
        "generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "kinerja_label": t(f"kinerja.{idx['mutu']}") if idx["mutu"] else None,
        "chart": svg_chart(data["unsur"], lang),
    }


def render_html(data: dict, lang: str) -> str:
    toggle = request.base_url + "?lang=" + ("en" if lang == "id" else "id")
    return render_template("surveys/report.html", toggle_url=toggle, **_view(data, lang))


# ------------------------------------------------------------------ PDF


def render_pdf(data: dict, lang: str) -> bytes:
    v = _view(data, lang)
    t, c, idx = v["t"], v["c"], v["idx"]

    def num(value, places: int) -> str:
        return latin1(fmt_number(value, places, lang))

    pdf = FPDF(format="A4")
    pdf.set_title(latin1(t("report.title")))
    pdf.set_author("Kinerja")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    nl = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}

    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(0, 8, latin1(t("report.title")), align="L", **nl)
    pdf.set_font("Helvetica", "", 10)
    rows = [
        (t("report.unit"), f"{c['unit_name'] or ''} ({c['unit_code']})".strip()),
        (t("report.service_type"), c["service_type"]),
        (t("report.period"), f"{v['date'](c['start_date'])} - {v['date'](c['end_date'])}"),
        (t("report.status"), t(f"status.{c['status']}")),
        (t("report.respondents"), str(c["respondents"])),
        (
            t("report.min_sample"),
            t(
                "report.min_sample_detail",
                sample=c["min_sample"],
                method=t(f"method.{c['sample_method']}"),
                population=c["population"],
            )
            + " - "
            + (
                t("report.sample_reached")
                if c["sample_reached"]
                else t("report.sample_not_reached", missing=v["missing"])
            ),
        ),
    ]
    for label, value in rows:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(70, 6, latin1(label))
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(0, 6, latin1(value), align="L", **nl)
    pdf.ln(3)

    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 7, latin1(t("report.ikm")), **nl)
    pdf.set_font("Helvetica", "", 10)
    if idx["ikm"] is None:
        pdf.multi_cell(0, 6, latin1(t("report.no_index")), align="L", **nl)
    else:
        for label, value in (
            (t("report.ikm_value"), num(idx["ikm"], 4)),
            (t("report.ikm_unit"), num(idx["ikm_unit"], 2)),
            (t("report.mutu"), idx["mutu"]),
            (t("report.kinerja"), v["kinerja_label"]),
        ):
            pdf.set_font("Helvetica", "B", 10)
            pdf.cell(70, 6, latin1(label))
            pdf.set_font("Helvetica", "", 10)
            pdf.cell(0, 6, latin1(value), **nl)
    pdf.set_font("Helvetica", "I", 8)
    pdf.multi_cell(0, 4, latin1(t("report.bands")), align="L", **nl)
    pdf.ln(3)

    # the chart: one bar per unsur on a 0-4 axis
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, latin1(t("report.chart")), **nl)
    label_w, plot_w, bar_h, gap = 70.0, 95.0, 5.0, 2.5
    x0, y0 = pdf.l_margin + label_w, pdf.get_y() + 2
    n = len(v["unsur"])
    plot_h = n * (bar_h + gap)
    if y0 + plot_h + 12 > pdf.h - pdf.b_margin:
        pdf.add_page()
        x0, y0 = pdf.l_margin + label_w, pdf.get_y() + 2
    pdf.set_draw_color(208, 215, 222)
    pdf.set_font("Helvetica", "", 7)
    for tick in range(5):
        gx = x0 + plot_w * tick / 4
        pdf.line(gx, y0 - 1, gx, y0 + plot_h)
        pdf.text(gx - 1, y0 + plot_h + 4, str(tick))
    pdf.set_font("Helvetica", "", 8)
    for i, row in enumerate(v["unsur"]):
        y = y0 + i * (bar_h + gap)
        label = latin1(f"{row['code']} {t('unsur.' + row['code'])}")
        while pdf.get_string_width(label) > label_w - 3 and len(label) > 4:
            label = label[:-4] + "..."
        pdf.text(pdf.l_margin, y + bar_h - 1.2, label)
        if row["nrr"] is None:
            pdf.text(x0 + 1, y + bar_h - 1.2, "-")
            continue
        r, g, b = (192, 57, 43) if row["priority"] else (46, 109, 164)
        pdf.set_fill_color(r, g, b)
        pdf.rect(x0, y, plot_w * row["nrr"] / 4, bar_h, style="F")
        pdf.set_font("Helvetica", "B" if row["priority"] else "", 8)
        pdf.text(x0 + plot_w * row["nrr"] / 4 + 1.5, y + bar_h - 1.2, num(row["nrr"], 2))
        pdf.set_font("Helvetica", "", 8)
    pdf.set_y(y0 + plot_h + 8)

    # NRR table
    pdf.set_font("Helvetica", "B", 9)
    for w, text in (
        (15, t("report.code")),
        (110, t("report.unsur")),
        (25, t("report.nrr")),
        (25, t("report.answered")),
    ):
        pdf.cell(w, 6, latin1(text), border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    for row in v["unsur"]:
        style = "B" if row["priority"] else ""
        pdf.set_font("Helvetica", style, 9)
        pdf.cell(15, 6, row["code"], border=1)
        pdf.cell(110, 6, latin1(t("unsur." + row["code"])), border=1)
        pdf.cell(25, 6, num(row["nrr"], 4), border=1, align="R")
        pdf.cell(25, 6, str(row["answered"]), border=1, align="R")
        pdf.ln()
    if v["priority"]:
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 10)
        pdf.multi_cell(
            0,
            6,
            latin1(t("report.priority") + ": " + ", ".join(f"{u} {t('unsur.' + u)}" for u in v["priority"])),
            align="L",
            **nl,
        )
    pdf.ln(3)

    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, latin1(t("report.suggestions")), **nl)
    pdf.set_font("Helvetica", "", 9)
    if not v["suggestions"]:
        pdf.multi_cell(0, 5, latin1(t("report.suggestions_none")), align="L", **nl)
    else:
        if v["suggestions_total"] > len(v["suggestions"]):
            pdf.set_font("Helvetica", "I", 8)
            pdf.multi_cell(
                0,
                5,
                latin1(t("report.suggestions_more", shown=len(v["suggestions"]), total=v["suggestions_total"])),
                align="L",
                **nl,
            )
            pdf.set_font("Helvetica", "", 9)
        for sgg in v["suggestions"]:
            pdf.multi_cell(0, 5, latin1("- " + sgg.suggestion), align="L", **nl)
    pdf.ln(2)
    pdf.set_font("Helvetica", "I", 7)
    pdf.cell(0, 5, latin1(t("report.generated", at=v["generated"])), **nl)
    return bytes(pdf.output())
