"""Message catalogues: Bahasa Indonesia first, English second.

Catalogues are JSON files ``messages/<lang>.json`` (the platform's own here, each service's
beside its code). A missing key falls back to Indonesian, then to the key itself.
"""

from __future__ import annotations

import json
from pathlib import Path

from .rules import MONTHS  # the month names are plain data the rule books use too


def long_date(d, lang: str) -> str:
    """``6 Desember 2026`` / ``6 December 2026`` (an unknown language: Indonesian)."""
    return f"{d.day} {MONTHS.get(lang, MONTHS['id'])[d.month - 1]} {d.year}"


LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
_PLATFORM_DIR = Path(__file__).parent / "messages"


class Catalogue:
    def __init__(self, *dirs: Path):
        self.messages: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
        for d in (_PLATFORM_DIR, *dirs):
            for lang in LANGUAGES:
                path = Path(d) / f"{lang}.json"
                if path.exists():
                    self.messages[lang].update(json.loads(path.read_text(encoding="utf-8")))

    def has(self, key: str) -> bool:
        return key in self.messages[DEFAULT_LANGUAGE]

    def t(self, key: str, lang: str = DEFAULT_LANGUAGE, /, **params) -> str:
        lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        text = self.messages[lang].get(key) or self.messages[DEFAULT_LANGUAGE].get(key) or key
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text


def negotiate(accept_language: str | None, override: str | None = None) -> str:
    """Pick ``id`` or ``en`` from ``?lang=`` or the Accept-Language header; Indonesian by default."""
    if override in LANGUAGES:
        return override
    if not accept_language:
        return DEFAULT_LANGUAGE
    best, best_q = DEFAULT_LANGUAGE, -1.0
    for part in accept_language.split(","):
        bits = part.strip().split(";")
        tag = bits[0].strip().lower().split("-")[0]
        q = 1.0
        for b in bits[1:]:
            b = b.strip()
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        if tag in LANGUAGES and q > best_q:
            best, best_q = tag, q
    return best
