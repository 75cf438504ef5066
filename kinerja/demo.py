"""``make demo``: the product's main job on embedded defaults, through the HTTP APIs.

Imports the sample city government (units and ~200 employees), opens a 2026 cycle, drafts
cascaded SKPs for everyone top-down, submits them and has each superior approve (a few are
left returned, submitted or in draft, as in a real office), then prints and writes a summary.
"""
from __future__ import annotations

import json
import random
import shutil
import time
from collections import Counter, deque
from pathlib import Path

from werkzeug.test import Client

from services.common.auth import issue_token
from services.plans.domain import BERAKHLAK

from . import sample_agency
from .embedded import Embedded

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


class Api:
    def __init__(self, wsgi, secret: str):
        self.client = Client(wsgi)
        self.secret = secret
        self.calls = 0

    def token(self, roles, agency=None, nip=None):
        return issue_token(self.secret, roles=list(roles), agency=agency, nip=nip, sub=nip)

    def call(self, method, path, token, *, json_body=None, data=None, content_type=None, expect=(200, 201),
             headers=None):
        h = {"Authorization": f"Bearer {token}", **(headers or {})}
        resp = self.client.open(path, method=method, json=json_body, data=data, content_type=content_type, headers=h)
        self.calls += 1
        if resp.status_code not in expect:
            raise DemoError(f"{method} {path} → {resp.status_code}: {resp.get_data(as_text=True)[:800]}")
        return resp.get_json(silent=True), resp


def run(out_dir: Path = Path("var/demo"), seed: int = 2026, quiet: bool = False) -> dict:
    started = time.perf_counter()
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    say = (lambda *a: None) if quiet else print
    emb = Embedded(env={"KINERJA_VAR": str(out_dir)})
    try:
        api = Api(emb.wsgi, emb.platform("plans").config.jwt_secret)
        summary = _run(api, emb, seed, say)
    finally:
        emb.close()
    summary["elapsed_seconds"] = round(time.perf_counter() - started, 2)
    summary["http_calls"] = api.calls
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _print(summary, say)
    say(f"\nRingkasan ditulis ke / summary written to {out_dir / 'summary.json'}")
    return summary


