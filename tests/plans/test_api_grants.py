"""Grants across agencies (issue 16, Deliver 2) in the plans service: HR of PKMB grants a machine
client of OTHER one read scope over PKMB's data until a day, lists and revokes its grants; the
client lists what it was given and reads PKMB's directory and cycles with ``agency=PKMB`` — only
while the grant is active, only with its scope, only that client — each use audited."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from tests.plans.support import HEAD, OTHER_EMP, field_errors, problem

CLIENT = "prov@other"


def machine(org, scope="directory:read", sub=CLIENT, agency="OTHER") -> dict:
    return org.tokens.headers("agency", agency=agency, sub=sub, scope=scope)


def today(org) -> date:
    return org.app.extensions["kinerja"].today()


def grant(org, scope="directory:read", days=30, expect=201, headers=None, **over) -> dict:
    body = {"client_id": CLIENT, "client_agency": "OTHER", "scope": scope} | over
    body.setdefault("expires_on", (today(org) + timedelta(days=days)).isoformat())
    r = org.post("/grants", headers or org.hr, body)
    assert r.status_code == expect, r.get_json()
    return r.get_json()


def audit_rows(org, action: str) -> list:
    platform = org.app.extensions["kinerja"]
    t = platform.tables.audit
    with platform.session_factory() as s:
        return list(s.execute(select(t).where(t.c.action == action).order_by(t.c.id)).mappings())


def events(org, type_: str) -> list[dict]:
    platform = org.app.extensions["kinerja"]
    t = platform.tables.outbox
    with platform.session_factory() as s:
        return [e for e in s.scalars(select(t.c.envelope).order_by(t.c.id)) if e["type"] == type_]


# ------------------------------------------------------------------ HR gives, lists, revokes


def test_hr_grants_a_client_of_another_agency_a_read_scope_and_sees_it_listed(org):
    g = grant(org, note="Provinsi membaca data kabupaten")
    assert g["grantor_agency"] == "PKMB" and g["client_id"] == CLIENT and g["client_agency"] == "OTHER"
    assert g["scope"] == "directory:read" and g["status"] == "active" and g["revoked_at"] is None
    assert g["created_by"] == "hr@pkmb"
    listed = org.get("/grants", org.hr).get_json()["items"]
    assert [x["id"] for x in listed] == [g["id"]]
    assert org.get("/grants", org.other_hr).get_json()["items"] == []  # OTHER's HR gave nothing
    [event] = events(org, "plans.grant.upserted")
    assert event["data"]["id"] == g["id"] and event["data"]["revoked_at"] is None
    assert event["data"]["expires_on"] == g["expires_on"]
    [row] = audit_rows(org, "grant.created")
    assert row["agency"] == "PKMB" and row["entity_id"] == str(g["id"]) and row["actor"] == "hr@pkmb"


def test_a_bad_grant_is_refused_field_by_field_and_nothing_is_saved(org):
    body = {
        "client_id": CLIENT,
        "client_agency": "PKMB",
        "scope": "webhooks:manage",
        "expires_on": (today(org) - timedelta(days=1)).isoformat(),
    }
    errors = field_errors(problem(org.post("/grants", org.hr, body), 422, "validation"))
    assert errors == {
        "scope": "grants.scope_write",
        "expires_on": "grants.expiry_past",
        "client_agency": "grants.agency_own",
    }
    body |= {
        "scope": "everything:read",
        "client_agency": "NOPE",
        "expires_on": (today(org) + timedelta(days=800)).isoformat(),
    }
    errors = field_errors(problem(org.post("/grants", org.hr, body), 422, "validation"))
    assert errors == {
        "scope": "grants.scope_unknown",
        "expires_on": "grants.expiry_too_far",
        "client_agency": "grants.agency_unknown",
    }
    assert org.get("/grants", org.hr).get_json()["items"] == []
    assert events(org, "plans.grant.upserted") == []


def test_the_same_active_grant_twice_is_refused_but_another_scope_or_after_revoking_is_not(org):
    first = grant(org)
    errors = field_errors(problem(org.post("/grants", org.hr, {**_body(org)}), 422, "validation"))
    assert errors == {"scope": "grants.duplicate"}
    grant(org, scope="results:read")
    assert org.post(f"/grants/{first['id']}/revoke", org.hr).status_code == 200
    grant(org)


def _body(org) -> dict:
    return {
        "client_id": CLIENT,
        "client_agency": "OTHER",
        "scope": "directory:read",
        "expires_on": (today(org) + timedelta(days=10)).isoformat(),
    }


def test_revoking_is_idempotent_and_only_for_hr_of_the_granting_agency(org):
    g = grant(org)
    problem(org.post(f"/grants/{g['id']}/revoke", org.other_hr), 404, "plans.not_found")
    problem(org.post(f"/grants/{g['id']}/revoke", machine(org)), 403, "auth.scope_missing")
    problem(org.post(f"/grants/{g['id']}/revoke", org.as_(HEAD)), 404, "plans.not_found")
    r = org.post(f"/grants/{g['id']}/revoke", org.hr)
    assert r.status_code == 200 and r.get_json()["status"] == "revoked" and r.get_json()["revoked_by"] == "hr@pkmb"
    again = org.post(f"/grants/{g['id']}/revoke", org.hr)
    assert again.status_code == 200 and again.get_json()["revoked_at"] == r.get_json()["revoked_at"]
    assert len(audit_rows(org, "grant.revoked")) == 1
    revoked = events(org, "plans.grant.upserted")[-1]["data"]
    assert revoked["revoked_at"] is not None and len(events(org, "plans.grant.upserted")) == 2


def test_only_hr_grants_and_a_client_lists_the_grants_given_to_it(org):
    body = _body(org)
    problem(org.post("/grants", org.as_(HEAD), body), 403)
    problem(org.post("/grants", machine(org), body), 403, "auth.scope_missing")
    problem(org.get("/grants", org.as_(HEAD)), 403)
    g = grant(org)
    assert [x["id"] for x in org.get("/grants", machine(org)).get_json()["items"]] == [g["id"]]
    assert org.get("/grants", machine(org, sub="other-client@other")).get_json()["items"] == []
    problem(org.get("/grants", machine(org, scope="webhooks:manage")), 403, "auth.scope_missing")


# ------------------------------------------------------------------ the client reads with agency=PKMB


def test_without_a_grant_the_client_reads_nothing_of_the_other_agency(org):
    body = problem(org.get("/employees?agency=PKMB", machine(org)), 403, "grant.missing")
    assert body["agency"] == "PKMB" and body["scopes"] == ["directory:read"]
    assert HEAD not in str(body)
    problem(org.get("/units?agency=PKMB", machine(org)), 403, "grant.missing")
    # its own agency, as before
    own = org.get("/employees", machine(org)).get_json()["items"]
    assert [e["nip"] for e in own] == [OTHER_EMP]
    assert audit_rows(org, "grant.used") == []


def test_with_a_grant_the_client_reads_the_directory_as_if_of_that_agency_each_use_audited(org):
    g = grant(org)
    r = org.get("/employees?agency=PKMB&limit=200", machine(org))
    assert r.status_code == 200, r.get_json()
    assert HEAD in {e["nip"] for e in r.get_json()["items"]} and OTHER_EMP not in {
        e["nip"] for e in r.get_json()["items"]
    }
    units = org.get("/units?agency=PKMB", machine(org)).get_json()["items"]
    assert {u["code"] for u in units} == {"DINAS", "SEK-A", "SEK-B"}
    rows = audit_rows(org, "grant.used")
    assert len(rows) == 2  # one per request
    assert all(row["entity_id"] == str(g["id"]) and row["agency"] == "PKMB" and row["actor"] == CLIENT for row in rows)
    # cycles need plans:read or results:read: a directory grant does not open them
    problem(org.get("/cycles?agency=PKMB", machine(org, scope="directory:read results:read")), 403, "grant.missing")
    grant(org, scope="results:read")
    cycles = org.get("/cycles?agency=PKMB", machine(org, scope="results:read")).get_json()["items"]
    assert [c["id"] for c in cycles] == [org.cycle_id]


def test_an_expired_or_revoked_grant_another_scope_or_another_client_reads_nothing(org, clock):
    g = grant(org, days=3)
    assert org.get("/units?agency=PKMB", machine(org)).status_code == 200
    problem(org.get("/units?agency=PKMB", machine(org, sub="other-client@other")), 403, "grant.missing")
    problem(org.get("/units?agency=PKMB", machine(org, agency="PKMB2")), 403, "grant.missing")
    clock.advance(days=3)
    assert org.get("/units?agency=PKMB", machine(org)).status_code == 200  # the last day is included
    clock.advance(days=1)
    problem(org.get("/units?agency=PKMB", machine(org)), 403, "grant.missing")
    assert org.get("/grants", org.hr).get_json()["items"][0]["status"] == "expired"
    g2 = grant(org)
    assert org.get("/units?agency=PKMB", machine(org)).status_code == 200
    assert org.post(f"/grants/{g2['id']}/revoke", org.hr).status_code == 200
    problem(org.get("/units?agency=PKMB", machine(org)), 403, "grant.missing")
    assert g["id"] != g2["id"]


def test_a_person_naming_another_agency_is_refused_and_naming_its_own_changes_nothing(org):
    grant(org)
    problem(org.get("/units?agency=PKMB", org.other_hr), 403, "grant.missing")
    assert org.get("/units?agency=OTHER", machine(org)).status_code == 200
    assert audit_rows(org, "grant.used") == []
