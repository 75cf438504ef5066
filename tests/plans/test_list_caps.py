"""A plan's plain lists (feedback, versions) are capped (``services.common.http.capped``): past the
cap the API answers 422 ``list.too_long`` instead of a list of unbounded size (issue 14, Deliver 5)."""

from __future__ import annotations

from services.common import http as common_http
from tests import figures
from tests.plans.support import KASI_A, STAFF_A, problem


def test_a_plan_s_feedback_past_the_cap_is_a_problem(org, team, monkeypatch):
    hp, ka, sa = team
    monkeypatch.setattr(common_http, "LIST_CAP", 2)
    for text in ("Laporan rapi", "Tepat waktu", "Pertahankan"):
        body = {"rhk_id": sa["rhk"][0]["id"], "period_seq": 1, "text": text}
        assert org.post(f"/plans/{sa['id']}/feedback", org.as_(KASI_A), body).status_code == 201
    r = org.get(f"/plans/{sa['id']}/feedback", org.as_(STAFF_A[0]))
    body = problem(r, 422, "list.too_long")
    assert body["limit"] == 2 and "lebih dari 2 butir" in body["detail"]
    assert org.get(f"/plans/{sa['id']}/versions", org.as_(STAFF_A[0])).status_code == 200  # one version: under it
    monkeypatch.setattr(common_http, "LIST_CAP", 3)
    assert len(org.get(f"/plans/{sa['id']}/feedback", org.as_(STAFF_A[0])).get_json()) == 3
    figures.record("limits", "a plan's feedback past the list cap", limit=2, items=3, refused=1)
