"""Reminders at province scale, in process on PostgreSQL: one reminder batch for a whole agency,
sent the way the cycle flow sends it (``flows/cycle_run.py`` ``chase``), then escalated.

1. seeds ``--people`` people (a reporting tree, 8 to a superior) in the notifications read model
   of a private database, and one HR contact;
2. ``POST /notifications/api/v1/reminders`` ``--people / --per-call`` times with one batch key,
   ``--per-call`` recipients each (the planning stage's ``reminder.skp_submission``, its deadline
   long past, as in the orchestration benchmark): one at a time as the flow sends them, or
   (``--in-flight R,P``) the first alone and then R at once, from as many threads;
3. ``POST …/reminders/<key>/escalate`` in parts of ``--part`` marked ``partial`` (superior and HR,
   two escalations a person), ``ESCALATIONS_IN_FLIGHT`` at once as the flow sends them (or P);
4. ``GET …/reminders/<key>`` — every page (``limit`` 200) when the endpoint pages, else the one answer.

Every request goes through the Flask app (test client: routing, auth, marshmallow, JSON), so a
call's time is the service's, without HTTP or gunicorn. Printed: per call, wall and CPU time
(``time.process_time``: this process only, so the database's own work is in wall − CPU) and
SQL statements (an ``executemany`` counts once), by position in the batch (the first calls, the
middle ones, the last ones, and per tenth); per escalation part; the reading; peak RSS; the time
of each statement, of the recorder's COPYs and of the commits summed. CPU and statements per call
only with ``--in-flight 1,1`` (one call at a time; threads share the process's CPU clock), the
phase's CPU always. With ``--profile N`` (and ``--in-flight 1,1``) the last ``N`` reminder calls
and the first escalation part run under cProfile and its top functions are printed. Threads in
one process share the GIL: calls in flight here overlap only their database time, where gunicorn's
workers overlap their CPU as well.

A benchmark, not a test: it asserts nothing about time. It exits 1 when the run is broken (a
request not 200, a person not reminded or escalated exactly once, counts that disagree), since
its figures would mean nothing. It creates the database ``<--db-prefix><random>`` and drops it at
the end, whatever happens.

    .venv/bin/python bench/reminders_bench.py [--people 100000] [--per-call 200] [--part 5000] \\
        [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--db-prefix kinerja_bench_rem_] \\
        [--in-flight 3,2 | --in-flight 1,1 --profile 20]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import math
import os
import pstats
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, func, insert, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.record import record  # noqa: E402
from flows.cycle_tasks import ESCALATIONS_IN_FLIGHT  # noqa: E402
from services.common.auth import issue_token  # noqa: E402
from services.common.config import Config  # noqa: E402
from services.common.db import drop_database, ensure_database  # noqa: E402
from services.notifications import recorder  # noqa: E402
from services.notifications.app import create_app  # noqa: E402
from services.notifications.models import HrContact, Notification, Person, ReminderItem  # noqa: E402

AGENCY = "BENCHREM"
N = "/notifications/api/v1"
KEY = "cycle1:planning:overdue"
FANOUT = 8  # people per superior
_LOCK = threading.Lock()
PG = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


class Broken(Exception):
    """The run cannot be trusted: its figures mean nothing."""


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def nip_of(i: int) -> str:
    return f"{198001012010000000 + i}"


def seed(platform, people: int) -> list[str]:
    at = datetime.now(timezone.utc)
    nips = [nip_of(i) for i in range(people)]
    rows = [
        {
            "nip": nip,
            "agency_code": AGENCY,
            "name": f"Pegawai {i}",
            "email": f"pegawai{i}@bench.go.id",
            "phone": None,
            "position": "Analis",
            "unit_code": f"U{i // 500}",
            "unit_name": f"Unit {i // 500}",
            "superior_nip": nip_of((i - 1) // FANOUT) if i else None,
            "language": "en" if i % 3 == 0 else "id",
            "active": True,
            "updated_at": at,
        }
        for i, nip in enumerate(nips)
    ]
    with platform.session_factory() as s:
        for k in range(0, len(rows), 10000):
            s.execute(insert(Person), rows[k : k + 10000])
        s.add(HrContact(agency_code=AGENCY, name="Kepegawaian", email="kepegawaian@bench.go.id", created_at=at))
        s.commit()
        s.connection().exec_driver_sql("ANALYZE")
    return nips


class Meter:
    """Wall and CPU time and SQL statements of one request; with ``by_statement``, the time from
    sending each statement to its result, summed per statement (its first words)."""

    def __init__(self, engine):
        self.statements = 0
        self.by_statement: dict[str, list] = {}  # statement → [count, seconds, rows sent]
        self._local = threading.local()  # the statement in flight, per thread (calls may overlap)
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        # what the cursor events miss: the recorder's COPY of the notifications and deliveries (the
        # server inserting them, their indexes and foreign key, is most of a call's database time)
        # and the commit
        copy = recorder.copy_rows

        def timed_copy(s, table, rows):
            started = time.perf_counter()
            copy(s, table, rows)
            self.add(f"COPY {table.name}", time.perf_counter() - started, len(rows))

        recorder.copy_rows = timed_copy
        event.listen(Session, "before_commit", lambda session: setattr(self._local, "commit", time.perf_counter()))
        event.listen(Session, "after_commit", self._committed)

    def _committed(self, session):
        started = getattr(self._local, "commit", None)
        if started is not None:
            self.add("COMMIT", time.perf_counter() - started, 1)
            self._local.commit = None

    def add(self, key: str, seconds: float, rows: int) -> None:
        with _LOCK:
            row = self.by_statement.setdefault(key, [0, 0.0, 0])
            row[0] += 1
            row[1] += seconds
            row[2] += rows

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        with _LOCK:
            self.statements += 1
        self._local.started = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        elapsed = time.perf_counter() - self._local.started
        self.add(" ".join(statement.split())[:110], elapsed, len(parameters) if executemany else 1)

    def top(self, title: str, n: int = 12) -> None:
        rows = sorted(self.by_statement.items(), key=lambda kv: -kv[1][1])[:n]
        total = sum(v[1] for v in self.by_statement.values())
        count = sum(v[0] for k, v in self.by_statement.items() if not k.startswith(("COPY ", "COMMIT")))
        print(f"  SQL of {title}: {total:.1f} s in {count} statements, the COPYs and the commits")
        for key, (count, seconds, params) in rows:
            print(f"    {seconds:7.2f} s {count:6d}x ({params:7d} rows) {key}")
        self.by_statement = {}

    def run(self, fn):
        s0, w0, c0 = self.statements, time.perf_counter(), time.process_time()
        out = fn()
        return out, time.perf_counter() - w0, time.process_time() - c0, self.statements - s0


def call(client, method: str, path: str, headers: dict, **kw):
    resp = client.open(path, method=method, headers=headers, **kw)
    if resp.status_code != 200:
        raise Broken(f"{method} {path}: {resp.status_code} {resp.get_data(as_text=True)[:300]}")
    return resp


def summary(rows: list[tuple], label: str) -> str:
    wall = [r[0] for r in rows]
    cpu = [r[1] for r in rows]
    stmts = [r[2] for r in rows]
    return (
        f"  {label:<22} wall {1000 * statistics.mean(wall):7.1f} ms (median {1000 * statistics.median(wall):7.1f}) "
        f"cpu {1000 * statistics.mean(cpu):7.1f} ms  statements {statistics.mean(stmts):6.1f}"
    )


def profiled(prof: cProfile.Profile | None, fn):
    if prof is None:
        return fn()
    prof.enable()
    try:
        return fn()
    finally:
        prof.disable()


def print_profile(prof: cProfile.Profile, title: str, top: int = 30) -> None:
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    print(f"\n--- cProfile: {title} ---")
    text = out.getvalue()
    cwd = str(Path(__file__).resolve().parents[1]) + "/"
    print(text.replace(cwd, ""))


def run(args, url: str) -> None:
    tmp = tempfile.mkdtemp(prefix="kinerja-bench-rem-")
    try:
        os.environ.pop("SMTP_URL", None)
        config = Config.from_env("notifications", env={"KINERJA_VAR": tmp, "NOTIFICATIONS_DATABASE_URL": url})
        app = create_app(config, migrate=True)
        platform = app.extensions["kinerja"]
        engine = platform.engine
        client = app.test_client()
        hr = {"Authorization": f"Bearer {issue_token(config.jwt_secret, sub='flow', roles=['hr'], agency=AGENCY)}"}

        started = time.perf_counter()
        nips = seed(platform, args.people)
        print(f"  seeded {len(nips)} people in {time.perf_counter() - started:.1f} s; RSS {rss_mb():.0f} MB")
        meter = Meter(engine)
        calls = -(-len(nips) // args.per_call)
        prof = cProfile.Profile() if args.profile else None

        # -- the reminders, as the flow sends them (one at a time), or the first call alone (it
        # creates the batch) and then --in-flight calls at once, each from its own thread and client
        local = threading.local()

        def timed(fn) -> tuple:
            """(answer, wall, CPU, statements); CPU and statements are the process's, so only when
            one call runs at a time (NaN otherwise)."""
            if not concurrent:
                return meter.run(fn)
            started = time.perf_counter()
            return fn(), time.perf_counter() - started, math.nan, math.nan

        def post(path: str, body: dict, p=None):
            if not hasattr(local, "client"):
                local.client = app.test_client()
            return profiled(p, lambda: call(local.client, "POST", path, hr, json=body))

        def remind(n: int) -> tuple:
            chunk = [{"nip": nip, "params": {}} for nip in nips[n * args.per_call : (n + 1) * args.per_call]]
            body = {
                "batch_key": KEY,
                "template": "reminder.skp_submission",
                "recipients": chunk,
                "deadline": "2025-01-31T23:59:00+07:00",
                "params": {"cycle_name": "Tahun 2025"},
                "escalate_to": "hr",
                "hr_after_hours": 48,
            }
            p = prof if args.profile and n >= calls - args.profile else None
            resp, wall, cpu, stmts = timed(lambda: post(f"{N}/reminders", body, p))
            out = resp.get_json()
            if len(out["created"]) != len(chunk) or out["already"] or out["unknown"]:
                raise Broken(f"call {n}: created {len(out['created'])} of {len(chunk)}, unknown {out['unknown'][:3]}")
            # the batch's count as this call committed it: exact one call at a time; with calls in
            # flight, between this call's own and everyone's (the read at the end checks the total)
            exact = min(len(nips), (n + 1) * args.per_call)
            low, high = (len(chunk), len(nips)) if concurrent else (exact, exact)
            if not low <= out["counts"]["items"] <= high:
                raise Broken(f"call {n}: counts {out['counts']}")
            return wall, cpu, stmts, len(resp.data)

        concurrent = args.in_flight[0] > 1
        t0, c0 = time.perf_counter(), time.process_time()
        per_call = [remind(0)]
        with ThreadPoolExecutor(args.in_flight[0]) as pool:
            per_call += list(pool.map(remind, range(1, calls)))
        remind_s = time.perf_counter() - t0
        print(
            f"reminders: {calls} calls of {args.per_call} ({args.in_flight[0]} in flight after the first) in "
            f"{remind_s:.1f} s, CPU {time.process_time() - c0:.1f} s (peak RSS {rss_mb():.0f} MB)"
        )
        k = min(10, max(1, calls // 3))
        mid = calls // 2
        print(summary(per_call[:k], f"calls 0-{k - 1}"))
        print(summary(per_call[mid - k // 2 : mid - k // 2 + k], f"calls {mid - k // 2}-{mid - k // 2 + k - 1}"))
        print(summary(per_call[-k:], f"calls {calls - k}-{calls - 1}"))
        tenth = max(1, calls // 10)
        for j in range(0, calls, tenth):
            print(summary(per_call[j : j + tenth], f"  tenth from {j * args.per_call}"))
        print(f"  answer size: first {per_call[0][3]} B, last {per_call[-1][3]} B")
        meter.top("the reminders")
        if prof is not None:
            print_profile(prof, f"the last {args.profile} reminder calls")

        # -- the escalation, in parts marked partial (the flow's escalate_overdue beyond 5,000),
        # --in-flight parts at once
        prof = cProfile.Profile() if args.profile else None

        def escalate(j: int) -> tuple:
            part = nips[j : j + args.part]
            body = {"recipients": part, "partial": len(nips) > args.part}
            resp, wall, cpu, stmts = timed(
                lambda: post(f"{N}/reminders/{KEY}/escalate", body, prof if j == 0 else None)
            )
            out = resp.get_json()
            if out["escalated"] != 2 * len(part):
                raise Broken(f"escalation part at {j}: escalated {out['escalated']} of {2 * len(part)}")
            return wall, cpu, stmts, len(resp.data)

        concurrent = args.in_flight[1] > 1
        t0, c0 = time.perf_counter(), time.process_time()
        with ThreadPoolExecutor(args.in_flight[1]) as pool:
            parts = list(pool.map(escalate, range(0, len(nips), args.part)))
        escalate_s = time.perf_counter() - t0
        print(
            f"escalation: {len(parts)} parts of {args.part} ({args.in_flight[1]} in flight) in {escalate_s:.1f} s, "
            f"CPU {time.process_time() - c0:.1f} s ({1000 * escalate_s / len(nips):.2f} ms a person; "
            f"peak RSS {rss_mb():.0f} MB)"
        )
        print(summary(parts[:1], "first part"))
        print(summary(parts[len(parts) // 2 : len(parts) // 2 + 1], "middle part"))
        print(summary(parts[-1:], "last part"))
        print(summary(parts, "all parts"))
        meter.top("the escalation")
        tenth_ms = [
            round(1000 * statistics.median(c[0] for c in per_call[j : j + tenth]), 1) for j in (0, calls - tenth)
        ]
        record(
            "reminders.batch",
            round(remind_s, 2),
            "s",
            people=len(nips),
            per_call=args.per_call,
            call_ms_first_last_tenth=tenth_ms,
            escalation_s=round(escalate_s, 2),
            escalation_parts=len(parts),
            in_flight=list(args.in_flight),
            peak_rss_mb=round(rss_mb()),
        )
        if prof is not None:
            print_profile(prof, "the first escalation part")

        # -- reading the batch back: every page, or the one answer of the old endpoint
        t0, c0, s0 = time.perf_counter(), time.process_time(), meter.statements
        seen, cursor, pages, biggest = [], None, 0, 0
        while True:
            q = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            resp = client.get(f"{N}/reminders/{KEY}", headers=hr, query_string=q)
            if resp.status_code == 422 and pages == 0:  # an endpoint that does not page (the code before)
                resp = client.get(f"{N}/reminders/{KEY}", headers=hr)
            if resp.status_code != 200:
                raise Broken(f"GET reminders/{KEY}: {resp.status_code} {resp.get_data(as_text=True)[:300]}")
            page = resp.get_json()
            pages += 1
            biggest = max(biggest, len(resp.data))
            seen += [i["recipient_nip"] for i in page["items"]]
            if page["counts"] != {
                "items": len(nips),
                "done": 0,
                "escalations": {"superior": len(nips), "hr": len(nips)},
            }:
                raise Broken(f"GET counts {page['counts']}")
            cursor = page.get("next_cursor")
            if not cursor:
                break
        read_s, read_cpu = time.perf_counter() - t0, time.process_time() - c0
        if sorted(seen) != sorted(nips) or len(seen) != len(set(seen)):
            raise Broken(f"GET listed {len(seen)} people ({len(set(seen))} distinct) of {len(nips)}")
        print(
            f"read: {pages} answer(s) in {read_s:.1f} s (cpu {read_cpu:.1f} s, {meter.statements - s0} statements), "
            f"largest {biggest / 1e6:.2f} MB; peak RSS {rss_mb():.0f} MB"
        )

        # -- each person reminded once, each escalation made once
        with platform.session_factory() as s:
            by_template = dict(
                s.execute(select(Notification.template, func.count()).group_by(Notification.template)).all()
            )
            items = s.scalar(select(func.count()).select_from(ReminderItem))
        expected = {
            "reminder.skp_submission": len(nips),
            "escalation.superior": len(nips) - 1,  # the head of the agency has no superior
            "escalation.hr": len(nips),
        }
        if by_template != expected or items != len(nips):
            raise Broken(f"notifications {by_template} (expected {expected}), items {items}")
        print(f"checked: {by_template}; {items} items")
        print(
            f"total: reminders {remind_s:.1f} s, escalation {escalate_s:.1f} s, read {read_s:.1f} s; "
            f"peak RSS {rss_mb():.0f} MB"
        )
        engine.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--per-call", type=int, default=200, help="recipients per POST /reminders (the flow's batch_size)")
    ap.add_argument("--part", type=int, default=5000, help="people per escalation call (the endpoint's maximum)")
    ap.add_argument("--pg", default=PG, help="a PostgreSQL server URL (its database is replaced)")
    ap.add_argument("--db-prefix", default="kinerja_bench_rem_", help="the private database's name prefix")
    ap.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile the last N reminder calls")
    ap.add_argument(
        "--in-flight",
        default=f"1,{ESCALATIONS_IN_FLIGHT}",
        metavar="R,P",
        help="reminder calls (after the first) and escalation parts at once: the flow's by default (reminders one "
        "at a time); 1,1 everything one at a time (per-call CPU and statements are printed only then)",
    )
    args = ap.parse_args()
    args.in_flight = tuple(max(1, int(n)) for n in args.in_flight.split(","))
    if args.profile and args.in_flight != (1, 1):
        ap.error("--profile needs --in-flight 1,1 (cProfile follows one thread)")
    logging.disable(logging.WARNING)
    url = make_url(args.pg).set(database=f"{args.db_prefix}{uuid.uuid4().hex[:8]}").render_as_string(False)
    print(
        f"reminders bench: {args.people} people, {args.per_call} a call, escalation parts of {args.part}; "
        f"PostgreSQL {make_url(url).database}; {datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S} UTC, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    try:
        ensure_database(url)
    except Exception as exc:  # noqa: BLE001 - the reason, not a traceback
        print(f"bench: PostgreSQL unreachable ({type(exc).__name__}: {exc})", file=sys.stderr)
        return 1
    try:
        run(args, url)
    except Broken as exc:
        print(f"bench: broken run, the figures above are not valid: {exc}", file=sys.stderr)
        return 1
    finally:
        drop_database(url)
    print(f"done {datetime.now(timezone.utc):%H:%M:%S} UTC, load {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
