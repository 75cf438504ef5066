"""Text for PDFs drawn with fpdf2's core fonts, which know Latin-1 only (pure Python)."""

from __future__ import annotations

import re
import unicodedata

from fpdf import FPDF
from fpdf.enums import XPos, YPos

_REPLACEMENTS = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": ",",
    "\u201b": "'",
    "\u2032": "'",
    "\u2035": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u2033": '"',
    "\u2036": '"',
    "\u2039": "<",
    "\u203a": ">",
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u2026": "...",
    "\u2022": "-",
    "\u2023": "-",
    "\u2043": "-",
    "\u25cf": "-",
    "\u25aa": "-",
    "\u2219": "-",
    "\u2264": "<=",
    "\u2265": ">=",
    "\u2260": "!=",
    "\u2248": "~",
    "\u2192": "->",
    "\u2190": "<-",
    "\u2194": "<->",
    "\u21d2": "=>",
    "\u2588": "#",  # chart bars of the HR report
    "\u2591": ".",
    "\u25c0": "<",
    "\u2713": "v",
    "\u2714": "v",
    "\u2717": "x",
    "\u2718": "x",
    "\u20ac": "EUR",
    "\u2122": "(TM)",
    "\u2030": "o/oo",
    "\u2116": "No.",
    "\u2002": " ",
    "\u2003": " ",
    "\u2007": " ",
    "\u2009": " ",
    "\u200a": " ",
    "\u202f": " ",
    "\u205f": " ",
    "\u200b": "",
    "\u200c": "",
    "\u200d": "",
    "\u2060": "",
    "\ufeff": "",
    "\u00ad": "",
    "\u2028": "\n",
    "\u2029": "\n",
    "\t": "    ",
}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def latin1(text) -> str:
    """``text`` as a string the core fonts can draw: look-alike replacements first, then
    accents stripped (NFKD) for anything else outside latin-1, then ``?``."""
    if text is None:
        return ""
    s = str(text).replace("\r\n", "\n").replace("\r", "\n")
    out = []
    for ch in s:
        if ch in _REPLACEMENTS:
            out.append(_REPLACEMENTS[ch])
        elif ord(ch) < 256:
            out.append(ch)
        else:
            decomposed = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
            out.append(decomposed if decomposed and all(ord(c) < 256 for c in decomposed) else "?")
    return _CONTROL.sub(" ", "".join(out))


class A4Page(FPDF):
    """An A4 document page (fpdf2, core fonts): a running header from the second page, a footer with
    its text and ``page_label`` (``{n}`` of ``{nb}``), and, for a draft, ``draft_mark`` as a grey
    diagonal watermark on every page. The evaluation document and the printable SKP both draw on it."""

    def __init__(
        self, *, header_text: str, footer_text: str, page_label: str, draft_mark: str | None, watermark_grey: int = 238
    ):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.header_text, self.footer_text, self.page_label = header_text, footer_text, page_label
        self.draft_mark, self.watermark_grey = draft_mark, watermark_grey
        self.set_margins(15, 14, 15)
        self.set_auto_page_break(True, margin=18)
        self.alias_nb_pages("{nb}")

    def header(self):
        if self.draft_mark:
            self.set_font("Helvetica", "B", 90)
            self.set_text_color(self.watermark_grey, self.watermark_grey, self.watermark_grey)
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
        page = self.page_label.format(n=self.page_no(), nb=self.str_alias_nb_pages)
        width = self.get_string_width(page) + 2
        self.cell(self.epw - width, 4, self.footer_text)
        self.cell(width, 4, page, align="R")
        self.set_text_color(0, 0, 0)
