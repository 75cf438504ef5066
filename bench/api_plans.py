"""Latency of the plans API in the embedded app, in process (werkzeug test client, one thread).

Seeds a fresh embedded installation with the demo (the sample city: 12 units, 200 employees,
a 2026 cycle, cascaded SKPs submitted and mostly approved), then measures p50/p95/p99 latency
and requests/s of

  * GET  /plans/api/v1/plans/{id}           as the plan's owner
  * GET  /plans/api/v1/plans?limit=50       as HR (the agency's plans, first page)
  * GET  /plans/api/v1/employees?limit=50   as a supervisor with ~20 people below them
                                            (the reporting-line filter: subtree of the supervisor)
  * POST /plans/api/v1/daily-logs           as an employee (a row and an audit-chain row per call)

plus the peak RSS of the process. The background bus worker is not started and request
logging is not configured (as in ``kinerja demo``), so the figures are the application's own
cost: routing, JWT verification, marshmallow, SQLAlchemy and SQLite. A benchmark, not a test:
it prints figures and asserts nothing about time (a non-2xx answer aborts the run, though).

    .venv/bin/python bench/api_plans.py [--iterations 500]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.record import record  # noqa: E402
from flows.clock import set_clock  # noqa: E402
from flows.runner import ephemeral_api  # noqa: E402
from kinerja import demo, sample_agency  # noqa: E402
from kinerja.embedded import Embedded  # noqa: E402

SEED = 2026
WARMUP = 20
API = "/plans/api/v1"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def measure(api: demo.Api, label: str, method: str, path, token: str, n: int, *, body=None, expect=(200,)) -> dict:
    """``n`` timed requests after ``WARMUP`` untimed ones. ``path``/``body`` may be callables of i."""

    def one(i):
        p = path(i) if callable(path) else path
        b = body(i) if callable(body) else body
        t0 = time.perf_counter()
        data, _resp = api.call(method, p, token, json_body=b, expect=expect)
        return time.perf_counter() - t0, data

    for i in range(WARMUP):
        one(-1 - i)
    latencies = []
    started = time.perf_counter()
    last = None
    for i in range(n):
        dt, last = one(i)
        latencies.append(dt)
    elapsed = time.perf_counter() - started
    latencies.sort()
    items = len(last["items"]) if isinstance(last, dict) and "items" in last else None
    return {
        "label": label,
        "n": n,
        "rps": n / elapsed,
        "mean": 1000 * sum(latencies) / n,
        "p50": 1000 * percentile(latencies, 50),
        "p95": 1000 * percentile(latencies, 95),
        "p99": 1000 * percentile(latencies, 99),
        "max": 1000 * latencies[-1],
        "items": items,
    }


def reporting_lines(agency) -> dict[str, list[str]]:
    reports: dict[str, list[str]] = {}
    for e in agency.employees:
        if e.superior_nip:
            reports.setdefault(e.superior_nip, []).append(e.nip)
    return reports


def below(reports: dict[str, list[str]], nip: str) -> set[str]:
    out, stack = set(), [nip]
    while stack:
        for child in reports.get(stack.pop(), []):
            if child not in out:
                out.add(child)
                stack.append(child)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--iterations", type=int, default=500, help="timed requests per endpoint (default 500)")
    args = ap.parse_args(argv)
    n = args.iterations

    tmp = tempfile.mkdtemp(prefix="kinerja-bench-api-")
    emb = None
    try:
        t0 = time.perf_counter()
        clock = demo.DemoClock()
        emb = Embedded(env={"KINERJA_VAR": tmp}, clock=clock)
        emb.clock = clock
        api = demo.Api(emb.wsgi, emb.platform("plans").config.jwt_secret)
        # the demo's whole year, through the API and its flow runs (seeding: plans, reviews, surveys,
        # notifications), on the demo's clock and one quiet ephemeral Prefect API, as `kinerja demo`
        set_clock(clock)
        with ephemeral_api(startup_timeout=300, background=True):
            summary = demo._run(api, emb, SEED, lambda *a: None, Path(tmp))
        set_clock(None)
        seeded = time.perf_counter() - t0
        rss_after_seed = peak_rss_mib()

        agency = sample_agency.build(seed=SEED)
        reports = reporting_lines(agency)
        # the supervisor whose reporting line (everyone below them) is closest to 20 people
        supervisor = min(reports, key=lambda nip: (abs(len(below(reports, nip)) - 20), nip))
        team = below(reports, supervisor)
        hr = api.token(["hr"], agency=agency.code)
        sup_token = api.token(["employee", "supervisor"], agency=agency.code, nip=supervisor)

        # an employee in that team without reports of their own, with an SKP
        plans_by_nip = {}
        cursor = None
        while True:
            page, _ = api.call("GET", f"{API}/plans?limit=200" + (f"&cursor={cursor}" if cursor else ""), hr)
            plans_by_nip.update({p["employee_nip"]: p for p in page["items"]})
            cursor = page["next_cursor"]
            if not cursor:
                break
        owner = sorted(nip for nip in team if nip not in reports and nip in plans_by_nip)[0]
        plan = plans_by_nip[owner]
        owner_token = api.token(["employee"], agency=agency.code, nip=owner)
        full_plan, _ = api.call("GET", f"{API}/plans/{plan['id']}", owner_token)
        iki_ids = [iki["id"] for rhk in full_plan["rhk"] for iki in rhk["iki"]]
        today = clock().date()  # the demo's simulated clock: its 2026 cycle is closed by now
        link_iki = False  # a closed cycle's SKP takes no more logs against its IKI

        def daily_log(i):
            body = {
                "date": today.isoformat(),
                "minutes": 15 + (i % 8) * 15,
                "activity": f"Menyusun bahan rapat koordinasi dan notula kegiatan nomor {i}",
            }
            if link_iki:
                body["iki_id"] = iki_ids[i % len(iki_ids)]
            return body

        print(
            f"seeded the demo agency in {seeded:.1f} s ({summary['agency']['employees']} employees, "
            f"{sum(summary['plans_by_status'].values())} plans {summary['plans_by_status']}, "
            f"{api.calls} HTTP calls); peak RSS after seeding {rss_after_seed:.0f} MiB"
        )
        print(
            f"owner {owner} (plan {plan['id']}, {plan['status']}, {len(iki_ids)} IKI); supervisor {supervisor} "
            f"with {len(reports[supervisor])} direct reports, {len(team)} people in the reporting line; "
            f"daily logs {'linked to an IKI' if link_iki else 'without IKI (no open cycle this year)'}; "
            f"{n} timed requests per endpoint after {WARMUP} warm-up; {os.cpu_count()} CPUs"
        )

        results = [
            measure(api, "GET  plans/{id} (owner)", "GET", f"{API}/plans/{plan['id']}", owner_token, n),
            measure(api, "GET  plans?limit=50 (HR)", "GET", f"{API}/plans?limit=50", hr, n),
            measure(api, "GET  employees?limit=50 (supervisor)", "GET", f"{API}/employees?limit=50", sup_token, n),
            measure(
                api,
                "POST daily-logs (employee)",
                "POST",
                f"{API}/daily-logs",
                owner_token,
                n,
                body=daily_log,
                expect=(201,),
            ),
        ]
        rss_end = peak_rss_mib()

        width = max(len(r["label"]) for r in results)
        print()
        print(
            f"{'request':<{width}}  {'items':>5}  {'req/s':>6}  {'mean ms':>7}  {'p50 ms':>6}  {'p95 ms':>6}  "
            f"{'p99 ms':>6}  {'max ms':>6}"
        )
        print(f"{'-' * width}  {'-' * 5}  {'-' * 6}  {'-' * 7}  {'-' * 6}  {'-' * 6}  {'-' * 6}  {'-' * 6}")
        for r in results:
            items = "" if r["items"] is None else str(r["items"])
            print(
                f"{r['label']:<{width}}  {items:>5}  {r['rps']:>6.0f}  {r['mean']:>7.2f}  {r['p50']:>6.2f}  "
                f"{r['p95']:>6.2f}  {r['p99']:>6.2f}  {r['max']:>6.1f}"
            )
        print()
        print(f"peak RSS: {rss_end:.0f} MiB (after seeding {rss_after_seed:.0f} MiB)")
        names = ("get_plan_owner", "list_plans_hr", "list_employees_supervisor", "post_daily_log")
        for key, r in zip(names, results, strict=True):  # no floor: in process, no bare-Flask reference
            record(
                f"api_plans.{key}",
                r["rps"],
                "req/s",
                p50_ms=r["p50"],
                p95_ms=r["p95"],
                p99_ms=r["p99"],
                iterations=n,
                peak_rss_mib=rss_end,
            )
        return 0
    finally:
        if emb is not None:
            emb.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
