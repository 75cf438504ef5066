"""Progress through the API (``progress.py``): realisation per IKI and period, one at a time or a
period's whole form, and evidence files — who may do what, in which stage, and what a refusal
leaves behind (nothing). Daily logs and feedback are in their own test modules."""

from __future__ import annotations

import hashlib
import io

from tests.plans.support import API, HEAD, KASI_A, KASI_B, OTHER_EMP, STAFF_A, field_errors, problem

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def realise(org, plan, nip=STAFF_A[0], iki_index=0, period_seq=1, **body):
    payload = {"iki_id": plan["rhk"][0]["iki"][iki_index]["id"], "period_seq": period_seq} | (body or {"value": 2})
    return org.post(f"/plans/{plan['id']}/realisations", org.as_(nip), payload)


def upload(org, plan_id, realisation_id, content, filename="bukti.pdf", mimetype="application/pdf", nip=STAFF_A[0]):
    return org.client.post(
        f"{API}/plans/{plan_id}/realisations/{realisation_id}/evidence",
        headers=org.as_(nip),
        data={"file": (io.BytesIO(content), filename, mimetype)},
        content_type="multipart/form-data",
    )


# ------------------------------------------------------------------ realisation


def test_realisation_needs_monitoring_stage(org):
    hp, ka, sa = org.team_a()
    before = org.counts()
    body = problem(realise(org, sa), 409, "stage.not_allowed")
    assert body["stage"] == "planning" and body["action"] == "realisation.record"
    assert org.counts() == before


def test_realisation_needs_an_approved_plan(org, team):
    hp, ka, sa = team
    draft = org.cascade(ka, STAFF_A[1])
    before = org.counts()
    body = problem(realise(org, draft, nip=STAFF_A[1]), 409, "realisation.plan_not_approved")
    assert body["plan_status"] == "draft" and "draft" in body["detail"]
    assert org.submit(draft["id"], STAFF_A[1]).status_code == 200  # plans may still be approved in monitoring
    problem(realise(org, draft, nip=STAFF_A[1]), 409, "realisation.plan_not_approved")
    assert org.counts()["realisations"] == before["realisations"]
    assert org.approve(draft["id"], KASI_A).status_code == 200
    assert realise(org, draft, nip=STAFF_A[1]).status_code == 201


def test_record_realisation_and_its_refusals(org, team):
    hp, ka, sa = team
    r = realise(org, sa, value=3, note="Tiga dokumen selesai", links=["https://drive.example/doc/1"])
    assert r.status_code == 201, r.get_json()
    rec = r.get_json()
    assert (rec["period_seq"], rec["value"], rec["source"], rec["recorded_by"]) == (1, 3.0, "employee", STAFF_A[0])
    assert rec["recorded_at"].endswith("+00:00") and rec["evidence"] == []
    event = org.outbox("plans.realisation.recorded")[-1]["envelope"]
    assert event["data"]["iki_id"] == sa["rhk"][0]["iki"][0]["id"] and event["data"]["value"] == 3.0
    assert event["data"]["agency_code"] == sa["agency_code"]  # consumers need not look the person up
    before = org.counts()
    problem(realise(org, sa, nip=KASI_A), 403, "plan.only_owner")  # the supervisor reads but does not record
    problem(realise(org, sa, nip=STAFF_A[1]), 404)
    problem(realise(org, sa, nip=OTHER_EMP), 404)
    cases = [
        ({"iki_id": "nope", "period_seq": 1, "value": 1}, {"iki_id": "iki.unknown"}),
        ({"iki_id": sa["rhk"][0]["iki"][0]["id"], "period_seq": 5, "value": 1}, {"period_seq": "period.unknown"}),
        ({"iki_id": sa["rhk"][0]["iki"][0]["id"], "period_seq": 13, "value": 1}, {"period_seq": "field.invalid"}),
        ({"iki_id": sa["rhk"][0]["iki"][0]["id"], "period_seq": 1}, {"value": "field.invalid"}),
        (
            {"iki_id": sa["rhk"][0]["iki"][0]["id"], "period_seq": 1, "value": 1, "links": ["javascript:alert(1)"]},
            {"links[0]": "field.invalid"},
        ),
    ]
    for payload, errors in cases:
        body = problem(org.post(f"/plans/{sa['id']}/realisations", org.as_(STAFF_A[0]), payload), 422, "validation")
        assert field_errors(body) == errors, payload
    assert org.counts() == before


