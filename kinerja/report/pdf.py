"""The report as PDF (fpdf2): ``render_pdf(data)`` writes one section after the other, each its
own function: the cover with the key figures, stages and deadlines, plans per unit, completion,
plan counts, calibration against the curve, public satisfaction, objections, follow-up,
documents and data notes."""

from __future__ import annotations

from collections import Counter

from services.common.pdf import latin1

from . import tables as tb
from .pdf_charts import band, ikm, plan_bars
from .pdf_kit import INK, MUTED, NOTE, RULE, Sheet
from .vocabulary import PLAN_STATUSES, UNSUR, UNSUR_LABELS, bi, period_name, state_text


def cover(sheet: Sheet, d: dict) -> None:
    """Page 1: the title, agency and cycle, and the key figures in boxes."""
    pdf, W = sheet.pdf, sheet.W
    cycle, agency = d["cycle"], d["agency"]
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 17)
    pdf.cell(0, 9, latin1("Laporan Siklus Penilaian Kinerja"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.set_text_color(*MUTED)
    pdf.cell(0, 6, "(HR cycle report)", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*INK)
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
    figures = tb.summary_figures(d)
    box_w, box_h, per_row = (W - 3 * 3) / 4, 15, 4
    y0 = pdf.get_y()
    for i, (k, v) in enumerate(figures):
        x = pdf.l_margin + (i % per_row) * (box_w + 3)
        y = y0 + (i // per_row) * (box_h + 3)
        pdf.set_draw_color(*RULE)
        pdf.set_fill_color(248, 250, 252)
        pdf.rect(x, y, box_w, box_h, style="DF", round_corners=True, corner_radius=1.5)
        pdf.set_xy(x + 2, y + 1.5)
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(box_w - 4, 6, latin1(v))
        pdf.set_xy(x + 2, y + 7.5)
        pdf.set_font("Helvetica", "", 6.5)
        pdf.set_text_color(*NOTE)
        pdf.multi_cell(box_w - 4, 3, latin1(k), align="L")
        pdf.set_text_color(*INK)
    pdf.set_xy(pdf.l_margin, y0 + ((len(figures) + per_row - 1) // per_row) * (box_h + 3) + 2)


def deadlines(sheet: Sheet, d: dict) -> None:
    W = sheet.W
    sheet.h1("Tahapan dan tenggat", "stages and deadlines")
    headers, rows = tb.period_rows(d["cycle"])
    sheet.table(headers, rows, [W * 0.34, W * 0.16, W * 0.16, W * 0.18, W * 0.16][: len(headers)])


def plans(sheet: Sheet, d: dict) -> None:
    sheet.h1("SKP per unit dan status", "plans per unit by status")
    plan_bars(sheet, d)


def completion(sheet: Sheet, d: dict) -> None:
    W = sheet.W
    sheet.pdf.ln(4)
    sheet.need(60)
    sheet.h1("Kelengkapan per unit dan tahap", "completion per unit and stage")
    sheet.note(
        "Setiap sel: selesai/jumlah dan persentase; warna dari merah (0 %) ke hijau (100 %); '-' = tahap belum dimulai "
        "di unit ini. (Each cell: done/total and percent, red to green; '-' = not started.)"
    )
    columns, comp = tb.completion(d)
    first = W * 0.26
    rest_w = (W - first) / max(1, len(columns))
    rows, fills = [], []
    for r in comp:
        row = [tb.unit_label(r["unit"])]
        fill = [None]
        for c in r["cells"]:
            row.append("-" if c is None else f"{c[0]}/{c[1]}\n{tb.pct(*c)} %")
            fill.append(None if c is None else tb.heat_rgb(*c))
        rows.append(row)
        fills.append(fill)
    sheet.table(
        ["Unit"] + columns,
        rows,
        [first] + [rest_w] * len(columns),
        numeric=range(1, len(columns) + 1),
        fills=fills,
        size=6.8,
    )


def plan_counts(sheet: Sheet, d: dict) -> None:
    W = sheet.W
    sheet.need(35)
    sheet.h1("SKP per status (jumlah)", "plans by status, counts")
    shown = [s for s in PLAN_STATUSES if s != "revised" or any(c.get("revised") for c in d["plans_per_unit"].values())]
    prow = []
    for u in d["units"]:
        c = d["plans_per_unit"].get(u["code"], Counter())
        staff = tb.staff_of(d, u["code"])
        prow.append([u["code"], *(str(c.get(s, 0)) for s in shown), str(staff - sum(c.values())), str(staff)])
    sheet.table(
        ["Unit", *(bi(s) for s in shown), "Belum ada (no plan)", "Pegawai (staff)"],
        prow,
        [W * 0.2] + [(W * 0.8) / (len(shown) + 2)] * (len(shown) + 2),
        numeric=range(1, len(shown) + 3),
    )


def calibration(sheet: Sheet, d: dict) -> None:
    pdf, W = sheet.pdf, sheet.W
    pdf.ln(4)
    sheet.need(110)
    sheet.h1("Kalibrasi: distribusi predikat terhadap kurva", "calibration against the curve")
    seq = tb.calibration_seq(d)
    if seq is None:
        sheet.para("Belum ada evaluasi yang dinilai (no rated evaluations yet).")
        return
    sheet.note(
        f"{period_name(d['cycle'], seq)}. Batang = jumlah pegawai per predikat; area hijau = rentang yang diizinkan "
        "oleh hasil kerja organisasi unit (garis putus-putus: batas bawah/atas); batang merah = di luar rentang. "
        "(Bars: employees per predikat; green: the allowed band; red: outside it.) "
        "SB Sangat Baik, B Baik, BP Butuh Perbaikan, K Kurang/Misconduct, SK Sangat Kurang."
    )
    units = d["calibration"][seq]["units"]
    cols, gap, ch = 3, 4, 44
    cw = (W - gap * (cols - 1)) / cols
    for i, u in enumerate(units):
        if i % cols == 0:
            sheet.need(ch + 3)
            row_y = pdf.get_y()
        band(pdf, u, pdf.l_margin + (i % cols) * (cw + gap), row_y, cw, ch)
        if i % cols == cols - 1 or i == len(units) - 1:
            pdf.set_xy(pdf.l_margin, row_y + ch + 3)
    vrows = tb.violation_rows(units)
    if vrows:
        sheet.need(20)
        sheet.h1("Pelanggaran kurva", "violations")
        sheet.table(
            ["Unit", "Pelanggaran (violation)", "Pengecualian HR (override)", "Alasan (reason)"],
            vrows,
            [W * 0.14, W * 0.4, W * 0.14, W * 0.32],
        )


def surveys(sheet: Sheet, d: dict) -> None:
    pdf, W = sheet.pdf, sheet.W
    pdf.ln(4)
    sheet.need(110)
    sheet.h1("Indeks Kepuasan Masyarakat per unsur dan unit", "public satisfaction per unsur and unit")
    sv = d["surveys"]
    if sv.get("error"):
        sheet.para(f"Survei tidak terbaca (surveys not readable): {sv['error']}")
        return
    if not sv["units"]:
        sheet.para(f"Tidak ada survei pada tahun {d['cycle']['year']} (no survey campaigns this year).")
        return
    sheet.note(
        "NRR per unsur (skala 1-4); oranye = unsur terlemah (prioritas perbaikan); garis putus-putus = batas mutu "
        "A/B/C. (NRR per unsur on the 1-4 scale; orange: the weakest unsur; dashed: quality band limits.)"
    )
    cols, gap, ch = 2, 5, 50
    cw = (W - gap) / cols
    items = list(sv["units"].items())
    for i, (code, u) in enumerate(items):
        if i % cols == 0:
            sheet.need(ch + 3)
            row_y = pdf.get_y()
        ikm(pdf, code, u, pdf.l_margin + (i % cols) * (cw + gap), row_y, cw, ch)
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
        fills.append([None, *(tb.heat_rgb(max(0.0, v - 1), 3) if v is not None else None for v in vals), None, None])
    sheet.need(20)
    sheet.table(
        ["Unit", *UNSUR, "IKM", "Mutu"],
        rows,
        [W * 0.16] + [W * 0.07] * 9 + [W * 0.1, W * 0.11],
        numeric=range(1, 11),
        fills=fills,
    )
    sheet.note(" · ".join(f"{k} {v[0]} ({v[1]})" for k, v in UNSUR_LABELS.items()), 6.8)
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
    sheet.need(20)
    sheet.table(
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


def objections(sheet: Sheet, d: dict) -> None:
    W = sheet.W
    sheet.pdf.ln(4)
    sheet.need(60)
    sheet.h1("Keberatan dan hasilnya", "objections and outcomes")
    orows = tb.objection_rows(d)
    if orows:
        sheet.table(
            ["Keberatan", "Unit", "Pegawai (employee)", "Periode", "Keputusan (decision)", "Predikat", "Dok."],
            orows,
            [W * 0.1, W * 0.12, W * 0.28, W * 0.12, W * 0.14, W * 0.17, W * 0.07],
        )
    else:
        sheet.para(
            f"Tidak ada keberatan yang terlihat dari {d['objections']['checked']} evaluasi yang telah diterima pegawai "
            "(none seen among acknowledged evaluations)."
        )


def followup(sheet: Sheet, d: dict) -> None:
    W = sheet.W
    sheet.h1("Tindak lanjut", "follow-up plans")
    kinds = tb.followup_kinds(d)
    sheet.para(
        " · ".join(f"{bi(k)}: {n}" for k, n in kinds) if kinds else "Belum ada tindak lanjut (no follow-up yet)."
    )
    if d["followups"]:
        sheet.table(
            [
                "Jenis (kind)",
                "Unit",
                "Pegawai (employee)",
                "Predikat",
                "Di bawah eksp. (below)",
                "Penanggung jawab (owner)",
                "Tenggat (due)",
            ],
            tb.followup_rows(d),
            [W * 0.12, W * 0.12, W * 0.27, W * 0.14, W * 0.07, W * 0.18, W * 0.10],
            numeric=(4,),
        )


def documents_and_notes(sheet: Sheet, d: dict) -> None:
    sheet.h1("Dokumen evaluasi", "evaluation documents")
    sheet.para("\n".join(d.get("documents") or []) or "Tidak ada dokumen yang disimpan (no documents saved).", 7.5)
    if d["notes"]:
        sheet.h1("Catatan data", "data notes")
        for n in d["notes"]:
            sheet.para(f"- {n}", 7.5)


SECTIONS = (
    cover,
    deadlines,
    plans,
    completion,
    plan_counts,
    calibration,
    surveys,
    objections,
    followup,
    documents_and_notes,
)


def render_pdf(d: dict) -> bytes:
    sheet = Sheet(latin1(f"Laporan siklus {d['cycle']['name']} - {d['agency']['name']}"), d["generated_at"])
    for section in SECTIONS:
        section(sheet, d)
    return bytes(sheet.pdf.output())
