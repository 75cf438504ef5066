"""A whole annual cycle in the production topology, with simulated people acting through the API.

    .venv/bin/python bench/cycle_bench.py --sizes 1000,10000          # people acting (default 1000)
    .venv/bin/python bench/cycle_bench.py --mode orchestration --sizes 1000,100000

Each size gets a private topology started with the project's own launcher (``kinerja up`` with
``UP_NAME=kinerja_bench_cycle``, ``KINERJA_UP_DIR=var/bench/up-cycle``, ports from 18600, gateway
18699), removed again at the end (``kinerja down``, its databases, role, vhost and folder).

``people``: HR imports the sample agency's directory grown to N employees
(``kinerja.sample_agency.build(employees_target=N)``), opens a quarterly 2025 cycle; the
employees draft their cascaded SKPs level by level from the top and submit them, the superiors
write the behaviour expectations and approve; the ``cycle-once`` deployment (run by the
topology's Prefect worker) walks planning and the four periods (escalating the periodic
evaluations nobody fills in); the employees record their year-end realisation; the flow opens the
annual evaluation; HR sets each unit's organisation result, the penilai rate; the flow checks the
curve (HR overrides a unit that breaks it, as in the demo); penilai sign, employees acknowledge,
atasan countersign; the flow opens the objection window; HR closes it (the real clock cannot wait
14 days) and the flow closes the cycle (SIASN step). People act from a pool of ``--threads``
httpx clients.

``orchestration``: the same directory and cycle, nobody acting: one run of the flow closes
planning late and the four periods with their escalations and notifications, as far as it goes.

The clock: the production topology runs on the wall clock (nothing shifts it), so the cycle is
for 2025, whose deadlines have all passed; ``KINERJA_FLOW_STALE_DAYS=3650`` lets the flow close
those old stages itself instead of leaving them to HR. The objection window (14 days from now)
is closed by HR's advance, the endpoint the flow itself uses.

Figures per size: wall time in total and per stage, the requests (count, p50/p95 per kind), the
flow runs (wall from the trigger, run time), the events (outbox rows), the notifications, the
peak RSS of every process and whether it stays flat. A broken run (a request failing, a flow
run failing, an event missing) exits 1 and says why.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.cycle_stats import is_flat, levels, percentile, rss_growth, scaling  # noqa: E402
from bench.cycle_topology import BenchError, RssSampler, Topology  # noqa: E402
from bench.record import latest, record  # noqa: E402

P, R, N = "/plans/api/v1", "/reviews/api/v1", "/notifications/api/v1"
YEAR = 2025
EXPECTATIONS = {
    "berorientasi_pelayanan": "Memahami dan memenuhi kebutuhan masyarakat; ramah, cekatan, solutif.",
    "akuntabel": "Melaksanakan tugas dengan jujur, bertanggung jawab, cermat, disiplin dan berintegritas.",
    "kompeten": "Terus belajar dan mengembangkan kapabilitas; membantu orang lain belajar.",
    "harmonis": "Menghargai setiap orang apa pun latar belakangnya; membangun lingkungan kerja yang kondusif.",
    "loyal": "Berdedikasi dan mengutamakan kepentingan bangsa dan negara; menjaga nama baik instansi.",
    "adaptif": "Cepat menyesuaikan diri menghadapi perubahan; terus berinovasi dengan antusias.",
    "kolaboratif": "Memberi kesempatan kepada berbagai pihak untuk berkontribusi; terbuka bekerja sama.",
}
ANNEX = {
    "resources": "Anggaran DPA unit, sarana kantor, aplikasi e-Kinerja.",
    "accountability": "Laporan bulanan kepada atasan langsung.",
    "consequences": "Sesuai ketentuan penilaian kinerja PermenPANRB 6/2022.",
}
LOWER_IS_BETTER = ("waktu", "biaya")
IMPORT_CHUNK = 500  # employees per import request (~1 ms each since the bulk import, was ~18; gunicorn allows 30 s)


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())}Z] {text}", flush=True)


# ---------------------------------------------------------------------- people's requests


class Http:
    """The people's HTTP clients (one httpx client per thread) and every request's latency."""

    def __init__(self, base_url: str, threads: int):
        self.base_url, self.threads = base_url, threads
        self.local = threading.local()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="person")

    def client(self):
        import httpx

        c = getattr(self.local, "client", None)
        if c is None:
            c = self.local.client = httpx.Client(base_url=self.base_url, timeout=120)
        return c

    def call(self, kind, method, path, token, *, json=None, content=None, headers=None, expect=(200, 201)):
        h = {"Authorization": f"Bearer {token}", **(headers or {})}
        started = time.perf_counter()
        try:
            resp = self.client().request(method, path, json=json, content=content, headers=h)
        except Exception as exc:
            raise BenchError(f"{method} {path}: {type(exc).__name__}: {exc}") from None
        self.latencies[kind].append(time.perf_counter() - started)
        if resp.status_code not in expect:
            raise BenchError(f"{method} {path} → {resp.status_code}: {resp.text[:600]}")
        return (resp.json() if resp.content else None), resp.headers

    def pages(self, kind, path, token) -> list[dict]:
        items, cursor = [], None
        sep = "&" if "?" in path else "?"
        while True:
            page, _ = self.call(kind, "GET", f"{path}{sep}limit=200" + (f"&cursor={cursor}" if cursor else ""), token)
            items += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return items

    def each(self, fn, items) -> list:
        """``fn(item)`` for every item on the pool; the first failure stops the run."""
        futures = [self.pool.submit(fn, item) for item in items]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for f in done:
            if f.exception():
                for p in pending:
                    p.cancel()
                raise f.exception()
        return [f.result() for f in futures]

    def summary(self) -> dict:
        out = {}
        for kind, values in sorted(self.latencies.items()):
            out[kind] = {
                "n": len(values),
                "p50_ms": round(1000 * percentile(values, 50), 1),
                "p95_ms": round(1000 * percentile(values, 95), 1),
            }
        every = [v for values in self.latencies.values() for v in values]
        out["all"] = {
            "n": len(every),
            "p50_ms": round(1000 * (percentile(every, 50) or 0), 1),
            "p95_ms": round(1000 * (percentile(every, 95) or 0), 1),
        }
        return out

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


# ---------------------------------------------------------------------- flow runs (the topology's worker)


class FlowRuns:
    """Runs of the ``cycle-once`` deployment, picked up by the topology's Prefect worker."""

    def __init__(self, topology: Topology):
        os.environ["PREFECT_API_URL"] = topology.prefect_api
        os.environ.setdefault("PREFECT_HOME", str(topology.up_dir / "bench-prefect"))
        os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")
        import flows  # noqa: F401  (quiet, offline Prefect defaults)

        self.runs: list[dict] = []

    def pause_schedules(self) -> list[str]:
        """The scheduled deployments would start runs of their own mid-benchmark: paused."""
        from prefect.client.orchestration import get_client

        paused = []
        with get_client(sync_client=True) as client:
            for d in client.read_deployments():
                if d.schedules and not d.paused:
                    client.pause_deployment(d.id)
                    paused.append(d.name)
        return paused

    def cycle(self, cycle_id: int, until: str | None) -> dict:
        started = time.perf_counter()
        fr = self._run_flow("evaluation-cycle/cycle-once", {"cycle_id": cycle_id, "until": until}, timeout=3600)
        wall = time.perf_counter() - started
        state = fr.state
        entry = {
            "until": until,
            "state": state.name if state else None,
            "wall_s": round(wall, 2),
            "run_s": round(fr.total_run_time.total_seconds(), 2) if fr.total_run_time else None,
            "pickup_s": round((fr.start_time - fr.expected_start_time).total_seconds(), 2)
            if fr.start_time and fr.expected_start_time
            else None,
            "flow_run_id": str(fr.id),
        }
        self.runs.append(entry)
        if not state or not state.is_completed():
            raise BenchError(f"flow run cycle-once (until {until}) ended {entry['state']}: {state and state.message}")
        say(f"  flow run cycle-once until {until}: {entry['state']} in {entry['wall_s']} s (run {entry['run_s']} s)")
        return entry

    @staticmethod
    def _run_flow(name: str, parameters: dict, timeout: float):
        """``run_deployment`` waiting in this thread: Ctrl-C (or the timeout) cancels the flow run and
        stops the benchmark, which then removes its topology (``run_deployment`` waited in a thread of
        its own that Ctrl-C did not reach)."""
        from prefect.client.orchestration import get_client
        from prefect.states import Cancelling

        with get_client(sync_client=True) as client:
            deployment = client.read_deployment_by_name(name)
            fr = client.create_flow_run_from_deployment(deployment.id, parameters=parameters)
            deadline = time.monotonic() + timeout
            try:
                while not (fr.state and fr.state.is_final()):
                    if time.monotonic() > deadline:
                        raise BenchError(f"flow run {name} not finished after {timeout:.0f} s")
                    time.sleep(1)
                    fr = client.read_flow_run(fr.id)
            except BaseException:
                client.set_flow_run_state(fr.id, Cancelling(message="the benchmark stopped"), force=True)
                raise
        return fr

    def counts(self, topo: Topology) -> dict:
        """Every flow run (the sub-flows of the stages included) and task run, from Prefect's database."""
        states = dict(topo.sql("prefect", "SELECT state_type, count(*) FROM flow_run GROUP BY 1"))
        tasks = topo.sql(
            "prefect", "SELECT count(*), coalesce(sum(extract(epoch FROM total_run_time)), 0) FROM task_run"
        )
        return {
            "flow_runs": sum(states.values()),
            "flow_run_states": {str(k): v for k, v in states.items()},
            "task_runs": tasks[0][0],
            "task_run_seconds": round(float(tasks[0][1]), 1),
        }


