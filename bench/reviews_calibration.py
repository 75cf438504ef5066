"""Calibration view of a whole agency: how long ``services.reviews.calibration.calibration()`` takes
for 10,000 rated evaluations of one period, against the raw floor of its GROUP BY.

For PostgreSQL (a fresh database ``kinerja_bench_<hex>``, migrated with the reviews migrations)
and, for reference, SQLite in the embedded mode (``var/reviews.db`` under a temporary
``KINERJA_VAR``), it bulk-inserts one agency (about 150 units of 40-100 people, each unit with
an organisation result (``OrgResult`` row) and a predikat mix that follows it, one ``CycleRef``)
and times, N runs each (min / median / max):

  calibration, cold   the first call on a freshly built app: new engine, new database
                      connection, empty SQLAlchemy statement cache (the database's own page
                      cache stays warm: the data was just written)
  calibration, warm   repeated calls on one app, each in its own unit of work (as successive
                      HTTP requests would), after one untimed call
  its GROUP BY        only the ORM select calibration() runs (grouped by unit_code, unit_name,
                      predikat), warm: the rest of calibration() is Python
  raw floor           ``SELECT unit_code, predikat, count(*) ... GROUP BY unit_code, predikat``
                      through SQLAlchemy ``text()``, cold and warm

and prints the calibration/raw ratio. A benchmark, not a test: it asserts nothing about time.
It fails only when the run itself is broken (a server unreachable, or calibration() not
counting exactly the inserted evaluations), since the figures would then mean nothing.

The database and the temporary directory are removed at the end.

    .venv/bin/python bench/reviews_calibration.py [--employees 10000] [--units 150] [--runs 5]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform as py_platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.record import record  # noqa: E402
from services.common.auth import Principal  # noqa: E402
from services.common.config import Config  # noqa: E402
from services.common.db import drop_database, make_engine, upgrade  # noqa: E402
from services.reviews import domain  # noqa: E402
from services.reviews.app import MIGRATIONS, create_app  # noqa: E402
from services.reviews.calibration import calibration  # noqa: E402
from services.reviews.models import CycleRef, Evaluation, OrgResult, UnitRef  # noqa: E402

PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
AGENCY = "PKTD"
CYCLE_ID = 1
SEQ = 1
ONE_UNIT = "U000"  # the unit of a signature's check (``run_calibration_unit``)
ADMIN = Principal(sub="bench", roles=frozenset({"admin"}))
AT = datetime(2026, 4, 20, 2, 0, tzinfo=timezone.utc)
RAW_SQL = text(
    "SELECT unit_code, predikat, count(*) FROM evaluations "
    "WHERE cycle_id = :cycle_id AND period_seq = :seq GROUP BY unit_code, predikat"
)

# Share of units per organisation result, and the predikat mix inside a unit for each: most
# people Baik, more Sangat Baik under a unit rated Istimewa, more below under a weak unit.
ORG_MIX = {"ISTIMEWA": 15, "BAIK": 60, "BUTUH_PERBAIKAN": 18, "KURANG": 5, "SANGAT_KURANG": 2}
PREDIKAT_MIX = {
    "ISTIMEWA": {"SANGAT_BAIK": 30, "BAIK": 62, "BUTUH_PERBAIKAN": 6, "KURANG_MISCONDUCT": 1.5, "SANGAT_KURANG": 0.5},
    "BAIK": {"SANGAT_BAIK": 12, "BAIK": 68, "BUTUH_PERBAIKAN": 15, "KURANG_MISCONDUCT": 4, "SANGAT_KURANG": 1},
    "BUTUH_PERBAIKAN": {
        "SANGAT_BAIK": 5,
        "BAIK": 40,
        "BUTUH_PERBAIKAN": 45,
        "KURANG_MISCONDUCT": 8,
        "SANGAT_KURANG": 2,
    },
    "KURANG": {"SANGAT_BAIK": 3, "BAIK": 25, "BUTUH_PERBAIKAN": 25, "KURANG_MISCONDUCT": 42, "SANGAT_KURANG": 5},
    "SANGAT_KURANG": {
        "SANGAT_BAIK": 0,
        "BAIK": 15,
        "BUTUH_PERBAIKAN": 20,
        "KURANG_MISCONDUCT": 20,
        "SANGAT_KURANG": 45,
    },
}
# one (rating hasil, rating perilaku) pair per predikat, taken from the DOMAIN.md §4 matrix
RATINGS_OF = {}
for (_hasil, _perilaku), _p in domain.PREDIKAT_MATRIX.items():
    RATINGS_OF.setdefault(_p, []).append((_hasil, _perilaku))


# --------------------------------------------------------------------------- data


def unit_sizes(rng: random.Random, employees: int, units: int, low: int = 40, high: int = 100) -> list[int]:
    if not units * low <= employees <= units * high:
        raise SystemExit(f"{employees} employees cannot fill {units} units of {low}-{high} people")
    sizes = [rng.randint(low, high) for _ in range(units)]
    diff = employees - sum(sizes)
    while diff:
        i = rng.randrange(units)
        step = 1 if diff > 0 else -1
        if low <= sizes[i] + step <= high:
            sizes[i] += step
            diff -= step
    return sizes


def nip(i: int) -> str:
    """An 18-digit NIP-shaped identifier (not validated: the reviews read model stores it as given)."""
    return (
        f"19{70 + i % 30:02d}{1 + i % 12:02d}{1 + i % 28:02d}"
        f"20{(i // 28) % 20:02d}{1 + i % 9}{1 + i % 2}{i % 10000:04d}"
    )


def build_agency(employees: int, units: int, seed: int) -> dict:
    rng = random.Random(seed)
    sizes = unit_sizes(rng, employees, units)
    org_codes, org_weights = zip(*ORG_MIX.items())
    unit_rows, org_rows, evaluations = [], [], []
    head_nip = nip(0)
    n = 1
    for u, size in enumerate(sizes):
        code, name = f"U{u:03d}", f"Bidang {u:03d} Dinas Contoh Kota Teluk Damar"
        org = rng.choices(org_codes, org_weights)[0]
        unit_rows.append(
            {"id": u + 1, "agency_code": AGENCY, "code": code, "name": name, "parent_code": None, "head_nip": nip(n)}
        )
        org_rows.append(
            {
                "cycle_id": CYCLE_ID,
                "agency_code": AGENCY,
                "period_seq": SEQ,
                "unit_code": code,
                "result": org,
                "set_by": "bench",
                "set_at": AT,
            }
        )
        mix_codes, mix_weights = zip(*PREDIKAT_MIX[org].items())
        unit_head = nip(n)
        for k in range(size):
            predikat = rng.choices(mix_codes, mix_weights)[0]
            hasil, perilaku = rng.choice(RATINGS_OF[predikat])
            is_head = k == 0
            penilai = head_nip if is_head else unit_head
            evaluations.append(
                {
                    "cycle_id": CYCLE_ID,
                    "agency_code": AGENCY,
                    "kind": "periodic",
                    "period_seq": SEQ,
                    "period_name": "Triwulan I",
                    "plan_id": n,
                    "plan_revision": 1,
                    "employee_nip": nip(n),
                    "employee_name": f"Pegawai Contoh Nomor {n}, S.E.",
                    "position": "Analis Kebijakan Ahli Muda",
                    "grade": "III/c",
                    "unit_code": code,
                    "unit_name": name,
                    "is_head_of_unit": is_head,
                    "penilai_nip": penilai,
                    "penilai_name": f"Atasan {penilai[-4:]}",
                    "penilai_position": "Kepala Bidang",
                    "penilai_grade": "IV/a",
                    "penilai_unit_name": name,
                    "atasan_nip": head_nip,
                    "atasan_name": "Kepala Dinas Contoh",
                    "status": "rated",
                    "self_assessment": {
                        "achievements": "Seluruh laporan bulanan diserahkan tepat waktu dan data capaian diperbarui.",
                        "challenges": "Data dari kecamatan sering terlambat sehingga rekapitulasi tertunda.",
                        "improvement_plan": "Menjadwalkan pengumpulan data dua minggu lebih awal.",
                    },
                    "self_submitted_at": AT,
                    "iki_feedback": {},
                    "value_feedback": {"kolaboratif": {"level": perilaku, "text": "Aktif membantu."}},
                    "suggestion": {"rating": hasil, "reason": "rhk.majority", "counts": {hasil: 1}, "rhk": []},
                    "suggested_hasil": hasil,
                    "rating_hasil": hasil,
                    "rating_perilaku": perilaku,
                    "deviation_reason": None,
                    "predikat": predikat,
                    "org_result": org,
                    "notes": None,
                    "recommendations": None,
                    "rated_at": AT,
                    "rated_by": f"penilai:{penilai}",
                    "document_version": 0,
                    "version": 1,
                    "created_at": AT,
                    "updated_at": AT,
                }
            )
            n += 1
    cycle = {
        "id": CYCLE_ID,
        "agency_code": AGENCY,
        "year": 2026,
        "name": "Penilaian Kinerja 2026",
        "period_type": "quarterly",
        "stage": "monitoring",
        "period_seq": SEQ,
        "phase": "supervisor_evaluation",
        "periods": [
            {"seq": s, "name_id": f"Triwulan {r}", "name_en": f"Quarter {s}"}
            for s, r in enumerate(("I", "II", "III", "IV"), start=1)
        ],
    }
    return {"sizes": sizes, "units": unit_rows, "orgs": org_rows, "evaluations": evaluations, "cycle": cycle}


def load(url: str, data: dict) -> float:
    """Migrate ``url`` and bulk-insert the agency; returns the seconds the inserts took."""
    upgrade(MIGRATIONS, url)
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(insert(CycleRef.__table__), [data["cycle"]])
            conn.execute(insert(UnitRef.__table__), data["units"])
            conn.execute(insert(OrgResult.__table__), data["orgs"])
            rows = data["evaluations"]
            for i in range(0, len(rows), 2000):
                conn.execute(insert(Evaluation.__table__), rows[i : i + 2000])
        seconds = time.perf_counter() - started
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE evaluations"))  # what autovacuum does after a bulk load
        return seconds
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- timing


def make_app(env: dict):
    return create_app(Config.from_env("reviews", env=env, testing=True), migrate=False)


def run_calibration(app) -> dict:
    platform = app.extensions["kinerja"]
    with app.app_context(), platform.uow() as s:
        return calibration(s, ADMIN, CYCLE_ID, SEQ)


def run_calibration_unit(app) -> dict:
    """One unit's view, what every signature checks before it is taken (``signoff.sign``)."""
    platform = app.extensions["kinerja"]
    with app.app_context(), platform.uow() as s:
        return calibration(s, ADMIN, CYCLE_ID, SEQ, ONE_UNIT)


