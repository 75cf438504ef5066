"""Continuous feedback and coaching in the portal: the superior writes a note or a coaching record per
RHK or per BerAKHLAK value from the team dashboard, the employee reads it (its own page and the SKP
page) and replies, the penilai sees both on the rating page; both languages, bad input beside the
field, and nobody else reaches the pages."""

from __future__ import annotations

import re

import pytest

from tests.plans.support import HEAD, KASI_A, KASI_B, STAFF_A
from tests.portal.support import text
from tests.portal.test_employee import errors_of
from tests.portal.test_evaluations import Team, plain

E = STAFF_A[0]  # Rina Wati, kasi A's direct report


@pytest.fixture
def monitoring(stack):
    """Kasi A's and staff A[0]'s SKP approved, the cycle in monitoring (period 1)."""
    hp, ka, sa = stack.org.team_a()
    stack.org.advance_to("monitoring:1:check_in")
    stack.pump()
    return sa


def feedback_api(stack, plan_id: int, who: str = KASI_A) -> list[dict]:
    return stack.org.get(f"/plans/{plan_id}/feedback", stack.org.as_(who)).get_json()


def test_supervisor_writes_from_the_team_page_and_the_employee_replies(stack, monitoring):
    sa = monitoring
    kasi = stack.browser()
    kasi.login(KASI_A)
    team = text(kasi.get("/tim"))
    url = f"/tim/skp/{sa['id']}/umpan-balik"
    assert f'href="{url}"' in team  # from the team dashboard, per approved plan
    form = plain(kasi.get(url))
    assert "Umpan balik dan bimbingan: Rina Wati" in form and "Belum ada umpan balik" in form
    rhk_id = sa["rhk"][0]["id"]
    resp = kasi.post(
        url, {"kind": "coaching", "target": f"rhk:{rhk_id}", "period_seq": "1", "text": "Sesi 1: susun jadwal laporan"}
    )
    assert resp.status_code == 200
    page = plain(resp)
    assert "Catatan bimbingan kinerja untuk Rina Wati tersimpan" in page
    assert "Bimbingan kinerja" in page and "Sesi 1: susun jadwal laporan" in page
    kasi.post(url, {"kind": "feedback", "target": "value:kolaboratif", "period_seq": "", "text": "Aktif membantu tim"})
    notes = feedback_api(stack, sa["id"])
    assert [(n["kind"], n["rhk_id"], n["value_code"], n["period_seq"]) for n in notes] == [
        ("coaching", rhk_id, None, 1),
        ("feedback", None, "kolaboratif", None),
    ]
    # the employee: on the SKP page, then the page with the reply forms
    emp = stack.browser()
    emp.login(E)
    plan_page = plain(emp.get(f"/skp/{sa['id']}"))
    assert "Umpan balik dan bimbingan" in plan_page and "Aktif membantu tim" in plan_page
    assert "Buka dan balas (2 catatan)" in plan_page
    mine = text(emp.get(f"/skp/{sa['id']}/umpan-balik"))
    assert "Perilaku kerja: Kolaboratif" in plain(emp.get(f"/skp/{sa['id']}/umpan-balik"))
    assert "Catatan yang Anda terima (2)" in plain(emp.get(f"/skp/{sa['id']}/umpan-balik"))
    assert "Siti Aminah ·" in plain(emp.get(f"/skp/{sa['id']}/umpan-balik"))  # the superior by name, not NIP
    coaching = notes[0]["id"]
    assert f'action="/skp/{sa["id"]}/umpan-balik/{coaching}/balas"' in mine
    resp = emp.post(f"/skp/{sa['id']}/umpan-balik/{coaching}/balas", {"text": "Jadwal saya kirim Jumat"})
    assert "Balasan Anda terkirim" in plain(resp)
    assert [r["text"] for r in feedback_api(stack, sa["id"])[0]["replies"]] == ["Jadwal saya kirim Jumat"]
    # the superior sees the reply under the note
    assert "Jadwal saya kirim Jumat" in plain(kasi.get(url))


def test_bad_input_is_shown_beside_the_field(stack, monitoring):
    sa = monitoring
    kasi = stack.browser()
    kasi.login(KASI_A)
    url = f"/tim/skp/{sa['id']}/umpan-balik"
    kasi.get(url)
    resp = kasi.post(url, {"kind": "teguran", "target": "", "period_seq": "9", "text": "x"})
    assert resp.status_code == 422
    assert errors_of(text(resp)) == {
        "kind": "Pilih umpan balik atau bimbingan kinerja.",
        "target": "Pilih RHK atau nilai perilaku yang dibahas.",
        "period_seq": "Periode ini tidak ada pada siklus.",
        "text": "Catatan paling sedikit 2 karakter.",
    }
    resp = kasi.post(url, {"kind": "feedback", "target": "rhk:not-an-rhk", "period_seq": "", "text": "Baik sekali"})
    assert errors_of(text(resp)) == {"target": "Pilihan ini bukan RHK SKP pegawai ini maupun nilai BerAKHLAK."}
    assert 'value="Baik sekali"' in text(resp) or ">Baik sekali</textarea>" in text(resp)  # kept for correction
    assert feedback_api(stack, sa["id"]) == []
    kasi.post(url, {"kind": "feedback", "target": "value:adaptif", "text": "Cepat belajar"})
    fb = feedback_api(stack, sa["id"])[0]
    emp = stack.browser()
    emp.login(E)
    emp.get(f"/skp/{sa['id']}/umpan-balik")
    resp = emp.post(f"/skp/{sa['id']}/umpan-balik/{fb['id']}/balas", {"text": "  "})
    assert resp.status_code == 422
    assert errors_of(text(resp)) == {f"reply.{fb['id']}": "Tulis balasan Anda."}
    assert feedback_api(stack, sa["id"])[0]["replies"] == []


