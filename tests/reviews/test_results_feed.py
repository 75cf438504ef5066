"""The results feed (issue 16, Deliver 3): ``GET /reviews/api/v1/results`` answers the final
(countersigned) result per employee and period to HR of the agency, an admin and the agency's machine
clients; ``changed_since`` and a ``(changed_at, id)`` cursor let an allowance (TPP) system pull only
what changed, and a result changed by an objection comes again after the cursor; the events
``reviews.result.finalized`` and ``reviews.result.changed`` carry the same item."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest
from sqlalchemy import select

from tests.plans.support import HEAD, KASI_A, STAFF_A, STAFF_B, problem

WHY = "Penilaian berdasarkan bukti dukung."


@pytest.fixture
def feed(chain):
    """Period 1 rated in SEK-A and SEK-B (organisation result Istimewa), ready for sign-off."""
    chain.advance_to("monitoring:1:check_in")
    for unit in ("SEK-A", "SEK-B"):
        assert chain.set_org_result(unit, "ISTIMEWA").status_code == 200
    chain.advance_to("monitoring:1:supervisor_evaluation")
    ratings = {
        STAFF_A[0]: ("above", "above"),
        STAFF_A[1]: ("meets", "meets"),
        STAFF_B[0]: ("meets", "below"),
        STAFF_B[1]: ("meets", "meets"),
        STAFF_B[2]: ("below", "meets"),
    }
    for nip, (hasil, perilaku) in ratings.items():
        ev = chain.evaluation_of(nip)
        r = chain.rate(ev, ev["penilai_nip"], hasil, perilaku, deviation_reason=WHY, perilaku_deviation_reason=WHY)
        assert r.status_code == 200, (nip, r.get_json())
    return chain


def step(chain, nip: str, *actions: str) -> dict:
    """Move ``nip``'s period-1 evaluation through the sign-off steps named."""
    ev = chain.evaluation_of(nip)
    who = {"sign": ev["penilai_nip"], "acknowledge": nip, "countersign": HEAD}
    for action in actions:
        r = chain.post(f"/evaluations/{ev['id']}/{action}", chain.as_(who[action]))
        assert r.status_code == 200, (action, r.get_json())
    return chain.get(f"/evaluations/{ev['id']}", chain.hr).get_json()


def final(chain, nip: str) -> dict:
    return step(chain, nip, "sign", "acknowledge", "countersign")


def machine(chain, agency: str = "PKMB", scope: str | None = "results:read") -> dict:
    return chain.org.tokens.headers("agency", agency=agency, sub=f"tpp@{agency.lower()}", scope=scope)


def pull(chain, headers=None, **query) -> dict:
    q = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in query.items())
    r = chain.get(f"/results?{q}", headers or chain.hr)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def walk(chain, headers=None, **query) -> list[dict]:
    """Every item, page by page, as a client following ``next_cursor`` does."""
    items, cursor = [], None
    while True:
        page = pull(chain, headers, **query, **({"cursor": cursor} if cursor else {}))
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def nips(items) -> list[str]:
    return [i["employee_nip"] for i in items]


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


