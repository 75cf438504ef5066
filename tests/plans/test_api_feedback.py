"""Continuous feedback through the API (``feedback.py``): from the superior, its refusals and its stage."""

from __future__ import annotations

from tests.plans.support import HEAD, KASI_A, KASI_B, STAFF_A, field_errors, problem


def test_feedback_by_the_superior(org, team):
    hp, ka, sa = team
    r = org.post(
        f"/plans/{sa['id']}/feedback",
        org.as_(KASI_A),
        {"rhk_id": sa["rhk"][0]["id"], "period_seq": 1, "text": "Laporan rapi, pertahankan"},
    )
    assert r.status_code == 201, r.get_json()
    assert (r.get_json()["giver_nip"], r.get_json()["period_seq"]) == (KASI_A, 1)
    r = org.post(f"/plans/{sa['id']}/feedback", org.as_(HEAD), {"value_code": "kolaboratif", "text": "Aktif di tim"})
    assert r.status_code == 201  # the indirect superior is in the reporting line too
    listed = org.get(f"/plans/{sa['id']}/feedback", org.as_(STAFF_A[0])).get_json()
    assert [(f["giver_nip"], f["rhk_id"], f["value_code"]) for f in listed] == [
        (KASI_A, sa["rhk"][0]["id"], None),
        (HEAD, None, "kolaboratif"),
    ]
    event = org.outbox("plans.feedback.given")[-1]["envelope"]
    assert event["data"]["employee_nip"] == STAFF_A[0] and event["data"]["value_code"] == "kolaboratif"
    assert event["data"]["agency_code"] == sa["agency_code"]  # consumers need not look the person up


def test_feedback_refusals(org, team):
    hp, ka, sa = team
    url = f"/plans/{sa['id']}/feedback"
    good = {"value_code": "akuntabel", "text": "Tepat waktu"}
    before = org.counts()
    # a peer does not see the plan at all (404, existence not revealed); HR and the owner see it but
    # are not the employee's superiors (403)
    problem(org.post(url, org.as_(STAFF_A[1]), good), 404)
    problem(org.post(url, org.as_(KASI_B), good), 404)
    problem(org.post(url, org.hr, good), 403, "feedback.only_superior")
    problem(org.post(url, org.as_(STAFF_A[0]), good), 403, "feedback.only_superior")
    for payload, errors in (
        ({"rhk_id": sa["rhk"][0]["id"], "value_code": "akuntabel", "text": "Dua sasaran"}, {"rhk_id": "field.invalid"}),
        ({"text": "Tanpa sasaran"}, {"rhk_id": "field.invalid"}),
        ({"rhk_id": ka["rhk"][0]["id"], "text": "RHK orang lain"}, {"rhk_id": "rhk.unknown_id"}),
        ({"value_code": "jujur", "text": "Bukan BerAKHLAK"}, {"value_code": "field.invalid"}),
        (good | {"period_seq": 9}, {"period_seq": "period.unknown"}),
    ):
        body = problem(org.post(url, org.as_(KASI_A), payload), 422, "validation")
        assert field_errors(body) == errors, payload
    assert org.counts() == before


def test_feedback_needs_monitoring(org):
    hp, ka, sa = org.team_a()
    body = problem(
        org.post(f"/plans/{sa['id']}/feedback", org.as_(KASI_A), {"value_code": "adaptif", "text": "Terlalu awal"}),
        409,
        "stage.not_allowed",
    )
    assert body["stage"] == "planning"


def test_coaching_record_and_the_employees_reply(org, team):
    hp, ka, sa = team
    url = f"/plans/{sa['id']}/feedback"
    r = org.post(
        url, org.as_(KASI_A), {"kind": "coaching", "rhk_id": sa["rhk"][0]["id"], "text": "Sesi bimbingan: rencana"}
    )
    assert r.status_code == 201, r.get_json()
    fb = r.get_json()
    assert (fb["kind"], fb["replies"]) == ("coaching", [])
    assert org.outbox("plans.feedback.given")[-1]["envelope"]["data"]["kind"] == "coaching"
    plain = org.post(url, org.as_(KASI_A), {"value_code": "adaptif", "text": "Cepat belajar"}).get_json()
    assert plain["kind"] == "feedback"  # the default keeps the existing callers' meaning
    r = org.post(f"{url}/{fb['id']}/replies", org.as_(STAFF_A[0]), {"text": "Siap, saya jadwalkan"})
    assert r.status_code == 201, r.get_json()
    assert (r.get_json()["author_nip"], r.get_json()["feedback_id"]) == (STAFF_A[0], fb["id"])
    event = org.outbox("plans.feedback.replied")[-1]["envelope"]["data"]
    assert (event["giver_nip"], event["employee_nip"], event["kind"]) == (KASI_A, STAFF_A[0], "coaching")
    assert event["agency_code"] == sa["agency_code"]
    # the superior reads the reply beside the note
    listed = {f["id"]: f for f in org.get(url, org.as_(KASI_A)).get_json()}
    assert [x["text"] for x in listed[fb["id"]]["replies"]] == ["Siap, saya jadwalkan"]
    assert listed[plain["id"]]["replies"] == []


def test_reply_refusals(org, team):
    hp, ka, sa = team
    url = f"/plans/{sa['id']}/feedback"
    fb = org.post(url, org.as_(KASI_A), {"value_code": "akuntabel", "text": "Tepat waktu"}).get_json()
    other = org.post(f"/plans/{ka['id']}/feedback", org.as_(HEAD), {"value_code": "loyal", "text": "Baik"}).get_json()
    body = problem(org.post(url, org.as_(KASI_A), {"value_code": "akuntabel", "kind": "teguran", "text": "x y"}), 422)
    assert field_errors(body) == {"kind": "field.invalid"}
    before = org.counts()
    good = {"text": "Terima kasih"}
    problem(org.post(f"{url}/{fb['id']}/replies", org.as_(KASI_A), good), 403, "feedback.only_employee")
    problem(org.post(f"{url}/{fb['id']}/replies", org.hr, good), 403, "feedback.only_employee")
    problem(org.post(f"{url}/{fb['id']}/replies", org.as_(STAFF_A[1]), good), 404)
    # a feedback id of another plan is not found through this plan
    problem(org.post(f"{url}/{other['id']}/replies", org.as_(STAFF_A[0]), good), 404)
    problem(org.post(f"{url}/99999/replies", org.as_(STAFF_A[0]), good), 404)
    body = problem(org.post(f"{url}/{fb['id']}/replies", org.as_(STAFF_A[0]), {"text": "x"}), 422, "validation")
    assert field_errors(body) == {"text": "field.invalid"}
    assert org.counts() == before
