"""The process the cycle-flow kill test SIGKILLs: one real Prefect flow run of ``evaluation_cycle``
(against the Prefect API the test started) driving the services that run in the test's own process.

``python -m tests.faults.cycle_child SPEC.json``. The spec names the flow's parameters, the clock
file and, optionally, a kill point: ``{"path": "/reminders", "match": ":rating:", "after": 2}``
SIGKILLs this process right after the service answered the second POST whose path ends with
``path`` (and whose path or body contains ``match``) — the service acted, the flow died before it
knew. Without one, the test kills it from outside (or it runs to the end and writes its report).

:class:`FileClock` is the simulated time the services and the flow share across the two processes
(``clock="simulated"``: waiting for a deadline is moving the time there)."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path

import flows  # noqa: F401  (quiet, offline Prefect defaults before anything imports Prefect)
from flows.clock import SettableClock


class FileClock(SettableClock):
    """A settable clock kept in a file: the test's services read it, the flow's simulated clock moves
    it, and a restarted flow goes on from the time the killed one had reached."""

    def __init__(self, path: Path, start: datetime | None = None):
        self.path = Path(path)
        self._lock = threading.Lock()
        if start is not None:
            self.set(start)

    def __call__(self) -> datetime:
        return datetime.fromisoformat(self.path.read_text(encoding="ascii"))

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError(f"naive datetime {when!r}")
        with self._lock:  # written whole (rename), so a reader never sees half a time
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(when.isoformat(), encoding="ascii")
            os.replace(tmp, self.path)

    def advance(self, **delta) -> None:
        self.set(self() + timedelta(**delta))


def _kill_after(point: dict) -> None:
    import flows.client as flows_client

    original = flows_client.ServiceClient.post
    seen = [0]

    def post(self, path, json_body=None, **kw):
        out = original(self, path, json_body, **kw)
        if path.endswith(point["path"]) and point.get("match", "") in path + json.dumps(json_body or {}):
            seen[0] += 1
            if seen[0] == point["after"]:
                print(f"SIGKILL after POST {path} #{seen[0]}", flush=True)
                os.kill(os.getpid(), signal.SIGKILL)
        return out

    flows_client.ServiceClient.post = post


def main(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    from flows.clock import set_clock
    from flows.cycle import evaluation_cycle
    from flows.runner import run_flow

    set_clock(FileClock(Path(spec["clock_file"])))
    if spec.get("kill"):
        _kill_after(spec["kill"])
    print("ready", flush=True)
    state = run_flow(evaluation_cycle, **spec["params"], return_state=True)
    report = state.result(raise_on_failure=False)
    Path(spec["out"]).write_text(json.dumps(report, default=str, indent=1), encoding="utf-8")
    return 0 if state.is_completed() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