def run_orm_group_by(app) -> list:
    platform = app.extensions["kinerja"]
    stmt = (
        select(Evaluation.unit_code, Evaluation.unit_name, Evaluation.predikat, func.count())
        .where(Evaluation.cycle_id == CYCLE_ID, Evaluation.period_seq == SEQ)
        .group_by(Evaluation.unit_code, Evaluation.unit_name, Evaluation.predikat)
    )  # as calibration() builds it
    with platform.uow() as s:
        return s.execute(stmt).all()


def run_raw(app) -> list:
    with app.extensions["kinerja"].engine.connect() as conn:
        return conn.execute(RAW_SQL, {"cycle_id": CYCLE_ID, "seq": SEQ}).all()


def timed(fn, *args) -> tuple[float, object]:
    gc.collect()
    started = time.perf_counter()
    out = fn(*args)
    return (time.perf_counter() - started) * 1000, out


def cold(env: dict, fn, runs: int) -> list[float]:
    """``fn`` as the first call on a fresh app (new engine and connection) each run."""
    times = []
    for _ in range(runs):
        app = make_app(env)
        try:
            ms, _ = timed(fn, app)
            times.append(ms)
        finally:
            app.extensions["kinerja"].engine.dispose()
    return times


def warm(app, fn, runs: int) -> list[float]:
    fn(app)  # untimed: connection, statement cache
    return [timed(fn, app)[0] for _ in range(runs)]


