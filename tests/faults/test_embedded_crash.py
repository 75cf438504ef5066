"""A process killed (SIGKILL) between publishing and consuming loses no event and applies none twice.

The embedded runner runs in a subprocess (tests/faults/embedded_child.py) with the real wiring: plans
emits ``plans.feedback.given`` into its outbox, the bus worker relays it, notifications (and reviews)
consume it. The test kills the process at several points — in the last scenario ten times while it
produces and consumes 250 events —, restarts it until every event is through and counts, by event id,
what notifications applied: produced, delivered, duplicated, lost (recorded under "Guarantees")."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.figures import record

ROOT = Path(__file__).resolve().parents[2]
TOTAL = 100
TYPE = "plans.feedback.given"


def _rows(db: Path, sql: str, *params) -> list:
    if not db.exists():
        return []
    conn = sqlite3.connect(db, timeout=10)  # read-write: after a kill it may have to recover the WAL
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):  # the child is still creating it
            return []
        raise
    finally:
        conn.close()


class Run:
    def __init__(self, var: Path, total: int = TOTAL):
        self.var, self.total = var, total

    def produced(self) -> set[str]:
        return {r[0] for r in _rows(self.var / "plans.db", "SELECT event_id FROM outbox WHERE type = ?", TYPE)}

    def sent(self) -> set[str]:
        sql = "SELECT event_id FROM outbox WHERE type = ? AND sent_at IS NOT NULL"
        return {r[0] for r in _rows(self.var / "plans.db", sql, TYPE)}

    def applied(self) -> Counter:
        sql = "SELECT event_id FROM fault_applied WHERE type = ?"
        return Counter(r[0] for r in _rows(self.var / "notifications.db", sql, TYPE))

    def in_inbox(self, service: str) -> set[str]:
        sql = "SELECT event_id FROM inbox WHERE type = ? AND consumer = ?"
        return {r[0] for r in _rows(self.var / f"{service}.db", sql, TYPE, service)}

    def start(self, mode: str) -> subprocess.Popen:
        with open(self.var / f"child-{mode}.log", "ab") as log:  # the child keeps its own descriptor
            return subprocess.Popen(
                [sys.executable, "-m", "tests.faults.embedded_child", str(self.var), str(self.total), mode],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill_when(self, condition, deadline: float) -> dict:
        """Run the child until ``condition(self)`` holds, SIGKILL it, and say what the kill left."""
        child = self.start("run")
        try:
            while not condition(self):
                assert child.poll() is None, (self.var / "child-run.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "the kill point was not reached in time"
                time.sleep(0.005)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(10)
        sent = self.sent()
        return {
            "produced": len(self.produced()),
            "sent": len(sent),
            "applied": len(self.applied()),
            # rows the outbox calls sent that a consumer has not recorded: lost if nothing resends them
            "sent_unrecorded": len(sent - self.in_inbox("notifications")) + len(sent - self.in_inbox("reviews")),
        }

    def finish(self, deadline: float) -> None:
        child = self.start("finish")
        try:
            code = child.wait(max(5.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(10)
            raise
        assert code == 0, (self.var / "child-finish.log").read_text()[-3000:]

    def figures(self) -> dict:
        produced, applied = self.produced(), self.applied()
        return {
            "produced": len(produced),
            "delivered": len(produced & set(applied)),
            "duplicated": sum(n - 1 for n in applied.values() if n > 1),
            "lost": len(produced - set(applied)),
        }


def _applied_at_least(n):
    """Kill once notifications applied ``n`` events, or once the outbox is through (all sent: what was
    lost before will not come, so waiting for more would be waiting for ever)."""

    def reached(run: Run) -> bool:
        produced = run.produced()
        return len(run.applied()) >= n or (len(produced) == run.total and run.sent() == produced)

    return reached


def _produced_at_least(n):
    return lambda run: len(run.produced()) >= n


def _progress_since_start(produced: int, applied: int):
    """Kill once, since this start, ``produced`` more events were produced and ``applied`` more applied
    (each part counts as reached once there is nothing left of it to do): the process dies while it
    both produces and consumes."""
    start: dict = {}

    def reached(run: Run) -> bool:
        made, done = len(run.produced()), len(run.applied())
        if not start:
            start.update(made=made, done=done)
        through = made == run.total and run.sent() == run.produced()
        return (made - start["made"] >= produced or made == run.total) and (done - start["done"] >= applied or through)

    return reached


SCENARIOS = {
    "while producing": [_produced_at_least(30)],
    "just after the first delivery": [_applied_at_least(1)],
    "halfway through consuming": [_applied_at_least(50)],
    "three kills in a row": [_applied_at_least(5), _applied_at_least(40), _applied_at_least(80)],
    # under load: 250 events, each start killed after 25 more were produced and 10 more applied
    "ten kills while producing and consuming": [_progress_since_start(25, 10) for _ in range(10)],
}
TOTALS = {"ten kills while producing and consuming": 250}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_sigkill_between_publish_and_consume_loses_and_duplicates_nothing(tmp_path, scenario):
    deadline = time.monotonic() + 40 + 10 * len(SCENARIOS[scenario])  # a bound on a busy host (each start ~1.2 s CPU)
    run = Run(tmp_path / "var", TOTALS.get(scenario, TOTAL))
    run.var.mkdir()
    kills = [run.kill_when(condition, deadline) for condition in SCENARIOS[scenario]]
    run.finish(deadline)
    figures = run.figures()
    record("faults", f"embedded SIGKILL: {scenario}", **figures, kills=len(kills))
    print(f"\n[{scenario}] at each kill: {kills}; after restart: {figures}")

    assert all(k["sent_unrecorded"] == 0 for k in kills), kills  # never 'sent' before the consumers recorded it
    assert figures == {"produced": run.total, "delivered": run.total, "duplicated": 0, "lost": 0}
    assert run.in_inbox("reviews") == run.produced()  # the other consumer got every event too
    assert run.sent() == run.produced()  # and the outbox is through
