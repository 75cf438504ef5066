"""Opening a period's evaluations for a whole agency: what the reviews worker does when the cycle
moves to monitoring (``plans.cycle.stage_changed`` → ``readmodel.open_evaluations``), against the
floor of one ``INSERT … SELECT`` of the same rows.

On a fresh PostgreSQL database (``kinerja_bench_open_<hex>``, migrated with the reviews
migrations) it bulk-inserts an agency of ``--employees`` people (units of 50 under one head, each
head under the agency's head) with one approved SKP each (``PlanRef``) and analyses the tables,
then, ``--runs`` times, in a fresh child process each (so its peak RSS is the handler's own):

  kinerja  the cycle opened, then ``rm_stage_changed`` to monitoring, period 1, committed: one evaluation per plan with
           its employee, penilai and atasan, and one ``reviews.evaluation.opened`` outbox row each
  floor    ``INSERT INTO evaluations … SELECT … FROM plan_refs JOIN people …`` of the same columns
           as SQL text (no events), committed

The evaluations and outbox rows are deleted between runs. Prints wall and CPU seconds, the
child's RSS before and at its peak, and the floor/kinerja ratio (1.0 = as fast as the floor). A
benchmark, not a test: it asserts nothing about time, and fails only when the run is broken (a
server unreachable, or a run not opening exactly one evaluation and one event per plan).

    .venv/bin/python bench/reviews_open.py [--employees 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, literal, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.record import record  # noqa: E402
from services.common.config import Config  # noqa: E402
from services.common.db import drop_database, make_engine, upgrade  # noqa: E402
from services.reviews import readmodel  # noqa: E402
from services.reviews.app import MIGRATIONS, create_app  # noqa: E402
from services.reviews.models import Evaluation, Person, PlanRef  # noqa: E402

PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
T0 = datetime(2026, 4, 6, 2, 0, tzinfo=timezone.utc)
AGENCY, CYCLE = "BENCH", 1
TO_MONITORING = {
    "cycle_id": CYCLE,
    "agency_code": AGENCY,
    "year": 2026,
    "stage": "monitoring",
    "period_seq": 1,
    "phase": "check_in",
}


def floor_statement():
    """The same rows in one ``INSERT … SELECT`` (the columns' own defaults filled in), no events."""
    emp, pen, ata = (Person.__table__.alias(n) for n in ("e", "s", "a"))
    plan = PlanRef.__table__
    columns = {
        "cycle_id": plan.c.cycle_id,
        "agency_code": literal(AGENCY),
        "kind": literal("periodic"),
        "period_seq": literal(1),
        "period_name": literal("Triwulan 1"),
        "plan_id": plan.c.id,
        "plan_revision": plan.c.revision,
        "employee_nip": emp.c.nip,
        "employee_name": emp.c.name,
        "position": emp.c.position,
        "grade": emp.c.grade,
        "unit_code": emp.c.unit_code,
        "unit_name": emp.c.unit_name,
        "is_head_of_unit": plan.c.is_head_of_unit,
        "penilai_nip": pen.c.nip,
        "penilai_name": pen.c.name,
        "penilai_position": pen.c.position,
        "penilai_grade": pen.c.grade,
        "penilai_unit_name": pen.c.unit_name,
        "atasan_nip": ata.c.nip,
        "atasan_name": ata.c.name,
        "status": literal("open"),
        "version": literal(1),
        "created_at": func.now(),
        "updated_at": func.now(),
    }
    source = (
        select(*columns.values())
        .select_from(plan.join(emp, emp.c.nip == plan.c.employee_nip))
        .outerjoin(pen, pen.c.nip == emp.c.superior_nip)
        .outerjoin(ata, ata.c.nip == pen.c.superior_nip)
        .where(plan.c.cycle_id == CYCLE, emp.c.active.is_(True))
    )
    return insert(Evaluation.__table__).from_select(list(columns), source, include_defaults=True)


class Broken(Exception):
    """The run is broken: its figures would mean nothing."""


def seed(url: str, employees: int) -> None:
    engine = make_engine(url)
    people, plans = [], []
    head = "1" * 18
    people.append(_person(head, None, "Kepala Badan", "BADAN"))
    for i in range(1, employees):
        unit = f"U{i // 50:04d}"
        unit_head = f"2{i // 50:017d}"
        nip = unit_head if i % 50 == 0 or i == 1 else f"3{i:017d}"
        superior = head if nip == unit_head else unit_head
        people.append(_person(nip, superior, f"Pegawai {i}", unit))
    for n, person in enumerate(people, start=1):
        plans.append(
            {
                "id": n,
                "cycle_id": CYCLE,
                "agency_code": AGENCY,
                "employee_nip": person["nip"],
                "penilai_nip": person["superior_nip"],
                "unit_code": person["unit_code"],
                "revision": 1,
                "status": "approved",
                "is_head_of_unit": person["superior_nip"] in (None, head),
                "content": {"approach": "kuantitatif", "rhk": [], "behaviour": []},
            }
        )
    with engine.begin() as c:
        c.execute(insert(Person), people)
        c.execute(insert(PlanRef), plans)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        # the statistics a working database has (autovacuum keeps them): on a table just filled,
        # PostgreSQL's planner takes it for empty and joins the plans by the wrong index
        c.execute(text("ANALYZE"))
    engine.dispose()
    if len({p["nip"] for p in people}) != employees:
        raise Broken("seeding made duplicate NIPs")


def _person(nip: str, superior: str | None, name: str, unit: str) -> dict:
    return {
        "nip": nip,
        "agency_code": AGENCY,
        "name": name,
        "position": f"Jabatan {name}",
        "grade": "III/c",
        "unit_code": unit,
        "unit_name": f"Unit {unit}",
        "superior_nip": superior,
        "active": True,
        "language": "id",
        "as_of": T0,
    }


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _hwm_mb() -> float:
    """The process's peak RSS since it started (``VmHWM``; ``ru_maxrss`` would carry the parent's
    peak across the spawn's exec)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


def run_child(url: str, kind: str, out) -> None:
    app = create_app(Config.from_env("reviews", env={"REVIEWS_DATABASE_URL": url}), migrate=False)
    factory = app.extensions["kinerja"].session_factory
    with app.app_context(), factory() as s:  # connect and load the mappers before measuring
        s.execute(select(func.count()).select_from(PlanRef)).scalar_one()
    rss_before = _rss_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    with app.app_context(), factory() as s:
        if kind == "kinerja":
            readmodel.rm_cycle_opened(s, _cycle())
            readmodel.rm_stage_changed(s, TO_MONITORING)
        else:
            s.execute(floor_statement())
        s.commit()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = _hwm_mb()
    app.extensions["kinerja"].engine.dispose()
    out.send({"wall": wall, "cpu": cpu, "rss_before": rss_before, "rss_peak": peak})


def _cycle() -> dict:
    periods = [{"seq": i + 1, "name_id": f"Triwulan {i + 1}", "name_en": f"Quarter {i + 1}"} for i in range(4)]
    return {
        "cycle_id": CYCLE,
        "agency_code": AGENCY,
        "year": 2026,
        "name": "Periode 2026",
        "period_type": "quarterly",
        "stage": "planning",
        "periods": periods,
    }


def measure(url: str, kind: str, employees: int) -> dict:
    parent, child = multiprocessing.Pipe()
    proc = multiprocessing.get_context("spawn").Process(target=run_child, args=(url, kind, child))
    proc.start()
    result = None
    while result is None and (proc.is_alive() or parent.poll()):
        if parent.poll(1):
            result = parent.recv()
    proc.join(60)
    if result is None or proc.exitcode != 0:
        raise Broken(f"{kind}: the child process failed (exit code {proc.exitcode})")
    engine = make_engine(url)
    with engine.begin() as c:
        opened = c.execute(select(func.count()).select_from(Evaluation)).scalar_one()
        events = c.execute(text("SELECT count(*) FROM outbox WHERE type = 'reviews.evaluation.opened'")).scalar_one()
        c.execute(text("DELETE FROM evaluations"))
        c.execute(text("DELETE FROM outbox"))
        c.execute(text("DELETE FROM rm_cycles"))
    engine.dispose()
    if opened != employees or events != (employees if kind == "kinerja" else 0):
        raise Broken(f"{kind}: {opened} evaluations and {events} events for {employees} plans")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    url = make_url(PG_URL).set(database=f"kinerja_bench_open_{uuid.uuid4().hex[:8]}").render_as_string(False)
    try:
        upgrade(MIGRATIONS, url)
        seed(url, args.employees)
        results = {"kinerja": [], "floor": []}
        for _ in range(args.runs):
            for kind in ("kinerja", "floor"):
                results[kind].append(r := measure(url, kind, args.employees))
                print(
                    f"  {kind:8} {r['wall']:7.2f} s wall, {r['cpu']:6.2f} s CPU, "
                    f"RSS {r['rss_before']:.0f} → peak {r['rss_peak']:.0f} MB",
                    flush=True,
                )
    except Broken as exc:
        print(f"broken: {exc}", file=sys.stderr)
        return 1
    finally:
        drop_database(url)
    k = statistics.median(r["wall"] for r in results["kinerja"])
    f = statistics.median(r["wall"] for r in results["floor"])
    peak = max(r["rss_peak"] - r["rss_before"] for r in results["kinerja"])
    print(
        f"open {args.employees} evaluations: kinerja {k:.2f} s, floor {f:.2f} s, ratio {f / k:.2f}; "
        f"peak RSS growth {peak:.0f} MB"
    )
    record(
        "reviews_open_evaluations",
        k,
        "s",
        floor=f,
        ratio=f / k,
        employees=args.employees,
        runs=args.runs,
        rss_growth_mb=round(peak, 1),
        ratio_is="floor / kinerja (1.0 = as fast as the floor)",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