def check(view: dict, raw: list, data: dict) -> tuple[int, int]:
    """The run is meaningless unless calibration() counts exactly what was inserted."""
    expected = Counter((e["unit_code"], e["predikat"]) for e in data["evaluations"])
    if Counter({(u, p): n for u, p, n in raw}) != expected:
        raise SystemExit("raw GROUP BY does not match the inserted evaluations")
    got = Counter()
    for unit in view["units"]:
        for band in unit["bands"]:
            if band["count"]:
                got[(unit["unit_code"], band["predikat"])] += band["count"]
    if got != expected or len(view["units"]) != len(data["units"]):
        raise SystemExit("calibration() does not count the inserted evaluations")
    violating = sum(1 for u in view["units"] if u["violations"])
    missing_org = sum(1 for u in view["units"] if u["missing_org_result"])
    return violating, missing_org


def measure(label: str, env: dict, data: dict, runs: int) -> dict:
    app = make_app(env)
    try:
        view, raw = run_calibration(app), run_raw(app)
        violating, missing_org = check(view, raw, data)
        results = {
            "calibration() cold": cold(env, run_calibration, runs),
            "calibration() warm": warm(app, run_calibration, runs),
            "one unit (each signature) warm": warm(app, run_calibration_unit, runs),
            "its GROUP BY (ORM select) warm": warm(app, run_orm_group_by, runs),
            "raw floor (text GROUP BY) cold": cold(env, run_raw, runs),
            "raw floor (text GROUP BY) warm": warm(app, run_raw, runs),
        }
        return {
            "label": label,
            "results": results,
            "violating": violating,
            "missing_org": missing_org,
            "groups": len(raw),
        }
    finally:
        app.extensions["kinerja"].engine.dispose()


