"""A machine client of an agency (role ``agency``: a kiosk, another system) records responses and
reads the campaign and its QR code with ``surveys:responses:write``, reads the campaign and the
index with ``surveys:read`` (issue 16), never what citizens wrote: the suggestions and the report
that lists them (JSON, HTML, PDF) answer 403 problem+json naming none of them (no scope opens
them), while HR of the same agency reads them (issue 14, defect 4)."""

from __future__ import annotations

import pytest

from tests.plans.support import problem
from tests.surveys.support import questionnaire

SUGGESTION = "Petugas loket pagi kurang ramah kepada ibu Sulastri."

PERSON_LEVEL = [
    ("suggestions", "/campaigns/{id}/suggestions"),
    ("report", "/campaigns/{id}/report"),
    ("report html", "/campaigns/{id}/report.html"),
    ("report pdf", "/campaigns/{id}/report.pdf"),
]


@pytest.mark.parametrize(("what", "path"), PERSON_LEVEL, ids=[w for w, _ in PERSON_LEVEL])
def test_the_agency_role_reads_no_citizen_text(sv, campaign, what, path):
    r = sv.record(campaign["id"], questionnaire(4, suggestion=SUGGESTION))  # the kiosk still records
    assert r.status_code == 201, r.get_json()
    url = path.format(id=campaign["id"])
    assert sv.get(url, sv.hr).status_code == 200, what  # HR of the agency reads it
    r = sv.get(url, sv.kiosk)
    body = problem(r, 403)
    assert SUGGESTION not in r.get_data(as_text=True) and "Sulastri" not in r.get_data(as_text=True)
    assert body["code"] == "auth.scope_missing" and body["scopes"] == [], body
    everything = sv.headers("agency", sub="bkd", scope="surveys:read surveys:responses:write directory:read")
    assert problem(sv.get(url, everything), 403, "auth.scope_missing")["scopes"] == []


def test_the_agency_role_still_records_and_reads_the_campaign_and_its_index(sv, campaign):
    assert sv.batch(campaign["id"], [questionnaire(4), questionnaire(3, suggestion=SUGGESTION)]).status_code == 201
    shown = sv.get(f"/campaigns/{campaign['id']}", sv.kiosk)
    assert shown.status_code == 200 and shown.get_json()["respondents"] == 2
    reader = sv.headers("agency", sub="dashboard", scope="surveys:read")  # the index: surveys:read
    ikm = sv.get(f"/campaigns/{campaign['id']}/ikm", reader)
    assert ikm.status_code == 200 and ikm.get_json()["respondents"] == 2
    assert sv.get("/ikm", reader).get_json()["respondents"] == 2
    assert sv.get(f"/campaigns/{campaign['id']}", reader).status_code == 200
    assert problem(sv.get("/ikm", sv.kiosk), 403, "auth.scope_missing")["scopes"] == ["surveys:read"]
    refused = sv.record(campaign["id"], questionnaire(4), reader)  # recording is the kiosk's scope
    assert problem(refused, 403, "auth.scope_missing")["scopes"] == ["surveys:responses:write"]
    assert sv.get(f"/campaigns/{campaign['id']}/qr", sv.kiosk).status_code == 200
    for r in (shown, ikm):
        assert SUGGESTION not in r.get_data(as_text=True)