def test_english(stack, monitoring):
    sa = monitoring
    kasi = stack.browser()
    kasi.login(KASI_A)
    url = f"/tim/skp/{sa['id']}/umpan-balik"
    page = plain(kasi.get(url + "?lang=en"))
    assert "Feedback and coaching: Rina Wati" in page and "Write a new note" in page and "Coaching" in page
    resp = kasi.post(url, {"kind": "coaching", "target": "", "text": "Sesi"})
    assert errors_of(text(resp)) == {"target": "Choose the RHK or behaviour value this is about."}
    kasi.post(url, {"kind": "coaching", "target": "value:loyal", "text": "Sesi bimbingan"})
    emp = stack.browser()
    emp.login(E)
    page = plain(emp.get(f"/skp/{sa['id']}/umpan-balik?lang=en"))
    assert "Feedback and coaching from your superior" in page and "Work behaviour: Loyal" in page
    assert "Reply to this note" in page


def test_forbidden_for_others(stack, monitoring):
    sa = monitoring
    kasi = stack.browser()
    kasi.login(KASI_A)
    kasi.post(f"/tim/skp/{sa['id']}/umpan-balik", {"kind": "feedback", "target": "value:loyal", "text": "Baik"})
    kasi.get(f"/tim/skp/{sa['id']}/umpan-balik")
    fb = feedback_api(stack, sa["id"])[0]
    # a supervisor outside the line: neither the page nor a note
    other = stack.browser()
    other.login(KASI_B)
    assert other.get(f"/tim/skp/{sa['id']}/umpan-balik").status_code == 403
    other.get("/tim")
    resp = other.post(f"/tim/skp/{sa['id']}/umpan-balik", {"kind": "feedback", "target": "value:loyal", "text": "Hm"})
    assert resp.status_code == 403
    # a colleague: not the page, not a reply; the employee cannot write on the superior's page
    colleague = stack.browser()
    colleague.login(STAFF_A[1])
    assert colleague.get(f"/skp/{sa['id']}/umpan-balik").status_code == 403
    colleague.get("/")
    resp = colleague.post(f"/skp/{sa['id']}/umpan-balik/{fb['id']}/balas", {"text": "Bukan saya"})
    assert resp.status_code == 403
    emp = stack.browser()
    emp.login(E)
    assert emp.get(f"/tim/skp/{sa['id']}/umpan-balik").status_code == 403  # staff: not a supervisor
    # the superior cannot reply in the employee's name
    resp = kasi.post(f"/skp/{sa['id']}/umpan-balik/{fb['id']}/balas", {"text": "Atas nama pegawai"})
    assert resp.status_code == 403
    assert len(feedback_api(stack, sa["id"])) == 1 and feedback_api(stack, sa["id"])[0]["replies"] == []
    # the head (indirect superior) may write too: the API's reporting line
    head = stack.browser()
    head.login(HEAD)
    head.get(f"/tim/skp/{sa['id']}/umpan-balik")
    resp = head.post(f"/tim/skp/{sa['id']}/umpan-balik", {"kind": "feedback", "target": "value:harmonis", "text": "Ok"})
    assert resp.status_code == 200 and len(feedback_api(stack, sa["id"])) == 2


def test_the_rating_page_shows_the_notes_per_rhk_and_value(stack):
    team = Team(stack).approve_all_plans()
    team.advance_to("monitoring:1:check_in")
    plan = team.plans[E]
    org = stack.org
    for body in (
        {"kind": "coaching", "rhk_id": plan["rhk"][0]["id"], "period_seq": 2, "text": "Bimbingan: laporan tepat waktu"},
        {"value_code": "akuntabel", "text": "Dokumen rapi dan dapat dipertanggungjawabkan"},
    ):
        assert org.post(f"/plans/{plan['id']}/feedback", org.as_(KASI_A), body).status_code == 201
    fb = feedback_api(stack, plan["id"])[0]
    assert org.post(f"/plans/{plan['id']}/feedback/{fb['id']}/replies", org.as_(E), {"text": "Siap"}).status_code == 201
    team.advance_to("annual_evaluation")
    team.realise(E, 4, [5, 100])
    ev = team.evaluation(E)
    kasi = stack.browser()
    kasi.login(KASI_A)
    page = plain(kasi.get(f"/evaluasi/{ev['id']}/nilai"))
    section = page[page.index("Umpan balik dan bimbingan sepanjang periode") :]
    assert f"RHK: {plan['rhk'][0]['description']}" in section and "Bimbingan: laporan tepat waktu" in section
    assert "Perilaku kerja: Akuntabel" in section and "Dokumen rapi" in section
    assert re.search(r"Balasan Rina Wati · [\d-]+ [\d:]+ Siap", section)
    assert "Feedback and coaching during the period" in plain(kasi.get(f"/evaluasi/{ev['id']}/nilai?lang=en"))


def test_every_key_these_pages_use_exists_in_both_languages():
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "services" / "portal"
    area = {
        lang: json.loads((root / "messages" / "feedback" / f"{lang}.json").read_text("utf-8")) for lang in ("id", "en")
    }
    assert set(area["id"]) == set(area["en"]) and all(k.startswith("feedback.") for k in area["id"])
    sources = [root / "pages_feedback.py", *(root / "templates" / "portal" / "feedback").glob("*.html")]
    used = set()
    for path in sources:
        used |= set(re.findall(r"""\bt\(\s*["'](feedback\.[a-z_0-9.]+[a-z_0-9])["']""", path.read_text("utf-8")))
    assert len(used) > 30 and not sorted(used - set(area["id"]))