# ---------------------------------------------------------------------- the cycle


class Cycle:
    def __init__(self, topo: Topology, http: Http, flows_: FlowRuns, employees: int, seed: int):
        from kinerja import sample_agency

        self.topo, self.http, self.flows = topo, http, flows_
        self.sample = sample_agency
        self.agency = sample_agency.build(seed=seed, employees_target=employees)
        self.by_nip = {e.nip: e for e in self.agency.employees}
        self.reports: dict[str, list[str]] = defaultdict(list)
        for e in self.agency.employees:
            if e.superior_nip:
                self.reports[e.superior_nip].append(e.nip)
        self.levels = levels({e.nip: e.superior_nip for e in self.agency.employees})
        self.rng = random.Random(seed)
        self.hr = topo.token(["hr"], sub="bench-hr")
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()
        self.plans: dict[str, dict] = {}
        self.cycle_id: int | None = None
        self.stages: dict[str, float] = {}

    def token(self, nip: str | None) -> str:
        if nip is None:
            return self.hr
        with self._lock:
            t = self._tokens.get(nip)
        if t is None:
            roles = ["employee"] + (["supervisor"] if nip in self.reports else [])
            t = self.topo.token(roles, nip=nip)
            with self._lock:
                self._tokens[nip] = t
        return t

    def stage(self, name: str, fn) -> None:
        say(f"stage {name} …")
        started = time.perf_counter()
        fn()
        self.stages[name] = round(time.perf_counter() - started, 2)
        say(f"stage {name}: {self.stages[name]} s")

    def state(self) -> str:
        cycle, _ = self.http.call("cycle.read", "GET", f"{P}/cycles/{self.cycle_id}", self.hr)
        return cycle["state"]

    def expect_state(self, *states: str) -> str:
        now = self.state()
        if now not in states:
            raise BenchError(f"the cycle is at {now}, expected {' or '.join(states)}")
        return now

    def flow(self, until: str | None, *expect: str) -> None:
        """A run of the flow, then its events settled (the other services learn the stage from them)."""
        self.flows.cycle(self.cycle_id, until)
        self.settle()
        if expect:
            self.expect_state(*expect)

    def settle(self) -> None:
        waited = self.topo.settle()
        slowest = sorted(self.topo.busy_until.items(), key=lambda kv: -kv[1])[:3]
        busy = ", ".join(f"{name} {at:.0f} s" for name, at in slowest)
        say(f"  events settled ({waited:.1f} s{'; last busy: ' + busy if busy else ''})")

    # ------------------------------------------------------------------ HR: directory and cycle

    def setup(self) -> None:
        h, hr, sa = self.http, self.hr, self.sample
        h.call(
            "import.units",
            "POST",
            f"{P}/directory/import?kind=units",
            hr,
            content=sa.units_csv(self.agency).encode(),
            headers={"Content-Type": "text/csv"},
        )
        header, *rows = sa.employees_csv(self.agency).splitlines()
        for i in range(0, len(rows), IMPORT_CHUNK):
            text = "\n".join([header, *rows[i : i + IMPORT_CHUNK]]) + "\n"
            report, _ = h.call(
                "import.employees",
                "POST",
                f"{P}/directory/import?kind=employees",
                hr,
                content=text.encode(),
                headers={"Content-Type": "text/csv"},
            )
            if report["errors"]:
                raise BenchError(f"the directory does not import: {report['errors'][:3]}")
        h.call(
            "hr.contacts",
            "PUT",
            f"{N}/hr-contacts",
            hr,
            json={"contacts": [{"name": "Bidang Penilaian Kinerja", "email": "bkpsdm@" + sa.EMAIL_DOMAIN}]},
        )
        cycle, _ = h.call(
            "cycle.create",
            "POST",
            f"{P}/cycles",
            hr,
            json={"year": YEAR, "period_type": "quarterly", "planning_deadline": f"{YEAR}-01-31"},
        )
        self.cycle_id = cycle["id"]
        h.call("cycle.advance", "POST", f"{P}/cycles/{self.cycle_id}/advance", hr, json={"expected": "draft"})
        self.settle()

    # ------------------------------------------------------------------ people

    def plan_body(self, nip: str, rng: random.Random) -> dict:
        e, sa = self.by_nip[nip], self.sample
        rhk = []
        if e.is_head or not e.superior_nip:
            for i, goal in enumerate(sa.head_goals(e.unit_code)[:3]):
                item = sa.rhk_for(e.position, e.unit_code, goal, rng)
                rhk.append(
                    {
                        "kind": "utama" if i < 2 else "tambahan",
                        "description": item["description"],
                        "organisation_goal": goal,
                        "iki": item["iki"],
                    }
                )
            sup_plan = self.plans.get(e.superior_nip) if e.superior_nip else None
            if sup_plan:
                for i, r in enumerate(rhk):
                    r["parent_rhk_id"] = sup_plan["rhk"][i % len(sup_plan["rhk"])]["id"]
        else:
            sup_rhk = self.plans[e.superior_nip]["rhk"]
            picks = rng.sample(sup_rhk, k=min(len(sup_rhk), rng.choice((1, 2, 2, 3))))
            for i, parent in enumerate(picks):
                item = sa.rhk_for(e.position, e.unit_code, parent["description"], rng)
                rhk.append(
                    {
                        "kind": "utama" if i == 0 else rng.choice(("utama", "tambahan")),
                        "description": item["description"],
                        "parent_rhk_id": parent["id"],
                        "iki": item["iki"],
                    }
                )
        return {"cycle_id": self.cycle_id, "approach": "kuantitatif", "rhk": rhk, "annex": ANNEX}

    def planning(self) -> None:
        h = self.http
        for level in self.levels:  # superiors' RHK exist before their staff cascade from them
            bodies = [(nip, self.plan_body(nip, self.rng)) for nip in level]

            def draft(item):
                nip, body = item
                plan, _ = h.call(
                    "plan.create",
                    "POST",
                    f"{P}/plans",
                    self.token(nip),
                    json=body,
                    headers={"Idempotency-Key": f"bench-plan-{nip}"},
                )
                return nip, plan

            self.plans.update(h.each(draft, bodies))

        def submit_and_approve(nip):
            plan = self.plans[nip]
            approver = self.token(self.by_nip[nip].superior_nip)
            _, headers = h.call("plan.submit", "POST", f"{P}/plans/{plan['id']}/submit", self.token(nip))
            h.call(
                "plan.behaviour",
                "PUT",
                f"{P}/plans/{plan['id']}/behaviour",
                approver,
                json={"behaviour": dict(EXPECTATIONS)},
                headers={"If-Match": headers["ETag"]},
            )
            h.call("plan.approve", "POST", f"{P}/plans/{plan['id']}/approve", approver)

        h.each(submit_and_approve, [nip for level in self.levels for nip in level])
        self.settle()
        self.flow("monitoring:4:check_in", "monitoring:4:check_in")

    def realisation(self) -> None:
        h, rngs = self.http, {nip: random.Random(nip) for nip in self.plans}

        def realise(nip):
            rng, form = rngs[nip], []
            for r in self.plans[nip]["rhk"]:
                for i in r["iki"]:
                    factor = max(0.3, rng.gauss(1.07, 0.06))
                    value = i["target_value"] / factor if i["aspect"] in LOWER_IS_BETTER else i["target_value"] * factor
                    form.append(
                        {
                            "iki_id": i["id"],
                            "period_seq": 4,
                            "value": round(value, 1),
                            "note": "Rekap laporan bulanan Januari–Desember.",
                        }
                    )
            h.call(
                "realisation.batch",
                "POST",
                f"{P}/plans/{self.plans[nip]['id']}/realisations:batch",
                self.token(nip),
                json=form,
            )

        h.each(realise, list(self.plans))
        self.settle()
        self.flow("annual_evaluation", "annual_evaluation")

    def annual(self, timeout: float = 120.0) -> list[dict]:
        """Every annual evaluation (opened by the reviews service from the stage's event: awaited with
        a bounded poll); fewer than the employees once the events settled is an event missing."""
        deadline = time.monotonic() + timeout
        while True:
            evs = self.http.pages("evaluation.list", f"{R}/evaluations?cycle_id={self.cycle_id}&period_seq=0", self.hr)
            if len(evs) == len(self.by_nip):
                return evs
            if time.monotonic() > deadline:
                raise BenchError(
                    f"{len(evs)} annual evaluations opened for {len(self.by_nip)} employees (an event missing)"
                )
            self.settle()

    def rating(self) -> None:
        h, hr = self.http, self.hr
        evs = self.annual()
        for u in self.agency.units:
            h.call(
                "org_result.put",
                "PUT",
                f"{R}/org-results",
                hr,
                json={"cycle_id": self.cycle_id, "period_seq": 0, "unit_code": u.code, "result": "BAIK"},
            )

        def rate(ev):
            rng = random.Random(ev["id"])
            penilai = self.token(ev["penilai_nip"])
            _, headers = h.call("evaluation.read", "GET", f"{R}/evaluations/{ev['id']}", penilai)
            body = {
                "rating_hasil": rng.choices(("above", "meets", "below"), (2, 7, 1))[0],
                "rating_perilaku": rng.choices(("above", "meets"), (2, 8))[0],
                "deviation_reason": "Pertimbangan kualitas pekerjaan di luar indikator.",
                "perilaku_deviation_reason": "Pengamatan langsung atasan sepanjang tahun.",
                "notes": "Pertahankan kinerja dan dokumentasi bukti dukung.",
            }
            h.call(
                "evaluation.rate",
                "PUT",
                f"{R}/evaluations/{ev['id']}/rating",
                penilai,
                json=body,
                headers={"If-Match": headers["ETag"]},
            )

        h.each(rate, evs)
        self.settle()
        self.flow("sign_off")
        if self.state() == "calibration":  # units break the curve: HR keeps the penilai's ratings, on record
            cal, _ = h.call("calibration.read", "GET", f"{R}/calibration?cycle_id={self.cycle_id}&period_seq=0", hr)
            blocked = [u["unit_code"] for u in cal["units"] if u.get("sign_off_blocked")]
            for code in blocked:
                h.call(
                    "calibration.override",
                    "POST",
                    f"{R}/calibration/overrides",
                    hr,
                    json={
                        "cycle_id": self.cycle_id,
                        "period_seq": 0,
                        "unit_code": code,
                        "reason": "Distribusi ditinjau bersama pimpinan dan dipertahankan.",
                    },
                )
            say(f"  calibration: HR overrode {len(blocked)} units breaking the curve")
            self.settle()
            self.flow("sign_off")
        self.expect_state("sign_off")

    def sign_off(self) -> None:
        h = self.http
        evs = self.annual()
        h.each(
            lambda ev: h.call(
                "evaluation.sign", "POST", f"{R}/evaluations/{ev['id']}/sign", self.token(ev["penilai_nip"])
            ),
            evs,
        )
        h.each(
            lambda ev: h.call(
                "evaluation.acknowledge",
                "POST",
                f"{R}/evaluations/{ev['id']}/acknowledge",
                self.token(ev["employee_nip"]),
            ),
            evs,
        )
        h.each(
            lambda ev: h.call(
                "evaluation.countersign",
                "POST",
                f"{R}/evaluations/{ev['id']}/countersign",
                self.token(ev["atasan_nip"]),
            ),
            evs,
        )
        self.settle()
        self.flow("objections", "objections")

    def close(self) -> None:
        # the objection window is 14 days of wall clock: HR closes it with the flow's own endpoint
        self.http.call(
            "cycle.advance", "POST", f"{P}/cycles/{self.cycle_id}/advance", self.hr, json={"expected": "objections"}
        )
        self.settle()
        self.flow(None, "closed")
        evs = self.annual()
        unsigned = [e["employee_nip"] for e in evs if e["status"] != "countersigned"]
        if unsigned:
            raise BenchError(f"{len(unsigned)} annual evaluations not countersigned at the close: {unsigned[:5]}")

    def orchestration(self) -> None:
        self.flow(None)