def test_realisation_is_one_per_iki_and_period(org, team):
    hp, ka, sa = team
    first = realise(org, sa, value=1).get_json()
    again = realise(org, sa, value=4, text="Empat laporan").get_json()
    assert again["id"] == first["id"] and again["value"] == 4.0 and again["text"] == "Empat laporan"
    assert again["version"] == first["version"] + 1
    org.advance_to("monitoring:2:check_in")
    assert realise(org, sa, period_seq=2, value=6).status_code == 201
    assert realise(org, sa, iki_index=1, period_seq=2, value=95).status_code == 201
    listed = org.get(f"/plans/{sa['id']}/realisations", org.as_(KASI_A)).get_json()
    assert sorted((r["period_seq"], r["value"]) for r in listed) == [(1, 4.0), (2, 6.0), (2, 95.0)]
    only_1 = org.get(f"/plans/{sa['id']}/realisations?period_seq=1", org.as_(STAFF_A[0])).get_json()
    assert [(r["id"], r["value"]) for r in only_1] == [(first["id"], 4.0)]


def test_realisation_batch_records_a_whole_period_form(org, team):
    hp, ka, sa = team
    iki = [i["id"] for r in sa["rhk"] for i in r["iki"]]
    realise(org, sa, value=1)  # the first IKI already has a value: the batch corrects it
    before = org.counts()
    batch = [{"iki_id": i, "period_seq": 1, "value": 10 + n, "note": f"butir {n}"} for n, i in enumerate(iki)]
    r = org.post(f"/plans/{sa['id']}/realisations:batch", org.as_(STAFF_A[0]), batch)
    assert r.status_code == 201, r.get_json()
    assert [(x["iki_id"], x["period_seq"], x["value"]) for x in r.get_json()] == [
        (i, 1, 10.0 + n) for n, i in enumerate(iki)
    ]
    assert org.counts()["realisations"] == before["realisations"] + len(iki) - 1
    listed = org.get(f"/plans/{sa['id']}/realisations?period_seq=1", org.as_(KASI_A)).get_json()
    assert sorted((x["iki_id"], x["value"], x["note"]) for x in listed) == sorted(
        (i, 10.0 + n, f"butir {n}") for n, i in enumerate(iki)
    )
    events = [e["envelope"]["data"] for e in org.outbox("plans.realisation.recorded")][-len(iki) :]
    assert [(e["iki_id"], e["value"]) for e in events] == [(i, 10.0 + n) for n, i in enumerate(iki)]


def test_realisation_batch_is_all_or_nothing(org, team):
    hp, ka, sa = team
    iki = [i["id"] for r in sa["rhk"] for i in r["iki"]]
    good = {"iki_id": iki[0], "period_seq": 1, "value": 1}
    before = org.counts()
    cases = [
        ([good, {"iki_id": "nope", "period_seq": 1, "value": 1}], {"[1].iki_id": "iki.unknown"}),
        ([good, {"iki_id": iki[1], "period_seq": 9, "value": 1}], {"[1].period_seq": "period.unknown"}),
        ([good, {"iki_id": iki[1], "period_seq": 1}], {"[1].value": "field.invalid"}),
        ([good, dict(good, value=2)], {"[1].iki_id": "realisation.repeated"}),
        ([], {"body": "realisation.batch_empty"}),
        ([dict(good, period_seq=1 + n % 12) for n in range(101)], {"body": "realisation.batch_too_large"}),
    ]
    for payload, errors in cases:
        body = problem(
            org.post(f"/plans/{sa['id']}/realisations:batch", org.as_(STAFF_A[0]), payload), 422, "validation"
        )
        assert field_errors(body) == errors, payload
    repeated = problem(org.post(f"/plans/{sa['id']}/realisations:batch", org.as_(STAFF_A[0]), [good, good]), 422)
    assert "0" in repeated["errors"][0]["detail"]  # names the item it repeats
    problem(org.post(f"/plans/{sa['id']}/realisations:batch", org.as_(KASI_A), [good]), 403, "plan.only_owner")
    problem(org.post(f"/plans/{sa['id']}/realisations:batch", org.as_(OTHER_EMP), [good]), 404)
    assert org.counts() == before


# ------------------------------------------------------------------ evidence


