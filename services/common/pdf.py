"""Text for PDFs drawn with fpdf2's core fonts, which know Latin-1 only (pure Python)."""

from __future__ import annotations

import re
import unicodedata

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
