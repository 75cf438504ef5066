"""``kinerja demo`` as a newcomer runs it (``make demo``): a fresh process, no Prefect server
configured. The appraisal year must be driven by real Prefect flow runs (the cycle closed by the
flow, the survey campaigns closed by the aggregation flow), with the people's work between them,
and the output must be quiet: exit 0, no traceback, no error line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_runs_the_year_through_the_flows_quietly(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "KINERJA_"))}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PYTHONPATH=str(ROOT))
    out_dir = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "kinerja.cli", "demo", "--out", str(out_dir)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    noisy = [
        line
        for line in output.splitlines()
        if "Traceback" in line
        or "ERROR" in line
        or "CRITICAL" in line
        or line.startswith("Error")
        or "Warning:" in line
    ]
    assert not noisy, output[-4000:]

    summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    for key in (
        "employees",
        "plans",
        "evaluations",
        "predikat",
        "objections",
        "ikm",
        "notifications",
        "seconds",
        "flow_runs",
        "daily_logs",
    ):
        assert key in summary, key
    assert summary["employees"] == 200

    # the cycle was moved by flow runs, all of them completed, the last one closed it
    runs = summary["flow_runs"]
    cycle_runs = [r for r in runs if r["flow"] == "evaluation-cycle"]
    assert len(cycle_runs) >= 4 and all(r["state"] == "Completed" for r in runs)
    assert cycle_runs[-1]["status"] == "closed" and summary["cycle"]["state"] == "closed"
    assert sum(r["stage_changes"] for r in cycle_runs) >= 15  # planning, 4 × 3 period phases, annual, …, closed
    assert sum(r["reminders_sent"] for r in cycle_runs) > 0 and sum(r["escalations"] for r in cycle_runs) > 0
    assert [r for r in runs if r["flow"] == "survey-aggregation" and r["campaigns_closed"] == len(summary["ikm"])]
    assert "Alur Prefect / flow runs" in proc.stdout

    # calibration: the flow found units breaking the curve and stopped; HR's overrides resolved them
    cal = summary["reviews"]["calibration"]
    assert cal["blocked_by_flow"] and cal["overrides"] == len(cal["blocked_by_flow"])
    assert any(r["status"] == "blocked" and r["cycle_state"] == "calibration" for r in cycle_runs)

    # what the people saw and did
    assert summary["evaluations"] == {"countersigned": summary["plans"]["approved"]}
    assert summary["objections"].get("changed", 0) >= 1 and summary["objections"].get("upheld", 0) >= 1
    assert summary["daily_logs"] > 100
    assert summary["notifications"]["inapp"] > 0
    assert all(row["respondents"] >= 1 and row["ikm_unit"] for row in summary["ikm"])
    assert "Waktu / time:" in proc.stdout
