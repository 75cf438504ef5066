"""Grants across agencies on the results feed (issue 16, Deliver 2): a machine client of OTHER reads
PKMB's final results with ``agency=PKMB`` only while PKMB's HR has granted it ``results:read``
(reviews keeps a copy of the grants from ``plans.grant.upserted``); without a grant, after expiry,
after revocation, with a grant of another scope or as another client of OTHER: 403 naming the
agency and the scope, nothing of PKMB. Each use writes one audit row in reviews."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from services.reviews.models import GrantRef
from tests.plans.support import STAFF_A, problem
from tests.reviews.test_results_feed import WHY, final

CLIENT = "prov@other"


@pytest.fixture
def rated(chain):
    """Staff A[0]'s period 1 rated (organisation result Istimewa), ready for sign-off."""
    chain.advance_to("monitoring:1:check_in")
    assert chain.set_org_result("SEK-A", "ISTIMEWA").status_code == 200
    chain.advance_to("monitoring:1:supervisor_evaluation")
    ev = chain.evaluation_of(STAFF_A[0])
    r = chain.rate(ev, ev["penilai_nip"], "above", "above", deviation_reason=WHY, perilaku_deviation_reason=WHY)
    assert r.status_code == 200, r.get_json()
    return chain


def machine(chain, sub=CLIENT, scope="results:read") -> dict:
    return chain.org.tokens.headers("agency", agency="OTHER", sub=sub, scope=scope)


def give(chain, scope="results:read", days=30) -> dict:
    today = chain.emb.apps["plans"].extensions["kinerja"].today()
    body = {"client_id": CLIENT, "client_agency": "OTHER", "scope": scope}
    body["expires_on"] = (today + timedelta(days=days)).isoformat()
    r = chain.org.post("/grants", chain.org.hr, body)
    assert r.status_code == 201, r.get_json()
    chain.pump()
    return r.get_json()


def revoke(chain, grant: dict) -> None:
    assert chain.org.post(f"/grants/{grant['id']}/revoke", chain.org.hr).status_code == 200
    chain.pump()


def rm_grants(chain) -> list[GrantRef]:
    platform = chain.emb.apps["reviews"].extensions["kinerja"]
    with platform.session_factory() as s:
        return list(s.scalars(select(GrantRef).order_by(GrantRef.id)))


def uses(chain) -> list:
    platform = chain.emb.apps["reviews"].extensions["kinerja"]
    t = platform.tables.audit
    with platform.session_factory() as s:
        return list(s.execute(select(t).where(t.c.action == "grant.used")).mappings())


def read(chain, headers):
    return chain.get("/results?agency=PKMB", headers)


def test_the_read_model_follows_the_grants_given_and_revoked_in_plans(chain):
    g = give(chain)
    [ref] = rm_grants(chain)
    assert (ref.id, ref.grantor_agency, ref.client_id, ref.client_agency, ref.scope) == (
        g["id"],
        "PKMB",
        CLIENT,
        "OTHER",
        "results:read",
    )
    assert ref.expires_on.isoformat() == g["expires_on"] and ref.revoked_at is None
    revoke(chain, g)
    [ref] = rm_grants(chain)
    assert ref.revoked_at is not None


def test_without_a_grant_a_client_of_another_agency_gets_403_naming_it_and_nothing(rated):
    final(rated, STAFF_A[0])
    body = problem(read(rated, machine(rated)), 403, "grant.missing")
    assert body["agency"] == "PKMB" and body["scopes"] == ["results:read"]
    assert STAFF_A[0] not in str(body)
    assert rated.get("/results", machine(rated)).get_json()["items"] == []  # its own agency: nothing yet
    assert uses(rated) == []


def test_with_a_grant_the_client_reads_the_results_each_use_audited_until_expiry(rated, clock):
    final(rated, STAFF_A[0])
    g = give(rated, days=2)
    r = read(rated, machine(rated))
    assert r.status_code == 200, r.get_json()
    assert [i["employee_nip"] for i in r.get_json()["items"]] == [STAFF_A[0]]
    [use] = uses(rated)
    assert use["entity_type"] == "grant" and use["entity_id"] == str(g["id"])
    assert use["agency"] == "PKMB" and use["actor"] == CLIENT
    problem(read(rated, machine(rated, sub="tpp@other")), 403, "grant.missing")  # another client of OTHER
    clock.advance(days=3)  # past expires_on
    problem(read(rated, machine(rated)), 403, "grant.missing")
    assert len(uses(rated)) == 1


def test_a_revoked_grant_or_one_for_another_scope_opens_nothing(rated):
    final(rated, STAFF_A[0])
    g = give(rated)
    assert read(rated, machine(rated)).status_code == 200
    revoke(rated, g)
    problem(read(rated, machine(rated)), 403, "grant.missing")
    give(rated, scope="directory:read")
    problem(read(rated, machine(rated, scope="results:read directory:read")), 403, "grant.missing")


def test_the_read_model_rebuild_brings_the_grants_back(chain):
    from services.reviews import readmodel as svc

    g = give(chain)
    revoke(chain, g)
    reviews = chain.emb.platform("reviews")
    with reviews.uow() as s:
        s.query(GrantRef).delete()  # lost

    def fetch(path):
        r = chain.org.client.get(path, headers=chain.hr)
        assert r.status_code == 200, (path, r.get_json())
        return r.get_json()

    with chain.emb.apps["reviews"].app_context(), reviews.uow() as s:
        assert svc.rebuild_read_model(s, fetch)["grants"] == 1
    [ref] = rm_grants(chain)
    assert ref.id == g["id"] and ref.revoked_at is not None  # still revoked: it opens nothing
