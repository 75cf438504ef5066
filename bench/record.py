"""One JSON line per benchmark figure, and a table of the latest figure per name.

A benchmark calls ``record(name, value, unit, floor=..., ratio=...)`` for its headline figure;
the record is appended to ``var/bench/results.jsonl`` (or the file named by the environment
variable ``BENCH_RESULTS``). Standard library only: no service imports.

    from bench.record import record          # after putting the repository root on sys.path
    record("events.relay", 406.0, "events/s", floor=6247.0)

    .venv/bin/python bench/record.py --table  # latest record per name
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PATH = ROOT / "var" / "bench" / "results.jsonl"


def results_path() -> Path:
    """The JSONL file: ``$BENCH_RESULTS`` if set, else ``var/bench/results.jsonl``."""
    override = os.environ.get("BENCH_RESULTS")
    return Path(override) if override else DEFAULT_PATH


def machine() -> dict:
    return {
        "hostname": socket.gethostname(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def record(
    name: str,
    value: float,
    unit: str,
    floor: float | None = None,
    ratio: float | None = None,
    **extra,
) -> dict:
    """Append one record for ``name`` and return it.

    ``ratio`` defaults to ``value / floor`` when both are given and the floor is non-zero:
    right for rates, where higher is better (events/s, requests/s) and the floor is the
    fastest the bare tool reaches. For times, where lower is better, the caller passes its own
    ratio (``floor / value`` keeps "1.0 = as fast as the floor, smaller = slower"), or says
    in ``extra`` which way round it is. ``extra`` holds anything else worth keeping (sizes,
    percentiles, options); its values must be JSON-serialisable.
    """
    if ratio is None and floor is not None and value is not None and floor != 0:
        ratio = value / floor
    entry = {
        "name": name,
        "value": value,
        "unit": unit,
        "floor": floor,
        "ratio": ratio,
        "machine": machine(),
        "commit": git_commit(),
        "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "extra": extra,
    }
    path = results_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, sort_keys=True, default=str) + "\n")
    return entry


def latest(path: Path | None = None) -> dict[str, dict]:
    """The last record per name in the file (later lines win); unreadable lines are skipped."""
    path = path or results_path()
    found: dict[str, dict] = {}
    if not path.exists():
        return found
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and "name" in entry:
            found[entry["name"]] = entry
    return found


def _num(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.3g}" if abs(x) < 1 else f"{x:,.1f}"
    return f"{x:,}" if isinstance(x, int) else str(x)


def table(path: Path | None = None) -> str:
    """A plain-text table of the latest record per name: name, value unit, floor, ratio, when."""
    rows = [("name", "value", "floor", "ratio", "when (UTC)")]
    for name, e in sorted(latest(path).items()):
        unit = e.get("unit") or ""
        value = f"{_num(e.get('value'))} {unit}".strip()
        floor = "-" if e.get("floor") is None else f"{_num(e.get('floor'))} {unit}".strip()
        ratio = "-" if e.get("ratio") is None else f"{e['ratio']:.3f}"
        rows.append((name, value, floor, ratio, str(e.get("at", "-"))))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", action="store_true", help="print the latest record per name")
    args = parser.parse_args(argv)
    if args.table:
        path = results_path()
        if not latest(path):
            print(f"no benchmark records in {path}")
            return 0
        print(f"latest benchmark records ({path})")
        print(table(path))
        return 0
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