def test_evidence_upload_and_download(org, team):
    hp, ka, sa = team
    rec = realise(org, sa).get_json()
    r = upload(org, sa["id"], rec["id"], PDF)
    assert r.status_code == 201, r.get_json()
    ev = r.get_json()
    assert (ev["filename"], ev["content_type"], ev["size"]) == ("bukti.pdf", "application/pdf", len(PDF))
    assert ev["sha256"] == hashlib.sha256(PDF).hexdigest()
    for who in (STAFF_A[0], KASI_A, HEAD):
        d = org.get(f"/evidence/{ev['id']}", org.as_(who))
        assert d.status_code == 200 and d.data == PDF and d.mimetype == "application/pdf"
        assert d.headers["X-Content-Type-Options"] == "nosniff"
        assert "attachment" in d.headers["Content-Disposition"]
    for who in (org.as_(STAFF_A[1]), org.as_(KASI_B), org.as_(OTHER_EMP), org.other_hr):
        problem(org.get(f"/evidence/{ev['id']}", who), 404)
    problem(org.get("/evidence/9999", org.as_(STAFF_A[0])), 404)
    listed = org.get(f"/plans/{sa['id']}/realisations", org.as_(STAFF_A[0])).get_json()
    assert [e["id"] for e in listed[0]["evidence"]] == [ev["id"]]
    assert org.outbox("plans.realisation.recorded")[-1]["envelope"]["data"]["evidence_count"] == 1
    assert upload(org, sa["id"], rec["id"], PNG, "foto.png", "image/png").status_code == 201


def test_evidence_with_a_non_ascii_name_downloads(org, team):
    hp, ka, sa = team
    rec = realise(org, sa).get_json()
    name = "Laporan “Triwulan I” – Ω.pdf"
    ev = upload(org, sa["id"], rec["id"], PDF, filename=name).get_json()
    assert ev["filename"] == name
    d = org.get(f"/evidence/{ev['id']}", org.as_(STAFF_A[0]))
    assert d.status_code == 200 and d.data == PDF
    disposition = d.headers["Content-Disposition"]
    disposition.encode("latin-1")  # a WSGI server cannot send anything else
    assert disposition.startswith('attachment; filename="Laporan Triwulan I  .pdf"')
    assert "filename*=UTF-8''Laporan%20%E2%80%9CTriwulan%20I%E2%80%9D%20%E2%80%93%20%CE%A9.pdf" in disposition


def test_evidence_refusals_change_nothing(org, team):
    hp, ka, sa = team
    rec = realise(org, sa).get_json()
    before = org.counts()
    platform = org.app.extensions["kinerja"]
    platform.config.max_upload_bytes = 256
    body = problem(upload(org, sa["id"], rec["id"], PDF + b"0" * 300), 413, "evidence.too_large")
    assert body["limit"] == 256
    assert upload(org, sa["id"], rec["id"], PDF).status_code == 201  # within the limit
    platform.config.max_upload_bytes = 10 * 1024 * 1024
    before = org.counts()
    body = problem(
        upload(org, sa["id"], rec["id"], b"MZ\x90\x00", "tool.exe", "application/x-msdownload"), 415, "evidence.type"
    )
    assert body["content_type"] == "application/x-msdownload"
    problem(upload(org, sa["id"], rec["id"], PNG, "foto.pdf", "application/pdf"), 415, "evidence.content_mismatch")
    problem(
        upload(org, sa["id"], rec["id"], b"\xff\xfe\x00\x81", "catatan.txt", "text/plain"),
        415,
        "evidence.content_mismatch",
    )
    body = problem(upload(org, sa["id"], rec["id"], b""), 422)
    assert field_errors(body) == {"file": "evidence.empty"}
    body = problem(
        org.client.post(
            f"{API}/plans/{sa['id']}/realisations/{rec['id']}/evidence",
            headers=org.as_(STAFF_A[0]),
            data={},
            content_type="multipart/form-data",
        ),
        422,
    )
    assert field_errors(body) == {"file": "field.required"}
    problem(upload(org, sa["id"], rec["id"], PDF, nip=KASI_A), 403, "plan.only_owner")
    problem(upload(org, sa["id"], rec["id"], PDF, nip=STAFF_A[1]), 404)
    problem(upload(org, ka["id"], rec["id"], PDF, nip=KASI_A), 404)  # not a realisation of that plan
    assert org.counts() == before