def explain(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [
                r[0]
                for r in conn.execute(
                    text("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + RAW_SQL.text), {"cycle_id": CYCLE_ID, "seq": SEQ}
                )
            ]
    finally:
        engine.dispose()


def server_version(url: str) -> str:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SHOW server_version")).scalar_one()
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--employees", type=int, default=10_000)
    ap.add_argument("--units", type=int, default=150)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-sqlite", action="store_true", help="skip the SQLite (embedded) reference")
    args = ap.parse_args(argv)

    data = build_agency(args.employees, args.units, args.seed)
    sizes = data["sizes"]
    predikats = Counter(e["predikat"] for e in data["evaluations"])
    orgs = Counter(o["result"] for o in data["orgs"])
    print(
        f"agency {AGENCY}: {len(data['evaluations'])} rated evaluations of period {SEQ} in {len(sizes)} units "
        f"({min(sizes)}-{max(sizes)} people, median {statistics.median(sizes):.0f})"
    )
    print(
        "  predikat: "
        + ", ".join(f"{k} {100 * predikats[k] / len(data['evaluations']):.1f} %" for k in domain.PREDIKATS)
    )
    print("  org results: " + ", ".join(f"{k} {orgs[k]}" for k in domain.ORG_RESULTS))

    url = make_url(PG_URL).set(database=f"kinerja_bench_{uuid.uuid4().hex[:10]}").render_as_string(hide_password=False)
    measured = []
    try:
        seconds = load(url, data)
        print(
            f"PostgreSQL {server_version(url)}: migrated and loaded in {seconds:.2f} s (insert only), "
            f"then VACUUM ANALYZE"
        )
        measured.append(measure("PostgreSQL", {"REVIEWS_DATABASE_URL": url}, data, args.runs))
        plan = explain(url)
    finally:
        drop_database(url)
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix="kinerja-bench-") as tmp:
            env = {"KINERJA_VAR": tmp}  # the embedded default: sqlite:///<KINERJA_VAR>/reviews.db
            seconds = load(Config.from_env("reviews", env=env).database_url, data)
            print(
                f"SQLite {sqlite3.sqlite_version} (embedded, {tmp}/reviews.db): migrated and loaded in {seconds:.2f} s"
            )
            measured.append(measure("SQLite", env, data, args.runs))

    print(
        f"{os.cpu_count()} CPUs, Python {py_platform.python_version()}; {args.runs} timed runs per line, "
        f"gc.collect() before each"
    )
    print()
    head = f"{'database':<10}  {'measurement':<31}  {'min ms':>8}  {'median ms':>9}  {'max ms':>8}"
    print(head)
    print("-" * len(head))
    for m in measured:
        for name, times in m["results"].items():
            print(
                f"{m['label']:<10}  {name:<31}  {min(times):>8.2f}  {statistics.median(times):>9.2f}  "
                f"{max(times):>8.2f}"
            )
    print()
    for m in measured:
        r = {k: statistics.median(v) for k, v in m["results"].items()}
        cal_warm, cal_cold = r["calibration() warm"], r["calibration() cold"]
        raw_warm, raw_cold = r["raw floor (text GROUP BY) warm"], r["raw floor (text GROUP BY) cold"]
        python_ms = cal_warm - r["its GROUP BY (ORM select) warm"]
        print(
            f"{m['label']}: calibration()/raw floor (medians) warm {cal_warm / raw_warm:.1f}x, "
            f"cold {cal_cold / raw_cold:.1f}x; Python part of warm calibration() ~{python_ms:.1f} ms; "
            f"{m['groups']} (unit, predikat) groups, {m['violating']} units breaking the curve, "
            f"{m['missing_org']} without org result"
        )
        record(  # a time: ratio = floor / value, the fraction of the raw floor's speed
            f"reviews_calibration.{m['label'].lower()}_warm",
            cal_warm,
            "ms",
            floor=raw_warm,
            ratio=raw_warm / cal_warm,
            cold_ms=cal_cold,
            raw_cold_ms=raw_cold,
            employees=args.employees,
            units=args.units,
            runs=args.runs,
        )
    print()
    print("PostgreSQL plan of the raw floor:")
    for line in plan:
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
