"""Campaigns through the API: the minimum sample, lifecycle and events, tokens, QR codes,
and who may see or change what (another agency's HR gets 404, never the data)."""

from __future__ import annotations

import io

import pytest
import segno

from tests.surveys.support import API, campaign_body, field_errors, problem, questionnaire


def test_sample_size_endpoint_exact_shape_and_no_token_needed(sv):
    r = sv.client.get(f"{API}/sample-size?population=1000")
    assert r.status_code == 200
    assert r.get_json() == {"population": 1000, "method": "krejcie-morgan", "sample": 278}
    r = sv.client.get(f"{API}/sample-size?population=100000")
    assert r.get_json() == {"population": 100000, "method": "krejcie-morgan", "sample": 384}
    r = sv.client.get(f"{API}/sample-size?population=1000&method=slovin&margin=0.1", headers=sv.hr)
    assert r.get_json() == {"population": 1000, "method": "slovin", "sample": 91}


@pytest.mark.parametrize(
    "query,field",
    [
        ("", "population"),
        ("population=0", "population"),
        ("population=abc", "population"),
        ("population=10&method=cochran", "method"),
        ("population=10&margin=0", "margin"),
        ("population=10&margin=nan", "margin"),
        ("population=99999999999", "population"),
    ],
)
def test_sample_size_bad_input_is_a_field_error(sv, query, field):
    body = problem(sv.client.get(f"{API}/sample-size?{query}"), 422, "validation")
    assert field in field_errors(body)


def test_hr_creates_a_campaign_with_its_minimum_sample(sv):
    c = sv.create(population=500, tokens=0)
    assert c["id"] and c["status"] == "draft" and c["agency_code"] == "PKTD"
    assert c["min_sample"] == 217 and c["respondents"] == 0 and c["sample_reached"] is False
    assert c["sample_method"] == "krejcie-morgan" and c["margin"] == 0.05
    assert len(c["slug"]) >= 32 and c["public_path"] == f"/surveys/s/{c['slug']}"
    assert c["public_url"].endswith(c["public_path"])
    slovin = sv.create(population=500, sample_method="slovin", margin=0.1)
    assert slovin["min_sample"] == 84


