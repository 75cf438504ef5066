"""The cycle flow run SIGKILLed mid-stage and started again duplicates no plan, evaluation or message,
and misses none.

The services run in this process (every service embedded, served over HTTP on 127.0.0.1, their bus
worker relaying and consuming); each flow run is a real Prefect flow run of ``evaluation_cycle`` in
a child process (``tests.faults.cycle_child``) against a Prefect API this test starts, with the
simulated time the two processes share through a file. The agency of ``tests.flows.support``
(9 employees, three of them without an SKP) is driven from planning to the check-in of the second
quarter in batches of one recipient, and the run is killed five times: in the middle of a reminder
batch, right after an escalation, right after the advance that opens the period's evaluations,
from outside while the self-assessment reminders go out, and in the middle of the rating reminders.
A last run finishes the way.

What the services hold is then counted by natural key — one plan per employee per cycle, one
evaluation per employee per period, one message per (recipient, reason, object) — and compared
with the same way walked by one uninterrupted run (in this process, as plain functions)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

import flows.cycle_tasks as tasks
from flows.client import ServiceClient
from flows.cycle import evaluation_cycle
from services.notifications.shared import synthetic_event_id
from tests.faults.cycle_child import FileClock
from tests.figures import record
from tests.flows.support import ALL, STAFF_B, Stack, wait_for
from tests.plans.support import START

ROOT = Path(__file__).resolve().parents[2]
UNTIL = "monitoring:2:check_in"
PRODUCERS = ("plans", "reviews", "surveys", "notifications")


# ------------------------------------------------------------------ counting by natural key


def _rows(db: Path, sql: str, *params) -> list:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _stable(data: dict) -> str:
    """An event's data as far as two runs of the same story agree on it: its plain values, without
    times (``*_at``) or generated identifiers (UUIDs)."""

    def generated(value) -> bool:
        try:
            return isinstance(value, str) and len(value) == 36 and bool(uuid.UUID(value))
        except ValueError:
            return False

    plain = {
        k: v
        for k, v in data.items()
        if isinstance(v, str | int | float | bool | None) and not (k == "at" or k.endswith("_at") or generated(v))
    }
    return json.dumps(plain, sort_keys=True)


def _event_objects(var: Path) -> dict[str, tuple]:
    """Event id → what the message is about: a reminder (what is due, its deadline, which reminder:
    7, 3 or 1 day before or overdue — not the batch key, which a flow could make per run), an
    escalation (the same, whose it is and the level), or a domain event (type, subject, plain data)."""
    objects: dict[str, tuple] = {}
    for service in PRODUCERS:
        for event_id, type_, envelope in _rows(var / f"{service}.db", "SELECT event_id, type, envelope FROM outbox"):
            envelope = json.loads(envelope)
            objects[event_id] = (type_, envelope.get("subject"), _stable(envelope.get("data") or {}))
    db = var / "notifications.db"
    batches = {
        batch_id: (template, deadline, re.search(r":(d\d+|overdue)(?=:|$)", key).group(1), params)
        for batch_id, key, template, deadline, params in _rows(
            db, "SELECT id, batch_key, template, deadline, params FROM reminder_batches"
        )
    }
    for batch_id, nip, event_id, level in _rows(
        db, "SELECT batch_id, recipient_nip, event_id, escalation_level FROM reminder_items"
    ):
        objects[event_id] = ("reminder", nip, *batches[batch_id])
        for n in range(1, level + 1):
            objects[synthetic_event_id("escalation", batch_id, nip, n)] = ("escalation", nip, n, *batches[batch_id])
    return objects


def holdings(var: Path, cycle_id: int) -> dict[str, Counter]:
    """What the services hold, counted by natural key."""
    objects = _event_objects(var)
    messages = Counter(
        (recipient, template, objects.get(event_id, ("unknown event", event_id)))
        for event_id, recipient, template in _rows(
            var / "notifications.db", "SELECT event_id, recipient_key, template FROM notifications"
        )
    )
    plans = Counter(
        nip for (nip,) in _rows(var / "plans.db", "SELECT employee_nip FROM plans WHERE cycle_id = ?", cycle_id)
    )
    evaluations = Counter(
        _rows(var / "reviews.db", "SELECT employee_nip, kind, period_seq FROM evaluations WHERE cycle_id = ?", cycle_id)
    )
    return {"plans": plans, "evaluations": evaluations, "messages": messages}


def duplicates(counts: Counter) -> int:
    return sum(n - 1 for n in counts.values() if n > 1)


def settled(stack: Stack, var: Path) -> None:
    """Wait until the bus is quiet: every outbox through and the notifications stable."""

    def quiet():
        if sum(r.pending() for r in stack.emb.relays):
            return False
        before = _rows(var / "notifications.db", "SELECT count(*) FROM notifications")
        time.sleep(0.3)
        return before == _rows(var / "notifications.db", "SELECT count(*) FROM notifications")

    wait_for(quiet, timeout=30, what="the bus to be quiet")


# ------------------------------------------------------------------ the Prefect API and the flow runs


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prefect_env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    home.mkdir(parents=True, exist_ok=True)
    return {**env, "PREFECT_HOME": str(home), "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


class PrefectApi:
    """Prefect's API server (as :mod:`flows.runner` starts its ephemeral one) on its own SQLite
    database: a child process of this test only, so it never meets another suite's Prefect."""

    def __init__(self, home: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        env = {
            **_prefect_env(home),
            "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home}/prefect.db",
            "PREFECT_UI_ENABLED": "0",
            "PREFECT__SERVER_EPHEMERAL": "1",
            "PREFECT__SERVER_FINAL": "1",
        }
        self.log = home / "server.log"
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--app-dir", str(ROOT), "--factory"]
                + ["flows.prefect_server:create_app", "--host", "127.0.0.1", "--port", str(self.port)]
                + ["--log-level", "error", "--lifespan", "on"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    def wait(self, timeout: float = 90) -> None:
        def up():
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                return httpx.get(f"{self.url}/health", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(up, timeout=timeout, what="the Prefect API")

    def flow_run_states(self) -> Counter:
        """How many ``evaluation-cycle`` runs the API knows, by state."""
        runs = httpx.post(f"{self.url}/flow_runs/filter", json={"limit": 200}, timeout=30).json()
        return Counter(r["state_type"] for r in runs if r["name"].startswith("cycle-"))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


class FlowRuns:
    """Flow runs of ``evaluation_cycle`` in child processes, each killed or run to its end."""

    def __init__(self, stack: Stack, api: PrefectApi, work: Path, clock_file: Path):
        self.stack, self.api, self.work, self.clock_file = stack, api, work, clock_file
        self.env = {**_prefect_env(work / "prefect-client"), "PREFECT_API_URL": api.url}
        self.n = 0

    def start(self, kill: dict | None = None) -> tuple[subprocess.Popen, Path, Path]:
        self.n += 1
        spec, out, log = (self.work / f"run{self.n}{ext}" for ext in (".json", ".out.json", ".log"))
        params = self.stack.flow_params(batch_size=1, until=UNTIL)
        spec.write_text(
            json.dumps({"params": params, "clock_file": str(self.clock_file), "kill": kill, "out": str(out)}),
            encoding="utf-8",
        )
        with open(log, "ab") as stream:
            child = subprocess.Popen(
                [sys.executable, "-m", "tests.faults.cycle_child", str(spec)],
                cwd=ROOT,
                env=self.env,
                stdout=stream,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        return child, out, log

    def killed_at(self, kill: dict, deadline: float) -> str:
        """A run that SIGKILLs itself at ``kill``; returns the cycle's state it left."""
        child, _, log = self.start(kill)
        try:
            code = child.wait(max(1.0, deadline - time.monotonic()))
        finally:
            if child.poll() is None:
                child.kill()
                child.wait(10)
        assert code == -signal.SIGKILL, f"not killed ({code}): {log.read_text()[-3000:]}"
        return self.stack.state()

    def killed_when(self, condition, deadline: float) -> str:
        """A run SIGKILLed from outside once ``condition()`` holds."""
        child, _, log = self.start()
        try:
            while not condition():
                assert child.poll() is None, f"ended before the kill ({child.returncode}): {log.read_text()[-3000:]}"
                assert time.monotonic() < deadline, "the kill point was not reached in time"
                time.sleep(0.005)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(10)
        return self.stack.state()

    def to_the_end(self, deadline: float) -> dict:
        child, out, log = self.start()
        try:
            code = child.wait(max(1.0, deadline - time.monotonic()))
        finally:
            if child.poll() is None:
                child.kill()
                child.wait(10)
        assert code == 0, log.read_text()[-3000:]
        return json.loads(out.read_text(encoding="utf-8"))


def reminded(var: Path, like: str) -> int:
    sql = "SELECT count(*) FROM reminder_items i JOIN reminder_batches b ON b.id = i.batch_id WHERE b.batch_key LIKE ?"
    return _rows(var / "notifications.db", sql, like)[0][0]


# ------------------------------------------------------------------ the test


def test_the_cycle_flow_killed_mid_stage_and_started_again_duplicates_and_misses_nothing(tmp_path):
    started = time.monotonic()
    api = PrefectApi(tmp_path / "prefect")  # starts while the reference run walks the same way
    try:
        ref_var = tmp_path / "reference"
        ref = Stack(ref_var)
        try:
            ref.people.plans(leave_out=tuple(STAFF_B))
            report = evaluation_cycle.fn(**ref.flow_params(batch_size=1, until=UNTIL))
            assert report["state"] == UNTIL, report
            settled(ref, ref_var)
            expected = holdings(ref_var, ref.cycle_id)
        finally:
            ref.close()
        reference_seconds = time.monotonic() - started

        var = tmp_path / "services"
        clock_file = tmp_path / "clock"
        stack = Stack(var, clock=FileClock(clock_file, START))
        try:
            stack.people.plans(leave_out=tuple(STAFF_B))
            api.wait()
            runs = FlowRuns(stack, api, tmp_path, clock_file)
            deadline = time.monotonic() + 150
            key = f"cycle{stack.cycle_id}"
            states = [
                # in the middle of the first reminder batch (one recipient a task: the second of three)
                runs.killed_at({"path": "/reminders", "after": 2}, deadline),
                # right after escalating the overdue plans to the superiors
                runs.killed_at({"path": "/escalate", "after": 1}, deadline),
                # right after check-in → self-assessment: the period's evaluations are being opened
                runs.killed_at({"path": "/advance", "after": 2}, deadline),
                # from outside, while the self-assessment reminders go out
                runs.killed_when(lambda: reminded(var, f"{key}:p1:self_assessment:%") >= 8, deadline),
                # in the middle of the rating reminders
                runs.killed_at({"path": "/reminders", "match": ":rating:", "after": 2}, deadline),
            ]
            final = runs.to_the_end(deadline)
            settled(stack, var)
            got = holdings(var, stack.cycle_id)
            prefect_states = api.flow_run_states()
        finally:
            stack.close()
    finally:
        api.stop()

    missing = {k: sorted(set(expected[k]) - set(got[k]), key=str) for k in got}
    extra = {k: sorted(set(got[k]) - set(expected[k]), key=str) for k in got}
    figures = {
        "kills": len(states),
        "plans": sum(got["plans"].values()),
        "evaluations": sum(got["evaluations"].values()),
        "duplicates": duplicates(got["plans"]) + duplicates(got["evaluations"]),
        "missing": len(missing["plans"]) + len(missing["evaluations"]),
        "messages": sum(got["messages"].values()),
        "duplicate_messages": duplicates(got["messages"]),
        "missing_messages": len(missing["messages"]),
        # the killed runs stay RUNNING in Prefect (nothing marks a run whose process died crashed)
        "flow_runs": sum(prefect_states.values()),
        "flow_runs_left_running": prefect_states.get("RUNNING", 0),
        "seconds": round(time.monotonic() - started, 1),
    }
    record("faults", "cycle flow run killed mid-stage", **figures)
    print(f"\nstates at the kills: {states}\nfigures: {figures}\nreference run {reference_seconds:.1f} s")

    assert states == [
        "planning",
        "planning",
        "monitoring:1:self_assessment",
        "monitoring:1:self_assessment",
        "monitoring:1:supervisor_evaluation",
    ]
    assert final["status"] == "stopped" and final["state"] == UNTIL
    assert figures["duplicates"] == 0 and figures["duplicate_messages"] == 0, {
        k: [(key, n) for key, n in got[k].items() if n > 1] for k in got
    }
    assert missing == {"plans": [], "evaluations": [], "messages": []}, missing
    assert extra == {"plans": [], "evaluations": [], "messages": []}, extra
    # three never wrote an SKP: six plans, six evaluations in each period reached
    assert figures["plans"] == 6 and Counter(seq for _, _, seq in got["evaluations"]) == {1: 6, 2: 6}


def test_a_restarted_run_meeting_the_killed_runs_request_in_flight_is_answered_not_refused(tmp_path):
    """A run started again while the killed run's last request is still being served (or two runs at
    once: HR's ``cycle-once`` during the daily run) sends the same reminder batch at the same moment.
    The service takes one and refuses the other's insert of the same keys (409 ``problem.409``, all
    rolled back); the client tries that one again and gets the batch as the winner left it — rather
    than failing the run. Nothing is reminded twice."""
    stack = Stack(tmp_path)
    try:
        recipients = [{"nip": nip, "params": {}} for nip in ALL]

        def remind(key: str) -> dict | str:
            with ServiceClient(stack.base_url, stack.hr_token) as client:
                try:
                    args = (key, "reminder.skp_submission", recipients, "2026-01-31T16:59:59+00:00", {}, "hr")
                    return tasks.send_reminders.fn(client, *args)
                except Exception as exc:  # what the run would fail with
                    return f"{type(exc).__name__}: {exc}"

        rounds, runs = 6, 3
        with ThreadPoolExecutor(runs) as pool:
            answers = [list(pool.map(remind, [f"race{n}:d7"] * runs)) for n in range(rounds)]
        failed = [a for round_ in answers for a in round_ if isinstance(a, str)]
        assert failed == [], failed[:3]
        for round_ in answers:  # one run reminded everyone, the others found them reminded
            assert sorted(len(a["created"]) for a in round_) == [0] * (runs - 1) + [len(ALL)], round_
        sql = "SELECT count(*) FROM notifications WHERE event_type = 'notifications.reminder'"
        assert _rows(tmp_path / "notifications.db", sql)[0][0] == rounds * len(ALL)
    finally:
        stack.close()
