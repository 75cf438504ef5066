"""A machine client of an agency (role ``agency``: a kiosk, another system) records responses and
reads the campaign, its QR code and the index, never what citizens wrote: the suggestions and the
report that lists them (JSON, HTML, PDF) answer 403 problem+json naming none of them, while HR of
the same agency reads them (issue 14, defect 4)."""

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
    assert body["code"] == "auth.role" and body["required"] == "hr", body


def test_the_agency_role_still_records_and_reads_the_campaign_and_its_index(sv, campaign):
    assert sv.batch(campaign["id"], [questionnaire(4), questionnaire(3, suggestion=SUGGESTION)]).status_code == 201
    shown = sv.get(f"/campaigns/{campaign['id']}", sv.kiosk)
    assert shown.status_code == 200 and shown.get_json()["respondents"] == 2
    ikm = sv.get(f"/campaigns/{campaign['id']}/ikm", sv.kiosk)
    assert ikm.status_code == 200 and ikm.get_json()["respondents"] == 2
    assert sv.get("/ikm", sv.kiosk).get_json()["respondents"] == 2
    assert sv.get(f"/campaigns/{campaign['id']}/qr", sv.kiosk).status_code == 200
    for r in (shown, ikm):
        assert SUGGESTION not in r.get_data(as_text=True)
