"""Wall and CPU time of ``make demo`` (``kinerja demo``), the issue's ≤ 60 s target, per phase.

Runs ``kinerja demo`` N times as a newcomer would (a fresh process each time, the project's
``var/prefect`` Prefect home; ``--fresh-prefect`` gives each run an empty one, as a fresh clone
has) and prints per run: wall seconds, CPU seconds of the demo and its Prefect API child
(user + sys), the seconds of each flow run from ``summary.json``, the HTTP calls and the
notifications. Then the median wall time. A benchmark, not a test: it asserts nothing about
time; it exits non-zero only when a run fails (its figures would mean nothing).

    .venv/bin/python bench/demo_time.py [--runs 3] [--fresh-prefect]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.record import record  # noqa: E402


def one_run(out: Path, prefect_home: str | None) -> dict:
    env = dict(os.environ)
    if prefect_home:
        env["PREFECT_HOME"] = prefect_home
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "kinerja"), "demo"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"kinerja demo failed ({proc.returncode}):\n{proc.stdout[-3000:]}")
    summary = json.loads((ROOT / "var" / "demo" / "summary.json").read_text(encoding="utf-8"))
    shutil.copy(ROOT / "var" / "demo" / "summary.json", out)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "wall": wall,
        "cpu": cpu,
        "demo_seconds": summary["seconds"],
        "flows": [r["seconds"] for r in summary["flow_runs"]],
        "http": summary["http_calls"],
        "notifications": summary["notifications"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--fresh-prefect", action="store_true", help="an empty PREFECT_HOME for every run")
    args = ap.parse_args()
    print(
        f"kinerja demo x{args.runs} on {os.cpu_count()} CPUs"
        f"{' (fresh Prefect home each run)' if args.fresh_prefect else ''}"
    )
    print(f"{'run':>3}  {'wall s':>7}  {'cpu s':>6}  {'flow runs s (7)':<42}  {'http':>5}  notifications")
    walls = []
    with tempfile.TemporaryDirectory(prefix="kinerja-demo-bench-") as tmp:
        for n in range(1, args.runs + 1):
            home = tempfile.mkdtemp(dir=tmp) if args.fresh_prefect else None
            r = one_run(Path(tmp) / f"summary-{n}.json", home)
            walls.append(r["wall"])
            flows = " ".join(f"{s:.1f}" for s in r["flows"])
            print(f"{n:>3}  {r['wall']:7.1f}  {r['cpu']:6.1f}  {flows:<42}  {r['http']:>5}  {r['notifications']}")
    print(f"median wall {statistics.median(walls):.1f} s (min {min(walls):.1f}, max {max(walls):.1f}); target ≤ 60 s")
    record(
        "demo_time.wall",
        statistics.median(walls),
        "s",
        target_s=60.0,
        runs=args.runs,
        min_s=min(walls),
        max_s=max(walls),
    )


if __name__ == "__main__":
    main()