# ---------------------------------------------------------------------- one size


def rss_report(sampler: RssSampler) -> dict:
    out = {}
    for label, series_list in sorted(sampler.by_label().items()):
        peak = max(rss for series in series_list for _, rss in series)
        entry = {"processes": len(series_list), "peak_mb": round(peak / 2**20, 1)}
        if not label.endswith("/flow-run"):  # flow-run processes live for one run: no trend to speak of
            growths = [g for g in (rss_growth(s) for s in series_list) if g]
            if growths:
                worst = max(growths, key=lambda g: g["growth"] or 0)
                entry.update(
                    start_mb=worst["start_mb"], end_mb=worst["end_mb"], growth=worst["growth"], flat=is_flat(worst)
                )
        out[label] = entry
    return out


def run_size(args, n: int) -> dict:
    topo = Topology(
        args.name, ROOT / args.up_dir, args.port_base, args.port, "PKTD", {"KINERJA_FLOW_STALE_DAYS": "3650"}
    )
    say(f"== {args.mode} {n} employees: kinerja up ({topo.name}, {topo.up_dir}, gateway {topo.gateway})")
    topo.down()
    topo.drop(keep_dir=False)
    http = sampler = cycle = flows_ = None
    try:
        up_s = topo.up()
        say(f"topology up in {up_s:.0f} s")
        flows_ = FlowRuns(topo)
        say(f"paused schedules: {', '.join(flows_.pause_schedules()) or 'none'}")
        http = Http(topo.gateway, args.threads)
        cycle = Cycle(topo, http, flows_, n, args.seed)
        sampler = RssSampler(topo, every=args.rss_every).start()
        started = time.perf_counter()
        cycle.stage("import", cycle.setup)
        if args.mode == "people":
            cycle.stage("planning", cycle.planning)
            cycle.stage("realisation", cycle.realisation)
            cycle.stage("rating", cycle.rating)
            cycle.stage("sign_off", cycle.sign_off)
            cycle.stage("close", cycle.close)
        else:
            cycle.stage("orchestration", cycle.orchestration)
        total = round(time.perf_counter() - started, 2)
        sampler.stop()
        box = topo.outbox()
        dead = topo.dead_letters()
        if any(dead.values()):
            raise BenchError(f"events dead-lettered: {dead}")
        result = {
            "employees": len(cycle.by_nip),
            "mode": args.mode,
            "total_s": total,
            "stages_s": cycle.stages,
            "up_s": round(up_s, 1),
            "requests": http.summary(),
            "flow_runs": flows_.runs,
            "prefect": flows_.counts(topo),
            "events": {svc: b["total"] for svc, b in box.items()} | {"total": sum(b["total"] for b in box.values())},
            "notifications": topo.notifications(),
            "rss": rss_report(sampler),
            "threads": args.threads,
            "state": cycle.state(),
        }
        return result
    except BaseException:  # a broken or interrupted run: what it measured so far, for the log only
        if sampler and http and cycle:
            sampler.stop()
            partial = {"stages_s": cycle.stages, "requests": http.summary()["all"], "flow_runs": flows_.runs}
            say(f"partial figures (not recorded): {json.dumps(partial)}")
            for label, e in rss_report(sampler).items():
                say(f"  rss {label}: {json.dumps(e)}")
        raise
    finally:
        if sampler:
            sampler.stop()
        if http:
            http.close()
        if not args.keep:
            say("kinerja down: " + (topo.down().splitlines() or ["-"])[-1])
            say("dropped: " + ", ".join(topo.drop()))