def test_every_campaign_gets_its_own_unguessable_link(sv):
    slugs = {sv.create()["slug"] for _ in range(5)}
    assert len(slugs) == 5


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"end_date": "2025-12-31"}, "end_date"),
        ({"population": 0}, "population"),
        ({"population": "many"}, "population"),
        ({"unit_code": "bad code!"}, "unit_code"),
        ({"sample_method": "guess"}, "sample_method"),
        ({"margin": 2}, "margin"),
        ({"service_type": ""}, "service_type"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_campaign_input_is_refused_and_nothing_saved(sv, overrides, field):
    before = sv.counts()
    body = problem(sv.post("/campaigns", campaign_body(**overrides)), 422, "validation")
    assert field in field_errors(body)
    assert sv.counts() == before


def test_only_hr_creates_opens_and_closes(sv):
    problem(sv.post("/campaigns", campaign_body(), sv.kiosk), 403, "auth.scope_missing")  # no scope opens it
    problem(sv.post("/campaigns", campaign_body(), sv.headers("employee", nip="199001012015031004")), 403)
    problem(sv.client.post(f"{API}/campaigns", json=campaign_body()), 401, "auth.missing")
    c = sv.create()
    problem(sv.post(f"/campaigns/{c['id']}/open", headers=sv.kiosk), 403)
    assert sv.post(f"/campaigns/{c['id']}/open").status_code == 200
    problem(sv.post(f"/campaigns/{c['id']}/close", headers=sv.kiosk), 403)
    # the kiosk of the agency may read its campaign (to show progress)
    assert sv.get(f"/campaigns/{c['id']}", sv.kiosk).status_code == 200


def test_hr_of_another_agency_can_neither_read_nor_change_a_campaign(sv, campaign):
    cid = campaign["id"]
    sv.record(cid, questionnaire())
    other = sv.other_hr
    for method, path, body in [
        ("get", f"/campaigns/{cid}", None),
        ("patch", f"/campaigns/{cid}", {"population": 10}),
        ("post", f"/campaigns/{cid}/close", None),
        ("post", f"/campaigns/{cid}/tokens", {"count": 2}),
        ("get", f"/campaigns/{cid}/tokens", None),
        ("get", f"/campaigns/{cid}/ikm", None),
        ("post", f"/campaigns/{cid}/ikm:publish", None),
        ("get", f"/campaigns/{cid}/suggestions", None),
        ("get", f"/campaigns/{cid}/report", None),
        ("get", f"/campaigns/{cid}/report.pdf", None),
        ("get", f"/campaigns/{cid}/report.html", None),
        ("get", f"/campaigns/{cid}/qr", None),
        ("post", f"/campaigns/{cid}/responses", questionnaire()),
        ("post", f"/campaigns/{cid}/responses:batch", [questionnaire()]),
    ]:
        r = getattr(sv.client, method)(API + path, json=body, headers={**other, "If-Match": "*"})
        problem(r, 404, "surveys.not_found")
    # their lists and aggregates do not include it either
    assert sv.get("/campaigns", other).get_json()["items"] == []
    assert sv.get("/ikm", other).get_json()["respondents"] == 0
    assert sv.get(f"/campaigns/{cid}").get_json()["status"] == "open"
    assert sv.get(f"/campaigns/{cid}").get_json()["respondents"] == 1


def test_lifecycle_publishes_opened_closed_and_the_index(sv):
    c = sv.create()
    assert sv.outbox() == []
    r = sv.post(f"/campaigns/{c['id']}/open")
    assert r.status_code == 200 and r.get_json()["status"] == "open" and r.headers["ETag"]
    opened = sv.outbox("surveys.campaign.opened")
    assert len(opened) == 1 and opened[0]["envelope"]["data"]["public_path"] == c["public_path"]
    sv.batch(c["id"], [questionnaire(4), questionnaire(3)])
    problem(sv.post(f"/campaigns/{c['id']}/open"), 409, "campaign.transition")
    r = sv.post(f"/campaigns/{c['id']}/close")
    assert r.status_code == 200 and r.get_json()["status"] == "closed" and r.get_json()["closed_at"]
    closed = sv.outbox("surveys.campaign.closed")[0]["envelope"]
    assert closed["data"]["respondents"] == 2 and closed["data"]["sample_reached"] is False
    ikm = sv.outbox("surveys.ikm.computed")[0]["envelope"]
    assert ikm["source"] == "/surveys" and ikm["subject"] == str(c["id"])
    assert ikm["data"] == {
        "campaign_id": c["id"],
        "agency_code": "PKTD",
        "unit_code": "PKM-01",
        "service_type": "Pelayanan rawat jalan",
        "period_start": "2026-01-01",
        "period_end": "2026-03-31",
        "respondents": 2,
        "nrr": {f"U{i}": 3.5 for i in range(1, 10)},
        "ikm": 3.5,
        "ikm_unit": 87.5,
        "mutu": "B",
        "kinerja": "Baik",
        "final": True,
    }
    problem(sv.post(f"/campaigns/{c['id']}/close"), 409, "campaign.transition")
    problem(sv.patch(f"/campaigns/{c['id']}", {"population": 5}, {**sv.hr, "If-Match": "*"}), 409)


def test_closing_without_answers_publishes_no_index(sv, campaign):
    assert sv.post(f"/campaigns/{campaign['id']}/close").status_code == 200
    assert sv.outbox("surveys.campaign.closed") and not sv.outbox("surveys.ikm.computed")


def test_update_needs_if_match_and_recomputes_the_minimum_sample(sv, campaign):
    cid = campaign["id"]
    problem(sv.patch(f"/campaigns/{cid}", {"population": 100}), 428)
    problem(sv.patch(f"/campaigns/{cid}", {"population": 100}, {**sv.hr, "If-Match": '"999"'}), 412)
    etag = sv.get(f"/campaigns/{cid}").headers["ETag"]
    r = sv.patch(
        f"/campaigns/{cid}",
        {"population": 100, "service_options": ["Poli umum", "Poli gigi"]},
        {**sv.hr, "If-Match": etag},
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["min_sample"] == 80 and r.headers["ETag"] != etag
    problem(sv.patch(f"/campaigns/{cid}", {"end_date": "2025-01-01"}, {**sv.hr, "If-Match": "*"}), 422)


def test_progress_towards_the_minimum_sample(sv):
    c = sv.open(population=10)
    assert c["min_sample"] == 10
    sv.batch(c["id"], [questionnaire()] * 4)
    got = sv.get(f"/campaigns/{c['id']}").get_json()
    assert (got["respondents"], got["sample_progress"], got["sample_reached"]) == (4, 0.4, False)
    sv.batch(c["id"], [questionnaire()] * 6)
    got = sv.get(f"/campaigns/{c['id']}").get_json()
    assert (got["respondents"], got["sample_progress"], got["sample_reached"]) == (10, 1.0, True)


def test_list_filters_by_unit_and_status(sv):
    a = sv.open(unit_code="PKM-01")
    sv.create(unit_code="DISDUK", service_type="Pembuatan KTP-el")
    page = sv.get("/campaigns?unit_code=DISDUK").get_json()
    assert [c["unit_code"] for c in page["items"]] == ["DISDUK"]
    assert [c["id"] for c in sv.get("/campaigns?status=open").get_json()["items"]] == [a["id"]]
    problem(sv.get("/campaigns?status=weird"), 422)


def test_tokens_issued_listed_and_used_once(sv):
    c = sv.open(tokens=3)
    assert c["uses_tokens"] is True and c["tokens_issued"] == 3
    r = sv.post(f"/campaigns/{c['id']}/tokens", {"count": 2})
    assert r.status_code == 201 and len(r.get_json()["codes"]) == 2
    listed = sv.get(f"/campaigns/{c['id']}/tokens").get_json()["items"]
    codes = [t["code"] for t in listed]
    assert len(set(codes)) == 5 and all(len(code) == 10 and code.isalnum() for code in codes)
    assert not set("01OI") & set("".join(codes))  # unambiguous on paper
    assert sv.record(c["id"], questionnaire(token=codes[0].lower())).status_code == 201  # typed in lower case
    unused = sv.get(f"/campaigns/{c['id']}/tokens?used=false").get_json()["items"]
    assert codes[0] not in [t["code"] for t in unused] and len(unused) == 4
    problem(sv.post(f"/campaigns/{c['id']}/tokens", {"count": 0}), 422)
    problem(sv.post(f"/campaigns/{c['id']}/tokens", {"count": 2}, sv.kiosk), 403)


@pytest.mark.parametrize("fmt,mime,magic", [("svg", "image/svg+xml", b"<svg"), ("png", "image/png", b"\x89PNG")])
def test_qr_code_of_the_public_link(sv, campaign, fmt, mime, magic):
    r = sv.get(f"/campaigns/{campaign['id']}/qr?format={fmt}")
    assert r.status_code == 200 and r.mimetype == mime and r.data.startswith(magic)
    public = sv.client.get(f"{campaign['public_path']}/qr.{fmt}")
    assert public.status_code == 200 and public.mimetype == mime and public.data.startswith(magic)
    if fmt == "svg":
        assert campaign["slug"].encode() in public.data  # the title carries the link
    problem(sv.get(f"/campaigns/{campaign['id']}/qr?format=gif"), 422)


def test_qr_decodes_to_the_public_url(sv, campaign):
    r = sv.get(f"/campaigns/{campaign['id']}/qr?format=svg&scale=1")
    # the same link comes out of the library: the QR matrix of public_url
    expected = segno.make(campaign["public_url"], error="m", micro=False)
    out = io.BytesIO()
    expected.save(out, kind="svg", scale=1, border=4, xmldecl=False, title=campaign["public_url"])
    assert r.data == out.getvalue()


def test_unknown_campaign_is_404_and_huge_ids_are_no_route(sv):
    problem(sv.get("/campaigns/999"), 404, "surveys.not_found")
    problem(sv.get("/campaigns/99999999999999999999"), 404)
