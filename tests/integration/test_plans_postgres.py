"""The plans service on a real PostgreSQL: the whole SKP flow, optimistic locking under two
concurrent writers (exactly one 412), and the audit hash chain under concurrent writers."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from services.common.audit import verify_chain
from services.common.config import Config
from services.plans import skp as svc
from services.plans.app import create_app
from services.plans.models import platform_tables
from tests.plans.support import (
    API,
    HEAD,
    KASI_A,
    KASI_B,
    STAFF_A,
    STAFF_B,
    FakeClock,
    Org,
    Tokens,
    content,
    problem,
    rhk,
    seed,
)

pytestmark = pytest.mark.integration

THREAD_TIMEOUT = 30


def make_app(url: str, clock: FakeClock, migrate: bool):
    return create_app(Config.from_env("plans", env={"PLANS_DATABASE_URL": url}), clock=clock, migrate=migrate)


@pytest.fixture
def pg(postgres_url):
    clock = FakeClock()
    app = make_app(postgres_url, clock, migrate=True)
    assert app.extensions["kinerja"].engine.dialect.name == "postgresql"
    org = Org(app, app.test_client(), Tokens(app.extensions["kinerja"].config.jwt_secret), clock)
    seed(org)
    extra = []

    def second_app():
        other = make_app(postgres_url, clock, migrate=False)
        extra.append(other)
        return other

    org.second_app = second_app
    yield org
    for a in [app, *extra]:
        a.extensions["kinerja"].engine.dispose()


def audit_count(org) -> int:
    with org.db() as s:
        return s.scalar(select(func.count()).select_from(platform_tables.audit))


def run_threads(n: int, target) -> list:
    """Run ``target(i, barrier)`` in ``n`` threads started together; return their results in order."""
    barrier = threading.Barrier(n, timeout=THREAD_TIMEOUT)
    results: list = [None] * n
    errors: list = []

    def run(i):
        try:
            results[i] = target(i, barrier)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(THREAD_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert not errors, errors
    return results


def test_full_plan_flow_on_postgres(pg):
    org = pg
    assert org.count("/employees") == 9
    hp = org.head_plan()
    ka = org.cascade(hp, KASI_A, approver=HEAD)
    kb = org.cascade(hp, KASI_B, approver=HEAD, which=1)
    sa = org.cascade(ka, STAFF_A[0])
    # returned once, then approved
    assert org.submit(sa["id"], STAFF_A[0]).status_code == 200
    r = org.post(f"/plans/{sa['id']}/return", org.as_(KASI_A), {"note": "Lengkapi target kualitas"})
    assert r.get_json()["status"] == "returned"
    r = org.get(f"/plans/{sa['id']}", org.as_(STAFF_A[0]))
    data = content(r.get_json()["rhk"])
    data["rhk"][0]["iki"][1]["target_value"] = 95
    assert org.put(f"/plans/{sa['id']}", org.as_(STAFF_A[0]) | {"If-Match": r.headers["ETag"]}, data).status_code == 200
    assert org.submit(sa["id"], STAFF_A[0]).status_code == 200
    assert org.approve(sa["id"], KASI_A).get_json()["status"] == "approved"
    # authorization holds on PostgreSQL as well
    problem(org.get(f"/plans/{sa['id']}", org.as_(STAFF_A[1])), 404)
    problem(org.get(f"/plans/{sa['id']}", org.as_(KASI_B)), 404)
    problem(org.get(f"/plans/{sa['id']}", org.other_hr), 404)
    # monitoring: realisation with evidence, a daily log and feedback
    org.advance_to("monitoring:1:check_in")
    iki_id = sa["rhk"][0]["iki"][0]["id"]
    rec = org.post(
        f"/plans/{sa['id']}/realisations", org.as_(STAFF_A[0]), {"iki_id": iki_id, "period_seq": 1, "value": 2}
    )
    assert rec.status_code == 201, rec.get_json()
    ev = org.client.post(
        f"{API}/plans/{sa['id']}/realisations/{rec.get_json()['id']}/evidence",
        headers=org.as_(STAFF_A[0]),
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(b"%PDF-1.4 bukti"), "bukti.pdf", "application/pdf")},
    )
    assert ev.status_code == 201
    assert org.get(f"/evidence/{ev.get_json()['id']}", org.as_(KASI_A)).data == b"%PDF-1.4 bukti"
    assert (
        org.post(
            "/daily-logs", org.as_(STAFF_A[0]), {"date": "2026-01-05", "activity": "Menyusun laporan", "minutes": 120}
        ).status_code
        == 201
    )
    assert len(org.get("/daily-logs?team=true", org.as_(KASI_A)).get_json()["items"]) == 1
    assert (
        org.post(
            f"/plans/{sa['id']}/feedback", org.as_(KASI_A), {"value_code": "akuntabel", "text": "Tepat waktu"}
        ).status_code
        == 201
    )
    # revision keeps both approved versions
    r = org.post(f"/plans/{sa['id']}/revise", org.as_(STAFF_A[0]))
    data = content(r.get_json()["rhk"])
    data["rhk"][0]["description"] = "Direvisi di triwulan I"
    assert org.put(f"/plans/{sa['id']}", org.as_(STAFF_A[0]) | {"If-Match": r.headers["ETag"]}, data).status_code == 200
    assert org.submit(sa["id"], STAFF_A[0]).status_code == 200
    assert org.approve(sa["id"], KASI_A).get_json()["revision"] == 2
    versions = org.get(f"/plans/{sa['id']}/versions", org.as_(STAFF_A[0])).get_json()
    assert [v["snapshot"]["rhk"][0]["description"] for v in versions] == [
        sa["rhk"][0]["description"],
        "Direvisi di triwulan I",
    ]
    cov = org.get(f"/plans/{hp['id']}/coverage", org.as_(HEAD)).get_json()
    assert cov["ratio"] == 1.0 and cov["subordinates_without_plan"] == []
    assert kb["status"] == "approved"
    # events, audit chain, pagination and stored timestamps
    assert len(org.outbox("plans.plan.approved")) == 4
    with org.db() as s:
        assert verify_chain(s, platform_tables) == (True, None)
    page = org.get("/employees?limit=4", org.hr).get_json()
    rest = org.get(f"/employees?limit=50&cursor={page['next_cursor']}", org.hr).get_json()
    assert len(page["items"]) + len(rest["items"]) == 9 and rest["next_cursor"] is None
    assert org.plan(sa["id"])["approved_at"] == "2026-01-05T01:00:00+00:00"


def test_refusals_on_postgres_are_problems_not_crashes(pg):
    org = pg
    before = org.counts()
    problem(
        org.post(
            "/employees",
            org.hr,
            {"nip": "199609092021011010", "name": "Nul\u0000Byte", "position": "Analis", "unit_code": "SEK-A"},
        ),
        422,
    )
    problem(org.get("/employees/%00", org.hr), 422)
    problem(org.get(f"/plans?cycle_id={10**22}", org.hr), 422)
    problem(org.get("/employees?cursor=eyJrIjogImFiYyJ9", org.hr), 422)  # {"k": "abc"} for an integer key
    assert org.counts() == before


def _put_race(org, monkeypatch, force_overlap: bool):
    """Two writers PUT the same plan with the same If-Match, each through its own app instance."""
    hp = org.head_plan()
    ka = org.cascade(hp, KASI_A)
    r = org.get(f"/plans/{ka['id']}", org.as_(KASI_A))
    etag = r.headers["ETag"]
    bodies = []
    for n in range(2):
        body = content(r.get_json()["rhk"])
        body["rhk"][0]["description"] = f"Versi penulis {n}"
        body["rhk"][0]["iki"][0]["target_value"] = 10 + n
        bodies.append(body)
    clients = [org.client, org.second_app().test_client()]
    headers = org.as_(KASI_A) | {"If-Match": etag}
    if force_overlap:
        # both requests pass the If-Match check before either writes: only the database's version
        # check can tell them apart
        inside = threading.Barrier(2, timeout=THREAD_TIMEOUT)
        real = svc.update_plan

        def update_plan(*args, **kwargs):
            inside.wait()
            return real(*args, **kwargs)

        monkeypatch.setattr(svc, "update_plan", update_plan)

    def put(i, barrier):
        barrier.wait()
        resp = clients[i].put(f"{API}/plans/{ka['id']}", headers=headers, json=bodies[i])
        return resp.status_code, resp.get_json(), resp.mimetype

    results = run_threads(2, put)
    monkeypatch.undo()
    statuses = sorted(s for s, _, _ in results)
    assert statuses == [200, 412], results
    winner = next(i for i, (s, _, _) in enumerate(results) if s == 200)
    loser = results[1 - winner]
    assert loser[2] == "application/problem+json" and loser[1]["code"] in ("etag.stale", "etag.conflict")
    stored = org.get(f"/plans/{ka['id']}", org.as_(KASI_A))
    assert stored.get_json()["rhk"][0]["description"] == f"Versi penulis {winner}"
    assert stored.get_json()["rhk"][0]["iki"][0]["target_value"] == 10 + winner
    assert stored.headers["ETag"] == f'"{int(etag.strip(chr(34))) + 1}"'
    assert [
        r["action"] for r in org.get(f"/audit?entity_type=plan&entity_id={ka['id']}", org.hr).get_json()["items"]
    ] == ["plan.created", "plan.updated"]
    with org.db() as s:
        assert verify_chain(s, platform_tables) == (True, None)
    return loser[1]["code"]


def test_two_concurrent_puts_give_one_412(pg, monkeypatch):
    _put_race(pg, monkeypatch, force_overlap=False)


def test_two_overlapping_puts_give_one_412_from_the_version_check(pg, monkeypatch):
    assert _put_race(pg, monkeypatch, force_overlap=True) == "etag.conflict"


def test_concurrent_audit_writes_keep_the_chain(pg):
    org = pg
    org.advance_to("monitoring:1:check_in")
    writers = [*STAFF_A, *STAFF_B, KASI_A, KASI_B]
    apps = [org.app, org.second_app()]
    start = audit_count(org)
    per_writer = 5

    def write(i, barrier):
        client = apps[i % 2].test_client()
        nip = writers[i]
        barrier.wait()
        codes = []
        for k in range(per_writer):
            r = client.post(
                f"{API}/daily-logs",
                headers=org.as_(nip),
                json={
                    "date": str((org.clock() - timedelta(days=k)).date()),
                    "activity": f"Kegiatan {k}",
                    "minutes": 30 + k,
                },
            )
            codes.append(r.status_code)
        return codes

    results = run_threads(len(writers), write)
    assert all(code == 201 for codes in results for code in codes), results
    assert audit_count(org) == start + len(writers) * per_writer
    with org.db() as s:
        assert verify_chain(s, platform_tables) == (True, None)


def test_audit_chain_does_not_depend_on_the_session_time_zone(postgres_url, monkeypatch):
    """A server (or client) time zone other than UTC returns timestamps in that zone; the chain
    hashes the instant, not its rendering."""
    monkeypatch.setenv("PGTZ", "Asia/Jakarta")
    clock = FakeClock()
    app = make_app(postgres_url, clock, migrate=True)
    try:
        org = Org(app, app.test_client(), Tokens(app.extensions["kinerja"].config.jwt_secret), clock)
        seed(org)
        with org.db() as s:
            assert s.execute(select(func.current_setting("TimeZone"))).scalar() == "Asia/Jakarta"
            assert verify_chain(s, platform_tables) == (True, None)
        rows = org.get("/audit?limit=1", org.hr).get_json()["items"]
        assert rows[0]["at"] in ("2026-01-05T01:00:00+00:00", "2026-01-05T08:00:00+07:00")
    finally:
        app.extensions["kinerja"].engine.dispose()


def test_two_concurrent_creates_of_one_plan_give_one_409(pg):
    org = pg
    hp = org.head_plan()
    clients = [org.client, org.second_app().test_client()]

    def create(i, barrier):
        barrier.wait()
        r = clients[i].post(
            f"{API}/plans",
            headers=org.as_(KASI_A),
            json=content([rhk("Serentak", parent=hp["rhk"][0]["id"])]) | {"cycle_id": org.cycle_id},
        )
        return r.status_code, r.mimetype

    results = run_threads(2, create)
    assert sorted(results) == [(201, "application/json"), (409, "application/problem+json")], results
    assert org.count(f"/plans?employee_nip={KASI_A}") == 1


def test_directory_import_writes_in_bulk_on_postgres(pg):
    """The import's set-based inserts, version-guarded updates, events and chained audit rows on
    PostgreSQL (executemany): the same records as one request per employee would make."""
    from tests.plans.test_api_directory_import import import_records_each_change_once

    import_records_each_change_once(pg)


def test_a_person_token_without_a_nip_lists_no_plans_and_no_employees(pg):
    """A staff token that carries no NIP sees nobody's plans or directory entries: an empty page,
    not an error (the filter once sent a NUL byte, which PostgreSQL refuses: a 422 naming the body
    of a GET)."""
    headers = pg.tokens.headers("employee", nip=None)
    for path in ("/plans", "/employees"):
        r = pg.client.get(f"{API}{path}", headers=headers)
        assert r.status_code == 200, (path, r.get_json())
        assert r.get_json()["items"] == [], path
    r = pg.client.get(f"{API}/employees", headers=pg.as_(KASI_A))
    assert {e["nip"] for e in r.get_json()["items"]} >= set(STAFF_A), "a supervisor still sees the team"