def file_objection(chain, nip: str) -> dict:
    ev = chain.evaluation_of(nip)
    body = {"reasons": "Bukti pengawasan lapangan bulan Maret belum dipertimbangkan."}
    r = chain.post(f"/evaluations/{ev['id']}/objections", chain.as_(nip), body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def decide(chain, objection: dict, decision: str, **ratings) -> dict:
    body = {"decision": decision, "reason": "Bukti foto kegiatan sah.", **ratings}
    r = chain.post(f"/objections/{objection['id']}/decide", chain.as_(HEAD), body)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def outbox(chain, *types: str) -> list[dict]:
    platform = chain.emb.apps["reviews"].extensions["kinerja"]
    t = platform.tables.outbox
    with platform.session_factory() as s:
        envelopes = [row.envelope for row in s.execute(select(t.c.envelope).order_by(t.c.id))]
    return [e for e in envelopes if e["type"] in types]


# ------------------------------------------------------------------ what a result is, and when


def test_a_result_is_in_the_feed_only_once_countersigned_with_everything_a_tpp_system_needs(feed, clock):
    step(feed, STAFF_A[0], "sign")
    assert pull(feed)["items"] == []  # signed: the employee has not even received it
    step(feed, STAFF_A[0], "acknowledge")
    assert pull(feed)["items"] == []  # acknowledged: the atasan has not closed the chain
    clock.advance(hours=2)
    ev = step(feed, STAFF_A[0], "countersign")
    page = pull(feed)
    assert page["next_cursor"] is None
    [item] = page["items"]
    assert item == {
        "evaluation_id": ev["id"],
        "agency_code": "PKMB",
        "employee_nip": STAFF_A[0],
        "employee_name": "Rina Wati",
        "unit_code": "SEK-A",
        "unit_name": ev["unit_name"],
        "cycle_id": feed.org.cycle_id,
        "year": 2026,
        "kind": "periodic",
        "period_seq": 1,
        "period_name": "Triwulan I",
        "period_start": "2026-01-01",
        "period_end": "2026-03-31",
        "rating_hasil": "above",
        "rating_perilaku": "above",
        "predikat": "SANGAT_BAIK",
        "org_result": "ISTIMEWA",
        "content_hash": ev["content_hash"],
        "document_version": 3,  # signed, acknowledged, countersigned
        "signed_at": ev["signed_at"],
        "acknowledged_at": ev["acknowledged_at"],
        "countersigned_at": ev["countersigned_at"],
        "objection": {"status": "none", "decision": None, "filed_at": None, "decided_at": None},
        "changed_at": ev["countersigned_at"],
    }
    assert len(item["content_hash"]) == 64 and instant(item["changed_at"]) == clock.now


def test_who_reads_the_feed(feed):
    final(feed, STAFF_A[0])
    org = feed.org
    # HR, the agency's machine client and an admin read it
    for who in (org.hr, machine(feed), org.admin):
        assert nips(pull(feed, who)["items"]) == [STAFF_A[0]]
    # another agency's HR and machine client see nothing of PKMB, even asking for its cycle or unit
    for who in (org.other_hr, machine(feed, "OTHER")):
        assert pull(feed, who)["items"] == []
        assert pull(feed, who, cycle_id=org.cycle_id, unit_code="SEK-A")["items"] == []
    # a person — the employee, their penilai, the atasan — is refused: the feed is for systems and HR
    for nip in (STAFF_A[0], KASI_A, HEAD):
        body = problem(feed.get("/results", feed.as_(nip)), 403, "auth.role")
        assert STAFF_A[0] not in str(body)
    # a machine client without the scope results:read is refused, naming it; no token at all: 401
    body = problem(feed.get("/results", machine(feed, scope="plans:read")), 403, "auth.scope_missing")
    assert "results:read" in body["detail"]
    problem(feed.get("/results", {}), 401)


def test_filters_cycle_period_and_unit(feed, clock):
    for nip in (STAFF_A[0], STAFF_B[0], STAFF_A[1]):
        clock.advance(minutes=5)
        final(feed, nip)
    cycle = feed.org.cycle_id
    assert nips(pull(feed)["items"]) == [STAFF_A[0], STAFF_B[0], STAFF_A[1]]  # in the order they became final
    assert nips(pull(feed, unit_code="SEK-A")["items"]) == [STAFF_A[0], STAFF_A[1]]
    assert nips(pull(feed, unit_code="SEK-B", cycle_id=cycle, period_seq=1)["items"]) == [STAFF_B[0]]
    assert pull(feed, period_seq=0)["items"] == []  # no annual result yet
    assert pull(feed, cycle_id=cycle + 1000)["items"] == []
    assert pull(feed, unit_code="DINAS")["items"] == []


# ------------------------------------------------------------------ incremental sync


def test_a_monthly_pull_takes_only_what_changed_and_a_changed_result_comes_again_after_the_cursor(feed, clock):
    # B[0] acknowledged and objected before the countersignature: final with the objection pending
    step(feed, STAFF_B[0], "sign", "acknowledge")
    objection = file_objection(feed, STAFF_B[0])
    order = [STAFF_A[0], STAFF_B[0], STAFF_A[1], STAFF_B[1]]
    for nip in order:
        clock.advance(minutes=10)
        if nip == STAFF_B[0]:
            step(feed, nip, "countersign")
        else:
            final(feed, nip)
    # the first month: the whole feed, two per page
    first = pull(feed, limit=2)
    assert nips(first["items"]) == order[:2] and first["next_cursor"]
    assert first["items"][1]["objection"]["status"] == "filed"
    # while the client reads, the atasan changes B[0]'s result (already read on the first page)
    clock.advance(minutes=1)
    decide(feed, objection, "changed", rating_hasil="meets", rating_perilaku="meets")
    second = pull(feed, limit=2, cursor=first["next_cursor"])
    assert nips(second["items"]) == order[2:]  # what was read is not repeated before the cursor
    third = pull(feed, limit=2, cursor=second["next_cursor"])
    assert third["next_cursor"] is None
    [again] = third["items"]  # the changed result comes again, after the cursor, as it now stands
    assert again["employee_nip"] == STAFF_B[0] and again["predikat"] == "BAIK"
    assert again["objection"]["status"] == "decided" and again["objection"]["decision"] == "changed"
    assert again["document_version"] == 4 and again["content_hash"] != first["items"][1]["content_hash"]
    assert instant(again["changed_at"]) > instant(second["items"][-1]["changed_at"])
    last = again["changed_at"]
    # the next pull: nothing changed since the stored changed_at
    clock.advance(days=7)
    assert walk(feed, changed_since=last, limit=2) == []
    # then STAFF_A[1] objects to the final result, and B[2] becomes final: both come, nothing else
    file_objection(feed, STAFF_A[1])
    clock.advance(minutes=1)
    final(feed, STAFF_B[2])
    later = walk(feed, changed_since=last, limit=1)
    assert nips(later) == [STAFF_A[1], STAFF_B[2]]
    assert later[0]["objection"]["status"] == "filed" and later[0]["predikat"] == "BAIK"
    # an offset other than Z means the same instant
    local = instant(last).astimezone(timezone(timedelta(hours=7))).isoformat()
    assert nips(walk(feed, changed_since=local)) == [STAFF_A[1], STAFF_B[2]]
    # the whole feed still holds each result once, in the order of its last change
    assert nips(walk(feed, limit=1)) == [STAFF_A[0], STAFF_B[1], STAFF_B[0], STAFF_A[1], STAFF_B[2]]


def test_results_final_at_the_same_instant_keep_distinct_increasing_stamps(feed):
    for nip in (STAFF_A[0], STAFF_A[1], STAFF_B[1]):  # the clock stands still
        final(feed, nip)
    items = walk(feed, limit=1)
    stamps = [instant(i["changed_at"]) for i in items]
    assert nips(items) == [STAFF_A[0], STAFF_A[1], STAFF_B[1]]
    assert stamps == sorted(set(stamps)) and stamps[-1] - stamps[0] == timedelta(microseconds=2)
    # the last stamp leads the standing clock by two microseconds: still a valid changed_since
    assert pull(feed, changed_since=items[-1]["changed_at"])["items"] == []
    assert nips(pull(feed, changed_since=items[0]["changed_at"])["items"]) == [STAFF_A[1], STAFF_B[1]]


def test_results_sharing_a_stamp_page_by_id_each_once(feed):
    """Results final before the feed existed share their countersignature's time when it was the same
    (the migration's backfill): the cursor goes on by id among them."""
    from services.reviews.models import Evaluation

    for nip in (STAFF_A[0], STAFF_A[1], STAFF_B[1]):
        final(feed, nip)
    platform = feed.emb.apps["reviews"].extensions["kinerja"]
    with platform.session_factory() as s:
        for ev in s.scalars(select(Evaluation).where(Evaluation.result_changed_at.is_not(None))):
            ev.result_changed_at = datetime(2026, 1, 6, 9, 0, tzinfo=timezone.utc)
        s.commit()
    pages = [pull(feed, limit=1)]
    while pages[-1]["next_cursor"]:
        pages.append(pull(feed, limit=1, cursor=pages[-1]["next_cursor"]))
    assert [nips(p["items"]) for p in pages] == [[STAFF_A[0]], [STAFF_A[1]], [STAFF_B[1]]]
    assert {i["changed_at"] for p in pages for i in p["items"]} == {"2026-01-06T09:00:00+00:00"}


@pytest.mark.parametrize(
    "value",
    [
        "kemarin",
        "2026-01-01",  # a date, not an instant
        "2026-01-01T00:00:00",  # no offset: which zone?
        "2026-01-01T00:00:00 07:00",  # a "+" sent unencoded
        "2026-13-01T00:00:00Z",
        "0001-01-01T00:00:00+14:00",  # before the first representable instant in UTC
        "2999-01-01T00:00:00Z",  # the future
    ],
)
def test_a_malformed_or_future_changed_since_is_422_naming_the_field(feed, value):
    final(feed, STAFF_A[0])
    r = feed.get(f"/results?changed_since={quote(value, safe='')}", feed.hr)
    body = problem(r, 422, "validation")
    [error] = body["errors"]
    assert error["field"] == "changed_since"
    code = "results.changed_since_future" if value.startswith("2999") else "results.changed_since_format"
    assert error["code"] == code and value in error["detail"]


def test_a_bad_cursor_or_limit_is_422(feed):
    final(feed, STAFF_A[0])
    for cursor in ("bukan-kursor", "eyJrIjogMX0", "eyJrIjogWyIyMDI2LTAxLTAxIiwgMV19"):  # junk, {"k": 1}, naive
        body = problem(feed.get(f"/results?cursor={cursor}", feed.hr), 422)
        assert [e["field"] for e in body["errors"]] == ["cursor"]
    body = problem(feed.get("/results?limit=201", feed.hr), 422)
    assert [e["field"] for e in body["errors"]] == ["limit"]


# ------------------------------------------------------------------ events


def test_the_events_carry_the_feed_item(feed, clock):
    step(feed, STAFF_B[0], "sign", "acknowledge")
    objection = file_objection(feed, STAFF_B[0])
    assert outbox(feed, "reviews.result.finalized", "reviews.result.changed") == []  # not final yet
    step(feed, STAFF_B[0], "countersign")
    [finalized] = outbox(feed, "reviews.result.finalized")
    [item] = pull(feed)["items"]
    assert finalized["data"] == item and finalized["subject"] == str(item["evaluation_id"])
    assert finalized["data"]["predikat"] == "KURANG_MISCONDUCT" and finalized["data"]["objection"]["status"] == "filed"
    clock.advance(hours=1)
    decide(feed, objection, "changed", rating_hasil="meets", rating_perilaku="meets")
    [changed] = outbox(feed, "reviews.result.changed")
    [item] = pull(feed)["items"]
    assert changed["data"] == item
    assert (item["predikat"], item["objection"]["decision"], item["document_version"]) == ("BAIK", "changed", 4)
    assert len(outbox(feed, "reviews.result.finalized")) == 1  # finalized once
    # an objection upheld changes no result: no event, though the item's objection state moves
    clock.advance(hours=1)
    final(feed, STAFF_B[1])
    upheld = file_objection(feed, STAFF_B[1])
    decide(feed, upheld, "upheld")
    assert len(outbox(feed, "reviews.result.changed")) == 1
    assert [e["data"]["employee_nip"] for e in outbox(feed, "reviews.result.finalized")] == [STAFF_B[0], STAFF_B[1]]
    [b1] = [i for i in pull(feed)["items"] if i["employee_nip"] == STAFF_B[1]]
    assert b1["objection"]["status"] == "decided" and b1["objection"]["decision"] == "upheld"


def test_a_decision_before_the_countersignature_is_final_with_it_not_a_change(feed):
    step(feed, STAFF_B[0], "sign", "acknowledge")
    objection = file_objection(feed, STAFF_B[0])
    decide(feed, objection, "changed", rating_hasil="meets", rating_perilaku="meets")
    assert pull(feed)["items"] == [] and outbox(feed, "reviews.result.changed") == []
    step(feed, STAFF_B[0], "countersign")
    [item] = pull(feed)["items"]
    assert item["predikat"] == "BAIK" and item["objection"]["decision"] == "changed"
    assert [e["data"]["predikat"] for e in outbox(feed, "reviews.result.finalized")] == ["BAIK"]
    assert outbox(feed, "reviews.result.changed") == []


# ------------------------------------------------------------------ the migration's backfill


def test_the_migration_backfills_results_final_before_it(feed, clock):
    """Downgraded to 0009 and upgraded again, the countersigned results take the time of their last
    step: the countersignature, or an objection filed after it."""
    from alembic import command

    from services.common.db import alembic_config
    from services.reviews.app import MIGRATIONS

    final(feed, STAFF_A[0])
    clock.advance(hours=1)
    final(feed, STAFF_B[1])
    clock.advance(hours=1)
    file_objection(feed, STAFF_B[1])
    step(feed, STAFF_A[1], "sign", "acknowledge")  # not final: stays out
    before = {i["employee_nip"]: i["changed_at"] for i in walk(feed)}
    platform = feed.emb.apps["reviews"].extensions["kinerja"]
    platform.engine.dispose()
    cfg = alembic_config(MIGRATIONS, str(platform.engine.url))
    command.downgrade(cfg, "0009")
    command.upgrade(cfg, "head")
    after = {i["employee_nip"]: i["changed_at"] for i in walk(feed)}
    assert after == before and list(after) == [STAFF_A[0], STAFF_B[1]]
    ev = feed.evaluation_of(STAFF_A[0])
    assert instant(after[STAFF_A[0]]) == instant(ev["countersigned_at"])


# ------------------------------------------------------------------ the README's example


def test_the_readme_monthly_tpp_pull_takes_the_cycle_then_only_what_changed(feed, clock, tmp_path, monkeypatch):
    """The Python example of README "Results feed", run as written against this server: the identity
    provider's token is a development machine client's, httpx goes to the embedded app."""
    import re
    from pathlib import Path

    import httpx

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    code = re.search(r"A monthly TPP pull.*?```python\n(.*?)```", readme, re.S).group(1)
    code = re.sub(r"^CYCLE_ID = \d+", f"CYCLE_ID = {feed.org.cycle_id}", code, flags=re.M)
    token = machine(feed)["Authorization"].split()[1]

    class Granted:
        def json(self):
            return {"access_token": token, "token_type": "Bearer"}

    real_client = httpx.Client
    monkeypatch.setattr(httpx, "post", lambda url, **kw: Granted())
    monkeypatch.setattr(
        httpx, "Client", lambda **kw: real_client(transport=httpx.WSGITransport(app=feed.emb.wsgi), **kw)
    )
    monkeypatch.chdir(tmp_path)
    received: list[dict] = []

    def run():
        received.clear()
        exec(compile(code, "README.md", "exec"), {"upsert_tpp_basis": received.append})

    final(feed, STAFF_A[0])
    step(feed, STAFF_B[0], "sign", "acknowledge")
    objection = file_objection(feed, STAFF_B[0])
    clock.advance(minutes=1)
    step(feed, STAFF_B[0], "countersign")
    run()  # the first month: the whole cycle
    assert nips(received) == [STAFF_A[0], STAFF_B[0]] and received[1]["objection"]["status"] == "filed"
    run()  # nothing changed since
    assert received == []
    clock.advance(days=3)
    decide(feed, objection, "changed", rating_hasil="meets", rating_perilaku="meets")
    final(feed, STAFF_B[1])
    run()  # the next month: the changed result and the new one
    assert [(i["employee_nip"], i["predikat"]) for i in received] == [(STAFF_B[0], "BAIK"), (STAFF_B[1], "BAIK")]
