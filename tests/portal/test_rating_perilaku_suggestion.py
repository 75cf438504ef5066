"""The rating page suggests the behaviour rating from the feedback recorded per BerAKHLAK value (issue 15,
Deliver 2): per value the continuous feedback recorded on it, the peers' answers per level, the level
chosen and the suggestion with its reason per value; departing from it asks for a reason beside its field.
And the objection decision and the calibration adjustment name the values of a new "below"."""

from __future__ import annotations

import re

import pytest

from tests.plans.support import HEAD, KASI_A, STAFF_A, STAFF_B
from tests.portal.support import text
from tests.portal.test_evaluations import Team, _objection, etag_of, no_missing_keys, plain
from tests.portal.test_hr import annual_curve_broken, hr

R = "/reviews/api/v1"
REASON = "Sesuai bukti dukung yang ada."


@pytest.fixture
def team(stack) -> Team:
    return Team(stack).to_annual()


def _row(html: str, code: str) -> str:
    return re.search(rf'<tr id="saran-{code}">(.*?)</tr>', html, re.S).group(1)


def _checked(html: str, code: str) -> str | None:
    """The level checked in the value's radio group."""
    group = re.search(rf'id="f-value_level-{code}"(.*?)</fieldset>', html, re.S).group(1)
    m = re.search(r'value="(\w*)"\s+checked', group)
    return m.group(1) if m else None


def _note(team: Team, nip: str, value: str, words: str) -> None:
    plan = team.plans[nip]
    r = team.org.post(
        f"/plans/{plan['id']}/feedback", team.org.as_(KASI_A), {"kind": "feedback", "value_code": value, "text": words}
    )
    assert r.status_code == 201, r.get_json()
    team.sync()


def test_the_page_suggests_the_behaviour_rating_from_the_levels_and_explains_each_value(team: Team):
    _note(team, STAFF_A[0], "akuntabel", "Dua laporan bulanan terlambat tanpa pemberitahuan.")
    ev = team.evaluation(STAFF_A[0])
    b = team.stack.browser()
    b.login(KASI_A)
    resp = b.get(f"/evaluasi/{ev['id']}/nilai")
    html, page = text(resp), plain(resp)
    assert "Saran rating perilaku kerja" in page
    assert "Belum ada nilai yang dapat dinilai" in page  # nothing recorded yet
    assert "Belum ada tingkat dari Anda atau rekan penilai" in _row(html, "akuntabel")
    assert '<a href="#nilai-akuntabel">1</a>' in _row(html, "akuntabel")  # one note on the value, linked
    # the note stands beside the value's level choice in the form
    value_row = re.search(r'<div class="value-row" id="nilai-akuntabel">(.*?)</fieldset>', html, re.S).group(1)
    assert "Dua laporan bulanan terlambat" in value_row and 'name="value_level.akuntabel"' in value_row
    # choosing levels and asking for the suggestion: computed, explained, nothing saved
    form = {"etag": etag_of(resp), "value_level.akuntabel": "below", "value_level.loyal": "above", "action": "suggest"}
    resp = b.post(f"/evaluasi/{ev['id']}/nilai", form)
    assert resp.status_code == 200
    html, page = text(resp), plain(resp)
    section = re.search(r'<section class="card" id="saran-perilaku".*?</section>', html, re.S).group(0)
    assert "Di bawah ekspektasi" in section and "Ada nilai di bawah ekspektasi: Akuntabel." in section
    assert "Tingkat yang Anda pilih bersama umpan balik Anda" in _row(html, "akuntabel")
    assert _checked(html, "akuntabel") == "below"
    assert "Saran sistem: Di bawah ekspektasi." in page  # the hint of the behaviour rating
    assert team.evaluation(STAFF_A[0])["status"] == "open"
    no_missing_keys(resp)
    en = plain(b.get(f"/evaluasi/{ev['id']}/nilai?lang=en"))
    assert "Suggested behaviour rating" in en and "No value can be assessed yet" in en


def test_departing_from_the_behaviour_suggestion_asks_for_a_reason_beside_its_field(team: Team):
    ev = team.evaluation(STAFF_A[0])
    b = team.stack.browser()
    b.login(KASI_A)
    resp = b.get(f"/evaluasi/{ev['id']}/nilai")
    suggested = team.api("GET", f"/evaluations/{ev['id']}/suggestion", KASI_A).get_json()["rating"]
    form = {
        "etag": etag_of(resp),
        "rating_hasil": suggested,
        "rating_perilaku": "meets",
        "value_level.akuntabel": "above",
        "value_text.akuntabel": "Laporan selalu tepat waktu.",
        "value_level.loyal": "above",
    }
    resp = b.post(f"/evaluasi/{ev['id']}/nilai", form)
    assert resp.status_code == 422
    html = text(resp)
    err = re.search(r'<p class="err" id="e-perilaku_deviation_reason">([^<]*)</p>', html).group(1)
    assert err == "Rating perilaku kerja berbeda dari saran sistem (Di atas ekspektasi); tuliskan alasannya."
    assert re.search(r'id="f-perilaku_deviation_reason"[^>]*aria-invalid="true"', html)
    assert _checked(html, "akuntabel") == "above"
    assert team.evaluation(STAFF_A[0])["status"] == "open"  # nothing saved
    why = "Baru dua bulan di seksi ini; perlu waktu untuk menilai di atas ekspektasi."
    resp = b.post(f"/evaluasi/{ev['id']}/nilai", {**form, "etag": etag_of(resp), "perilaku_deviation_reason": why})
    assert resp.status_code == 200, plain(resp)[:2000]
    page = plain(resp)
    assert "Penilaian tersimpan." in page and "Alasan rating perilaku berbeda dari saran" in page and why in page
    stored = team.evaluation(STAFF_A[0])
    assert (stored["suggested_perilaku"], stored["rating_perilaku"], stored["perilaku_deviation_reason"]) == (
        "above",
        "meets",
        why,
    )
    no_missing_keys(resp)


