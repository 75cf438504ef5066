"""Events that tell a few people, applied as the notifications worker's consumer applies them, against
the floor of writing the same rows.

Most events of a year tell one to three people (a plan submitted tells the penilai). On a fresh
PostgreSQL database (``kinerja_bench_notif_<hex>``, migrated with the notifications migrations) it
seeds an agency of ``--people`` (units of 20 under a head, each with an e-mail address), then:

  kinerja  ``--events`` ``plans.plan.submitted`` (each naming its employee and penilai and unit)
           through ``recording.handle_event`` in sessions of ``--batch`` events, the session told
           the batch's events as the consumer tells it (``services.common.bus.BATCH``), one commit
           each: the rules, the lookups, the rendering, the rows
  floor    the same notification and delivery rows, already made, inserted again in the same
           batches with one multi-row ``INSERT`` a table and one commit each (nothing looked up,
           nothing rendered)

``--runs`` rounds alternate the two, each on an empty table. Prints, per event, the wall time, this
process's CPU time (PostgreSQL's not counted) and the statements sent, and the floor/kinerja ratio
of the wall times (1.0 = as fast as the floor). A benchmark, not a test: it fails only when the
run is broken (the database unreachable, an event not telling exactly its penilai once).

    .venv/bin/python bench/notifications_events.py [--people 2000] [--events 3000] [--batch 100] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import delete, event, func, insert, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.record import record  # noqa: E402
from services.common import bus  # noqa: E402
from services.common.config import Config  # noqa: E402
from services.common.db import drop_database  # noqa: E402
from services.notifications import recording  # noqa: E402
from services.notifications.app import create_app  # noqa: E402
from services.notifications.models import Delivery, Notification, Person  # noqa: E402

PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
AGENCY = "BENCH"
BATCH = getattr(bus, "BATCH", "bus.batch")  # the code before the look-ahead ignores it


class Broken(Exception):
    pass


def nip(i: int) -> str:
    return f"19900101{i:010d}"


def seed(factory, people: int) -> list[tuple[str, str]]:
    """The agency's people; returns (employee, penilai) for everyone who has a head."""
    rows, pairs = [], []
    for i in range(people):
        head = i - i % 20
        superior = nip(head) if i != head else None
        rows.append(
            {
                "nip": nip(i),
                "agency_code": AGENCY,
                "name": f"Pegawai {i}",
                "email": f"pegawai{i}@bench.go.id",
                "unit_code": f"U{head // 20}",
                "superior_nip": superior,
                "language": "id",
                "active": True,
            }
        )
        if superior:
            pairs.append((nip(i), superior))
    with factory() as s:
        s.execute(insert(Person.__table__), rows)
        s.commit()
    return pairs


def events(pairs, n: int) -> list[dict]:
    out = []
    for i in range(n):
        employee, penilai = pairs[i % len(pairs)]
        data = {"employee_nip": employee, "penilai_nip": penilai, "plan_id": i + 1, "unit_code": "U0"}
        data |= {"agency_code": AGENCY, "status": "submitted", "revision": 0}
        envelope = {"id": str(uuid.uuid4()), "type": "plans.plan.submitted", "time": "2026-04-06T02:00:00Z"}
        out.append(envelope | {"data": data})
    return out


class Statements:
    def __init__(self, engine):
        self.n = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args):
        self.n += 1


def timed(counter: Statements, fn, *args) -> tuple[float, float, int]:
    before = counter.n
    wall, cpu = time.perf_counter(), time.process_time()
    fn(*args)
    return time.perf_counter() - wall, time.process_time() - cpu, counter.n - before


def run_kinerja(app, factory, envelopes, batch: int) -> None:
    with app.app_context():
        for i in range(0, len(envelopes), batch):
            part = envelopes[i : i + batch]
            with factory() as s:
                s.info[BATCH] = part
                for envelope in part:
                    recording.handle_event(s, envelope)
                s.commit()


def run_floor(factory, notes: list[dict], deliveries: dict[str, list[dict]], ids: list[str], batch: int) -> None:
    for i in range(0, len(ids), batch):
        part = ids[i : i + batch]
        with factory() as s:
            s.execute(insert(Notification.__table__), [n for e in part for n in notes[e]])
            s.execute(insert(Delivery.__table__), [d for e in part for d in deliveries[e]])
            s.commit()


