"""The page of the evaluation document's PDF and the layout every section uses: A4 with a header
from page 2, a footer with the document version and content hash (or the draft mark, also a
watermark), section titles kept with what follows, wrapped paragraphs, and tables whose cells are
cut at :data:`MAX_CELL_LINES` lines with the full text moved to an annex (a table row cannot span
pages).

fpdf2's core fonts (Helvetica) are latin-1 only; every text goes through
:func:`~services.common.pdf.latin1` first, which maps typographic quotes, dashes and the like to
their ASCII look-alikes and strips accents outside latin-1, so user text never crashes the renderer."""

from __future__ import annotations

from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from services.common.pdf import A4Page, latin1

from .document_text import LABELS, language

MAX_CELL_LINES = 22  # a table row taller than a page cannot be rendered; longer texts go to the annex
BODY_PT = 8.0
LINE_MM = 3.6
PAD_MM = 1.2
GREY_HEAD = (225, 230, 238)
GREY_ROW = (244, 246, 249)


class Layout:
    """One document being drawn: its content ``c``, language, labels ``L``, the pdf, and the annex
    of texts too long for their table cell."""

    def __init__(self, content: dict, content_hash: str | None, version: int, lang: str, signatures: dict | None):
        self.c = content or {}
        self.lang = language(lang)
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
        self.pdf = A4Page(
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
