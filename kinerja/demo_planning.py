"""The demo's planning stage, through the plans API: the sample agency's directory imported, the
cycle opened, cascaded SKPs drafted for everyone top-down, submitted, the superior's expectations
per BerAKHLAK value written and the SKP approved (a few left returned, submitted or in draft, as in
a real office), and how well the plans cascade."""

from __future__ import annotations

import random
from collections import deque

from . import sample_agency
from .demo_runtime import Api, DemoError

EXPECTATIONS = {
    "berorientasi_pelayanan": "Memahami dan memenuhi kebutuhan masyarakat; ramah, cekatan, solutif.",
    "akuntabel": "Melaksanakan tugas dengan jujur, bertanggung jawab, cermat, disiplin dan berintegritas.",
    "kompeten": "Terus belajar dan mengembangkan kapabilitas; membantu orang lain belajar.",
    "harmonis": "Menghargai setiap orang apa pun latar belakangnya; membangun lingkungan kerja yang kondusif.",
    "loyal": "Berdedikasi dan mengutamakan kepentingan bangsa dan negara; menjaga nama baik instansi.",
    "adaptif": "Cepat menyesuaikan diri menghadapi perubahan; terus berinovasi dengan antusias.",
    "kolaboratif": "Memberi kesempatan kepada berbagai pihak untuk berkontribusi; terbuka bekerja sama.",
}


def import_directory(api: Api, agency, admin: str, hr: str) -> None:
    """The agency, then its units and employees from CSV: each file checked (dry run), then imported."""
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


def open_cycle(api: Api, hr: str, say) -> dict:
    """The 2026 quarterly cycle, moved from draft to planning."""
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
    return cycle


def reporting_lines(agency) -> tuple[dict, dict[str, list[str]], list[str]]:
    """The employees by NIP, each superior's direct reports, and everyone in top-down order."""
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
    return by_nip, reports, order


def draft_plans(api: Api, cycle: dict, order: list[str], by_nip: dict, person_token, rng: random.Random) -> dict:
    """Everyone's SKP, top-down: heads take their unit's goals, staff cascade from their superior's RHK."""
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
            "rhk": rhk,  # no behaviour: the ekspektasi khusus pimpinan are the superior's to write
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
    return plans


def submit_and_approve(
    api: Api, plans: dict, order: list[str], reports: dict, by_nip: dict, person_token, hr: str, rng: random.Random
) -> None:
    """Submission and approval, top-down (``plans`` updated in place); a few stay behind as in a
    real office: in draft, submitted, or returned by the superior."""
    for idx, nip in enumerate(order):
        plan = plans[nip]
        fate = (
            "approve"
            if nip in reports or idx < 5
            else rng.choices(("approve", "draft", "submitted", "returned"), weights=(88, 4, 5, 3))[0]
        )
        if fate == "draft":
            continue
        plan, resp = api.call("POST", f"/plans/api/v1/plans/{plan['id']}/submit", person_token(nip))
        sup = by_nip[nip].superior_nip
        approver = person_token(sup) if sup else hr
        if fate != "submitted":  # reviewing it, the superior writes the expectations per BerAKHLAK value
            plan, resp = api.call(
                "PUT",
                f"/plans/api/v1/plans/{plan['id']}/behaviour",
                approver,
                json_body={"behaviour": dict(EXPECTATIONS)},
                headers={"If-Match": resp.headers["ETag"]},
            )
        if fate == "returned":
            api.call(
                "POST",
                f"/plans/api/v1/plans/{plan['id']}/return",
                approver,
                json_body={"note": "Target kuantitas belum realistis; sesuaikan dengan data tahun lalu."},
            )
        elif fate == "approve":  # "submitted" waits for its superior
            plan, _ = api.call("POST", f"/plans/api/v1/plans/{plan['id']}/approve", approver)
        plans[nip] = plan


def cascade(api: Api, plans: dict, reports: dict, person_token) -> dict:
    """How far each supervisor's RHK are supported by their staff's, as the plans API computes it."""
    supported = total_rhk = idle = without = 0
    ratios = []
    for nip in reports:
        cov, _ = api.call("GET", f"/plans/api/v1/plans/{plans[nip]['id']}/coverage", person_token(nip))
        total_rhk += len(cov["rhk"])
        supported += sum(1 for r in cov["rhk"] if r["supported_by"])
        idle += len(cov["idle_subordinates"])
        without += len(cov["subordinates_without_plan"])
        ratios.append(cov["ratio"])
    return {
        "supervisors": len(reports),
        "superior_rhk": total_rhk,
        "superior_rhk_supported": supported,
        "coverage_percent": round(100 * supported / total_rhk, 1) if total_rhk else 0.0,
        "supervisors_fully_covered": sum(1 for r in ratios if r == 1.0),
        "idle_subordinates": idle,
        "subordinates_without_plan": without,
    }
