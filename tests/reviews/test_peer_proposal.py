"""Peer nomination as people do it (issue 15): the employee proposes colleagues, the penilai approves
(or edits) the list by nominating, each nominated colleague is asked (one ``reviews.peer.requested``
event each, for the notification) and finds the request in ``GET /evaluations?role=peer`` — which
shows whom and which period, nothing of the appraisal — and answers. The employee never learns
whom the penilai added."""

from __future__ import annotations

import json

from sqlalchemy import select

from services.reviews.models import platform_tables as reviews_tables
from tests.plans.support import HEAD, KASI_A, KASI_B, STAFF_A, STAFF_B, problem

ANSWER = {"kolaboratif": "above", "harmonis": "meets"}


def _outbox(chain, type_):
    t = reviews_tables.outbox
    with chain.emb.apps["reviews"].extensions["kinerja"].session_factory() as s:
        rows = s.execute(select(t).where(t.c.type == type_).order_by(t.c.id)).mappings()
        return [dict(r)["envelope"] for r in rows]


def _proposal(chain, ev_id, who):
    r = chain.get(f"/evaluations/{ev_id}/peer-proposal", chain.as_(who))
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_employee_proposes_penilai_approves_with_an_edit_and_peers_are_asked(chain):
    chain.advance_to("monitoring:1:check_in")
    ev = chain.evaluation_of(STAFF_A[0])
    before = _proposal(chain, ev["id"], STAFF_A[0])
    assert before["status"] == "none" and before["minimum"] == 3
    offered = [c["nip"] for c in before["candidates"]]
    assert offered[:2] == sorted(STAFF_A[1:], key=lambda n: {STAFF_A[1]: "Dewi", STAFF_A[2]: "Joko"}[n])  # unit first
    assert STAFF_A[0] not in offered and KASI_A not in offered and STAFF_B[0] in offered

    proposed = [STAFF_A[1], STAFF_A[2], STAFF_B[0]]
    r = chain.put(f"/evaluations/{ev['id']}/peer-proposal", chain.as_(STAFF_A[0]), {"rater_nips": proposed})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "proposed"
    assert [p["name"] for p in r.get_json()["proposed"]] == ["Dewi Lestari", "Joko Widodo", "Andi Pratama"]
    assert len(_outbox(chain, "reviews.peers.proposed")) == 1  # the penilai is told
    seen_by_penilai = _proposal(chain, ev["id"], KASI_A)
    assert seen_by_penilai["rater_nips"] == proposed and STAFF_B[1] in [c["nip"] for c in seen_by_penilai["candidates"]]

    # the penilai keeps two, drops STAFF_B[0] and adds STAFF_B[1]: that is the approval (a NIP ticked
    # twice is one rater)
    kept = [STAFF_A[1], STAFF_A[2], STAFF_B[1]]
    r = chain.post(f"/evaluations/{ev['id']}/peers", chain.as_(KASI_A), {"rater_nips": kept + [STAFF_B[1]]})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["nominated"] == 3
    mine = _proposal(chain, ev["id"], STAFF_A[0])
    assert mine["status"] == "approved" and mine["approved_at"]
    assert STAFF_B[1] not in json.dumps(mine)  # the employee never learns whom the penilai added
    asked = [e["data"]["rater_nip"] for e in _outbox(chain, "reviews.peer.requested")]
    assert sorted(asked) == sorted(kept)
    # once nominated, the proposal is decided
    problem(
        chain.put(f"/evaluations/{ev['id']}/peer-proposal", chain.as_(STAFF_A[0]), {"rater_nips": proposed}),
        409,
        "peer.proposal_decided",
    )


def test_role_peer_lists_my_open_requests_with_nothing_of_the_appraisal(chain):
    chain.advance_to("monitoring:1:check_in")
    ev = chain.evaluation_of(STAFF_A[0])
    raters = [STAFF_A[1], STAFF_A[2], STAFF_B[0]]
    assert chain.post(f"/evaluations/{ev['id']}/peers", chain.as_(KASI_A), {"rater_nips": raters}).status_code == 200
    r = chain.get("/evaluations?role=peer", chain.as_(STAFF_B[0]))  # was 422
    assert r.status_code == 200, r.get_json()
    items = r.get_json()["items"]
    assert [i["id"] for i in items] == [ev["id"]]
    assert items[0]["employee_name"] == "Rina Wati"
    assert not {"status", "rating_hasil", "rating_perilaku", "predikat", "penilai_nip"} & set(items[0])
    # someone not asked sees nothing; the rater's answer closes the request
    assert chain.get("/evaluations?role=peer", chain.as_(STAFF_B[1])).get_json()["items"] == []
    r = chain.post(f"/evaluations/{ev['id']}/peer-feedback", chain.as_(STAFF_B[0]), {"answers": ANSWER})
    assert r.status_code == 201, r.get_json()
    assert chain.get("/evaluations?role=peer", chain.as_(STAFF_B[0])).get_json()["items"] == []


def test_a_bad_proposal_names_each_wrong_colleague_and_saves_nothing(chain):
    chain.advance_to("monitoring:1:check_in")
    ev = chain.evaluation_of(STAFF_A[0])
    nips = [STAFF_A[0], KASI_A, "199912312020121999", STAFF_A[1], STAFF_A[1]]
    body = problem(
        chain.put(f"/evaluations/{ev['id']}/peer-proposal", chain.as_(STAFF_A[0]), {"rater_nips": nips}), 422
    )
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("rater_nips[0]", "peer.self"),
        ("rater_nips[1]", "peer.is_penilai"),
        ("rater_nips[2]", "peer.unknown"),
        ("rater_nips[4]", "peer.duplicate"),
    ]
    body = problem(
        chain.put(f"/evaluations/{ev['id']}/peer-proposal", chain.as_(STAFF_A[0]), {"rater_nips": [STAFF_A[1]]}),
        422,
    )
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("rater_nips", "peer.too_few")]
    assert _proposal(chain, ev["id"], STAFF_A[0])["status"] == "none"
    # only the employee proposes; the atasan and an unrelated supervisor read no names
    good = {"rater_nips": [STAFF_A[1], STAFF_A[2], STAFF_B[0]]}
    problem(chain.put(f"/evaluations/{ev['id']}/peer-proposal", chain.as_(KASI_A), good), 403)
    assert chain.get(f"/evaluations/{ev['id']}/peer-proposal", chain.as_(HEAD)).status_code == 403
    assert chain.get(f"/evaluations/{ev['id']}/peer-proposal", chain.as_(KASI_B)).status_code == 404
