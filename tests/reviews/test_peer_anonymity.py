"""Peer answers stay anonymous: the aggregate appears once, final (no later answer can move it), the
penilai cannot nominate himself, and the rated employee's audit view does not list the raters."""

from __future__ import annotations

import json

from tests.plans.support import HEAD, KASI_A, KASI_B, STAFF_A, STAFF_B, problem

ANSWER = {"kolaboratif": "above", "harmonis": "meets"}


def _summary(chain, ev_id, who):
    r = chain.get(f"/evaluations/{ev_id}/peer-feedback", chain.as_(who))
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_no_single_answer_moves_a_shown_aggregate(chain):
    chain.advance_to("monitoring:1:check_in")
    ev = chain.evaluation_of(STAFF_A[0])
    raters = [STAFF_A[1], STAFF_A[2], STAFF_B[0], STAFF_B[1]]
    r = chain.post(f"/evaluations/{ev['id']}/peers", chain.as_(KASI_A), {"rater_nips": raters})
    assert r.status_code == 200, r.get_json()
    seen = []
    for i, nip in enumerate(raters):
        answer = ANSWER if i < 3 else {"kolaboratif": "below", "harmonis": "below"}
        assert (
            chain.post(f"/evaluations/{ev['id']}/peer-feedback", chain.as_(nip), {"answers": answer}).status_code == 201
        )
        seen.append(_summary(chain, ev["id"], STAFF_A[0])["aggregate"])
    # three answers are enough raters, but a fourth is still due: showing the three would let the
    # employee read the fourth answer off the difference
    assert seen[:3] == [None, None, None]
    assert seen[3]["kolaboratif"] == {"above": 3, "meets": 0, "below": 1, "n": 4}
    assert _summary(chain, ev["id"], KASI_A)["closed"] is True
    # the round is closed: no rater can be added whose answer would move the aggregate
    problem(
        chain.post(f"/evaluations/{ev['id']}/peers", chain.as_(KASI_A), {"rater_nips": [STAFF_B[2]]}),
        409,
        "peer.round_closed",
    )
    assert _summary(chain, ev["id"], STAFF_A[0])["aggregate"] == seen[3]


def test_the_penilai_cannot_nominate_himself(chain):
    chain.advance_to("monitoring:1:check_in")
    ev = chain.evaluation_of(STAFF_A[0])
    assert ev["penilai_nip"] == KASI_A
    body = problem(
        chain.post(f"/evaluations/{ev['id']}/peers", chain.as_(KASI_A), {"rater_nips": [STAFF_A[1], KASI_A]}),
        422,
    )
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("rater_nips[1]", "peer.penilai")]
    assert _summary(chain, ev["id"], KASI_A)["nominated"] == 0  # all or nothing


def test_the_rated_employee_audit_view_does_not_list_the_raters(chain):
    chain.advance_to("monitoring:1:check_in")
    ev = chain.evaluation_of(STAFF_A[0])
    raters = [STAFF_A[1], STAFF_A[2], STAFF_B[0]]
    assert chain.post(f"/evaluations/{ev['id']}/peers", chain.as_(KASI_A), {"rater_nips": raters}).status_code == 200
    for nip in raters:
        chain.post(f"/evaluations/{ev['id']}/peer-feedback", chain.as_(nip), {"answers": ANSWER})
    r = chain.get("/audit?limit=200", chain.as_(STAFF_A[0]))
    assert r.status_code == 200, r.get_json()
    text = json.dumps(r.get_json()["items"])
    assert not [nip for nip in raters if nip in text]
    # HR of the agency still sees who was nominated
    hr_rows = chain.get("/audit?limit=200&entity_type=evaluation", chain.hr).get_json()["items"]
    nominated = [row for row in hr_rows if row["action"] == "peers.nominated"]
    assert nominated and nominated[0]["after"]["raters"] == sorted(raters)
    assert HEAD not in text and KASI_B not in text
