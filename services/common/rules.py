"""What every service's rule book (its ``domain.py``) builds on: pure Python, no Flask, no
SQLAlchemy, no I/O — so the rule books stay free of them too."""

from __future__ import annotations

#: Month names by language (``id`` first): period names in the rule books, long dates on pages.
MONTHS = {
    "id": (
        "Januari",
        "Februari",
        "Maret",
        "April",
        "Mei",
        "Juni",
        "Juli",
        "Agustus",
        "September",
        "Oktober",
        "November",
        "Desember",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


class DomainError(Exception):
    """A rule was broken. ``code`` is a message-catalogue key, ``field`` the input it
    concerns (or None), ``params`` the values the translated message may interpolate.
    Each service maps it (and its subclasses) to an HTTP status in ``create_app``."""

    def __init__(self, code: str, field: str | None = None, **params):
        super().__init__(code)
        self.code = code
        self.field = field
        self.params = params

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, field={self.field!r}, params={self.params!r})"


def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: ``*`` is exactly one word, ``#`` zero or more words."""
    return _match_words(pattern.split("."), routing_key.split("."))


def _match_words(pattern: list[str], words: list[str]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match_words(rest, words[i:]) for i in range(len(words) + 1))
    if not words:
        return False
    return (head == "*" or head == words[0]) and _match_words(rest, words[1:])
