"""``make demo``: the product's main job on embedded defaults, through the HTTP APIs, with the
cycle driven by the real Prefect flow.

Imports the sample city government (units and ~200 employees), opens a 2026 cycle, drafts
cascaded SKPs for everyone top-down, submits them and has each superior approve (a few are
left returned, submitted or in draft, as in a real office). From there the year alternates:
the people act through the APIs (plans, daily logs, realisations, self-assessments, ratings,
signatures, objections), then ``evaluation_cycle`` runs as a real Prefect flow run (one quiet
ephemeral Prefect API for the whole demo, the simulated clock the services share) and carries
the cycle on as far as the people allow: it opens and closes the stages, sends reminders and
escalations, waits for deadlines (moving the simulated time), runs the calibration check and
closes the cycle with the SIASN step, and reports what is missing. ``survey_aggregation``
closes the public satisfaction campaigns. The flows reach the embedded services in-process
(``httpx.WSGITransport`` registered for :data:`BASE_URL`), with the bus worker relaying and
consuming events while they run. Prints and writes a summary.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import time
from collections import Counter, deque
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from werkzeug.test import Client

import flows  # noqa: F401  (Prefect's quiet, offline defaults: before anything imports Prefect)
from flows.clock import SettableClock, set_clock
from services.common.auth import issue_token

from . import sample_agency
from .embedded import Embedded

JAKARTA = ZoneInfo("Asia/Jakarta")
#: Where the flows find the services in the demo: no server, an in-process transport (see :class:`Flows`).
BASE_URL = "http://kinerja.demo"
#: Reminders 3 days and 1 day before each deadline (the flow's parameter; production uses 7, 3, 1).
REMINDER_DAYS = [3, 1]
HR_CONTACT = {"name": "Bidang Penilaian Kinerja BKPSDM", "email": "bkpsdm@" + sample_agency.EMAIL_DOMAIN}
EXPECTATIONS = {
    "berorientasi_pelayanan": "Memahami dan memenuhi kebutuhan masyarakat; ramah, cekatan, solutif.",
    "akuntabel": "Melaksanakan tugas dengan jujur, bertanggung jawab, cermat, disiplin dan berintegritas.",
    "kompeten": "Terus belajar dan mengembangkan kapabilitas; membantu orang lain belajar.",
    "harmonis": "Menghargai setiap orang apa pun latar belakangnya; membangun lingkungan kerja yang kondusif.",
    "loyal": "Berdedikasi dan mengutamakan kepentingan bangsa dan negara; menjaga nama baik instansi.",
    "adaptif": "Cepat menyesuaikan diri menghadapi perubahan; terus berinovasi dengan antusias.",
    "kolaboratif": "Memberi kesempatan kepada berbagai pihak untuk berkontribusi; terbuka bekerja sama.",
}


class DemoError(RuntimeError):
    pass


def at(y, m, d, hour=9) -> datetime:
    """A Jakarta wall-clock moment, in UTC."""
    return datetime(y, m, d, hour, tzinfo=JAKARTA).astimezone(timezone.utc)


class DemoClock(SettableClock):
    """The demo's injectable clock, shared by the services and the flows (``flows.clock.set_clock``):
    the year 2026 runs in seconds. The flows move it while they wait for deadlines; the demo moves it
    only forwards, to when the people act."""

    def __init__(self):
        super().__init__(at(2026, 1, 5))

    def forward_to(self, when: datetime) -> None:
        if when > self():
            self.set(when)

    def today(self) -> date:
        return self().astimezone(JAKARTA).date()


class Api:
    def __init__(self, wsgi, secret: str):
        self.client = Client(wsgi)
        self.secret = secret
        self.calls = 0

    def token(self, roles, agency=None, nip=None):
        return issue_token(self.secret, roles=list(roles), agency=agency, nip=nip, sub=nip)

    def call(
        self, method, path, token, *, json_body=None, data=None, content_type=None, expect=(200, 201), headers=None
    ):
        h = {"Authorization": f"Bearer {token}", **(headers or {})}
        resp = self.client.open(path, method=method, json=json_body, data=data, content_type=content_type, headers=h)
        self.calls += 1
        if resp.status_code not in expect:
            raise DemoError(f"{method} {path} → {resp.status_code}: {resp.get_data(as_text=True)[:800]}")
        return resp.get_json(silent=True), resp


class Flows:
    """The demo's flow runs: real Prefect flow runs (against the one API the demo opened) of the
    flows in :mod:`flows`, reaching the embedded services in-process through a transport
    registered for :data:`BASE_URL`. While a flow runs, the bus worker relays and consumes events
    in the background (the reviews service opens evaluations from the plans service's stage
    events, the notifications service turns reminders into inbox entries and e-mails); after
    it, the bus is pumped quiet so that the people act on a settled state."""

    def __init__(self, emb: Embedded, hr_token: str, say):
        import httpx

        from flows.client import register_transport

        self.emb, self.hr_token, self.say = emb, hr_token, say
        self.runs: list[dict] = []
        register_transport(BASE_URL, httpx.WSGITransport(app=emb.wsgi))

    def close(self) -> None:
        from flows.client import register_transport

        register_transport(BASE_URL, None)

    @contextlib.contextmanager
    def _bus_running(self):
        emb = self.emb
        emb.start_worker()
        try:
            yield
        finally:
            emb.job_runner.stop()
            emb.worker.stop()
            emb.worker = emb.job_runner = None
            emb.pump()

    def run(self, flow, **params) -> dict:
        from flows.runner import run_flow

        prior = os.environ.get("KINERJA_TOKEN")
        os.environ["KINERJA_TOKEN"] = self.hr_token  # the flows take the token from here, never a stored parameter
        started = time.perf_counter()
        try:
            with self._bus_running():
                state = run_flow(flow, base_url=BASE_URL, clock="simulated", return_state=True, **params)
        finally:
            if prior is None:
                os.environ.pop("KINERJA_TOKEN", None)
            else:
                os.environ["KINERJA_TOKEN"] = prior
        result = state.result(raise_on_failure=False)
        if not state.is_completed():
            raise DemoError(f"flow run {flow.name} ended {state.name}: {result}")
        self.runs.append(
            {
                "flow": flow.name,
                "flow_run_id": str(state.state_details.flow_run_id),
                "state": state.name,
                "seconds": round(time.perf_counter() - started, 2),
            }
        )
        return result

    def cycle(self, cycle_id: int, until: str | None = None) -> dict:
        """One run of ``evaluation_cycle``: as far as the people allow (or ``until``)."""
        from flows.cycle import evaluation_cycle

        report = self.run(evaluation_cycle, cycle_id=cycle_id, until=until, reminder_days=REMINDER_DAYS)
        sent = sum(r["created"] for r in report["reminders"].values())
        escalated = sum(report["escalations"].values())
        self.runs[-1].update(
            status=report["status"],
            cycle_state=report["state"],
            stage_changes=sum(1 for step in report["steps"] if " → " in step),
            reminders_sent=sent,
            escalations=escalated,
            missing=sorted(report["missing"]),
        )
        day = self.emb.clock().astimezone(JAKARTA).strftime("%Y-%m-%d")
        self.say(
            f"  [alur {len(self.runs)}] evaluation-cycle {self.runs[-1]['state']}: {report['status']} di/at "
            f"{report['state']} ({day}); {self.runs[-1]['stage_changes']} perpindahan tahap / stage changes, "
            f"{sent} pengingat / reminders, {escalated} eskalasi / escalations"
        )
        for warning in report["warnings"]:
            self.say(f"      catatan / note: {warning}")
        return report

    def surveys(self) -> dict:
        from flows.surveys import survey_aggregation

        report = self.run(survey_aggregation)
        self.runs[-1].update(status="closed", campaigns_closed=len(report["closed"]))
        self.say(
            f"  [alur {len(self.runs)}] survey-aggregation {self.runs[-1]['state']}: {len(report['closed'])} "
            "kampanye ditutup, IKM terbit / campaigns closed, IKM published"
        )
        return report


def run(out_dir: Path = Path("var/demo"), seed: int = 2026, quiet: bool = False) -> dict:
    started = time.perf_counter()
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    say = (lambda *a: None) if quiet else print
    # the demo prints what the flow runs report; Prefect's console shows only errors (its run logs
    # still go to the Prefect API, as in production)
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "ERROR")
    from flows.runner import ephemeral_api

    clock = DemoClock()
    set_clock(clock)
    emb = Embedded(env={"KINERJA_VAR": str(out_dir)}, clock=clock)
    emb.clock = clock
    api = Api(emb.wsgi, emb.platform("plans").config.jwt_secret)
    try:
        # one Prefect API for every flow run of the demo, started while the people write their plans
        # (a first run creates its database: minutes on a busy machine, so a generous timeout)
        with (
            contextlib.nullcontext()
            if os.environ.get("PREFECT_API_URL")
            else ephemeral_api(startup_timeout=300, background=True)
        ):
            summary = _run(api, emb, seed, say, out_dir)
    finally:
        set_clock(None)
        emb.close()
    summary["elapsed_seconds"] = round(time.perf_counter() - started, 2)
    summary = _headline(summary) | summary
    summary["http_calls"] = api.calls
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _print(summary, say)
    say(f"\nRingkasan ditulis ke / summary written to {out_dir / 'summary.json'}")
    return summary


def _run(api: Api, emb: Embedded, seed: int, say, out_dir: Path) -> dict:
    agency = sample_agency.build(seed=seed)
    rng = random.Random(seed)
    admin = api.token(["admin"])
    hr = api.token(["hr"], agency=agency.code, nip=None)
    say(f"Instansi / agency: {agency.name} ({agency.code}), {len(agency.units)} unit, {len(agency.employees)} pegawai")
    api.call("POST", "/plans/api/v1/agencies", admin, json_body={"code": agency.code, "name": agency.name})
    for kind, text in (("units", sample_agency.units_csv(agency)), ("employees", sample_agency.employees_csv(agency))):
        report, _ = api.call(
            "POST",
            f"/plans/api/v1/directory/import?kind={kind}&dry_run=true",
            hr,
            data=text.encode(),
            content_type="text/csv",
        )
        if report["errors"]:
            raise DemoError(f"sample {kind} do not import: {report['errors'][:3]}")
        api.call("POST", f"/plans/api/v1/directory/import?kind={kind}", hr, data=text.encode(), content_type="text/csv")
    cycle, _ = api.call(
        "POST",
        "/plans/api/v1/cycles",
        hr,
        json_body={"year": 2026, "period_type": "quarterly", "planning_deadline": "2026-01-31"},
    )
    cycle, _ = api.call("POST", f"/plans/api/v1/cycles/{cycle['id']}/advance", hr, json_body={"expected": "draft"})
    say(
        f"Periode penilaian / cycle {cycle['name']}: tahap {cycle['state']}, {len(cycle['periods'])} periode "
        f"({', '.join(p['name_id'] for p in cycle['periods'])})"
    )

    by_nip = {e.nip: e for e in agency.employees}
    reports: dict[str, list[str]] = {}
    for e in agency.employees:
        if e.superior_nip:
            reports.setdefault(e.superior_nip, []).append(e.nip)
    roots = [e.nip for e in agency.employees if not e.superior_nip]
    order, queue = [], deque(roots)
    while queue:  # top-down, so every superior's RHK exist before their staff cascade from them
        nip = queue.popleft()
        order.append(nip)
        queue.extend(reports.get(nip, []))

    def person_token(nip):
        roles = ["employee"] + (["supervisor"] if nip in reports else [])
        return api.token(roles, agency=agency.code, nip=nip)

    plans: dict[str, dict] = {}
    for nip in order:
        e = by_nip[nip]
        rhk = []
        if e.is_head or not e.superior_nip:
            for i, goal in enumerate(sample_agency.head_goals(e.unit_code)[:3]):
                item = sample_agency.rhk_for(e.position, e.unit_code, goal, rng)
                rhk.append(
                    {
                        "kind": "utama" if i < 2 else "tambahan",
                        "description": item["description"],
                        "organisation_goal": goal,
                        "iki": item["iki"],
                    }
                )
            sup_plan = plans.get(e.superior_nip) if e.superior_nip else None
            if sup_plan:  # heads below the root also support their superior's RHK
                for i, r in enumerate(rhk):
                    r["parent_rhk_id"] = sup_plan["rhk"][i % len(sup_plan["rhk"])]["id"]
        else:
            sup_rhk = plans[e.superior_nip]["rhk"]
            picks = rng.sample(sup_rhk, k=min(len(sup_rhk), rng.choice((1, 2, 2, 3))))
            for i, parent in enumerate(picks):
                item = sample_agency.rhk_for(e.position, e.unit_code, parent["description"], rng)
                rhk.append(
                    {
                        "kind": "utama" if i == 0 else rng.choice(("utama", "tambahan")),
                        "description": item["description"],
                        "parent_rhk_id": parent["id"],
                        "iki": item["iki"],
                    }
                )
        for r in rhk:  # satisfaction indicators take the unit's survey index (IKM) as realisation
            for i in r["iki"]:
                if "kepuasan" in i["indicator"].lower():
                    i["satisfaction_unit_code"] = e.unit_code
        body = {
            "cycle_id": cycle["id"],
            "approach": "kuantitatif",
            "rhk": rhk,
            "behaviour": dict(EXPECTATIONS),
            "annex": {
                "resources": "Anggaran DPA unit, sarana kantor, aplikasi e-Kinerja.",
                "accountability": "Laporan bulanan kepada atasan langsung.",
                "consequences": "Sesuai ketentuan penilaian kinerja PermenPANRB 6/2022.",
            },
        }
        plan, _ = api.call(
            "POST",
            "/plans/api/v1/plans",
            person_token(nip),
            json_body=body,
            headers={"Idempotency-Key": f"demo-plan-{nip}"},
        )
        plans[nip] = plan

    # submission and approval, top-down; a few stay behind as in a real office
    states = Counter()
    for idx, nip in enumerate(order):
        plan = plans[nip]
        fate = (
            "approve"
            if nip in reports or idx < 5
            else rng.choices(("approve", "draft", "submitted", "returned"), weights=(88, 4, 5, 3))[0]
        )
        if fate == "draft":
            states["draft"] += 1
            continue
        plan, _ = api.call("POST", f"/plans/api/v1/plans/{plan['id']}/submit", person_token(nip))
        sup = by_nip[nip].superior_nip
        approver = person_token(sup) if sup else hr
        if fate == "submitted":
            states["submitted"] += 1
        elif fate == "returned":
            api.call(
                "POST",
                f"/plans/api/v1/plans/{plan['id']}/return",
                approver,
                json_body={"note": "Target kuantitas belum realistis; sesuaikan dengan data tahun lalu."},
            )
            states["returned"] += 1
        else:
            plan, _ = api.call("POST", f"/plans/api/v1/plans/{plan['id']}/approve", approver)
            states["approved"] += 1
        plans[nip] = plan

    # what the API says, not what we think we did
    listed = Counter()
    cursor = None
    while True:
        q = f"/plans/api/v1/plans?cycle_id={cycle['id']}&limit=200" + (f"&cursor={cursor}" if cursor else "")
        page, _ = api.call("GET", q, hr)
        listed.update(p["status"] for p in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    supported = total_rhk = idle = without = 0
    ratios = []
    for nip in reports:
        cov, _ = api.call("GET", f"/plans/api/v1/plans/{plans[nip]['id']}/coverage", person_token(nip))
        total_rhk += len(cov["rhk"])
        supported += sum(1 for r in cov["rhk"] if r["supported_by"])
        idle += len(cov["idle_subordinates"])
        without += len(cov["subordinates_without_plan"])
        ratios.append(cov["ratio"])
    events = emb.pump()
    pending = sum(r.pending() for r in emb.relays)
    units_by_kind = Counter(sample_agency.unit_kind(u.code) for u in agency.units)
    # HR's contact for the flow's escalations (an office mailbox: HR has no NIP here)
    api.call("PUT", "/notifications/api/v1/hr-contacts", hr, json_body={"contacts": [HR_CONTACT]})
    flows_ = Flows(emb, hr, say)
    ctx = {
        "agency": agency,
        "plans": plans,
        "reports": reports,
        "order": order,
        "by_nip": by_nip,
        "person_token": person_token,
        "hr": hr,
        "cycle": cycle,
        "rng": rng,
        "out_dir": out_dir,
        "flows": flows_,
        "daily_logs": 0,
    }
    try:
        review_summary = _run_reviews(api, emb, ctx, say)
    finally:
        flows_.close()
    cycle, _ = api.call("GET", f"/plans/api/v1/cycles/{cycle['id']}", hr)
    return {
        "flow_runs": flows_.runs,
        "daily_logs": ctx["daily_logs"],
        "reviews": review_summary,
        "agency": {
            "code": agency.code,
            "name": agency.name,
            "units": len(agency.units),
            "employees": len(agency.employees),
            "unit_kinds": dict(units_by_kind),
        },
        "cycle": {
            "id": cycle["id"],
            "name": cycle["name"],
            "state": cycle["state"],
            "periods": [p["name_id"] for p in cycle["periods"]],
        },
        "plans_by_status": dict(sorted(listed.items())),
        "cascade": {
            "supervisors": len(reports),
            "superior_rhk": total_rhk,
            "superior_rhk_supported": supported,
            "coverage_percent": round(100 * supported / total_rhk, 1) if total_rhk else 0.0,
            "supervisors_fully_covered": sum(1 for r in ratios if r == 1.0),
            "idle_subordinates": idle,
            "subordinates_without_plan": without,
        },
        "events": {"published": events, "pending": pending},
    }


LOWER_IS_BETTER = ("waktu", "biaya")
ORG_RESULTS = ("ISTIMEWA", "BAIK", "BAIK", "BAIK", "BUTUH_PERBAIKAN")


def _run_reviews(api: Api, emb: Embedded, ctx: dict, say) -> dict:
    """The appraisal year, driven by the flow: between its runs the people record daily logs and
    realisations, survey the public, self-assess, rate, sign and object; each run carries the cycle
    on as far as they allow."""
    agency, plans, hr, rng = ctx["agency"], ctx["plans"], ctx["hr"], ctx["rng"]
    token = ctx["person_token"]
    cid = ctx["cycle"]["id"]
    flows_: Flows = ctx["flows"]
    clock: DemoClock = emb.clock
    R = "/reviews/api/v1"
    approved = {nip: p for nip, p in plans.items() if p["status"] == "approved"}

    say("\nAlur Prefect / Prefect flow runs (waktu simulasi / simulated time):")
    # planning closes late (reminders, escalations), then Q1–Q3 pass: nobody fills in the periodic
    # evaluations, so the flow reminds, escalates and closes each phase at its deadline
    flows_.cycle(cid, until="monitoring:4:check_in")
    periodic = _all(api, f"{R}/evaluations?cycle_id={cid}&period_seq=1", hr)
    _daily_logs(api, ctx, clock.today())
    surveys = _run_surveys(api, emb, ctx, say)
    realised = 0
    for nip, plan in approved.items():  # cumulative realisation at year end: each employee's whole form at once
        form = []
        for r in plan["rhk"]:
            for i in r["iki"]:
                if i.get("satisfaction_unit_code") and i["satisfaction_unit_code"] in surveys["units"]:
                    continue  # recorded from the unit's survey index
                factor = max(0.3, rng.gauss(1.07, 0.06))
                value = i["target_value"] / factor if i["aspect"] in LOWER_IS_BETTER else i["target_value"] * factor
                form.append(
                    {
                        "iki_id": i["id"],
                        "period_seq": 4,
                        "value": round(value, 1),
                        "note": "Rekap laporan bulanan Januari–Desember.",
                        "links": ["https://e-kinerja.example.go.id/bukti/" + i["id"][:8]],
                    }
                )
        if form:
            recorded, _ = api.call(
                "POST", f"/plans/api/v1/plans/{plan['id']}/realisations:batch", token(nip), json_body=form
            )
            realised += len(recorded)
    emb.pump()
    # Q4 closes (its periodic evaluations as the others), the annual evaluation opens
    flows_.cycle(cid, until="annual_evaluation")
    evs = _all(api, f"{R}/evaluations?cycle_id={cid}&period_seq=0", hr)
    say(
        f"Triwulan I: {len(periodic)} evaluasi periodik / periodic evaluations; evaluasi tahunan dibuka / annual "
        f"evaluations opened: {len(evs)} (realisasi dicatat / realisations recorded: {realised})"
    )
    _daily_logs(api, ctx, clock.today())
    for u in agency.units:  # the head one level up sets each unit's organisation result (here: HR)
        api.call(
            "PUT",
            f"{R}/org-results",
            hr,
            json_body={"cycle_id": cid, "period_seq": 0, "unit_code": u.code, "result": rng.choice(ORG_RESULTS)},
        )
    for ev in evs:
        api.call(
            "POST",
            f"{R}/evaluations/{ev['id']}/self-assessment/submit",
            token(ev["employee_nip"]),
            json_body={
                "achievements": "Target utama tercapai; laporan diunggah tepat waktu.",
                "challenges": "Keterbatasan anggaran dan data dari kecamatan.",
                "improvement_plan": "Menyusun jadwal pengumpulan data lebih awal.",
            },
        )
    deviations = 0
    for ev in evs:
        penilai = token(ev["penilai_nip"]) if ev["penilai_nip"] else hr
        sug, _ = api.call("GET", f"{R}/evaluations/{ev['id']}/suggestion", penilai)
        hasil = sug["rating"] or "meets"
        body = {
            "rating_hasil": hasil,
            "rating_perilaku": rng.choices(("above", "meets", "below"), (2, 7, 1))[0],
            "iki_feedback": {i["id"]: "Sesuai bukti dukung." for r in sug["rhk"] for i in r["iki"]},
            "notes": "Pertahankan kinerja dan dokumentasi bukti dukung.",
        }
        if rng.random() < 0.05 or sug["rating"] is None:
            body["rating_hasil"] = "meets" if hasil != "meets" else "above"
            body["deviation_reason"] = "Pertimbangan kualitas pekerjaan di luar indikator."
            deviations += 1
        _, resp = api.call("GET", f"{R}/evaluations/{ev['id']}", penilai)
        api.call(
            "PUT",
            f"{R}/evaluations/{ev['id']}/rating",
            penilai,
            json_body=body,
            headers={"If-Match": resp.headers["ETag"]},
        )
    # every annual evaluation rated: the flow moves on to calibration and checks the curve; it
    # never overrides, so a unit breaking it stops the run until HR decides
    calibrating = flows_.cycle(cid, until="sign_off")
    cal, _ = api.call("GET", f"{R}/calibration?cycle_id={cid}&period_seq=0", hr)
    violating = [u for u in cal["units"] if u["violations"]]
    blocked = (calibrating["missing"].get("calibration") or {}).get("units_breaking_the_curve", [])
    if calibrating["status"] == "blocked":
        say(
            f"      kalibrasi / calibration: {len(blocked)} unit melanggar kurva / units break the curve "
            f"({', '.join(blocked)}); HR memutuskan / HR decides"
        )
        for code in blocked:  # HR decides: keep the penilai's ratings, on the record
            api.call(
                "POST",
                f"{R}/calibration/overrides",
                hr,
                json_body={
                    "cycle_id": cid,
                    "period_seq": 0,
                    "unit_code": code,
                    "reason": "Unit kecil; distribusi ditinjau bersama pimpinan dan dipertahankan.",
                },
            )
        flows_.cycle(cid, until="sign_off")
    for ev in evs:
        api.call("POST", f"{R}/evaluations/{ev['id']}/sign", token(ev["penilai_nip"]) if ev["penilai_nip"] else hr)
        api.call("POST", f"{R}/evaluations/{ev['id']}/acknowledge", token(ev["employee_nip"]))
        api.call("POST", f"{R}/evaluations/{ev['id']}/countersign", token(ev["atasan_nip"]) if ev["atasan_nip"] else hr)
    flows_.cycle(cid, until="objections")  # everything countersigned: the objection window opens
    final = _all(api, f"{R}/evaluations?cycle_id={cid}&period_seq=0", hr)
    low = sorted(
        (e for e in final if e["predikat"] in ("BUTUH_PERBAIKAN", "KURANG_MISCONDUCT", "SANGAT_KURANG")),
        key=lambda e: e["employee_nip"],
    )[:3]
    decisions = Counter()
    for n, ev in enumerate(low):
        obj, _ = api.call(
            "POST",
            f"{R}/evaluations/{ev['id']}/objections",
            token(ev["employee_nip"]),
            json_body={"reasons": "Bukti dukung kegiatan triwulan IV belum dipertimbangkan dalam penilaian."},
        )
        who = token(ev["atasan_nip"]) if ev["atasan_nip"] else hr
        body = (
            {"decision": "changed", "reason": "Bukti dukung sah.", "rating_hasil": "meets", "rating_perilaku": "meets"}
            if n == 0
            else {"decision": "upheld", "reason": "Penilaian sesuai bukti."}
        )
        api.call("POST", f"{R}/objections/{obj['id']}/decide", who, json_body=body)
        decisions[body["decision"]] += 1
    # the window passes (the flow waits for it), every objection decided: the cycle closes, SIASN step
    closing = flows_.cycle(cid)
    if closing["status"] != "closed":
        raise DemoError(
            f"the flow did not close the cycle: {closing['status']} at {closing['state']}: {closing['detail']}"
        )
    final = _all(api, f"{R}/evaluations?cycle_id={cid}&period_seq=0", hr)
    followups = _all(api, f"{R}/followups?cycle_id={cid}", hr)
    consistency, _ = api.call("GET", f"{R}/rater-consistency?cycle_id={cid}&period_seq=0", hr)
    raters = consistency["raters"]
    emb.pump()
    notifications = _notification_counts(api)
    from .http import Client
    from .report import build_report

    report = build_report(Client(token=hr, wsgi=emb.wsgi), cid, ctx["out_dir"] / "report", pdf=True, documents=5)
    say(f"Laporan HR / HR report: {report['html']}, {report['pdf']} (+{len(report['documents'])} dokumen evaluasi)")
    return {
        "report": {
            "html": str(report["html"]),
            "pdf": str(report["pdf"]),
            "documents": [str(p) for p in report["documents"]],
        },
        "notifications": notifications,
        "surveys": surveys,
        "periodic_evaluations_opened": len(periodic),
        "annual_evaluations": len(final),
        "realisations_recorded": realised,
        "status": dict(Counter(e["status"] for e in final)),
        "predikat": dict(sorted(Counter(e["predikat"] for e in final).items())),
        "ratings_departing_from_suggestion": deviations,
        "calibration": {
            "units": len(cal["units"]),
            "units_in_violation": len(violating),
            "violations": sum(len(u["violations"]) for u in violating),
            "blocked_by_flow": blocked if calibrating["status"] == "blocked" else [],
            "overrides": len(blocked) if calibrating["status"] == "blocked" else 0,
        },
        "objections": {"filed": len(low), **decisions},
        "predikat_by_unit": _by_unit(final),
        "followups": dict(Counter(f["kind"] for f in followups)),
        "most_lenient_penilai": raters[0]["penilai_nip"] if raters else None,
        "most_severe_penilai": raters[-1]["penilai_nip"] if raters else None,
    }


def _run_surveys(api: Api, emb: Embedded, ctx: dict, say) -> dict:
    """Each health centre surveys its patients in Q4 (SKM); closing a campaign publishes its IKM,
    which the plans service records as the realisation of the mapped satisfaction IKI."""
    agency, hr, rng = ctx["agency"], ctx["hr"], ctx["rng"]
    S = "/surveys/api/v1"
    units = [
        u
        for u in agency.units
        if sample_agency.unit_kind(u.code) in ("puskesmas", "disdukcapil") or u.code.startswith("UPT")
    ]
    results, campaigns = {}, {}
    for n, u in enumerate(units):
        campaign, _ = api.call(
            "POST",
            f"{S}/campaigns",
            hr,
            json_body={
                "unit_code": u.code,
                "unit_name": u.name,
                "service_type": "Pelayanan umum",
                "title": f"Survei Kepuasan Masyarakat {u.name} Triwulan IV 2026",
                "start_date": "2026-10-01",
                "end_date": "2026-12-15",
                "population": 1500 + 500 * n,
            },
        )
        api.call("POST", f"{S}/campaigns/{campaign['id']}/open", hr)
        mood = rng.uniform(2.7, 3.6)  # each unit's typical answer
        answers = [
            {
                "answers": {
                    f"U{k}": max(1, min(4, round(rng.gauss(mood + (0.3 if k == 4 else 0), 0.6)))) for k in range(1, 10)
                },
                "profile": {"age": rng.randint(18, 75), "sex": rng.choice(("male", "female"))},
                "suggestion": rng.choice(
                    (None, None, "Antrian pagi terlalu panjang.", "Petugas ramah, ruang tunggu perlu kipas.")
                ),
            }
            for _ in range(campaign["min_sample"] + 10)
        ]
        for i in range(0, len(answers), 200):
            api.call("POST", f"{S}/campaigns/{campaign['id']}/responses:batch", hr, json_body=answers[i : i + 200])
        campaigns[u.code] = campaign
    # the campaigns end on 15 December; the next day the aggregation flow closes them (closing
    # publishes their IKM, which the plans service records as the satisfaction IKI's realisation)
    emb.clock.forward_to(at(2026, 12, 16))
    aggregated = ctx["flows"].surveys()
    for code, campaign in campaigns.items():
        if campaign["id"] not in aggregated["closed"]:
            raise DemoError(f"the survey aggregation flow did not close campaign {campaign['id']} ({code})")
        ikm, _ = api.call("GET", f"{S}/campaigns/{campaign['id']}/ikm", hr)
        results[code] = {
            "campaign": campaign["id"],
            "respondents": ikm["respondents"],
            "minimum_sample": campaign["min_sample"],
            "ikm_unit": ikm["ikm_unit"],
            "mutu": ikm["mutu"],
            "kinerja": ikm["kinerja"],
        }
    fed = 0  # what the plans API now shows: satisfaction IKI realised from the survey index
    for nip, plan in ctx["plans"].items():
        if any(i.get("satisfaction_unit_code") in results for r in plan["rhk"] for i in r["iki"]):
            rows, _ = api.call(
                "GET", f"/plans/api/v1/plans/{plan['id']}/realisations?period_seq=4", ctx["person_token"](nip)
            )
            fed += sum(1 for row in rows if row["source"] == "surveys.ikm")
    say(
        "Survei kepuasan masyarakat / public satisfaction (IKM): "
        + ", ".join(f"{code} {r['ikm_unit']} ({r['mutu']})" for code, r in results.items())
        + f"; {fed} IKI kepuasan terisi dari IKM"
    )
    return {"units": results, "satisfaction_iki_realised_from_ikm": fed}


DAILY_ACTIVITIES = (
    "Menyusun laporan kegiatan mingguan dan mengunggah bukti dukung.",
    "Rapat koordinasi dengan bidang terkait membahas capaian target.",
    "Verifikasi dan input data layanan ke aplikasi.",
    "Pelayanan konsultasi kepada masyarakat di loket.",
    "Penyusunan bahan paparan untuk pimpinan.",
    "Monitoring lapangan dan dokumentasi kegiatan.",
)


def _daily_logs(api: Api, ctx: dict, until: date) -> None:
    """Daily logs (the plans service's ``/daily-logs``): a fixed set of employees (one in sixteen with
    an approved SKP) writes an entry every other Thursday since their last entry, up to ``until``,
    linked to one of their IKI. There is no batch endpoint: one POST per entry, so the demo keeps
    the count modest."""
    writers = ctx.setdefault(
        "log_writers", sorted(n for n, p in ctx["plans"].items() if p["status"] == "approved")[::16]
    )
    rng = ctx["rng"]
    until = min(until, date(2026, 12, 31))  # the cycle's year: a log links to an IKI of the 2026 SKP
    day = ctx.get("logs_until", date(2026, 2, 2))
    while day <= until:
        if day.weekday() == 3 and day.isocalendar().week % 2 == 0:
            for nip in writers:
                ikis = [i["id"] for r in ctx["plans"][nip]["rhk"] for i in r["iki"]]
                api.call(
                    "POST",
                    "/plans/api/v1/daily-logs",
                    ctx["person_token"](nip),
                    json_body={
                        "date": day.isoformat(),
                        "activity": rng.choice(DAILY_ACTIVITIES),
                        "minutes": rng.choice((60, 90, 120, 180, 240)),
                        "iki_id": rng.choice(ikis),
                    },
                )
                ctx["daily_logs"] += 1
        day += timedelta(days=1)
    ctx["logs_until"] = day


def _by_unit(evaluations: list[dict]) -> dict:
    out: dict[str, dict[str, int]] = {}
    for e in evaluations:
        if e["predikat"]:
            unit = out.setdefault(e["unit_code"], {})
            unit[e["predikat"]] = unit.get(e["predikat"], 0) + 1
    return dict(sorted(out.items()))


def _headline(summary: dict) -> dict:
    """The keys an HR reader (and a script) looks for first."""
    r = summary["reviews"]
    return {
        "employees": summary["agency"]["employees"],
        "plans": summary["plans_by_status"],
        "evaluations": r["status"],
        "predikat": r["predikat_by_unit"],
        "objections": {k: v for k, v in r["objections"].items() if k != "filed"} | {"filed": r["objections"]["filed"]},
        "ikm": [
            {
                "campaign": v["campaign"],
                "unit": unit,
                "respondents": v["respondents"],
                "ikm_unit": v["ikm_unit"],
                "mutu": v["mutu"],
            }
            for unit, v in r["surveys"]["units"].items()
        ],
        "notifications": {
            ch: sum(v.values()) if ch != "email" else v.get("queued", 0) for ch, v in r["notifications"].items()
        },
        "flow_runs": summary["flow_runs"],
        "daily_logs": summary["daily_logs"],
        "seconds": summary["elapsed_seconds"],
    }


def _notification_counts(api: Api) -> dict:
    """Deliveries per channel and status, as the notifications service's /metrics counts them."""
    resp = api.client.get("/notifications/metrics")
    counts: dict[str, dict[str, int]] = {}
    for line in resp.get_data(as_text=True).splitlines():
        if line.startswith("kinerja_notifications_deliveries_total{"):
            labels = dict(part.split("=", 1) for part in line[line.index("{") + 1 : line.index("}")].split(","))
            channel, status = labels["channel"].strip('"'), labels["status"].strip('"')
            counts.setdefault(channel, {})[status] = int(float(line.rsplit(" ", 1)[1]))
    return counts


