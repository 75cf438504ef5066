"""Peer nomination in the portal (issue 15): the employee proposes colleagues (/rekan/usulan/<id>), the
penilai is notified and approves with an edit (/rekan/setujui/<id>), each nominated colleague is
notified, finds the request under "Permintaan umpan balik rekan" (/rekan) and answers per BerAKHLAK
value (/rekan/permintaan/<id>). Bad input is shown beside the field and saves nothing; the employee
never sees whom the penilai added; both languages."""

from __future__ import annotations

import re

import pytest

from tests.plans.support import KASI_A, STAFF_A, STAFF_B
from tests.portal.test_evaluations import Team, plain

R = "/reviews/api/v1"
N = "/notifications/api/v1"
VALUES = ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif")


@pytest.fixture
def team(stack) -> Team:
    t = Team(stack).approve_all_plans()
    t.advance_to("monitoring:1:check_in")
    return t


def _inbox_titles(team, nip) -> list[str]:
    team.stack.pump()
    r = team.org.client.get(f"{N}/inbox?limit=50", headers=team.org.as_(nip))
    assert r.status_code == 200, r.get_json()
    return [n["title"] for n in r.get_json()["items"]]


def _field_error(resp, field_id: str) -> str:
    """The error paragraph beside a field (``e-<field>``), as a reader sees it."""
    m = re.search(rf'<p class="err" id="e-{re.escape(field_id)}">([^<]*)</p>', resp.get_data(as_text=True))
    return m.group(1) if m else ""


def test_employee_proposes_penilai_approves_and_a_peer_answers(team):
    stack = team.stack
    ev = team.evaluation(STAFF_A[0], period_seq=1)
    rina = stack.browser()
    rina.login(STAFF_A[0])
    overview = plain(rina.get("/rekan"))
    assert "Usulan rekan penilai saya" in overview and "Belum diusulkan" in overview

    # too few: the error beside the list, nothing saved
    r = rina.post(f"/rekan/usulan/{ev['id']}", {"rater_nips": [STAFF_A[1]]})
    assert r.status_code == 422
    assert _field_error(r, "rater_nips") == "Pilih sedikitnya 3 rekan kerja."
    assert team.api("GET", f"/evaluations/{ev['id']}/peer-proposal", STAFF_A[0]).get_json()["status"] == "none"

    r = rina.post(f"/rekan/usulan/{ev['id']}", {"rater_nips": [STAFF_A[1], STAFF_A[2], STAFF_B[0]]})
    assert r.status_code == 200 and "Usulan rekan penilai terkirim" in plain(r)
    assert "Menunggu persetujuan penilai" in plain(r)
    assert "Usulan rekan penilai dari Rina Wati" in _inbox_titles(team, KASI_A)

    # the penilai sees the proposal ticked, drops Andi and adds Maya
    kasi = stack.browser()
    kasi.login(KASI_A)
    assert "Usulan rekan penilai dari tim" in plain(kasi.get("/rekan"))
    page = kasi.get(f"/rekan/setujui/{ev['id']}").get_data(as_text=True)
    assert re.search(rf'value="{STAFF_A[1]}"\s+checked', page) and not re.search(
        rf'value="{STAFF_B[1]}"\s+checked', page
    )
    r = kasi.post(f"/rekan/setujui/{ev['id']}", {"rater_nips": [STAFF_A[1], STAFF_A[2], STAFF_B[1]]})
    assert r.status_code == 200 and "3 rekan penilai ditetapkan dan diberi tahu." in plain(r)

    mine = plain(rina.get(f"/rekan/usulan/{ev['id']}"))
    assert "Disetujui" in mine and "Maya Sari" not in mine  # whom the penilai added stays unknown to her

    # Maya is asked: notified, the request listed, the form validated beside each value
    assert "Permintaan umpan balik rekan untuk Rina Wati" in _inbox_titles(team, STAFF_B[1])
    assert "Permintaan umpan balik rekan untuk Rina Wati" not in _inbox_titles(team, STAFF_B[0])
    maya = stack.browser()
    maya.login(STAFF_B[1])
    assert "1 permintaan umpan balik rekan menunggu jawaban Anda." in plain(maya.get("/"))
    listed = plain(maya.get("/rekan"))
    assert "Permintaan umpan balik rekan" in listed and "Rina Wati" in listed
    r = maya.post(f"/rekan/permintaan/{ev['id']}", {"kolaboratif": "above"})
    assert r.status_code == 422
    assert _field_error(r, "harmonis") == "Pilih penilaian untuk nilai ini." and not _field_error(r, "kolaboratif")
    summary = team.api("GET", f"/evaluations/{ev['id']}/peer-feedback", KASI_A).get_json()
    assert summary["answered"] == 0
    r = maya.post(f"/rekan/permintaan/{ev['id']}", {v: "meets" for v in VALUES} | {"comment": "Sigap membantu."})
    assert r.status_code == 200 and "umpan balik Anda untuk Rina Wati terkirim" in plain(r)
    assert "Tidak ada permintaan umpan balik rekan" in plain(r)
    assert team.api("GET", f"/evaluations/{ev['id']}/peer-feedback", KASI_A).get_json()["answered"] == 1
    # answered: the form is gone for her; someone never asked gets no form either
    assert maya.get(f"/rekan/permintaan/{ev['id']}").status_code == 403
    andi = stack.browser()
    andi.login(STAFF_B[0])
    assert andi.get(f"/rekan/permintaan/{ev['id']}").status_code == 403


def test_pages_in_english_and_an_unknown_colleague_refused(team):
    ev = team.evaluation(STAFF_A[0], period_seq=1)
    rina = team.stack.browser()
    rina.login(STAFF_A[0])
    r = rina.get("/rekan?lang=en")
    assert "Peer feedback requests" in plain(r) and "My proposed peer raters" in plain(r)
    assert not re.search(r"\bpeers\.[a-z_]+\.[a-z_.]+", plain(r)), "untranslated key"
    r = rina.post(f"/rekan/usulan/{ev['id']}?lang=en", {"rater_nips": [STAFF_A[1], STAFF_A[2], "199912312020121999"]})
    assert r.status_code == 422 and _field_error(r, "rater_nips") == "Choose colleagues from the list."
    # only the employee proposes, only the penilai approves
    kasi = team.stack.browser()
    kasi.login(KASI_A)
    assert kasi.get(f"/rekan/usulan/{ev['id']}").status_code == 403
    r = kasi.get(f"/rekan/setujui/{ev['id']}?lang=en")  # no proposal yet: the penilai may nominate directly
    assert "Peer raters for Rina Wati" in plain(r) and "has not proposed anyone yet" in plain(r)
    assert not re.search(r"\bpeers\.[a-z_]+\.[a-z_.]+", plain(r)), "untranslated key"
    assert rina.get(f"/rekan/setujui/{ev['id']}").status_code == 403
