"""The evaluation document as PDF (DOMAIN.md §6), laid out like the regulation's form
"Dokumen Evaluasi Kinerja Pegawai" (PermenPANRB 6/2022): the parties, the organisation
result and its distribution pattern, results per RHK/IKI with target, realisation and
feedback, the seven BerAKHLAK values, both ratings, the predikat, notes, and the three
signatures. The footer carries the document version and the SHA-256 content hash that
froze the signed version (or marks a draft).

``content`` is what ``service.document_content`` returns (or its stored JSON copy in
``EvaluationDocument.content``). Rendering is pure: no database, no app context.

fpdf2's core fonts (Helvetica) are latin-1 only; every text goes through
:func:`latin1` first, which maps typographic quotes, dashes and the like to their ASCII
look-alikes and strips accents outside latin-1, so user text never crashes the renderer.
Long texts wrap; a table cell longer than :data:`MAX_CELL_LINES` lines is cut with a
reference to an annex that prints the full text (a table row cannot span pages).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from services.common.i18n import long_date
from services.common.pdf import latin1

__all__ = ["render_pdf", "latin1", "LABELS", "MAX_CELL_LINES"]

HERE = Path(__file__).parent
MAX_CELL_LINES = 22  # a table row taller than a page cannot be rendered; longer texts go to the annex
BODY_PT = 8.0
LINE_MM = 3.6
PAD_MM = 1.2
GREY_HEAD = (225, 230, 238)
GREY_ROW = (244, 246, 249)

BERAKHLAK_NAMES = {
    "berorientasi_pelayanan": ("Berorientasi Pelayanan", "Service orientation (Berorientasi Pelayanan)"),
    "akuntabel": ("Akuntabel", "Accountable (Akuntabel)"),
    "kompeten": ("Kompeten", "Competent (Kompeten)"),
    "harmonis": ("Harmonis", "Harmonious (Harmonis)"),
    "loyal": ("Loyal", "Loyal"),
    "adaptif": ("Adaptif", "Adaptive (Adaptif)"),
    "kolaboratif": ("Kolaboratif", "Collaborative (Kolaboratif)"),
}

ASPECTS = {
    "kuantitas": ("Kuantitas", "Quantity"),
    "kualitas": ("Kualitas", "Quality"),
    "waktu": ("Waktu", "Time"),
    "biaya": ("Biaya", "Cost"),
}


LABELS = {
    "id": {
        "title": "DOKUMEN EVALUASI KINERJA PEGAWAI",
        "period": "PERIODE: {period}",
        "kind.annual": "Penilaian kinerja tahunan",
        "kind.periodic": "Penilaian kinerja periodik",
        "doc_ref": "Nomor evaluasi {id} - versi dokumen {version}",
        "parties": "PIHAK-PIHAK",
        "employee": "PEGAWAI YANG DINILAI",
        "penilai": "PEJABAT PENILAI KINERJA",
        "atasan": "ATASAN PEJABAT PENILAI KINERJA",
        "name": "Nama",
        "nip": "NIP",
        "grade": "Pangkat/golongan",
        "position": "Jabatan",
        "unit": "Unit kerja",
        "org_result": "CAPAIAN KINERJA ORGANISASI",
        "org_missing": "Belum ditetapkan",
        "distribution": "POLA DISTRIBUSI",
        "distribution_none": "Tidak ada batasan distribusi untuk capaian ini.",
        "distribution_missing": "Belum ada: capaian kinerja organisasi belum ditetapkan.",
        "rule.max": "Paling banyak {amount} pegawai berpredikat {predikats}",
        "rule.min": "Paling sedikit {amount} pegawai berpredikat {predikats}",
        "rule.none": "Tidak ada pegawai berpredikat {predikats}",
        "rule.people": "{n} orang",
        "or": " atau ",
        "results": "HASIL KERJA",
        "col.no": "No",
        "col.aspect": "Aspek",
        "col.iki": "Indikator kinerja individu",
        "col.target": "Target",
        "col.realisation": "Realisasi berdasarkan bukti dukung",
        "col.feedback": "Umpan balik berkelanjutan berdasarkan bukti dukung",
        "rhk": "RHK {n} ({kind}): {text}",
        "rhk.utama": "Utama",
        "rhk.tambahan": "Tambahan",
        "no_rhk": "Tidak ada rencana hasil kerja.",
        "no_iki": "Tidak ada indikator.",
        "no_realisation": "Belum ada realisasi",
        "evidence": "Bukti dukung: {n} berkas",
        "no_evidence": "Tanpa bukti dukung",
        "behaviour": "PERILAKU KERJA",
        "col.value": "Perilaku (BerAKHLAK)",
        "col.expectation": "Ekspektasi khusus pimpinan",
        "rating_hasil": "RATING HASIL KERJA",
        "rating_perilaku": "RATING PERILAKU KERJA",
        "predikat": "PREDIKAT KINERJA PEGAWAI",
        "not_rated": "Belum dinilai",
        "suggested": "Saran sistem: {rating}",
        "deviation": "Alasan berbeda dari saran: {reason}",
        "notes_title": "CATATAN DAN REKOMENDASI",
        "notes": "Catatan",
        "recommendations": "Rekomendasi",
        "signatures": "PENGESAHAN",
        "sig.employee": "Pegawai yang dinilai",
        "sig.penilai": "Pejabat penilai kinerja",
        "sig.atasan": "Atasan pejabat penilai kinerja",
        "signed_on": "Ditandatangani {date}",
        "unsigned": "belum ditandatangani",
        "annex": "LAMPIRAN: TEKS LENGKAP",
        "see_annex": "lihat lampiran",
        "annex.realisation": "Realisasi IKI {n}",
        "annex.feedback": "Umpan balik IKI {n}",
        "annex.iki": "Indikator {n}",
        "annex.rhk": "RHK {n}",
        "annex.expectation": "Ekspektasi - {value}",
        "annex.value_feedback": "Umpan balik - {value}",
        "annex.party": "Pihak - {what}",
        "footer.signed": "Versi dokumen {version} - SHA-256: {hash}",
        "footer.draft": "DRAF - belum ditandatangani",
        "page": "Halaman {n} dari {nb}",
        "draft_mark": "DRAF",
    },
    "en": {
        "title": "EMPLOYEE PERFORMANCE EVALUATION DOCUMENT",
        "period": "PERIOD: {period}",
        "kind.annual": "Annual performance evaluation",
        "kind.periodic": "Periodic performance evaluation",
        "doc_ref": "Evaluation no. {id} - document version {version}",
        "parties": "PARTIES",
        "employee": "EMPLOYEE EVALUATED",
        "penilai": "EVALUATING OFFICIAL",
        "atasan": "EVALUATING OFFICIAL'S SUPERIOR",
        "name": "Name",
        "nip": "NIP",
        "grade": "Rank/grade",
        "position": "Position",
        "unit": "Unit",
        "org_result": "ORGANISATION PERFORMANCE RESULT",
        "org_missing": "Not set yet",
        "distribution": "DISTRIBUTION PATTERN",
        "distribution_none": "No distribution constraint for this result.",
        "distribution_missing": "None yet: the organisation result has not been set.",
        "rule.max": "At most {amount} of employees with predikat {predikats}",
        "rule.min": "At least {amount} of employees with predikat {predikats}",
        "rule.none": "No employee with predikat {predikats}",
        "rule.people": "{n}",
        "or": " or ",
        "results": "WORK RESULTS",
        "col.no": "No",
        "col.aspect": "Aspect",
        "col.iki": "Individual performance indicator",
        "col.target": "Target",
        "col.realisation": "Realisation based on evidence",
        "col.feedback": "Continuous feedback based on evidence",
        "rhk": "RHK {n} ({kind}): {text}",
        "rhk.utama": "main",
        "rhk.tambahan": "additional",
        "no_rhk": "No planned work results.",
        "no_iki": "No indicators.",
        "no_realisation": "No realisation recorded",
        "evidence": "Evidence: {n} file(s)",
        "no_evidence": "No evidence",
        "behaviour": "WORK BEHAVIOUR",
        "col.value": "Behaviour (BerAKHLAK)",
        "col.expectation": "Leader's specific expectation",
        "rating_hasil": "WORK RESULTS RATING",
        "rating_perilaku": "WORK BEHAVIOUR RATING",
        "predikat": "PERFORMANCE PREDIKAT",
        "not_rated": "Not rated yet",
        "suggested": "System suggestion: {rating}",
        "deviation": "Reason for departing from it: {reason}",
        "notes_title": "NOTES AND RECOMMENDATIONS",
        "notes": "Notes",
        "recommendations": "Recommendations",
        "signatures": "SIGN-OFF",
        "sig.employee": "Employee evaluated",
        "sig.penilai": "Evaluating official",
        "sig.atasan": "Evaluating official's superior",
        "signed_on": "Signed {date}",
        "unsigned": "not signed yet",
        "annex": "ANNEX: FULL TEXTS",
        "see_annex": "see annex",
        "annex.realisation": "Realisation of IKI {n}",
        "annex.feedback": "Feedback on IKI {n}",
        "annex.iki": "Indicator {n}",
        "annex.rhk": "RHK {n}",
        "annex.expectation": "Expectation - {value}",
        "annex.value_feedback": "Feedback - {value}",
        "annex.party": "Party - {what}",
        "footer.signed": "Document version {version} - SHA-256: {hash}",
        "footer.draft": "DRAFT - not signed yet",
        "page": "Page {n} of {nb}",
        "draft_mark": "DRAFT",
    },
}

# Characters outside latin-1 that people type (or paste from word processors) → look-alikes.


@lru_cache(maxsize=1)
def _catalogue():
    from services.common.i18n import Catalogue

    return Catalogue(HERE / "messages")


def _lang(lang: str | None) -> str:
    return lang if lang in LABELS else "id"


# Used only when the service's message catalogue lacks a key (the catalogue is the source of truth).
_FALLBACK = {
    "id": {
        "rating.above": "Di atas ekspektasi",
        "rating.meets": "Sesuai ekspektasi",
        "rating.below": "Di bawah ekspektasi",
        "predikat.SANGAT_BAIK": "Sangat Baik",
        "predikat.BAIK": "Baik",
        "predikat.BUTUH_PERBAIKAN": "Butuh Perbaikan",
        "predikat.KURANG_MISCONDUCT": "Kurang/Misconduct",
        "predikat.SANGAT_KURANG": "Sangat Kurang",
        "org.ISTIMEWA": "Istimewa",
        "org.BAIK": "Baik",
        "org.BUTUH_PERBAIKAN": "Butuh Perbaikan",
        "org.KURANG": "Kurang",
        "org.SANGAT_KURANG": "Sangat Kurang",
    },
    "en": {
        "rating.above": "Above expectations",
        "rating.meets": "Meets expectations",
        "rating.below": "Below expectations",
    },
}


def _label(key: str, lang: str) -> str:
    text = _catalogue().t(key, lang)
    if text == key:
        text = _FALLBACK[lang].get(key) or _FALLBACK["id"].get(key) or key.split(".", 1)[-1]
    return text


def _rating(code, lang: str) -> str | None:
    return _label(f"rating.{code}", lang) if code else None


def _official(prefix: str, code, lang: str) -> str | None:
    """The label of ``code``; in English followed by the official Indonesian term."""
    if not code:
        return None
    label, official = _label(f"{prefix}.{code}", lang), _label(f"{prefix}.{code}", "id")
    return label if lang == "id" or label == official else f"{label} ({official})"


def _predikat(code, lang: str) -> str | None:
    return _official("predikat", code, lang)


def _org(code, lang: str) -> str | None:
    return _official("org", code, lang)


def _date(value, lang: str) -> str | None:
    if not value:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        return str(value)
    return long_date(value, lang)


def _num(v) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return str(int(f)) if f.is_integer() else f"{f:g}"


_TARGET_UNIT = re.compile(r"^\s*-?\d+(?:[.,]\d+)?\s*(.*)$")


def _realisation(r, target: str, L: dict) -> str:
    if not r:
        return L["no_realisation"]
    parts = []
    if r.get("value") is not None:
        m = _TARGET_UNIT.match(target or "")
        unit = m.group(1).strip() if m else ""
        parts.append(f"{_num(r['value'])} {unit}".strip())
    if r.get("text"):
        parts.append(str(r["text"]))
    n = r.get("evidence_count") or 0
    parts.append(L["evidence"].format(n=n) if n else L["no_evidence"])
    return "\n".join(parts)


def _value_feedback(f, lang: str) -> str:
    if not f:
        return "-"
    if isinstance(f, str):
        return f
    level = _rating(f.get("level"), lang)
    text = (f.get("text") or "").strip()
    if level and text:
        return f"[{level}] {text}"
    return level or text or "-"


def _rule_text(rule: dict, lang: str, L: dict) -> str:
    predikats = L["or"].join(_predikat(p, lang) or p for p in rule.get("predikats") or [])
    if rule.get("percent") is not None:
        amount = f"{_num(rule['percent'])}%"
    else:
        count = int(rule.get("count") or 0)
        if rule.get("bound") == "max" and count == 0:
            return L["rule.none"].format(predikats=predikats)
        amount = L["rule.people"].format(n=count)
    key = "rule.max" if rule.get("bound") == "max" else "rule.min"
    return L[key].format(amount=amount, predikats=predikats)


class _Pdf(FPDF):
    def __init__(self, *, header_text: str, footer_text: str, page_label: str, draft_mark: str | None):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.header_text = header_text
        self.footer_text = footer_text
        self.page_label = page_label
        self.draft_mark = draft_mark
        self.set_margins(15, 14, 15)
        self.set_auto_page_break(True, margin=18)
        self.alias_nb_pages("{nb}")

    def header(self):
        if self.draft_mark:
            self.set_font("Helvetica", "B", 90)
            self.set_text_color(238, 238, 238)
            with self.rotation(50, x=self.w / 2, y=self.h / 2):
                width = self.get_string_width(self.draft_mark)
                self.text(self.w / 2 - width / 2, self.h / 2 + 12, self.draft_mark)
            self.set_text_color(0, 0, 0)
        if self.page_no() > 1:
            self.set_font("Helvetica", "", 7)
            self.set_text_color(110, 110, 110)
            self.cell(0, 4, self.header_text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.set_draw_color(180, 180, 180)
            self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
            self.ln(3)
            self.set_text_color(0, 0, 0)

    def footer(self):
        self.set_y(-13)
        self.set_draw_color(180, 180, 180)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(1)
        self.set_font("Helvetica", "", 7)
        self.set_text_color(90, 90, 90)
        page = self.page_label.format(n=self.page_no(), nb=self.alias_nb_pages_str)
        width = self.get_string_width(page) + 2
        self.cell(self.epw - width, 4, self.footer_text)
        self.cell(width, 4, page, align="R")
        self.set_text_color(0, 0, 0)

    @property
    def alias_nb_pages_str(self) -> str:
        return self.str_alias_nb_pages


class _Renderer:
    def __init__(self, content: dict, content_hash: str | None, version: int, lang: str, signatures: dict | None):
        self.c = content or {}
        self.lang = _lang(lang)
        self.L = {k: latin1(v) for k, v in LABELS[self.lang].items()}
        self.hash = content_hash
        self.version = version
        self.signatures = signatures if signatures is not None else (self.c.get("signatures") or {})
        self.annex: list[tuple[str, str]] = []
        emp = self.c.get("employee") or {}
        header = (
            f"{self.L['title']} - {emp.get('name') or '-'} (NIP {emp.get('nip') or '-'}) - {self.c.get('period') or ''}"
        )
        footer = (
            self.L["footer.signed"].format(version=version, hash=content_hash)
            if content_hash
            else self.L["footer.draft"]
        )
        self.pdf = _Pdf(
            header_text=latin1(header),
            footer_text=latin1(footer),
            page_label=self.L["page"],
            draft_mark=None if content_hash else self.L["draft_mark"],
        )

    # -------------------------------------------------------------- helpers

    def t(self, text) -> str:
        return latin1(text)

    def body_font(self, style: str = "") -> None:
        self.pdf.set_font("Helvetica", style, BODY_PT)

    def section(self, title: str, keep: float = 12.0) -> None:
        """A section title, on a new page unless ``keep`` mm of what follows fit under it."""
        pdf = self.pdf
        self.ensure(4.5 + 6 + 1.5 + keep)
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 9.5)
        pdf.set_fill_color(*GREY_HEAD)
        pdf.cell(0, 6, self.t(title), fill=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_fill_color(0)  # the default again: tables take the current fill colour for every cell
        pdf.ln(1.5)
        self.body_font()

    def ensure(self, height: float) -> bool:
        """Start a new page unless ``height`` mm fit on this one; True when a page was added."""
        if self.pdf.get_y() + height > self.pdf.page_break_trigger:
            self.pdf.add_page()
            return True
        return False

    def row_height(self, cells, widths, style: str = "") -> float:
        """The height a table row of ``cells`` (texts, one per width) takes, as fpdf2 lays it out."""
        self.body_font(style)
        lines = max(
            (
                len(self.pdf.multi_cell(w=w - 2 * PAD_MM, text=self.t(text) or " ", dry_run=True, output="LINES"))
                for text, w in zip(cells, widths)
            ),
            default=1,
        )
        self.body_font()
        return lines * LINE_MM + 2 * PAD_MM

    def paragraph(self, text: str, style: str = "") -> None:
        self.body_font(style)
        self.pdf.multi_cell(0, LINE_MM + 0.4, self.t(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def clip(self, text, width_mm: float, annex_label: str, max_lines: int = MAX_CELL_LINES) -> str:
        """``text`` for a table cell ``width_mm`` wide; beyond ``max_lines`` it is cut and the
        full text goes to the annex."""
        text = self.t(text)
        if not text:
            return text
        self.body_font()
        lines = self.pdf.multi_cell(w=width_mm - 2 * PAD_MM - 0.5, text=text, dry_run=True, output="LINES")
        if len(lines) <= max_lines:
            return text
        self.annex.append((annex_label, text))
        return "\n".join(lines[: max_lines - 1]) + f" ... [{self.L['see_annex']} {len(self.annex)}]"

    def table(self, widths, **kwargs):
        self.body_font()
        total = sum(widths)
        return self.pdf.table(
            col_widths=tuple(w / total for w in widths),
            width=self.pdf.epw,
            text_align="LEFT",
            v_align="TOP",
            line_height=LINE_MM,
            padding=PAD_MM,
            headings_style=FontFace(emphasis="BOLD", fill_color=GREY_HEAD),
            **kwargs,
        )

    # -------------------------------------------------------------- sections

    def title(self) -> None:
        pdf, L, c = self.pdf, self.L, self.c
        pdf.set_font("Helvetica", "B", 13)
        pdf.cell(0, 7, L["title"], align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(
            0,
            5.5,
            self.t(L["period"].format(period=(c.get("period") or "-").upper())),
            align="C",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.set_font("Helvetica", "", 8.5)
        kind = L.get(f"kind.{c.get('kind')}", "")
        ref = L["doc_ref"].format(id=c.get("evaluation_id", "-"), version=self.version)
        pdf.cell(0, 4.5, self.t(f"{kind} - {ref}" if kind else ref), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)

    def parties(self) -> None:
        L = self.L
        parties = [self.c.get("employee") or {}, self.c.get("penilai") or {}, self.c.get("atasan_penilai") or {}]
        widths = (30, 50, 50, 50)
        rows = [("name", "name"), ("nip", "nip"), ("grade", "grade"), ("position", "position"), ("unit", "unit")]
        self.section(L["parties"], keep=60)
        with self.table(widths) as table:
            head = table.row()
            for text in ("", L["employee"], L["penilai"], L["atasan"]):
                head.cell(text)
            for label, key in rows:
                row = table.row()
                row.cell(L[label], style=FontFace(emphasis="BOLD"))
                for p, w in zip(parties, widths[1:]):
                    row.cell(self.clip(p.get(key) or "-", w, L["annex.party"].format(what=L[label]), 8))

    def organisation(self) -> None:
        L, c = self.L, self.c
        dist = c.get("distribution") or None
        org = c.get("org_result") or (dist or {}).get("org_result")
        self.section(L["org_result"])
        self.paragraph(_org(org, self.lang) or L["org_missing"], "B")
        self.section(L["distribution"])
        if not dist:
            self.paragraph(L["distribution_missing"])
            return
        rules = dist.get("rules") or []
        if not rules:
            self.paragraph(L["distribution_none"])
        for rule in rules:
            self.paragraph(f"-  {_rule_text(rule, self.lang, L)}")

    def results(self) -> None:
        L = self.L
        widths = (10, 17, 40, 21, 45, 47)
        heading = [L[k] for k in ("col.no", "col.aspect", "col.iki", "col.target", "col.realisation", "col.feedback")]
        heading_h = self.row_height(heading, widths, "B")
        rhk_style = FontFace(emphasis="BOLD", fill_color=GREY_ROW)
        blocks = []  # per RHK: its title row, then its IKI rows — each block is a table of its own so that
        for n, rhk in enumerate(self.c.get("rhk") or [], 1):  # an RHK title never ends a page alone
            kind = L.get(f"rhk.{rhk.get('kind')}", self.t(rhk.get("kind") or "-"))
            title = self.clip(
                L["rhk"].format(n=n, kind=kind, text=self.t(rhk.get("description") or "-")),
                sum(widths),
                L["annex.rhk"].format(n=n),
                8,
            )
            rows = []
            for m, iki in enumerate(rhk.get("iki") or [], 1):
                ref = f"{n}.{m}"
                aspect = ASPECTS.get(iki.get("aspect"), (iki.get("aspect"), iki.get("aspect")))
                target = iki.get("target") or "-"
                rows.append(
                    [
                        ref,
                        self.t(aspect[0 if self.lang == "id" else 1] or "-"),
                        self.clip(iki.get("indicator") or "-", widths[2], L["annex.iki"].format(n=ref)),
                        self.clip(target, widths[3], L["annex.iki"].format(n=ref), 8),
                        self.clip(
                            _realisation(iki.get("realisation"), target, L),
                            widths[4],
                            L["annex.realisation"].format(n=ref),
                        ),
                        self.clip(iki.get("feedback") or "-", widths[5], L["annex.feedback"].format(n=ref)),
                    ]
                )
            blocks.append((title, rows))
        first_h = 0.0
        if blocks:
            first_h = self.row_height([blocks[0][0]], [sum(widths)], "B")
            if blocks[0][1]:
                first_h += self.row_height(blocks[0][1][0], widths)
        self.section(L["results"], keep=heading_h + first_h)
        if not blocks:
            with self.table(widths) as table:
                table.row(heading)
                table.row().cell(L["no_rhk"], colspan=6)
            return
        for index, (title, rows) in enumerate(blocks):
            keep = self.row_height([title], [sum(widths)], "B") + (self.row_height(rows[0], widths) if rows else 0)
            with_heading = self.ensure(keep + heading_h) or index == 0
            with self.table(widths, first_row_as_headings=with_heading, repeat_headings=1) as table:
                if with_heading:
                    table.row(heading)
                table.row().cell(title, colspan=6, style=rhk_style)
                if not rows:
                    table.row().cell(L["no_iki"], colspan=6)
                for cells in rows:
                    table.row(cells)

    def ratings_block(self, key: str, label: str | None, extra: list[str] = ()) -> None:
        self.section(self.L[key])
        self.paragraph(label or self.L["not_rated"], "B")
        for line in extra:
            self.paragraph(line)

    def behaviour(self) -> None:
        L = self.L
        widths = (9, 41, 62, 68)
        heading = [L[k] for k in ("col.no", "col.value", "col.expectation", "col.feedback")]
        rows = []
        for n, item in enumerate(self.c.get("behaviour") or [], 1):
            code = item.get("value")
            name = self.t(BERAKHLAK_NAMES.get(code, (code, code))[0 if self.lang == "id" else 1] or "-")
            rows.append(
                [
                    str(n),
                    name,
                    self.clip(item.get("expectation") or "-", widths[2], L["annex.expectation"].format(value=name)),
                    self.clip(
                        _value_feedback(item.get("feedback"), self.lang),
                        widths[3],
                        L["annex.value_feedback"].format(value=name),
                    ),
                ]
            )
        keep = self.row_height(heading, widths, "B") + (self.row_height(rows[0], widths) if rows else 0)
        self.section(L["behaviour"], keep=keep)
        with self.table(widths, repeat_headings=1) as table:
            table.row(heading)
            for no, name, expectation, feedback in rows:
                row = table.row()
                row.cell(no)
                row.cell(name, style=FontFace(emphasis="BOLD"))
                row.cell(expectation)
                row.cell(feedback)

    def notes(self) -> None:
        L, c = self.L, self.c
        self.section(L["notes_title"])
        for key in ("notes", "recommendations"):
            self.paragraph(f"{L[key]}:", "B")
            self.paragraph(c.get(key) or "-")
            self.pdf.ln(1)

    def signatures_block(self) -> None:
        pdf, L = self.pdf, self.L
        c, sig = self.c, self.signatures or {}
        self.section(L["signatures"])
        if pdf.get_y() + 42 > pdf.page_break_trigger:
            pdf.add_page()
        blocks = [
            ("sig.employee", c.get("employee") or {}, sig.get("employee")),
            ("sig.penilai", c.get("penilai") or {}, sig.get("penilai")),
            ("sig.atasan", c.get("atasan_penilai") or {}, sig.get("atasan_penilai")),
        ]
        width = pdf.epw / 3
        top = pdf.get_y()
        bottom = top
        for i, (role, person, when) in enumerate(blocks):
            x = pdf.l_margin + i * width
            pdf.set_xy(x, top)
            pdf.set_font("Helvetica", "B", BODY_PT)
            pdf.multi_cell(width - 4, LINE_MM + 0.4, L[role], align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
            pdf.set_font("Helvetica", "I" if not when else "", BODY_PT)
            status = L["signed_on"].format(date=_date(when, self.lang)) if when else L["unsigned"]
            pdf.multi_cell(width - 4, LINE_MM + 0.4, self.t(status), align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
            pdf.ln(13)
            pdf.set_x(x)
            pdf.set_font("Helvetica", "BU", BODY_PT)
            pdf.multi_cell(
                width - 4, LINE_MM + 0.4, self.t(person.get("name") or "-"), align="C", new_x=XPos.LEFT, new_y=YPos.NEXT
            )
            pdf.set_font("Helvetica", "", BODY_PT)
            pdf.multi_cell(
                width - 4,
                LINE_MM + 0.4,
                self.t(f"NIP {person.get('nip') or '-'}"),
                align="C",
                new_x=XPos.LEFT,
                new_y=YPos.NEXT,
            )
            bottom = max(bottom, pdf.get_y())
        pdf.set_xy(pdf.l_margin, bottom + 2)

    def annexes(self) -> None:
        if not self.annex:
            return
        self.pdf.add_page()
        self.section(self.L["annex"])
        for n, (label, text) in enumerate(self.annex, 1):
            self.paragraph(f"[{n}] {label}", "B")
            self.paragraph(text)
            self.pdf.ln(2)

    def render(self) -> bytes:
        pdf, c, L = self.pdf, self.c, self.L
        emp = c.get("employee") or {}
        pdf.set_title(self.t(f"{L['title']} - {emp.get('name') or ''} - {c.get('period') or ''}"))
        pdf.set_author("Kinerja")
        pdf.set_creator("Kinerja reviews service")
        if self.hash:
            pdf.set_subject(f"SHA-256 {self.hash}")
        pdf.add_page()
        self.title()
        self.parties()
        self.organisation()
        self.results()
        extra = []
        suggested, hasil = c.get("suggested_hasil"), c.get("rating_hasil")
        if suggested and hasil and suggested != hasil:
            extra.append(L["suggested"].format(rating=self.t(_rating(suggested, self.lang))))
            if c.get("deviation_reason"):
                extra.append(L["deviation"].format(reason=self.t(c["deviation_reason"])))
        self.ratings_block("rating_hasil", _rating(hasil, self.lang), extra)
        self.behaviour()
        self.ratings_block("rating_perilaku", _rating(c.get("rating_perilaku"), self.lang))
        self.ratings_block("predikat", _predikat(c.get("predikat"), self.lang))
        self.notes()
        self.signatures_block()
        self.annexes()
        return bytes(pdf.output())


def render_pdf(
    content: dict, content_hash: str | None, version: int, lang: str = "id", *, signatures: dict | None = None
) -> bytes:
    """The evaluation document ``content`` as PDF bytes, in Bahasa Indonesia (``lang="id"``,
    the default) or English (``"en"``). ``content_hash`` is the SHA-256 that froze this
    ``version``; None renders a draft (footer and watermark say so).

    ``signatures`` ({"penilai", "employee", "atasan_penilai"} → datetime or ISO string or
    None) overrides ``content["signatures"]``: a signed version's content is frozen when the
    penilai signs, so the employee's receipt and the countersignature that come later are
    passed here from the live evaluation."""
    return _Renderer(content, content_hash, version, lang, signatures).render()
