"""The recipients' rebuild sends the caller's HR token only to the plans service it is configured
with: in embedded mode (PLANS_URL unset) this very server, never a guessed 127.0.0.1:8000; in
production without PLANS_URL a 503 naming the variable."""

from __future__ import annotations

import httpx

from tests.plans.support import problem
from tests.rebuild_origin import served


def test_the_rebuild_reads_this_server_and_never_a_guessed_address(notif, org, monkeypatch):
    with served(notif.emb.wsgi, monkeypatch) as (base, targets, listener):
        r = httpx.post(f"{base}/notifications/api/v1/read-model/rebuild", headers=org.hr, timeout=30)
        assert r.status_code == 200, r.text
        assert r.json()["counts"] == {"units": 3, "people": 9}
        assert targets == [base]
        assert listener.received == []  # nothing, let alone the token, reached 127.0.0.1:8000


def test_production_without_plans_url_refuses_to_guess(notif, org, monkeypatch):
    monkeypatch.setattr(notif.platform.config, "mode", "production")
    body = problem(notif.post("/read-model/rebuild", org.hr), 503)
    assert body["code"] == "readmodel.plans_url_missing" and "PLANS_URL" in body["detail"]