def _all(api: Api, path: str, token: str) -> list[dict]:
    items, cursor = [], None
    while True:
        page, _ = api.call("GET", path + "&limit=200" + (f"&cursor={cursor}" if cursor else ""), token)
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def _print(summary: dict, say) -> None:
    say("\nSKP per status / plans by status:")
    for status, n in summary["plans_by_status"].items():
        say(f"  {status:<10} {n:>4}  {'█' * max(1, round(n / 5))}")
    c = summary["cascade"]
    say(
        f"\nCascading (RHK pimpinan yang diintervensi): {c['superior_rhk_supported']}/{c['superior_rhk']} RHK atasan "
        f"didukung ({c['coverage_percent']} %), {c['supervisors_fully_covered']}/{c['supervisors']} atasan penuh"
    )
    say(
        f"  bawahan tanpa dukungan / idle subordinates: {c['idle_subordinates']}; "
        f"belum punya SKP / without plan: {c['subordinates_without_plan']}"
    )
    r = summary["reviews"]
    say(
        f"\nPenilaian tahunan / annual evaluations: {r['annual_evaluations']} "
        f"({', '.join(f'{k} {v}' for k, v in r['status'].items())})"
    )
    for predikat, n in r["predikat"].items():
        say(f"  {predikat:<18} {n:>4}  {'█' * max(1, round(n / 5))}")
    c = r["calibration"]
    say(
        f"Kalibrasi / calibration: {c['units_in_violation']}/{c['units']} unit melanggar kurva "
        f"({c['violations']} pelanggaran), {c['overrides']} pengecualian HR / overrides"
    )
    o = r["objections"]
    say(f"Keberatan / objections: {o['filed']} diajukan, {o.get('changed', 0)} diubah, {o.get('upheld', 0)} ditolak")
    say(f"Tindak lanjut / follow-up: {r['followups']}")
    n = r["notifications"]
    say(
        "Notifikasi / notifications: "
        + ", ".join(
            f"{ch} {sum(v.values())} ({', '.join(f'{k} {c}' for k, c in sorted(v.items()))})"
            for ch, v in sorted(n.items())
        )
    )
    runs = summary["flow_runs"]
    states = ", ".join(f"{k} {v}" for k, v in Counter(r["state"] for r in runs).items())
    say(f"Alur Prefect / flow runs: {len(runs)} ({states}); siklus / cycle: {summary['cycle']['state']}")
    say(f"Catatan harian / daily logs: {summary['daily_logs']}")
    say(f"\nPeristiwa / events published: {summary['events']['published']} (pending {summary['events']['pending']})")
    say(f"Waktu / time: {summary['elapsed_seconds']} s, {summary['http_calls']} HTTP calls")