def written(factory) -> tuple[dict, dict]:
    """What the kinerja round wrote, as rows by event."""
    notes, deliveries = {}, {}
    with factory() as s:
        for row in s.execute(select(Notification.__table__)).mappings():
            notes.setdefault(row["event_id"], []).append(dict(row))
        for row in s.execute(select(Delivery.__table__)).mappings():
            deliveries.setdefault(row["event_id"], []).append(dict(row))
    return notes, deliveries


def empty(factory) -> None:
    with factory() as s:
        s.execute(delete(Delivery))
        s.execute(delete(Notification))
        s.commit()


def check(factory, envelopes) -> None:
    with factory() as s:
        told = dict(s.execute(select(Notification.event_id, Notification.recipient_nip)).all())
        count = s.scalar(select(func.count()).select_from(Notification))
    wrong = [e["id"] for e in envelopes if told.get(e["id"]) != e["data"]["penilai_nip"]]
    if wrong or count != len(envelopes):
        raise Broken(f"{len(wrong)} events did not tell their penilai; {count} messages for {len(envelopes)} events")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--people", type=int, default=2000)
    ap.add_argument("--events", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=100, help="events per session, as the consumer's batch")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)

    url = make_url(PG_URL).set(database=f"kinerja_bench_notif_{uuid.uuid4().hex[:8]}")
    db_url = url.render_as_string(hide_password=False)
    try:
        app = create_app(Config.from_env("notifications", env={"NOTIFICATIONS_DATABASE_URL": db_url}), migrate=True)
    except Exception as exc:  # the server unreachable: the figures would mean nothing
        print(f"notifications_events: cannot prepare {url.database}: {exc}", file=sys.stderr)
        return 1
    k = app.extensions["kinerja"]
    factory = k.session_factory
    counter = Statements(k.engine)
    results = {"kinerja": [], "floor": []}
    try:
        pairs = seed(factory, args.people)
        envelopes = events(pairs, args.events)
        run_kinerja(app, factory, events(pairs, 200), args.batch)  # warm: templates, statements
        empty(factory)
        for r in range(args.runs):
            results["kinerja"].append(timed(counter, run_kinerja, app, factory, envelopes, args.batch))
            check(factory, envelopes)
            notes, deliveries = written(factory)
            empty(factory)
            ids = [e["id"] for e in envelopes]
            results["floor"].append(timed(counter, run_floor, factory, notes, deliveries, ids, args.batch))
            check(factory, envelopes)
            empty(factory)
            envelopes = events(pairs, args.events)  # new ids each round
            print(f"round {r + 1}: kinerja {results['kinerja'][-1][0]:.2f} s, floor {results['floor'][-1][0]:.2f} s")
    except Broken as exc:
        print(f"notifications_events: broken run: {exc}", file=sys.stderr)
        return 1
    finally:
        k.engine.dispose()
        drop_database(db_url)

    n = args.events
    per = {
        name: (
            statistics.median(w for w, _, _ in rows) / n * 1000,
            statistics.median(c for _, c, _ in rows) / n * 1000,
            statistics.median(q for _, _, q in rows) / n,
        )
        for name, rows in results.items()
    }
    ratio = per["floor"][0] / per["kinerja"][0]
    print(f"\n{n} plans.plan.submitted, sessions of {args.batch}, median of {args.runs} rounds, per event:")
    print(f"{'':8}{'wall ms':>10}{'CPU ms':>10}{'statements':>12}")
    for name, (wall, cpu, statements) in per.items():
        print(f"{name:8}{wall:10.3f}{cpu:10.3f}{statements:12.2f}")
    print(f"floor/kinerja (wall): {ratio:.2f}")
    record(
        "notifications.event_to_a_few",
        round(per["kinerja"][0], 3),
        "ms/event",
        floor=round(per["floor"][0], 3),
        ratio=round(ratio, 3),
        cpu_ms=round(per["kinerja"][1], 3),
        statements=round(per["kinerja"][2], 2),
        events=n,
        batch=args.batch,
        runs=args.runs,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
