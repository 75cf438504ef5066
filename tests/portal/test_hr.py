"""The HR pages of the portal: cycles and their completion, advancing the stage and editing
deadlines, calibration against the curve with overrides, survey campaigns with their IKM and QR
code, and the HR reports — plus who may not open them."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select, update
from sqlalchemy import text as sql_text

from services.plans.models import platform_tables
from tests.plans.support import HEAD, KASI_A, KASI_B, STAFF_A, STAFF_B
from tests.portal.support import text
from tests.reviews.support import Chain

HR_PAGES = [
    "/hr/siklus",
    "/hr/siklus/1",
    "/hr/kalibrasi",
    "/hr/survei",
    "/hr/laporan",
    "/hr/konsistensi",
    "/hr/tindak-lanjut",
    "/hr/audit",
]
S = "/surveys/api/v1"


# ------------------------------------------------------------------ setup helpers (also used by the browser tests)


class HrChain(Chain):
    """The reviews chain on the portal's stack; ``wait`` delivers events (``stack.pump`` in the
    Flask tests, ``live.settle`` when the bus worker runs in the background)."""

    def __init__(self, stack, wait=None):
        super().__init__(stack.emb, stack.org)
        self._wait = wait or stack.pump

    def pump(self) -> int:
        return self._wait() or 0


def annual_curve_broken(stack, wait=None) -> HrChain:
    """Approved SKPs for everyone, the cycle at the annual evaluation, SEK-A's organisation result
    Baik, and all four of SEK-A (three staff and their kasi) rated meets/meets: 100 % Baik breaks
    both rules of Baik (at most 70 % Baik; at least one Butuh Perbaikan or Kurang). SEK-B: Istimewa,
    rated within its band."""
    ch = HrChain(stack, wait)
    ch.approve_all_plans()
    ch.advance_to("annual_evaluation")
    for unit, result in (("SEK-A", "BAIK"), ("SEK-B", "ISTIMEWA")):
        r = ch.set_org_result(unit, result, period_seq=0)
        assert r.status_code == 200, r.get_json()
    ratings = {
        **{n: (KASI_A, "meets", "meets") for n in STAFF_A},
        KASI_A: (HEAD, "meets", "meets"),
        STAFF_B[0]: (KASI_B, "above", "above"),
        STAFF_B[1]: (KASI_B, "meets", "meets"),
        STAFF_B[2]: (KASI_B, "meets", "below"),
    }
    for nip, (penilai, hasil, perilaku) in ratings.items():
        ev = ch.evaluation_of(nip, period_seq=0)
        r = ch.rate(ev, penilai, hasil, perilaku, deviation_reason="Penilaian berdasarkan bukti dukung tahunan.")
        assert r.status_code == 200, (nip, r.get_json())
    ch.pump()
    return ch


def hr(stack):
    b = stack.browser()
    b.login("hr:PKMB")
    return b


def cycle_state(stack) -> str:
    return stack.org.get(f"/cycles/{stack.org.cycle_id}", stack.org.hr).get_json()["state"]


def campaign_body(**overrides) -> dict:
    body = {
        "unit_code": "SEK-B",
        "service_type": "Pelayanan izin galian jalan",
        "title": "SKM Izin Galian Q1",
        "start_date": "2026-01-01",
        "end_date": "2026-03-31",
        "population": "200",
    }
    body.update(overrides)
    return body


def campaigns(stack) -> list[dict]:
    return stack.org.client.get(f"{S}/campaigns", headers=stack.org.hr).get_json()["items"]


def field_error(page: str, name: str) -> str | None:
    """The error message shown beside the form field ``name`` (None: no error there)."""
    m = re.search(rf'<p class="err" id="e-{re.escape(name)}">([^<]*)</p>', page)
    if not m:
        return None
    assert re.search(rf'id="f-{re.escape(name)}"[^>]*aria-invalid="true"', page, re.S), f"{name} not aria-invalid"
    return m.group(1)


# ------------------------------------------------------------------ who may open the HR pages


@pytest.mark.parametrize("person", [STAFF_A[0], KASI_A])
def test_employee_and_supervisor_get_tidak_berwenang_on_every_hr_page(stack, person):
    b = stack.browser()
    b.login(person)
    for path in HR_PAGES:
        resp = b.get(path)
        assert resp.status_code == 403, path
        page = text(resp)
        assert "Tidak berwenang" in page and "Perencanaan SKP" not in page and "Triwulan" not in page, path
    resp = b.post("/hr/siklus/1/maju", {"expected": "planning"})
    assert resp.status_code == 403
    assert cycle_state(stack) == "planning"  # nothing changed


def test_hr_of_another_agency_sees_none_of_pkmb(stack):
    annual_curve_broken(stack)
    b = stack.browser()
    b.login("hr:OTHER")
    listing = text(b.get("/hr/siklus"))
    assert "Belum ada periode penilaian." in listing and "Penilaian Kinerja 2026" not in listing
    resp = b.get(f"/hr/siklus/{stack.org.cycle_id}")
    assert resp.status_code == 404 and "Seksi Perencanaan" not in text(resp)
    resp = b.get(f"/hr/kalibrasi?cycle_id={stack.org.cycle_id}&period_seq=0")
    assert resp.status_code == 404 and "SEK-A" not in text(resp)
    assert "Rina Wati" not in text(b.get("/hr/tindak-lanjut"))
    assert "cycle.advanced" not in text(b.get("/hr/audit"))
    resp = b.post(f"/hr/siklus/{stack.org.cycle_id}/maju", {"expected": "annual_evaluation"})
    assert resp.status_code == 404
    assert cycle_state(stack) == "annual_evaluation"


def test_nav_shows_the_hr_pages_to_hr(stack):
    page = text(hr(stack).get("/"))
    for label, href in (
        ("Periode Penilaian", "/hr/siklus"),
        ("Kalibrasi", "/hr/kalibrasi"),
        ("Survei Kepuasan", "/hr/survei"),
        ("Laporan HR", "/hr/laporan"),
    ):
        assert f'href="{href}">{label}</a>' in page


# ------------------------------------------------------------------ cycles


def test_cycles_list_shows_stage_periods_and_deadlines_in_bahasa(stack):
    page = text(hr(stack).get("/hr/siklus"))
    assert "Penilaian Kinerja 2026" in page and "Perencanaan SKP" in page and "Triwulanan" in page
    assert "Triwulan I" in page and "Triwulan IV" in page
    cycle = stack.org.get(f"/cycles/{stack.org.cycle_id}", stack.org.hr).get_json()
    for p in cycle["periods"]:
        assert f"batas {p['deadline']}" in page


def test_create_cycle_shows_errors_beside_the_fields_and_saves_nothing(stack):
    b = hr(stack)
    b.get("/hr/siklus")
    resp = b.post("/hr/siklus", {"year": "dua ribu", "period_type": "weekly", "planning_deadline": "31-01-2027"})
    assert resp.status_code == 422
    page = text(resp)
    assert field_error(page, "year") == "Isi dengan angka."
    assert field_error(page, "period_type").startswith("Pilih jenis periode")
    assert field_error(page, "planning_deadline") == "Isi tanggal dengan format TTTT-BB-HH."
    resp = b.post("/hr/siklus", {"year": "1999", "period_type": "semester"})
    assert resp.status_code == 422 and field_error(text(resp), "year")  # the API's range, beside the field
    resp = b.post("/hr/siklus", {"year": "2026", "period_type": "quarterly"})  # the same name and year exists
    assert resp.status_code == 422 and "sudah ada" in field_error(text(resp), "name")
    assert len(stack.org.get("/cycles", stack.org.hr).get_json()["items"]) == 1


def test_create_cycle_then_its_page(stack):
    b = hr(stack)
    b.get("/hr/siklus")
    resp = b.post(
        "/hr/siklus",
        {"year": "2027", "period_type": "semester", "planning_deadline": "2027-01-31"},
        follow_redirects=False,
    )
    assert resp.status_code == 302 and re.search(r"/hr/siklus/\d+$", resp.headers["Location"])
    page = text(b.get(resp.headers["Location"]))
    assert "Periode penilaian Penilaian Kinerja 2027 dibuat" in page and "Tahap saat ini: Draf" in page
    assert "Semester I" in page and "2027-01-31" in page


def test_cycle_page_shows_completion_per_unit_with_progress_bars(stack):
    org = stack.org
    hp = org.head_plan()
    ka = org.cascade(hp, KASI_A, approver=HEAD)  # SEK-A: kasi approved
    org.cascade(ka, STAFF_A[0], approver=KASI_A)  # staff A0 approved
    p1 = org.cascade(ka, STAFF_A[1])
    assert org.submit(p1["id"], STAFF_A[1]).status_code == 200  # staff A1 submitted
    p2 = org.cascade(ka, STAFF_A[2])
    org.submit(p2["id"], STAFF_A[2])
    assert (
        org.post(f"/plans/{p2['id']}/return", org.as_(KASI_A), {"note": "Target kualitas belum terukur."}).status_code
        == 200
    )
    page = text(hr(stack).get(f"/hr/siklus/{org.cycle_id}"))
    assert "Kelengkapan SKP per unit" in page
    row = re.search(r"Seksi Perencanaan <span class=\"meta\">SEK-A</span></th>(.*?)</tr>", page, re.S).group(1)
    cells = re.findall(r'<td class="num">(\d+)</td>', row)
    assert cells == ["0", "1", "1", "2", "0"]  # draft, submitted, returned, approved, no plan
    assert '<progress max="4" value="2"' in row and "2/4 (50%)" in row
    sek_b = re.search(r"Seksi Pelaksanaan <span class=\"meta\">SEK-B</span></th>(.*?)</tr>", page, re.S).group(1)
    assert re.findall(r'<td class="num">(\d+)</td>', sek_b) == ["0", "0", "0", "0", "4"]
    dinas = re.search(r"Dinas Pekerjaan Umum <span class=\"meta\">DINAS</span></th>(.*?)</tr>", page, re.S).group(1)
    assert re.findall(r'<td class="num">(\d+)</td>', dinas) == ["1", "0", "0", "0", "0"]


def test_cycle_page_shows_evaluations_per_unit_for_the_current_period(stack):
    ch = HrChain(stack)
    ch.approve_all_plans()
    ch.advance_to("monitoring:1:supervisor_evaluation")
    ev = ch.evaluation_of(STAFF_A[0])
    assert ch.rate(ev, KASI_A, "meets", "meets", deviation_reason="Sesuai bukti dukung.").status_code == 200
    page = text(hr(stack).get(f"/hr/siklus/{stack.org.cycle_id}"))
    assert "Evaluasi per unit — Triwulan I" in page
    row = [r for r in re.finditer(r"Seksi Perencanaan <span class=\"meta\">SEK-A</span></th>(.*?)</tr>", page, re.S)][
        -1
    ]
    assert '<progress max="4" value="1"' in row.group(1)  # 1 of SEK-A's 4 evaluations rated
    assert "Penilaian atasan" in page  # the phase, in Bahasa


def test_advance_moves_one_step_and_a_stale_form_changes_nothing(stack):
    b = hr(stack)
    page = text(b.get(f"/hr/siklus/{stack.org.cycle_id}"))
    assert 'name="expected" value="planning"' in page
    resp = b.post(f"/hr/siklus/{stack.org.cycle_id}/maju", {"expected": "planning"})
    assert resp.status_code == 200
    page = text(resp)
    assert "Tahap dimajukan" in page and "Pemantauan — Triwulan I, Realisasi dan check-in" in page
    assert cycle_state(stack) == "monitoring:1:check_in"
    # the same (stale) form sent again: 409 naming the current stage, nothing changes
    resp = b.post(f"/hr/siklus/{stack.org.cycle_id}/maju", {"expected": "planning"})
    assert resp.status_code == 409
    page = text(resp)
    assert "Tahap tidak dimajukan" in page and "Tidak ada yang diubah" in page
    assert "monitoring:1:check_in" in page and "Tahap saat ini: Pemantauan — Triwulan I" in page
    assert cycle_state(stack) == "monitoring:1:check_in"


def test_period_deadline_edit_with_errors_beside_the_field(stack):
    b = hr(stack)
    cid = stack.org.cycle_id
    page = text(b.get(f"/hr/siklus/{cid}"))
    etag = html.unescape(re.search(r'name="etag" value="([^"]*)"', page).group(1))
    assert etag
    resp = b.post(f"/hr/siklus/{cid}/periode/2", {"deadline_2": "5 Juli", "etag": etag})
    assert resp.status_code == 422 and field_error(text(resp), "deadline_2") == "Isi tanggal dengan format TTTT-BB-HH."
    resp = b.post(f"/hr/siklus/{cid}/periode/2", {"deadline_2": "2026-03-01", "etag": etag})  # before the period starts
    assert resp.status_code == 422
    assert "tidak boleh sebelum awal periode" in field_error(text(resp), "deadline_2")
    resp = b.post(f"/hr/siklus/{cid}/periode/2", {"deadline_2": "2026-07-10", "etag": etag})
    assert resp.status_code == 200 and "Batas pengisian periode 2 disimpan: 2026-07-10." in text(resp)
    periods = stack.org.get(f"/cycles/{cid}", stack.org.hr).get_json()["periods"]
    assert periods[1]["deadline"] == "2026-07-10"
    # the old ETag (the cycle changed since): refused, nothing changes
    resp = b.post(f"/hr/siklus/{cid}/periode/2", {"deadline_2": "2026-07-20", "etag": etag})
    assert resp.status_code == 412 and "baru saja diubah orang lain" in field_error(text(resp), "deadline_2")
    assert stack.org.get(f"/cycles/{cid}", stack.org.hr).get_json()["periods"][1]["deadline"] == "2026-07-10"


def test_deadlines_are_read_only_after_planning(stack):
    stack.org.advance("planning")
    page = text(hr(stack).get(f"/hr/siklus/{stack.org.cycle_id}"))
    assert "hanya dapat diubah pada tahap Draf atau Perencanaan SKP" in page and 'name="deadline_1"' not in page


# ------------------------------------------------------------------ calibration


def test_calibration_shows_the_curve_chart_and_names_the_violations(stack):
    annual_curve_broken(stack)
    resp = hr(stack).get(f"/hr/kalibrasi?cycle_id={stack.org.cycle_id}&period_seq=0")
    assert resp.status_code == 200
    page = text(resp)
    sek_a = page[page.index('id="unit-SEK-A"') : page.index('id="unit-SEK-B"')]
    sek_b = page[page.index('id="unit-SEK-B"') :]
    assert "Capaian kinerja organisasi: <strong>Baik</strong>" in sek_a and "4 pegawai berpredikat" in sek_a
    assert "Pelanggaran kurva distribusi" in sek_a
    assert "Baik: paling banyak 70 % (3 orang), tercatat 4 dari 4 orang." in sek_a
    assert "Butuh Perbaikan + Kurang/Misconduct: paling sedikit 1 orang, tercatat 0 dari 4 orang." in sek_a
    assert "Penandatanganan unit ini ditahan" in sek_a
    # the chart: SVG drawn with attributes, the over-full Baik bar marked, the band's max as a mark
    svg = re.search(r"<svg.*?</svg>", sek_a, re.S).group(0)
    assert 'class="bar bad"' in svg and 'class="mark mark-max"' in svg and "maks. 3" in svg
    assert 'width="' in svg and 'height="' in svg and "style=" not in page
    assert re.search(r"<title[^>]*>Kurva predikat Seksi Perencanaan</title>", svg)
    assert "Pelanggaran" not in sek_b and "Sesuai kurva distribusi." in sek_b
    assert "Catat pengecualian" in sek_a and "Catat pengecualian" not in sek_b
    english = text(hr(stack).get(f"/hr/kalibrasi?cycle_id={stack.org.cycle_id}&period_seq=0&lang=en"))
    assert "Distribution curve calibration" in english
    assert "Good: at most 70 % (3 people), recorded 4 of 4." in english


def test_override_needs_a_reason_then_is_recorded(stack):
    annual_curve_broken(stack)
    b = hr(stack)
    cid = stack.org.cycle_id
    b.get(f"/hr/kalibrasi?cycle_id={cid}&period_seq=0")
    form = {"cycle_id": cid, "period_seq": 0, "unit_code": "SEK-A"}
    resp = b.post("/hr/kalibrasi/pengecualian", {**form, "reason-SEK-A": "  "})
    assert resp.status_code == 422 and field_error(text(resp), "reason-SEK-A") == "Wajib diisi."
    resp = b.post("/hr/kalibrasi/pengecualian", {**form, "reason-SEK-A": "Kecil"})  # the API wants 10+ characters
    assert resp.status_code == 422 and field_error(text(resp), "reason-SEK-A")
    cal = stack.org.client.get(
        f"/reviews/api/v1/calibration?cycle_id={cid}&period_seq=0&unit_code=SEK-A", headers=stack.org.hr
    ).get_json()
    assert cal["units"][0]["override"] is None and cal["units"][0]["sign_off_blocked"] is True
    reason = "Seksi kecil (4 orang); seluruh target tahunan tercapai dengan bukti dukung."
    resp = b.post("/hr/kalibrasi/pengecualian", {**form, "reason-SEK-A": reason})
    assert resp.status_code == 200
    page = text(resp)
    assert "Pengecualian untuk unit SEK-A tercatat" in page and "Pengecualian tercatat" in page and reason in page
    assert "Penandatanganan unit ini ditahan" not in page
    cal = stack.org.client.get(
        f"/reviews/api/v1/calibration?cycle_id={cid}&period_seq=0&unit_code=SEK-A", headers=stack.org.hr
    ).get_json()
    assert cal["units"][0]["override"]["reason"] == reason and cal["units"][0]["sign_off_blocked"] is False


def test_override_of_a_unit_on_the_curve_is_refused_with_the_apis_message(stack):
    annual_curve_broken(stack)
    b = hr(stack)
    b.get("/hr/kalibrasi")
    resp = b.post(
        "/hr/kalibrasi/pengecualian",
        {
            "cycle_id": stack.org.cycle_id,
            "period_seq": 0,
            "unit_code": "SEK-B",
            "reason-SEK-B": "Tidak perlu, hanya mencoba saja.",
        },
    )
    assert resp.status_code == 409 and "Pengecualian tercatat" not in text(resp)


def test_calibration_check_button_reports_the_units_in_violation(stack):
    annual_curve_broken(stack)
    b = hr(stack)
    page = text(b.get("/hr/kalibrasi"))  # default: the running cycle, annual once monitoring is over
    assert "Jalankan pemeriksaan kalibrasi" in page and 'name="period_seq" value="0"' in page
    resp = b.post("/hr/kalibrasi/periksa", {"cycle_id": stack.org.cycle_id, "period_seq": 0})
    assert resp.status_code == 200 and "Pemeriksaan selesai: 1 unit melanggar kurva (SEK-A)." in text(resp)


# ------------------------------------------------------------------ surveys


def test_create_campaign_errors_beside_the_fields_and_nothing_saved(stack):
    b = hr(stack)
    b.get("/hr/survei")
    resp = b.post("/hr/survei", campaign_body(service_type="", start_date="1 Jan", population="banyak"))
    assert resp.status_code == 422
    page = text(resp)
    assert field_error(page, "service_type") == "Wajib diisi."
    assert field_error(page, "start_date") == "Isi tanggal dengan format TTTT-BB-HH."
    assert field_error(page, "population") == "Isi dengan angka."
    resp = b.post("/hr/survei", campaign_body(end_date="2025-12-31"))  # the API: end before start
    assert resp.status_code == 422 and "sebelum tanggal mulai" in field_error(text(resp), "end_date")
    resp = b.post("/hr/survei", campaign_body(population="0"))
    assert resp.status_code == 422 and field_error(text(resp), "population")
    assert campaigns(stack) == []


def test_campaign_open_qr_ikm_and_close(stack):
    b = hr(stack)
    b.get("/hr/survei")
    resp = b.post("/hr/survei", campaign_body())
    assert resp.status_code == 200 and "Kampanye SKM Izin Galian Q1 dibuat" in text(resp)
    (c,) = campaigns(stack)
    assert c["unit_name"] == "Seksi Pelaksanaan" and c["status"] == "draft" and c["min_sample"] == 132
    page = text(resp)
    assert "Buka survei" in page and "qr.svg" not in page
    page = text(b.post(f"/hr/survei/{c['id']}/buka"))
    assert "Survei SKM Izin Galian Q1 dibuka" in page
    assert f'href="/surveys/s/{c["slug"]}"' in page and f"/hr/survei/{c['id']}/qr.svg" in page
    qr = b.get(f"/hr/survei/{c['id']}/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml" and b"<svg" in qr.data
    # the code points at the host the browser used (the same code the public page serves there)
    assert qr.data == b.get(f"/surveys/s/{c['slug']}/qr.svg").data
    assert b.get(f"/hr/survei/{c['id']}/qr.png").data[:8] == b"\x89PNG\r\n\x1a\n"
    # answers through the kiosk API: the index appears with its band and the sample count
    for value in (4, 4, 3):
        r = stack.org.client.post(
            f"{S}/campaigns/{c['id']}/responses",
            headers=stack.org.hr,
            json={"answers": {f"U{i}": value for i in range(1, 10)}},
        )
        assert r.status_code == 201, r.get_json()
    page = text(b.get("/hr/survei"))
    assert "91.67" in page and ">A <span" in page and "(Sangat Baik)" in page
    assert '<progress max="132" value="3"' in page and "Kurang 129 responden." in page
    report = b.get(f"/hr/survei/{c['id']}/laporan.pdf")
    assert report.status_code == 200 and report.data[:5] == b"%PDF-"
    report = b.get(f"/hr/survei/{c['id']}/laporan.html")
    assert report.status_code == 200 and "91" in text(report)
    page = text(b.post(f"/hr/survei/{c['id']}/tutup"))
    assert "ditutup" in page and campaigns(stack)[0]["status"] == "closed"
    resp = b.post(f"/hr/survei/{c['id']}/tutup")  # already closed: the API's message, nothing changes
    assert resp.status_code == 200 and 'class="flash error"' in text(resp)


def test_other_agency_cannot_fetch_the_qr_code(stack):
    b = hr(stack)
    b.get("/hr/survei")
    b.post("/hr/survei", campaign_body())
    (c,) = campaigns(stack)
    other = stack.browser()
    other.login("hr:OTHER")
    assert "SKM Izin Galian" not in text(other.get("/hr/survei"))
    assert other.get(f"/hr/survei/{c['id']}/qr.svg").status_code == 404


# ------------------------------------------------------------------ reports


def test_reports_index_links_the_sub_pages(stack):
    page = text(hr(stack).get("/hr/laporan"))
    for href in ("/hr/konsistensi", "/hr/tindak-lanjut", "/hr/audit", f"/hr/siklus/{stack.org.cycle_id}"):
        assert f'href="{href}"' in page


def test_rater_consistency_table(stack):
    annual_curve_broken(stack)
    page = text(hr(stack).get(f"/hr/konsistensi?cycle_id={stack.org.cycle_id}&period_seq=0"))
    row_b = re.search(r"Agus Salim.*?</tr>", page, re.S).group(0)  # KASI_B: above/above, meets/meets, meets/below
    assert re.findall(r'<td class="num">([^<]+)</td>', row_b)[:4] == ["6", "2", "3", "1"]
    row_a = re.search(r"Siti Aminah.*?</tr>", page, re.S).group(0)
    assert re.findall(r'<td class="num">([^<]+)</td>', row_a)[:4] == ["6", "0", "6", "0"]
    assert "Indeks thd. instansi" in page


def test_followups_list_development_plans(stack):
    ch = annual_curve_broken(stack)
    ch.advance_to("sign_off")
    for nip in (STAFF_B[0], STAFF_B[2]):  # SEK-B is on the curve: its chain runs to the countersignature
        ev = ch.evaluation_of(nip, period_seq=0)
        for action, who in (("sign", KASI_B), ("acknowledge", nip), ("countersign", HEAD)):
            r = ch.post(f"/evaluations/{ev['id']}/{action}", ch.as_(who))
            assert r.status_code == 200, (action, r.get_json())
    page = text(hr(stack).get(f"/hr/tindak-lanjut?cycle_id={stack.org.cycle_id}"))
    # STAFF_B[0] above/above → Sangat Baik → recognition; STAFF_B[2] meets/below → Kurang/Misconduct → development
    assert "Andi Pratama" in page and "Penghargaan" in page
    assert "Eko Saputra" in page and "Rencana pengembangan" in page
    dev = text(hr(stack).get(f"/hr/tindak-lanjut?cycle_id={stack.org.cycle_id}&kind=development"))
    assert "Eko Saputra" in dev and "Andi Pratama" not in dev


def test_audit_viewer_filters_and_pages(stack):
    b = hr(stack)
    b.post(f"/hr/siklus/{stack.org.cycle_id}/maju", {"expected": "planning"})
    page = text(b.get(f"/hr/audit?source=plans&entity_type=cycle&entity_id={stack.org.cycle_id}"))
    assert "cycle.advanced" in page and "state: planning" in page and "state: monitoring:1:check_in" in page
    assert "hr-PKMB" in page
    assert "<code>unit." not in page and "<code>cycle.created</code>" in page  # filtered by entity
    first = text(b.get("/hr/audit?source=plans&limit=5"))
    assert first.count("<time") == 5
    nxt = re.search(r'href="([^"]+)" rel="next"', first)
    assert nxt and "limit=5" in nxt.group(1)
    second = text(b.get(html.unescape(nxt.group(1))))
    assert second.count("<time") == 5
    rows = lambda page: re.findall(r"<tr>\s*<td><time.*?</tr>", page, re.S)  # noqa: E731
    assert not set(rows(first)) & set(rows(second))  # the next page goes on, repeating nothing
    assert "<code>agency.created</code>" in first  # oldest first


def test_audit_viewer_warns_when_the_chain_is_broken(stack):
    """Someone with database access rewrites a record (dropping the append-only trigger first): the
    service's own check finds it and the HR page says so, pointing at the first bad record."""
    b = hr(stack)
    assert "Rantai audit rusak" not in text(b.get("/hr/audit?source=plans"))
    with stack.org.db() as s:
        target = s.execute(select(platform_tables.audit.c.id).order_by(platform_tables.audit.c.id)).scalars().first()
        s.execute(sql_text("DROP TRIGGER audit_log_no_update"))
        s.execute(update(platform_tables.audit).where(platform_tables.audit.c.id == target).values(actor="forged"))
        s.commit()
    page = text(b.get("/hr/audit?source=plans"))
    assert 'role="alert"' in page and "Rantai audit rusak" in page
    assert f"catatan pertama yang rusak: #{target}" in page and 'class="bad-row"' in page