def test_the_peers_answers_show_per_value_and_suggest_where_no_level_is_chosen(team: Team):
    ev = team.evaluation(STAFF_A[0])
    raters = [STAFF_A[1], STAFF_A[2], STAFF_B[0]]
    assert team.api("POST", f"/evaluations/{ev['id']}/peers", KASI_A, {"rater_nips": raters}).status_code == 200
    for nip in raters:
        r = team.api("POST", f"/evaluations/{ev['id']}/peer-feedback", nip, {"answers": {"kolaboratif": "above"}})
        assert r.status_code == 201, r.get_json()
    b = team.stack.browser()
    b.login(KASI_A)
    html = text(b.get(f"/evaluasi/{ev['id']}/nilai"))
    row = _row(html, "kolaboratif")
    assert "3 di atas · 0 sesuai · 0 di bawah" in row and "Dipilih lebih dari separuh rekan penilai" in row
    assert "Jawaban rekan: 3 di atas, 0 sesuai, 0 di bawah ekspektasi." in html
    section = re.search(r'id="saran-perilaku".*?</section>', html, re.S).group(0)
    assert "Di atas ekspektasi" in section


def test_an_objection_changed_to_below_names_its_values_beside_the_checkboxes(team: Team):
    obj = _objection(team, perilaku="meets")
    head = team.stack.browser()
    head.login(HEAD)
    html = text(head.get(f"/keberatan/{obj['id']}"))
    assert 'id="f-perilaku_below_values-kolaboratif" name="perilaku_below_values" value="kolaboratif"' in html
    decision = {
        "decision": "changed",
        "reason": "Bukti notulen sah.",
        "rating_hasil": "meets",
        "rating_perilaku": "below",
    }
    resp = head.post(f"/keberatan/{obj['id']}", decision)
    assert resp.status_code == 422
    assert "Pilih minimal satu nilai BerAKHLAK yang di bawah ekspektasi." in re.search(
        r'<p class="err" id="e-f-perilaku_below_values">([^<]*)</p>', text(resp)
    ).group(1)
    assert team.api("GET", f"/objections/{obj['id']}").get_json()["status"] != "decided"
    resp = head.post(f"/keberatan/{obj['id']}", {**decision, "perilaku_below_values": ["harmonis", "akuntabel"]})
    assert resp.status_code == 200 and "Keberatan telah diputus." in plain(resp)
    after = team.evaluation(STAFF_A[0])
    assert (after["rating_perilaku"], after["perilaku_below_values"]) == ("below", ["akuntabel", "harmonis"])


def test_a_calibration_adjustment_to_below_names_its_values(stack):
    ch = annual_curve_broken(stack)
    ev = ch.evaluation_of(STAFF_A[1], period_seq=0)
    b = hr(stack)
    name = f"perilaku_below_values-{ev['id']}"
    page = text(b.get(f"/hr/kalibrasi/unit/SEK-A?cycle_id={stack.org.cycle_id}&period_seq=0"))
    assert f'id="f-{name}-loyal" name="{name}" value="loyal"' in page
    form = {
        "cycle_id": stack.org.cycle_id,
        "period_seq": 0,
        "unit_code": "SEK-A",
        f"rating_hasil-{ev['id']}": "meets",
        f"rating_perilaku-{ev['id']}": "below",
        f"reason-{ev['id']}": "Dua kali tidak hadir rapat koordinasi.",
    }
    resp = b.post(f"/hr/kalibrasi/penilaian/{ev['id']}/sesuaikan", form)
    assert resp.status_code == 422
    err = re.search(rf'<p class="err" id="e-f-{name}">([^<]*)</p>', text(resp)).group(1)
    assert err == "Pilih minimal satu nilai BerAKHLAK yang di bawah ekspektasi."
    assert ch.evaluation_of(STAFF_A[1], period_seq=0)["rating_perilaku"] == "meets"  # nothing changed
    resp = b.post(f"/hr/kalibrasi/penilaian/{ev['id']}/sesuaikan", {**form, name: ["loyal"]})
    assert resp.status_code == 200, text(resp)[:2000]
    after = ch.evaluation_of(STAFF_A[1], period_seq=0)
    assert (after["rating_perilaku"], after["perilaku_below_values"]) == ("below", ["loyal"])