def print_result(r: dict) -> None:
    say(f"-- {r['mode']} {r['employees']}: {r['total_s']} s in total (state {r['state']})")
    print("   stages: " + ", ".join(f"{k} {v} s" for k, v in r["stages_s"].items()))
    req = r["requests"]
    print(f"   requests: {req['all']['n']} (p50 {req['all']['p50_ms']} ms, p95 {req['all']['p95_ms']} ms)")
    for kind, s in req.items():
        if kind != "all":
            print(f"     {kind:24} {s['n']:7}  p50 {s['p50_ms']:8} ms  p95 {s['p95_ms']:8} ms")
    print(
        "   flow runs: "
        + "; ".join(f"{f['until'] or 'to the end'} {f['wall_s']} s (run {f['run_s']} s)" for f in r["flow_runs"])
    )
    print(f"   prefect: {r['prefect']}")
    print(f"   events: {r['events']}")
    print(f"   notifications: {r['notifications']}")
    print("   peak RSS:")
    for label, e in r["rss"].items():
        trend = f"  {e['start_mb']} → {e['end_mb']} MB ({'flat' if e['flat'] else 'GROWS'})" if "flat" in e else ""
        print(f"     {label:28} x{e['processes']:<3} peak {e['peak_mb']:7} MB{trend}")


