"""The figures the guarantee suites measure (fault, fuzz, authorization), printed at the end of the
run under "Guarantees" and written to ``var/guarantees.json`` so the README's numbers can be checked
against any run: ``record("faults", "rabbitmq stopped 30 s", produced=…, delivered=…, …)``.

A suite records what it counted whether or not its assertions then pass: a failing run still shows
how far off it was."""

from __future__ import annotations

import json
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "var" / "guarantees.json"

_lock = threading.Lock()
_figures: list[dict] = []


def record(suite: str, case: str, **figures) -> None:
    """One line of figures: ``suite`` (faults, fuzz, authz, limits), ``case`` (what was done) and its
    counts (ints, floats or short strings)."""
    with _lock:
        _figures.append({"suite": suite, "case": case, **figures})


def recorded() -> list[dict]:
    with _lock:
        return list(_figures)


def write_and_render() -> list[str]:
    """Write var/guarantees.json and return the lines of the terminal summary (none if nothing ran)."""
    rows = recorded()
    if not rows:
        return []
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    lines = []
    for row in rows:
        counts = ", ".join(f"{k}={v}" for k, v in row.items() if k not in ("suite", "case"))
        lines.append(f"{row['suite']:<7} {row['case']}: {counts}")
    lines.append(f"(written to {OUTPUT.relative_to(ROOT)})")
    return lines
