"""The PDF report's page and building blocks (fpdf2): A4 pages with a running title and
``page n/N`` footer, section headings, paragraphs, tables that repeat their header on a new
page, and text cut to fit a width. Text goes through ``latin1`` (the core fonts' encoding)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from fpdf import FPDF

from services.common.pdf import latin1

INK = (31, 41, 51)
MUTED = (110, 119, 133)
NOTE = (82, 96, 109)
RULE = (213, 219, 227)


def fit(pdf: FPDF, text: Any, width: float) -> str:
    """``text`` (latin-1) cut with '...' to fit ``width`` mm in the current font."""
    t = latin1(text)
    if pdf.get_string_width(t) <= width:
        return t
    while t and pdf.get_string_width(t + "...") > width:
        t = t[:-1]
    return t.rstrip() + "..."


def rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


class ReportPdf(FPDF):
    """A4 portrait; from page 2 the report's title on top; every page its number and the time."""

    def __init__(self, title: str, generated_at: datetime) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.report_title = title
        self.generated_at = generated_at

    def header(self):
        if self.page_no() == 1:
            return
        self.set_font("Helvetica", "", 7.5)
        self.set_text_color(*MUTED)
        self.cell(0, 5, self.report_title, new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(*INK)
        self.ln(1)

    def footer(self):
        self.set_y(-12)
        self.set_font("Helvetica", "", 7.5)
        self.set_text_color(*MUTED)
        self.cell(
            0,
            5,
            latin1(
                f"Halaman (page) {self.page_no()}/{{nb}} - dibuat (generated) {self.generated_at:%Y-%m-%d %H:%M} UTC"
            ),
            align="C",
        )
        self.set_text_color(*INK)


class Sheet:
    """The document being written: its ``pdf`` and ``W`` (the width between the margins, mm)."""

    def __init__(self, title: str, generated_at: datetime) -> None:
        pdf = self.pdf = ReportPdf(title, generated_at)
        pdf.set_auto_page_break(True, margin=16)
        pdf.set_margins(14, 12, 14)
        pdf.alias_nb_pages()
        pdf.set_title(title)
        pdf.set_author("Kinerja")
        self.W = pdf.w - pdf.l_margin - pdf.r_margin

    def need(self, height: float) -> None:
        """A new page unless ``height`` mm still fit above the bottom margin."""
        if self.pdf.get_y() + height > self.pdf.h - 16:
            self.pdf.add_page()

    def h1(self, text_id: str, text_en: str) -> None:
        pdf = self.pdf
        pdf.set_font("Helvetica", "B", 12.5)
        pdf.set_text_color(46, 94, 158)
        pdf.cell(0, 7, latin1(text_id), new_x="END")
        pdf.set_font("Helvetica", "", 10)
        pdf.set_text_color(*MUTED)
        pdf.cell(0, 7, latin1(f"  ({text_en})"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_draw_color(46, 94, 158)
        pdf.set_line_width(0.5)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + self.W, pdf.get_y())
        pdf.set_line_width(0.2)
        pdf.set_text_color(*INK)
        pdf.ln(2)

    def para(self, text: str, size: float = 8.5, colour: tuple[int, int, int] = INK) -> None:
        pdf = self.pdf
        pdf.set_font("Helvetica", "", size)
        pdf.set_text_color(*colour)
        pdf.multi_cell(self.W, size * 0.45, latin1(text), new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.set_text_color(*INK)
        pdf.ln(1)

    def note(self, text: str, size: float = 7.5) -> None:
        """A small explanatory paragraph in grey."""
        self.para(text, size, NOTE)

    def table(
        self,
        headers: list[str],
        rows: list[list[Any]],
        widths: list[float],
        numeric: Iterable[int] = (),
        fills: list[list[tuple[int, int, int] | None]] | None = None,
        size: float = 7.5,
    ) -> None:
        """Bordered rows as tall as their longest cell; the header again on every new page."""
        pdf = self.pdf
        numeric = set(numeric)
        pdf.set_draw_color(*RULE)
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
