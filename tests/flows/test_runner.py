"""Running the flows: ``python -m flows`` is a real Prefect flow run on a quiet ephemeral API
(offline, project-local home, the server's output in a log file): a successful run prints its log
lines and the report, and no traceback. The flows call the services over HTTP only."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import flows.cycle_tasks as fc
from flows.client import ServiceError
from flows.cycle_tasks import SERVICE_TASK, transient
from flows.runner import in_flow_run, invoke

ROOT = Path(__file__).resolve().parents[2]


def test_a_command_line_run_is_a_quiet_prefect_run_without_tracebacks(stack, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(KINERJA_TOKEN=stack.hr_token, PREFECT_HOME=str(tmp_path / "prefect"), PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "flows",
            "cycle",
            str(stack.cycle_id),
            "--base-url",
            stack.base_url,
            "--until",
            "planning",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    out, err = proc.stdout, proc.stderr
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in out + err, err[-3000:]
    report = json.loads(out)
    assert report["status"] == "stopped" and report["summary"]["state"] == "planning"
    assert "Flow run 'cycle-" in err and "Finished in state Completed()" in err
    assert stack.hr_token not in out + err
    assert (tmp_path / "prefect" / "ephemeral-server.log").exists()


def test_flows_never_import_a_service():
    """Only the one HTTP client of the shared platform (``services/common``, which knows no service)."""
    for path in sorted((ROOT / "flows").glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and not node.level
                else []
            )
            for name in names:
                if name == "services.common.client":
                    continue
                assert not name.startswith(("services", "kinerja")), f"{path.name} imports {name}"


def test_service_tasks_retry_with_backoff_only_what_may_pass():
    tasks = [
        fc.read_cycle,
        fc.advance_cycle,
        fc.send_reminders,
        fc.escalate_overdue,
        fc.calibration_check,
        fc.evaluation_status,
        fc.planning_status,
        fc.siasn_push,
        fc.cycle_summary,
        fc.pending_objections,
    ]
    for t in tasks:
        assert (t.retries, t.retry_delay_seconds) == (3, [1, 2, 4]), t.name
        assert t.retry_condition_fn is transient and t.cache_policy is SERVICE_TASK["cache_policy"]

    class State:
        def __init__(self, data):
            self.data = data

    assert transient(None, None, State(ServiceError(None, "service.unreachable", "down")))
    assert transient(None, None, State(ServiceError(503, "db.unavailable", "busy")))
    assert not transient(None, None, State(ServiceError(409, "cycle.not_expected", "moved")))
    assert not transient(None, None, State(KeyError("state")))


def test_outside_a_flow_run_tasks_run_as_plain_functions():
    assert not in_flow_run()
    assert invoke(lambda x: x + 1, 1) == 2
    calls = []

    class Step:
        def __call__(self, *a):  # what a Prefect run would do
            raise AssertionError("ran through the engine")

        def fn(self, *a):
            calls.append(a)
            return "plain"

    assert invoke(Step(), 1, 2) == "plain" and calls == [(1, 2)]
