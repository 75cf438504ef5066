"""The platform as a plans client meets it: authentication, problem+json for every error,
content negotiation, idempotency keys, pagination, health and metrics, the audit log and the
transactional outbox."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import uuid
from datetime import datetime

import jwt
from sqlalchemy import insert, select, text, update

from services.common.audit import verify_chain
from services.plans.models import platform_tables
from tests.plans.support import API, HEAD, KASI_A, STAFF_A, STAFF_B, content, field_errors, problem, rhk

# ------------------------------------------------------------------ authentication


def test_missing_bad_and_expired_tokens_are_401(org):
    url = f"{API}/employees"
    body = problem(org.client.get(url), 401, "auth.missing")
    assert "Bearer" in org.client.get(url).headers["WWW-Authenticate"]
    problem(org.client.get(url, headers={"Authorization": "Basic aHI6aHI="}), 401, "auth.missing")
    problem(org.client.get(url, headers={"Authorization": "Bearer not.a.jwt"}), 401, "auth.invalid")
    secret = org.tokens.secret
    forged = jwt.encode(
        {"sub": "x", "roles": ["hr"], "agency": "PKMB", "exp": int(time.time()) + 600},
        "another-secret-of-at-least-32-bytes!!",
        algorithm="HS256",
    )
    problem(org.client.get(url, headers={"Authorization": f"Bearer {forged}"}), 401, "auth.invalid")
    expired = org.tokens.token("hr", now=time.time() - 3 * 3600, ttl_seconds=3600)
    r = org.client.get(url, headers={"Authorization": f"Bearer {expired}"})
    body = problem(r, 401, "auth.expired")
    assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    no_exp = jwt.encode({"sub": "x", "roles": ["hr"]}, secret, algorithm="HS256")
    problem(org.client.get(url, headers={"Authorization": f"Bearer {no_exp}"}), 401, "auth.invalid")
    bad_role = jwt.encode({"sub": "x", "roles": ["root"], "exp": int(time.time()) + 600}, secret, algorithm="HS256")
    problem(org.client.get(url, headers={"Authorization": f"Bearer {bad_role}"}), 401, "auth.invalid")
    none_alg = jwt.encode({"sub": "x", "roles": ["admin"], "exp": int(time.time()) + 600}, None, algorithm="none")
    problem(org.client.get(url, headers={"Authorization": f"Bearer {none_alg}"}), 401, "auth.invalid")
    # a refused POST writes nothing
    before = org.counts()
    problem(org.client.post(f"{API}/cycles", json={"year": 2027, "period_type": "monthly"}), 401)
    problem(
        org.client.post(
            f"{API}/cycles",
            json={"year": 2027, "period_type": "monthly"},
            headers={"Authorization": f"Bearer {expired}"},
        ),
        401,
    )
    assert org.counts() == before
    assert body["instance"] == "/plans/api/v1/employees"


# ------------------------------------------------------------------ HTTP errors are problem+json


def test_http_errors_are_problem_json(org):
    body = problem(org.put("/cycles", org.hr, {}), 405, "http.method")
    assert "GET" in org.put("/cycles", org.hr, {}).headers["Allow"]
    problem(org.client.delete(f"{API}/plans/1", headers=org.hr), 405)
    body = problem(org.get("/no-such-thing", org.hr), 404, "http.not_found")
    assert body["instance"] == "/plans/api/v1/no-such-thing"
    problem(org.client.get("/plans/not-here"), 404, "http.not_found")
    problem(org.get("/plans/99999999999999999999999", org.hr), 404)  # beyond any id: no route, not a crash
    problem(org.get(f"/plans?cycle_id={10**22}", org.hr), 422)


def test_body_errors(org):
    before = org.counts()
    body = problem(
        org.client.post(f"{API}/cycles", headers=org.hr, data="year=2027", content_type="text/plain"),
        415,
        "http.media_type",
    )
    assert body["expected"] == "application/json"
    problem(org.client.post(f"{API}/cycles", headers=org.hr, data="<cycle/>", content_type="application/xml"), 415)
    problem(
        org.client.post(f"{API}/cycles", headers=org.hr, data='{"year": 2027,', content_type="application/json"),
        400,
        "http.bad_json",
    )
    body = problem(org.post("/cycles", org.hr, {"year": 2027, "period_type": "monthly", "colour": "blue"}), 422)
    assert field_errors(body) == {"colour": "field.unknown"}
    body = problem(
        org.client.post(f"{API}/cycles", headers=org.hr, data="[2027]", content_type="application/json"), 422
    )
    assert body["code"] == "validation"
    platform = org.app.extensions["kinerja"]
    limit = platform.config.max_content_length
    platform.config.max_content_length = 2048
    try:
        body = problem(
            org.post("/cycles", org.hr, {"year": 2027, "period_type": "monthly", "name": "x" * 4000}),
            413,
            "http.too_large",
        )
        assert body["limit"] == 2048
    finally:
        platform.config.max_content_length = limit
    big = json.dumps({"year": 2027, "period_type": "monthly", "name": "y" * (limit + 10)})
    problem(org.client.post(f"{API}/cycles", headers=org.hr, data=big, content_type="application/json"), 413)
    assert org.counts() == before


def test_language_negotiation(org):
    r = org.get("/plans/424242", org.hr)
    body = problem(r, 404, "plans.not_found")
    assert body["title"] == "Tidak ditemukan" and "tidak ditemukan" in body["detail"]
    assert r.headers["Content-Language"] == "id"
    r = org.get("/plans/424242", org.hr | {"Accept-Language": "en-GB,en;q=0.9,id;q=0.5"})
    body = problem(r, 404, "plans.not_found")
    assert (
        body["title"] == "Not found" and body["detail"] == "No plan '424242' found, or you are not allowed to see it."
    )
    assert r.headers["Content-Language"] == "en"
    body = problem(
        org.post(
            "/employees?lang=en", org.hr, {"nip": "123", "name": "Uji", "position": "Analis", "unit_code": "SEK-A"}
        ),
        422,
    )
    assert body["errors"][0]["detail"] == "The NIP must be exactly 18 digits."
    assert body["title"] == "Invalid data"
    body = problem(
        org.post("/employees", org.hr, {"nip": "123", "name": "Uji", "position": "Analis", "unit_code": "SEK-A"}), 422
    )
    assert body["title"] == "Data tidak valid" and "18 angka" in body["errors"][0]["detail"]


def test_request_id_is_echoed(org):
    r = org.get("/plans/424242", org.hr | {"X-Request-ID": "req-abc-123"})
    assert r.headers["X-Request-ID"] == "req-abc-123"
    assert problem(r, 404)["request_id"] == "req-abc-123"


# ------------------------------------------------------------------ idempotency


def test_idempotency_key_replays_the_first_response(org):
    headers = org.hr | {"Idempotency-Key": "cycle-2027-a"}
    body = {"year": 2027, "period_type": "semester"}
    first = org.post("/cycles", headers, body)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    before = org.counts()
    again = org.post("/cycles", headers, body)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json() and again.headers["ETag"] == first.headers["ETag"]
    assert org.counts() == before
    # the same key with another body is a client error, and changes nothing
    r = org.post("/cycles", headers, {"year": 2028, "period_type": "semester"})
    assert field_errors(problem(r, 422, "validation")) == {"Idempotency-Key": "idempotency.mismatch"}
    assert org.counts() == before
    # keys belong to their principal: another client may use the same one
    other = org.post("/cycles", org.other_hr | {"Idempotency-Key": "cycle-2027-a"}, body)
    assert other.status_code == 201 and other.get_json()["agency_code"] == "OTHER"
    body = problem(org.post("/cycles", org.hr | {"Idempotency-Key": "k" * 201}, body), 422)
    assert field_errors(body) == {"Idempotency-Key": "idempotency.too_long"}


def test_idempotency_on_plan_creation_and_failed_attempts(org):
    hp = org.head_plan()
    headers = org.as_(KASI_A) | {"Idempotency-Key": str(uuid.uuid4())}
    bad = content([rhk("x", parent="nope")]) | {"cycle_id": org.cycle_id}
    problem(org.post("/plans", headers, bad), 422)
    # a failed attempt frees the key: the corrected request goes through
    good = content([rhk("Mendukung", parent=hp["rhk"][0]["id"])]) | {"cycle_id": org.cycle_id}
    first = org.post("/plans", headers, good)
    assert first.status_code == 201
    replay = org.post("/plans", headers, good)
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.get_json()["id"] == first.get_json()["id"]
    assert org.count("/plans") == 2


def test_idempotency_in_flight_is_409(org, clock):
    body = json.dumps({"year": 2027, "period_type": "monthly"}).encode()
    path = f"{API}/cycles"
    digest = hashlib.sha256(b"\0".join([b"POST", (path + "?").encode(), body])).hexdigest()
    t = platform_tables.idempotency
    with org.db() as s:
        s.execute(
            insert(t).values(
                principal="hr@pkmb",
                key="busy",
                method="POST",
                path=path,
                request_hash=digest,
                state="in_flight",
                created_at=clock(),
            )
        )
        s.commit()
    before = org.counts()

    def post():
        return org.client.post(
            path, headers=org.hr | {"Idempotency-Key": "busy"}, data=body, content_type="application/json"
        )

    problem(post(), 409, "idempotency.in_flight")
    assert org.counts() == before
    clock.advance(minutes=6)  # the first attempt died: its key is taken over
    r = post()
    assert r.status_code == 201, r.get_json()
    assert post().headers["Idempotent-Replayed"] == "true"


# ------------------------------------------------------------------ pagination


def test_cursor_pagination_walks_every_employee(org):
    seen, cursor, pages = [], None, 0
    while True:
        r = org.get("/employees?limit=2" + (f"&cursor={cursor}" if cursor else ""), org.hr)
        assert r.status_code == 200
        page = r.get_json()
        assert len(page["items"]) <= 2
        seen += [e["nip"] for e in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == 5 and len(seen) == len(set(seen)) == 9 and set(seen) == set(org.ALL)
    for query, field in (
        ("limit=500", "limit"),
        ("limit=0", "limit"),
        ("limit=two", "limit"),
        ("cursor=garbage!!", "cursor"),
        ("cursor=" + base64.urlsafe_b64encode(b'{"k": [1]}').decode(), "cursor"),
        ("cursor=" + base64.urlsafe_b64encode(b'{"k": "abc"}').decode(), "cursor"),
    ):
        body = problem(org.get(f"/employees?{query}", org.hr), 422, "validation")
        assert list(field_errors(body)) == [field], query
    assert problem(org.get("/employees?cursor=garbage!!", org.hr), 422)["errors"][0]["code"] == "pagination.cursor"
    body = problem(org.get("/audit?cursor=" + base64.urlsafe_b64encode(b'{"k": "x"}').decode(), org.hr), 422)
    assert field_errors(body) == {"cursor": "pagination.cursor"}


# ------------------------------------------------------------------ health, metrics, docs


def test_health_readiness_metrics_and_docs(org):
    assert org.client.get("/plans/healthz").get_json() == {"status": "ok", "service": "plans"}
    r = org.client.get("/plans/readyz")
    assert r.status_code == 200 and r.get_json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}
    org.get("/employees", org.hr)
    r = org.client.get("/plans/metrics")
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    assert "kinerja_http_requests_total" in text
    assert re.search(
        r'kinerja_http_requests_total\{endpoint="/plans/api/v1/employees",method="GET",service="plans",'
        r'status="200"\} [1-9]',
        text,
    )
    spec = org.client.get("/plans/openapi.json").get_json()
    assert "/plans/api/v1/plans/{plan_id}" in spec["paths"] and spec["components"]["securitySchemes"]["bearer"]


# ------------------------------------------------------------------ audit log


def audit_rows(org, headers, query=""):
    r = org.get(f"/audit?limit=200{query}", headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()["items"]


def test_audit_log_is_scoped_to_the_reader(org):
    hp, ka, sa = org.team_a()
    hr_rows = audit_rows(org, org.hr)
    assert {r["action"] for r in hr_rows} >= {
        "unit.created",
        "employee.created",
        "cycle.created",
        "cycle.advanced",
        "plan.created",
        "plan.submitted",
        "plan.approved",
    }
    assert all(r["at"].endswith("+00:00") for r in hr_rows)
    other_rows = audit_rows(org, org.other_hr)
    assert other_rows and {r["entity_id"] for r in other_rows}.isdisjoint(
        {r["entity_id"] for r in hr_rows if r["entity_type"] == "employee"}
    )
    assert all(r["after"].get("agency_code", "OTHER") == "OTHER" for r in other_rows if r["after"])
    mine = audit_rows(org, org.as_(STAFF_A[0]))
    assert mine and all(r["subject"] == STAFF_A[0] for r in mine)
    assert {r["action"] for r in mine} >= {"employee.created", "plan.created", "plan.approved"}
    assert all(r["subject"] == KASI_A for r in audit_rows(org, org.as_(KASI_A)))
    assert audit_rows(org, org.as_(STAFF_B[0]), f"&subject={STAFF_A[0]}") == []
    plan_rows = audit_rows(org, org.hr, f"&entity_type=plan&entity_id={sa['id']}")
    assert [r["action"] for r in plan_rows] == ["plan.created", "plan.submitted", "plan.approved"]
    assert plan_rows[-1]["actor"] == KASI_A


def test_audit_chain_verifies_and_detects_tampering(org):
    org.team_a()
    etag = org.get(f"/employees/{STAFF_B[0]}", org.hr).headers["ETag"]
    assert org.patch(f"/employees/{STAFF_B[0]}", org.hr | {"If-Match": etag}, {"grade": "III/b"}).status_code == 200
    tables = platform_tables
    with org.db() as s:
        assert verify_chain(s, tables) == (True, None)
        target = s.execute(select(tables.audit.c.id).where(tables.audit.c.action == "employee.updated")).scalar_one()
        s.execute(text("DROP TRIGGER audit_log_no_update"))  # append-only: tampering now takes deliberate DDL
        s.execute(update(tables.audit).where(tables.audit.c.id == target).values(after={"grade": "IV/e"}))
        s.commit()
    with org.db() as s:
        assert verify_chain(s, tables) == (False, target)


# ------------------------------------------------------------------ events (transactional outbox)

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_approval_writes_a_cloudevent_to_the_outbox(org):
    hp = org.head_plan()
    ka = org.cascade(hp, KASI_A)
    assert org.submit(ka["id"], KASI_A).status_code == 200
    r = org.post(f"/plans/{ka['id']}/approve", org.as_(HEAD) | {"traceparent": TRACEPARENT})
    assert r.status_code == 200
    rows = org.outbox("plans.plan.approved")
    assert len(rows) == 1
    row = rows[0]
    ev = row["envelope"]
    assert row["sent_at"] is None and row["event_id"] == ev["id"]
    assert ev["specversion"] == "1.0" and ev["type"] == "plans.plan.approved" and ev["source"] == "/plans"
    assert ev["subject"] == str(ka["id"]) and ev["datacontenttype"] == "application/json"
    uuid.UUID(ev["id"])
    assert datetime.fromisoformat(ev["time"].replace("Z", "+00:00")) == org.clock()
    assert ev["traceparent"].split("-")[1] == TRACEPARENT.split("-")[1]  # the request's trace continues
    data = ev["data"]
    assert (data["plan_id"], data["employee_nip"], data["penilai_nip"], data["approved_by"], data["revision"]) == (
        ka["id"],
        KASI_A,
        HEAD,
        HEAD,
        1,
    )
    assert data["unit_code"] == "SEK-A" and data["status"] == "approved"
    assert [(x["id"], x["description"], x["parent_rhk_id"]) for x in data["rhk"]] == [
        (x["id"], x["description"], x["parent_rhk_id"]) for x in ka["rhk"]
    ]
    assert [i["id"] for i in data["rhk"][0]["iki"]] == [i["id"] for i in ka["rhk"][0]["iki"]]
    assert set(data["behaviour"]) == set(ka["behaviour"])


def test_refused_requests_write_no_event(org):
    hp = org.head_plan()
    ka = org.cascade(hp, KASI_A)
    before = org.counts()
    problem(org.approve(ka["id"], HEAD), 409, "plan.transition")  # not submitted yet
    problem(org.submit(ka["id"], STAFF_A[0]), 404)
    problem(org.advance("draft"), 409)
    problem(
        org.post("/employees", org.hr, {"nip": "1" * 18, "name": "Salah", "position": "x y", "unit_code": "SEK-A"}), 422
    )
    problem(org.import_csv("units", "code,name,parent_code\nX1,Unit X1,\nX2,Unit X2,NOPE\n"), 422)
    etag = org.get(f"/plans/{ka['id']}", org.as_(KASI_A)).headers["ETag"]
    assert org.submit(ka["id"], KASI_A).status_code == 200
    before = org.counts()
    problem(org.put(f"/plans/{ka['id']}", org.as_(KASI_A) | {"If-Match": etag}, content(ka["rhk"])), 412)
    problem(org.post(f"/plans/{ka['id']}/return", org.as_(HEAD), {"note": ""}), 422)
    problem(org.approve(ka["id"], STAFF_A[0]), 404)
    assert org.counts() == before
    assert org.outbox("plans.plan.approved") == []


def test_the_injected_clock_drives_timestamps(org):
    org.clock.advance(days=3, hours=2)
    hp = org.head_plan()
    submitted = org.submit(hp["id"], HEAD).get_json()["submitted_at"]
    assert datetime.fromisoformat(submitted) == org.clock() == datetime.fromisoformat("2026-01-08T03:00:00+00:00")
    stored = org.get(f"/plans/{hp['id']}", org.hr).get_json()["submitted_at"]  # read back from the database
    assert datetime.fromisoformat(stored) == org.clock()
