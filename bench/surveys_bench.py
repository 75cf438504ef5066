"""Surveys on PostgreSQL: ingestion through the batch API and the IKM aggregate over a million responses.

  (1) ingestion: N questionnaires POSTed to ``/surveys/api/v1/campaigns/{id}/responses:batch``
      through the WSGI app in process (werkzeug test client: routing, JWT, validation of every
      answer, one INSERT … RETURNING for the batch, audit row and outbox event, commit), in
      batches of B; responses/s (target ≥ 1000/s).
  (2) the index: M responses bulk-loaded with COPY into one campaign (plus a second campaign of
      the same size, so the query must pick its rows), VACUUM ANALYZE, then
        * ``GET …/campaigns/{id}/ikm`` through the app (auth, the aggregate, rounding, JSON),
        * the service's aggregate alone (``service.campaign_index``: COUNT and SUM per unsur),
        * the raw floor: the same AVG query as text through SQLAlchemy, no app,
      each timed R times (median and min), first with the covering index
      ``ix_responses_campaign_answers (campaign_id) INCLUDE (u1..u9)`` (index-only scan), then
      without it (the query plan PostgreSQL chooses), target ≤ 1 s.

A benchmark, not a test: it prints figures and asserts nothing about time (a failed request or
a wrong count aborts the run). It creates the database ``kinerja_bench_surveys_<hex>`` and drops
it afterwards, whatever happens.

    .venv/bin/python bench/surveys_bench.py [--ingest 20000] [--batch 500] [--responses 1000000] [--repeat 5]

BENCH_POSTGRES_URL overrides the server (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
import zlib
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.record import record  # noqa: E402
from services.common.auth import issue_token  # noqa: E402
from services.common.config import Config  # noqa: E402
from services.common.db import drop_database, ensure_database  # noqa: E402
from services.surveys.access import respondents  # noqa: E402
from services.surveys.app import create_app  # noqa: E402
from services.surveys.directory import rm_unit  # noqa: E402
from services.surveys.domain import UNSUR  # noqa: E402
from services.surveys.index import campaign_index  # noqa: E402
from services.surveys.models import Campaign  # noqa: E402
from services.surveys.settings import Settings  # noqa: E402

PG = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
API = "/surveys/api/v1"
COLS = [u.lower() for u in UNSUR]
RAW_AVG = "SELECT count(*), " + ", ".join(f"avg({c})" for c in COLS) + " FROM responses WHERE campaign_id = :cid"


def timed(fn, repeat: int) -> tuple[float, float, object]:
    out, times = None, []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), out


def questionnaire(rng: random.Random) -> dict:
    return {
        "answers": {u: rng.choice((2, 3, 3, 4, 4)) for u in UNSUR},
        "profile": {"age": rng.randint(17, 80), "sex": rng.choice(("male", "female"))},
        **({"suggestion": "Antrian pagi terlalu panjang."} if rng.random() < 0.1 else {}),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ingest", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--responses", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    url = (
        make_url(PG).set(database=f"kinerja_bench_surveys_{uuid.uuid4().hex[:8]}").render_as_string(hide_password=False)
    )
    ensure_database(url)
    app = None
    try:
        cfg = Config.from_env("surveys", env={"SURVEYS_DATABASE_URL": url}, testing=False)
        app = create_app(cfg, migrate=True, settings=Settings.from_env(cfg, env={}))
        platform = app.extensions["kinerja"]
        client = app.test_client()
        hr = {"Authorization": "Bearer " + issue_token(cfg.jwt_secret, roles=["hr"], agency="BENCH", sub="hr@bench")}
        kiosk = {
            "Authorization": "Bearer "
            + issue_token(
                cfg.jwt_secret, roles=["agency"], agency="BENCH", sub="kiosk@bench", scope="surveys:responses:write"
            )
        }

        def campaign(unit: str) -> int:
            # the unit as the plans directory's plans.unit.upserted would have brought it
            with platform.uow() as s:
                rm_unit(
                    s, {"id": zlib.crc32(unit.encode()) % 2**31, "agency_code": "BENCH", "code": unit, "name": unit}
                )
            r = client.post(
                f"{API}/campaigns",
                headers=hr,
                json={
                    "unit_code": unit,
                    "service_type": "Rawat jalan",
                    "start_date": "2026-01-01",
                    "end_date": "2026-12-31",
                    "population": 100_000,
                },
            )
            assert r.status_code == 201, r.get_json()
            cid = r.get_json()["id"]
            assert client.post(f"{API}/campaigns/{cid}/open", headers=hr).status_code == 200
            return cid

        print(
            f"database {make_url(url).database} on {make_url(url).host}; {os.cpu_count()} CPUs; "
            f"PostgreSQL {_pg_version(platform.engine)}"
        )

        # ---------------------------------------------------------------- (1) ingestion
        rng = random.Random(2026)
        cid = campaign("PKM-INGEST")
        bodies = [questionnaire(rng) for _ in range(args.ingest)]
        batches = [bodies[i : i + args.batch] for i in range(0, len(bodies), args.batch)]
        warm = client.post(f"{API}/campaigns/{cid}/responses:batch", headers=kiosk, json=batches[0][:50])
        assert warm.status_code == 201, warm.get_json()
        t0 = time.perf_counter()
        for b in batches:
            r = client.post(f"{API}/campaigns/{cid}/responses:batch", headers=kiosk, json=b)
            if r.status_code != 201:
                raise SystemExit(f"batch refused: {r.status_code} {r.get_data(as_text=True)[:500]}")
        elapsed = time.perf_counter() - t0
        with platform.session_factory() as s:
            stored = respondents(s, cid) - 50
        assert stored == args.ingest, stored
        print(f"\n(1) ingestion through POST …/responses:batch, batches of {args.batch}")
        print(
            f"    {args.ingest} responses in {elapsed:.2f} s = {args.ingest / elapsed:,.0f} responses/s "
            f"({elapsed / len(batches) * 1000:.1f} ms per batch request; target >= 1000/s)"
        )
        single = [questionnaire(rng) for _ in range(300)]
        t0 = time.perf_counter()
        for body in single:
            assert client.post(f"{API}/campaigns/{cid}/responses", headers=kiosk, json=body).status_code == 201
        one = time.perf_counter() - t0
        print(f"    for comparison, one per request: {len(single) / one:,.0f} responses/s")
        record(
            "surveys.ingest_batch",
            args.ingest / elapsed,
            "responses/s",
            ingest=args.ingest,
            batch=args.batch,
            target_per_s=1000,
            one_per_request_per_s=len(single) / one,
        )

        # ---------------------------------------------------------------- (2) the aggregate
        big, twin = campaign("PKM-BIG"), campaign("PKM-TWIN")
        t0 = time.perf_counter()
        _copy(platform.engine, [big, twin], args.responses)
        load = time.perf_counter() - t0
        with platform.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE responses"))
        print(
            f"\n(2) the IKM over {args.responses:,} responses of one campaign "
            f"(+{args.responses:,} of another in the same table)"
        )
        print(
            f"    bulk load with COPY: {2 * args.responses:,} rows in {load:.1f} s "
            f"({2 * args.responses / load:,.0f} rows/s), then VACUUM ANALYZE"
        )

        def api():
            r = client.get(f"{API}/campaigns/{big}/ikm", headers=hr)
            assert r.status_code == 200 and r.get_json()["respondents"] == args.responses, r.get_json()
            return r.get_json()

        def service_only():
            with platform.session_factory() as s:
                return campaign_index(s, s.get(Campaign, big))

        def raw():
            with platform.engine.connect() as conn:
                return conn.execute(text(RAW_AVG), {"cid": big}).one()

        rows = []
        for label in ("with the covering index", "without it"):
            if label == "without it":
                with platform.engine.begin() as conn:
                    conn.execute(text("DROP INDEX ix_responses_campaign_answers"))
                    conn.execute(text("CREATE INDEX ix_responses_campaign_only ON responses (campaign_id)"))
                with platform.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(text("ANALYZE responses"))
            plan = _plan(platform.engine, big)
            api_med, api_min, body = timed(api, args.repeat)
            svc_med, svc_min, result = timed(service_only, args.repeat)
            raw_med, raw_min, floor = timed(raw, args.repeat)
            assert result.respondents == floor[0] == args.responses
            assert abs(float(result.nrr["U1"]) - float(floor[1])) < 1e-9
            rows.append((label, plan, api_med, api_min, svc_med, svc_min, raw_med, raw_min, body))
        print(f"\n    {'':28} {'plan':34} {'GET /ikm':>17} {'service':>17} {'raw AVG':>17}")
        print(f"    {'':28} {'':34} {'median / min s':>17} {'median / min s':>17} {'median / min s':>17}")
        for label, plan, am, an, sm, sn, rm, rn, _ in rows:
            print(f"    {label:28} {plan:34} {am:8.3f} /{an:6.3f} {sm:8.3f} /{sn:6.3f} {rm:8.3f} /{rn:6.3f}")
        body = rows[0][-1]
        print(
            f"\n    index of the big campaign: IKM {body['ikm']}, IKM unit {body['ikm_unit']}, "
            f"mutu {body['mutu']} ({body['kinerja']}); target <= 1 s for GET /ikm"
        )
        print(f"    API over raw floor (with the index): {rows[0][2] / rows[0][6]:.2f}x")
        record(  # a time: ratio = floor / value, the fraction of the raw floor's speed
            "surveys.ikm_api",
            rows[0][2],
            "s",
            floor=rows[0][6],
            ratio=rows[0][6] / rows[0][2],
            responses=args.responses,
            api_min_s=rows[0][3],
            service_median_s=rows[0][4],
            without_index_api_s=rows[1][2],
            target_s=1.0,
        )
        return 0
    finally:
        if app is not None:
            app.extensions["kinerja"].engine.dispose()
        drop_database(url)
        print(f"\ndropped {make_url(url).database}")


def _copy(engine, campaign_ids: list[int], n: int) -> None:
    """COPY n rows per campaign (psycopg 3's COPY protocol, rows generated on the fly)."""
    rng = random.Random(7)
    at = datetime(2026, 6, 1, tzinfo=timezone.utc)
    raw = engine.raw_connection()
    try:
        cur = raw.driver_connection.cursor()
        cols = ", ".join(["campaign_id", *COLS, "channel", "submitted_at"])
        with cur.copy(f"COPY responses ({cols}) FROM STDIN") as copy:
            choices = (1, 2, 2, 3, 3, 3, 4, 4, 4, 4)
            for cid in campaign_ids:
                for _ in range(n):
                    copy.write_row((cid, *(rng.choice(choices) for _ in COLS), "import", at))
        raw.driver_connection.commit()
    finally:
        raw.close()


def _plan(engine, cid: int) -> str:
    with engine.connect() as conn:
        lines = [r[0] for r in conn.execute(text("EXPLAIN " + RAW_AVG), {"cid": cid})]
    for needle in ("Index Only Scan", "Bitmap Heap Scan", "Index Scan", "Parallel Seq Scan", "Seq Scan"):
        if any(needle in line for line in lines):
            workers = next((line.strip() for line in lines if "Workers Planned" in line), "")
            return needle + (f" ({workers.split(':')[-1].strip()} workers)" if workers else "")
    return lines[0][:34]


def _pg_version(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SHOW server_version")).scalar()


if __name__ == "__main__":
    raise SystemExit(main())