def headline(r: dict) -> float:
    """The recorded time: the whole cycle with people; the flow and its events alone without (the
    directory import before it is set-up, not orchestration)."""
    return r["stages_s"]["orchestration"] if r["mode"] == "orchestration" else r["total_s"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000", help="employees per run, comma-separated (smallest first)")
    ap.add_argument("--mode", choices=("people", "orchestration"), default="people")
    ap.add_argument("--threads", type=int, default=24, help="simulated people acting at once")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--rss-every", type=float, default=2.0)
    ap.add_argument("--name", default="kinerja_bench_cycle")
    ap.add_argument("--up-dir", default="var/bench/up-cycle")
    ap.add_argument("--port-base", type=int, default=18600)
    ap.add_argument("--port", type=int, default=18699)
    ap.add_argument("--keep", action="store_true", help="leave the topology running (debugging)")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    try:
        for n in sizes:
            r = run_size(args, n)
            print_result(r)
            results.append(r)
            base = results[0]
            extra = {
                k: r[k]
                for k in ("employees", "stages_s", "flow_runs", "events", "notifications", "rss", "threads", "prefect")
            }
            extra["requests"] = r["requests"]["all"] | {"by_kind": r["requests"]}
            extra["total_s"] = r["total_s"]
            floor = ratio = None
            if r is base and r["employees"] != 1000:  # no smaller size in this run: the latest 1,000 on record
                prior = latest().get(f"cycle.{args.mode}_1000")
                if prior:
                    base = {"employees": 1000, "mode": args.mode, "total_s": prior["value"]}
                    base["stages_s"] = (prior.get("extra") or {}).get("stages_s") or {"orchestration": prior["value"]}
                    extra["floor_record_at"] = prior["at"]
            if r is not base:
                grow = scaling(headline(base), base["employees"], headline(r), r["employees"])
                floor, ratio = grow["floor_s"], round(grow["floor_s"] / headline(r), 3)
                extra |= grow | {"floor_from": f"{base['employees']} employees × {r['employees'] // base['employees']}"}
                say(
                    f"   scaling from {base['employees']}: floor {floor} s, time/floor {grow['time_over_floor']}, "
                    f"2× employees → {grow['doubling_factor']}× time (target ≤ 2.2)"
                )
            target = {
                "people": 600 if r["employees"] == 10000 else None,
                "orchestration": 300 if r["employees"] == 100000 else None,
            }[args.mode]
            record(
                f"cycle.{args.mode}_{r['employees']}",
                headline(r),
                "s",
                floor=floor,
                ratio=ratio,
                target_s=target,
                **extra,
            )
    except BenchError as exc:
        print(f"cycle_bench: broken run: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