def _run(api: Api, emb: Embedded, seed: int, say) -> dict:
    agency = sample_agency.build(seed=seed)
    rng = random.Random(seed)
    admin = api.token(["admin"])
    hr = api.token(["hr"], agency=agency.code, nip=None)
    say(f"Instansi / agency: {agency.name} ({agency.code}), {len(agency.units)} unit, {len(agency.employees)} pegawai")
    api.call("POST", "/plans/api/v1/agencies", admin, json_body={"code": agency.code, "name": agency.name})
    for kind, text in (("units", sample_agency.units_csv(agency)), ("employees", sample_agency.employees_csv(agency))):
        report, _ = api.call("POST", f"/plans/api/v1/directory/import?kind={kind}&dry_run=true", hr,
                             data=text.encode(), content_type="text/csv")
        if report["errors"]:
            raise DemoError(f"sample {kind} do not import: {report['errors'][:3]}")
        api.call("POST", f"/plans/api/v1/directory/import?kind={kind}", hr, data=text.encode(), content_type="text/csv")
    cycle, _ = api.call("POST", "/plans/api/v1/cycles", hr, json_body={
        "year": 2026, "period_type": "quarterly", "planning_deadline": "2026-01-31"})
    cycle, _ = api.call("POST", f"/plans/api/v1/cycles/{cycle['id']}/advance", hr, json_body={"expected": "draft"})
    say(f"Periode penilaian / cycle {cycle['name']}: tahap {cycle['state']}, {len(cycle['periods'])} periode "
        f"({', '.join(p['name_id'] for p in cycle['periods'])})")

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
                rhk.append({"kind": "utama" if i < 2 else "tambahan", "description": item["description"],
                            "organisation_goal": goal, "iki": item["iki"]})
            sup_plan = plans.get(e.superior_nip) if e.superior_nip else None
            if sup_plan:  # heads below the root also support their superior's RHK
                for i, r in enumerate(rhk):
                    r["parent_rhk_id"] = sup_plan["rhk"][i % len(sup_plan["rhk"])]["id"]
        else:
            sup_rhk = plans[e.superior_nip]["rhk"]
            picks = rng.sample(sup_rhk, k=min(len(sup_rhk), rng.choice((1, 2, 2, 3))))
            for i, parent in enumerate(picks):
                item = sample_agency.rhk_for(e.position, e.unit_code, parent["description"], rng)
                rhk.append({"kind": "utama" if i == 0 else rng.choice(("utama", "tambahan")),
                            "description": item["description"], "parent_rhk_id": parent["id"], "iki": item["iki"]})
        body = {"cycle_id": cycle["id"], "approach": "kuantitatif", "rhk": rhk, "behaviour": dict(EXPECTATIONS),
                "annex": {"resources": "Anggaran DPA unit, sarana kantor, aplikasi e-Kinerja.",
                          "accountability": "Laporan bulanan kepada atasan langsung.",
                          "consequences": "Sesuai ketentuan penilaian kinerja PermenPANRB 6/2022."}}
        plan, _ = api.call("POST", "/plans/api/v1/plans", person_token(nip), json_body=body,
                           headers={"Idempotency-Key": f"demo-plan-{nip}"})
        plans[nip] = plan

    # submission and approval, top-down; a few stay behind as in a real office
    states = Counter()
    for idx, nip in enumerate(order):
        plan = plans[nip]
        fate = "approve" if nip in reports or idx < 5 else rng.choices(
            ("approve", "draft", "submitted", "returned"), weights=(88, 4, 5, 3))[0]
        if fate == "draft":
            states["draft"] += 1
            continue
        plan, _ = api.call("POST", f"/plans/api/v1/plans/{plan['id']}/submit", person_token(nip))
        sup = by_nip[nip].superior_nip
        approver = person_token(sup) if sup else hr
        if fate == "submitted":
            states["submitted"] += 1
        elif fate == "returned":
            api.call("POST", f"/plans/api/v1/plans/{plan['id']}/return", approver,
                     json_body={"note": "Target kuantitas belum realistis; sesuaikan dengan data tahun lalu."})
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
    return {
        "agency": {"code": agency.code, "name": agency.name, "units": len(agency.units),
                   "employees": len(agency.employees), "unit_kinds": dict(units_by_kind)},
        "cycle": {"id": cycle["id"], "name": cycle["name"], "state": cycle["state"],
                  "periods": [p["name_id"] for p in cycle["periods"]]},
        "plans_by_status": dict(sorted(listed.items())),
        "cascade": {"supervisors": len(reports), "superior_rhk": total_rhk, "superior_rhk_supported": supported,
                    "coverage_percent": round(100 * supported / total_rhk, 1) if total_rhk else 0.0,
                    "supervisors_fully_covered": sum(1 for r in ratios if r == 1.0),
                    "idle_subordinates": idle, "subordinates_without_plan": without},
        "events": {"published": events, "pending": pending},
    }


def _print(summary: dict, say) -> None:
    say("\nSKP per status / plans by status:")
    for status, n in summary["plans_by_status"].items():
        say(f"  {status:<10} {n:>4}  {'█' * max(1, round(n / 5))}")
    c = summary["cascade"]
    say(f"\nCascading (RHK pimpinan yang diintervensi): {c['superior_rhk_supported']}/{c['superior_rhk']} RHK atasan "
        f"didukung ({c['coverage_percent']} %), {c['supervisors_fully_covered']}/{c['supervisors']} atasan penuh")
    say(f"  bawahan tanpa dukungan / idle subordinates: {c['idle_subordinates']}; "
        f"belum punya SKP / without plan: {c['subordinates_without_plan']}")
    say(f"\nPeristiwa / events published: {summary['events']['published']} (pending {summary['events']['pending']})")
    say(f"Waktu / time: {summary['elapsed_seconds']} s, {summary['http_calls']} HTTP calls")
