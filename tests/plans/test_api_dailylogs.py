"""Daily logs through the API (``dailylogs.py``): writing one's log and who reads whose."""

from __future__ import annotations

from tests.plans.support import HEAD, KASI_A, STAFF_A, STAFF_B, field_errors, problem


def log(org, nip, date="2026-01-05", activity="Menyusun laporan mingguan", minutes=90, **extra):
    return org.post("/daily-logs", org.as_(nip), {"date": date, "activity": activity, "minutes": minutes} | extra)


def test_daily_log_write_and_refusals(org, team):
    hp, ka, sa = team
    r = log(org, STAFF_A[0], iki_id=sa["rhk"][0]["iki"][0]["id"])
    assert r.status_code == 201, r.get_json()
    assert (r.get_json()["plan_id"], r.get_json()["employee_nip"]) == (sa["id"], STAFF_A[0])
    assert log(org, STAFF_A[0], date="2025-12-31").get_json()["plan_id"] is None  # before the cycle's year
    before = org.counts()
    body = problem(log(org, STAFF_A[0], date="2026-01-06"), 422, "validation")
    assert field_errors(body) == {"date": "dailylog.future"}
    body = problem(log(org, STAFF_A[0], minutes=0, activity="x"), 422)
    assert field_errors(body) == {"minutes": "field.invalid", "activity": "field.invalid"}
    body = problem(log(org, STAFF_A[0], iki_id=ka["rhk"][0]["iki"][0]["id"]), 422)  # the kasi's IKI, not mine
    assert field_errors(body) == {"iki_id": "iki.unknown"}
    problem(
        org.post("/daily-logs", org.hr, {"date": "2026-01-05", "activity": "Rekap HR", "minutes": 5}),
        403,
        "plan.not_employee",
    )
    assert org.counts() == before
    org.clock.advance(days=1)  # tomorrow has come
    assert log(org, STAFF_A[0], date="2026-01-06").status_code == 201


def test_daily_log_lists(org, team):
    for nip in (STAFF_A[0], STAFF_A[1], STAFF_B[0], KASI_A):
        assert log(org, nip, activity=f"Kegiatan {nip[-3:]}").status_code == 201
    assert log(org, STAFF_A[0], date="2026-01-02", activity="Rapat koordinasi").status_code == 201

    def who(resp):
        assert resp.status_code == 200, resp.get_json()
        return sorted(item["employee_nip"] for item in resp.get_json()["items"])

    assert who(org.get("/daily-logs", org.as_(STAFF_A[0]))) == [STAFF_A[0], STAFF_A[0]]
    assert who(org.get("/daily-logs?from=2026-01-03", org.as_(STAFF_A[0]))) == [STAFF_A[0]]
    assert who(org.get("/daily-logs?to=2026-01-03", org.as_(STAFF_A[0]))) == [STAFF_A[0]]
    assert who(org.get("/daily-logs?team=true", org.as_(KASI_A))) == sorted([STAFF_A[0], STAFF_A[0], STAFF_A[1]])
    assert who(org.get("/daily-logs?team=true", org.as_(HEAD))) == [KASI_A]  # direct reports only
    assert who(org.get("/daily-logs?team=true", org.as_(STAFF_A[2]))) == []
    assert who(org.get(f"/daily-logs?employee_nip={STAFF_A[1]}", org.as_(KASI_A))) == [STAFF_A[1]]
    assert who(org.get(f"/daily-logs?employee_nip={STAFF_A[1]}", org.as_(HEAD))) == [STAFF_A[1]]
    assert who(org.get(f"/daily-logs?employee_nip={STAFF_B[0]}", org.hr)) == [STAFF_B[0]]
    for nip, headers in (
        (STAFF_A[0], org.as_(STAFF_A[1])),
        (STAFF_B[0], org.as_(KASI_A)),
        (STAFF_A[0], org.other_hr),
        ("199609092021011010", org.hr),
    ):
        problem(org.get(f"/daily-logs?employee_nip={nip}", headers), 404, "plans.not_found")
    page = org.get("/daily-logs?team=true&limit=2", org.as_(KASI_A)).get_json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = org.get(f"/daily-logs?team=true&limit=2&cursor={page['next_cursor']}", org.as_(KASI_A)).get_json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
