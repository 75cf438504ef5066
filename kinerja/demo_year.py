"""The demo's appraisal year after planning: between the flow runs the people record daily logs
and realisations, survey the public (SKM/IKM), self-assess, rate, sign and object; each run of
``evaluation_cycle`` carries the cycle on as far as they allow, ``survey_aggregation`` closes the
campaigns. Returns what the year produced (the ``reviews`` part of the summary)."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from . import sample_agency
from .demo_runtime import Api, DemoClock, DemoError, Flows, at
from .embedded import Embedded
from .http import Client
from .report import build_report

LOWER_IS_BETTER = ("waktu", "biaya")
ORG_RESULTS = ("ISTIMEWA", "BAIK", "BAIK", "BAIK", "BUTUH_PERBAIKAN")
#: the BerAKHLAK value codes a "below" rating perilaku names (the demo imports no service)
BELOW_VALUES = ("kolaboratif", "adaptif", "akuntabel")


def run_year(api: Api, emb: Embedded, ctx: dict, say) -> dict:
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

    def signer(nip: str | None) -> str:
        """The person's token; HR's where there is nobody (no penilai or atasan above the top)."""
        return token(nip) if nip else hr

    say("\nAlur Prefect / Prefect flow runs (waktu simulasi / simulated time):")
    # planning closes late (reminders, escalations), then Q1–Q3 pass: nobody fills in the periodic
    # evaluations, so the flow reminds, escalates and closes each phase at its deadline
    flows_.cycle(cid, until="monitoring:4:check_in")
    periodic = api.all(f"{R}/evaluations?cycle_id={cid}&period_seq=1", hr)
    daily_logs(api, ctx, clock.today())
    surveys = run_surveys(api, emb, ctx, say)
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
    evs = api.all(f"{R}/evaluations?cycle_id={cid}&period_seq=0", hr)
    say(
        f"Triwulan I: {len(periodic)} evaluasi periodik / periodic evaluations; evaluasi tahunan dibuka / annual "
        f"evaluations opened: {len(evs)} (realisasi dicatat / realisations recorded: {realised})"
    )
    daily_logs(api, ctx, clock.today())
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
        penilai = signer(ev["penilai_nip"])
        sug, _ = api.call("GET", f"{R}/evaluations/{ev['id']}/suggestion", penilai)
        hasil = sug["rating"] or "meets"
        body = {
            "rating_hasil": hasil,
            "rating_perilaku": rng.choices(("above", "meets", "below"), (2, 7, 1))[0],
            "iki_feedback": {i["id"]: "Sesuai bukti dukung." for r in sug["rhk"] for i in r["iki"]},
            "notes": "Pertahankan kinerja dan dokumentasi bukti dukung.",
        }
        perilaku = (sug.get("perilaku") or {}).get("rating")
        if perilaku is not None:  # a perilaku suggested from recorded feedback is followed (issue 15)
            body["rating_perilaku"] = perilaku
        if body["rating_perilaku"] == "below":  # a "below" names its BerAKHLAK values (issue 15); no rng draw
            below = (sug.get("perilaku") or {}).get("below_values") if perilaku == "below" else None
            body["perilaku_below_values"] = below or [BELOW_VALUES[ev["id"] % len(BELOW_VALUES)]]
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
    acting = appoint_plh(api, emb, ctx, evs, clock.today())  # one penilai is away at sign-off: a Plh signs
    for ev in evs:
        penilai = (
            token(acting["acting_nip"]) if ev["penilai_nip"] == acting.get("for_nip") else signer(ev["penilai_nip"])
        )
        api.call("POST", f"{R}/evaluations/{ev['id']}/sign", penilai)
        api.call("POST", f"{R}/evaluations/{ev['id']}/acknowledge", token(ev["employee_nip"]))
        api.call("POST", f"{R}/evaluations/{ev['id']}/countersign", signer(ev["atasan_nip"]))
    if acting:
        signed = [
            api.call("GET", f"{R}/evaluations/{e['id']}", hr)[0] for e in evs if e["penilai_nip"] == acting["for_nip"]
        ]
        acting["signed"] = sum(1 for e in signed if (e.get("signed_acting") or {}).get("nip") == acting["acting_nip"])
        say(
            f"      Plh {acting['acting_nip']} menandatangani {acting['signed']} evaluasi atas nama "
            f"{acting['for_nip']} / signed {acting['signed']} evaluations in their place"
        )
    flows_.cycle(cid, until="objections")  # everything countersigned: the objection window opens
    final = api.all(f"{R}/evaluations?cycle_id={cid}&period_seq=0", hr)
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
        who = signer(ev["atasan_nip"])
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
    final = api.all(f"{R}/evaluations?cycle_id={cid}&period_seq=0", hr)
    followups = api.all(f"{R}/followups?cycle_id={cid}", hr)
    consistency, _ = api.call("GET", f"{R}/rater-consistency?cycle_id={cid}&period_seq=0", hr)
    raters = consistency["raters"]
    emb.pump()
    notifications = _notification_counts(api)
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
        "acting": {k: acting.get(k) for k in ("kind", "acting_nip", "for_nip", "signed")} if acting else None,
        "predikat_by_unit": _by_unit(final),
        "followups": dict(Counter(f["kind"] for f in followups)),
        "most_lenient_penilai": raters[0]["penilai_nip"] if raters else None,
        "most_severe_penilai": raters[-1]["penilai_nip"] if raters else None,
    }


def run_surveys(api: Api, emb: Embedded, ctx: dict, say) -> dict:
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


def appoint_plh(api: Api, emb: Embedded, ctx: dict, evs: list[dict], today: date) -> dict:
    """HR appoints a Plh for the penilai with the most evaluations to sign (away at sign-off): the
    atasan of that penilai's first evaluation — someone one level up who already countersigns them.
    Returns the appointment (with ``acting_nip`` and ``for_nip``), or {} when there is nobody to pick."""
    counts = Counter(e["penilai_nip"] for e in evs if e["penilai_nip"] and e["atasan_nip"])
    if not counts:
        return {}
    away = counts.most_common(1)[0][0]
    stand_in = next(e["atasan_nip"] for e in evs if e["penilai_nip"] == away and e["atasan_nip"])
    body = {
        "acting_nip": stand_in,
        "for_nip": away,
        "kind": "plh",
        "start_date": today.isoformat(),
        "end_date": (today + timedelta(days=7)).isoformat(),
    }
    appointment, _ = api.call("POST", "/plans/api/v1/acting", ctx["hr"], json_body=body)
    emb.pump()  # plans.acting.upserted reaches reviews before the Plh signs
    return appointment


def daily_logs(api: Api, ctx: dict, until: date) -> None:
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
