"""The process the crash test kills: the embedded runner (every service, SQLite files, the in-process
bus and its background worker) producing ``plans.feedback.given`` events that notifications (and
reviews) consume.

``python -m tests.faults.embedded_child VAR_DIR TOTAL run``: produce the events still missing (in
small transactions, as requests would), start the bus worker and keep running until killed.
``… finish``: produce what is missing, then relay and consume until quiet, and exit.

Every application of an event by notifications is also written to ``fault_applied`` (no uniqueness)
in the consumer's own transaction, so the test counts duplicates by event id, not by the inbox."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from sqlalchemy import text

from kinerja.embedded import Embedded

TYPE = "plans.feedback.given"
PROBE = "CREATE TABLE IF NOT EXISTS fault_applied (event_id VARCHAR(36) NOT NULL, type VARCHAR(120) NOT NULL)"


def probe(handler):
    def run(session, envelope):
        result = handler(session, envelope)
        session.execute(
            text("INSERT INTO fault_applied (event_id, type) VALUES (:e, :t)"),
            {"e": envelope["id"], "t": envelope["type"]},
        )
        return result

    return run


def produce(emb: Embedded, total: int) -> None:
    plans = emb.platform("plans")
    with plans.engine.connect() as conn:
        have = conn.execute(text("SELECT count(*) FROM outbox WHERE type = :t"), {"t": TYPE}).scalar_one()
    for n in range(have, total):
        with plans.uow() as session:
            data = {
                "feedback_id": n + 1,
                "plan_id": 1,
                "cycle_id": 1,
                "employee_nip": "199001012020011001",
                "giver_nip": "198001012010011001",
                "rhk_id": None,
                "value_code": None,
                "period_seq": 1,
                "text": f"feedback {n + 1}",
            }
            plans.emit(session, TYPE, str(n + 1), data)
        time.sleep(0.002)


def main(var_dir: str, total: int, mode: str) -> int:
    env = {**os.environ, "KINERJA_VAR": var_dir}
    Path(var_dir).mkdir(parents=True, exist_ok=True)
    emb = Embedded(env=env, portal=False)
    with emb.platform("notifications").engine.begin() as conn:
        conn.execute(text(PROBE))
    for consumer in emb.consumers:
        if consumer.service == "notifications":
            consumer.handlers = {key: probe(handler) for key, handler in consumer.handlers.items()}
    print("ready", flush=True)
    if mode == "run":
        emb.start_worker()
        produce(emb, total)
        while True:  # until SIGKILL
            time.sleep(1)
    produce(emb, total)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if not emb.pump(jobs=False) and not sum(r.pending() for r in emb.relays):
            break
    emb.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
