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

This module tells the story in order; the steps live beside it: :mod:`kinerja.demo_runtime` (the
clock, the API caller, the flow runs), :mod:`kinerja.demo_planning` (directory, cycle, SKPs),
:mod:`kinerja.demo_year` (the appraisal year) and :mod:`kinerja.demo_output` (what is printed).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import time
from collections import Counter
from pathlib import Path

import flows  # noqa: F401  (Prefect's quiet, offline defaults: before anything imports Prefect)
from flows.clock import set_clock

from . import sample_agency
from .demo_output import headline, print_summary
from .demo_planning import cascade, draft_plans, import_directory, open_cycle, reporting_lines, submit_and_approve
from .demo_runtime import Api, DemoClock, DemoError, Flows
from .demo_year import run_year
from .embedded import Embedded

__all__ = ["Api", "DemoClock", "DemoError", "run"]

HR_CONTACT = {"name": "Bidang Penilaian Kinerja BKPSDM", "email": "bkpsdm@" + sample_agency.EMAIL_DOMAIN}


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
    summary = headline(summary) | summary
    summary["http_calls"] = api.calls
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print_summary(summary, say)
    say(f"\nRingkasan ditulis ke / summary written to {out_dir / 'summary.json'}")
    return summary


def _run(api: Api, emb: Embedded, seed: int, say, out_dir: Path) -> dict:
    agency = sample_agency.build(seed=seed)
    rng = random.Random(seed)
    admin = api.token(["admin"])
    hr = api.token(["hr"], agency=agency.code, nip=None)
    say(f"Instansi / agency: {agency.name} ({agency.code}), {len(agency.units)} unit, {len(agency.employees)} pegawai")
    import_directory(api, agency, admin, hr)
    cycle = open_cycle(api, hr, say)
    by_nip, reports, order = reporting_lines(agency)

    def person_token(nip):
        roles = ["employee"] + (["supervisor"] if nip in reports else [])
        return api.token(roles, agency=agency.code, nip=nip)

    plans = draft_plans(api, cycle, order, by_nip, person_token, rng)
    submit_and_approve(api, plans, order, reports, by_nip, person_token, hr, rng)
    # what the API says, not what we think we did
    listed = Counter(p["status"] for p in api.all(f"/plans/api/v1/plans?cycle_id={cycle['id']}", hr))
    coverage = cascade(api, plans, reports, person_token)
    events = emb.pump()
    pending = sum(r.pending() for r in emb.relays)
    units_by_kind = Counter(sample_agency.unit_kind(u.code) for u in agency.units)
    # HR's contact for the flow's escalations (an office mailbox: HR has no NIP here)
    api.call("PUT", "/notifications/api/v1/hr-contacts", hr, json_body={"contacts": [HR_CONTACT]})
    flows_ = Flows(emb, hr, say)
    ctx = {
        "agency": agency,
        "plans": plans,
        "person_token": person_token,
        "hr": hr,
        "cycle": cycle,
        "rng": rng,
        "out_dir": out_dir,
        "flows": flows_,
        "daily_logs": 0,
    }
    try:
        review_summary = run_year(api, emb, ctx, say)
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
        "cascade": coverage,
        "events": {"published": events, "pending": pending},
    }
