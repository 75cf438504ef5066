"""The text output of the HR commands: aligned tables (``rich`` when installed, else plain text),
progress bars in tables and on stderr, headings in Bahasa Indonesia with English in parentheses."""

from __future__ import annotations

import io
import sys
import unicodedata
from typing import Any, Iterable

import click

try:
    import rich  # noqa: F401

    HAVE_RICH = True
except ImportError:  # pragma: no cover - depends on the environment
    HAVE_RICH = False
USE_RICH = HAVE_RICH  # the plain renderer is kept (and tested) for environments without rich


def _width(text: str) -> int:
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _is_number(v: Any) -> bool:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return True
    return isinstance(v, str) and (v.replace(".", "", 1).isdigit() or v in ("–", "-"))


def table(headers: list[str], rows: list[list[Any]], right: Iterable[int] | None = None) -> str:
    """An aligned plain-text table; a header may hold ``"Bahasa\\n(English)"`` on two lines.
    Columns whose cells are all numbers are right-aligned unless ``right`` says otherwise."""
    cells = [["" if c is None else str(c) for c in r] for r in rows]
    n = len(headers)
    head_lines = [h.split("\n") for h in headers]
    depth = max(len(h) for h in head_lines)
    widths = [max([_width(x) for x in head_lines[i]] + [_width(r[i]) for r in cells]) for i in range(n)]
    if right is None:
        right = {i for i in range(n) if cells and all(_is_number(r[i]) for r in cells)}
    right = set(right)

    if USE_RICH:
        return _rich_table(head_lines, cells, right)

    def pad(text: str, i: int) -> str:
        gap = " " * (widths[i] - _width(text))
        return gap + text if i in right else text + gap

    out = []
    for line in range(depth):
        out.append("  ".join(pad(h[line] if line < len(h) else "", i) for i, h in enumerate(head_lines)).rstrip())
    out.append("  ".join("─" * w for w in widths))
    for r in cells:
        out.append("  ".join(pad(r[i], i) for i in range(n)).rstrip())
    return "\n".join(out)


def _rich_table(head_lines: list[list[str]], cells: list[list[str]], right: set[int]) -> str:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    depth = max(len(h) for h in head_lines)
    for i, h in enumerate(head_lines):  # every header as deep as the deepest: Bahasa on the top line
        t.add_column("\n".join(h + [" "] * (depth - len(h))), justify="right" if i in right else "left", no_wrap=True)
    for r in cells:
        t.add_row(*r)
    tty = sys.stdout.isatty()
    buf = io.StringIO()
    Console(
        file=buf,
        width=4000,
        force_terminal=tty,
        color_system="auto" if tty else None,
        highlight=False,
        emoji=False,
        markup=False,
    ).print(t)
    return "\n".join(line.rstrip() for line in buf.getvalue().rstrip("\n").split("\n"))


def bar(done: int, total: int, width: int = 16) -> str:
    """``███████░░░░░░░░░  7/16  44 %``"""
    if not total:
        return "░" * width + "  –"
    k = round(width * done / total)
    return "█" * k + "░" * (width - k) + f" {done:>3}/{total:<3} {round(100 * done / total):>3} %"


def heading(text_id: str, text_en: str) -> None:
    click.echo()
    click.secho(f"{text_id} ({text_en})", bold=True)


def progress(items: Iterable, label: str) -> Iterable:
    """A progress bar on stderr (tables stay on stdout): rich's on a terminal, else click's."""
    items = list(items)
    if len(items) < 2:
        return items
    if USE_RICH and sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import track

        return track(items, description=label, console=Console(stderr=True), transient=True)

    def gen():
        with click.progressbar(items, label=label, file=sys.stderr, show_pos=True) as bar_:
            yield from bar_

    return gen()
