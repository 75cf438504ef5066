"""Evaluations in the portal for their three parties: the employee (self-assessment, my
evaluations, the PDF, acknowledging, an objection inside its window), the penilai (the rating
page with the explained suggestion, deviation reason, signing) and the atasan penilai
(countersigning, deciding objections). The states are reached through the APIs: approved SKPs,
the cycle advanced to the annual evaluation, realisations recorded, events pumped."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from tests.plans.support import HEAD, KASI_A, KASI_B, OTHER_EMP, STAFF_A, STAFF_B, iki, rhk
from tests.portal.support import text

R = "/reviews/api/v1"
REASON = "Memimpin digitalisasi arsip seksi di luar target SKP."


class Team:
    """The seeded PKMB agency brought to its annual evaluation: every SKP approved (cascaded
    from the head's), the cycle advanced, realisations recorded. Works on the Flask-level
    ``stack`` (events pumped) and on the ``live`` stack (the bus worker runs; we wait for it)."""

    def __init__(self, stack):
        self.stack, self.org = stack, stack.org
        self.plans: dict[str, dict] = {}

    def sync(self) -> None:
        if hasattr(self.stack, "settle"):
            self.stack.settle()
        else:
            self.stack.pump()

    # ------------------------------------------------------------ setup
    def approve_all_plans(self, qualitative: tuple[str, ...] = ()) -> "Team":
        """``qualitative``: staff of seksi A whose second IKI has no numeric target (a judgement)."""
        org = self.org
        head = org.head_plan()
        assert org.submit(head["id"], HEAD).status_code == 200
        r = org.post(f"/plans/{head['id']}/approve", org.hr)  # the top official: HR records it
        assert r.status_code == 200, r.get_json()
        self.plans[HEAD] = r.get_json()
        self.plans[KASI_A] = org.cascade(self.plans[HEAD], KASI_A, approver=HEAD, which=0)
        self.plans[KASI_B] = org.cascade(self.plans[HEAD], KASI_B, approver=HEAD, which=1)
        for nip in STAFF_A:
            if nip in qualitative:
                parent = self.plans[KASI_A]["rhk"][0]
                self.plans[nip] = org.approved_plan(
                    nip,
                    [
                        rhk(
                            f"Mendukung: {parent['description']}",
                            parent=parent["id"],
                            ikis=[
                                iki("kuantitas", 4, "dokumen"),
                                {
                                    "aspect": "kualitas",
                                    "indicator": "Mutu laporan perencanaan",
                                    "target_value": None,
                                    "target_unit": None,
                                    "target_text": "Diterima tanpa revisi",
                                },
                            ],
                        )
                    ],
                    KASI_A,
                    approach="kualitatif",
                )
                continue
            self.plans[nip] = org.cascade(self.plans[KASI_A], nip, approver=KASI_A)
        for nip in STAFF_B:
            self.plans[nip] = org.cascade(self.plans[KASI_B], nip, approver=KASI_B)
        self.sync()
        return self

    def advance_to(self, label: str) -> dict:
        c = self.org.advance_to(label)
        self.sync()
        return c

    def realise(self, nip: str, period_seq: int, values: list[float]) -> None:
        """Realisations for the IKI of ``nip``'s SKP, in order (staff: 4 dokumen, quality 100 %)."""
        plan = self.plans[nip]
        ikis = [i for r in plan["rhk"] for i in r["iki"]]
        for i, value in zip(ikis, values):
            r = self.org.post(
                f"/plans/{plan['id']}/realisations",
                self.org.as_(nip),
                {"iki_id": i["id"], "period_seq": period_seq, "value": value},
            )
            assert r.status_code == 201, r.get_json()
        self.sync()

    def to_annual(self) -> "Team":
        """Plans approved, the year's fourth quarter realised, the cycle in ``annual_evaluation``
        (the annual evaluations are open). Staff A0 beats one target (5 of 4 documents) and meets
        the other, so the suggestion is *meets*."""
        self.approve_all_plans()
        self.advance_to("annual_evaluation")
        self.realise(STAFF_A[0], 4, [5, 100])
        self.realise(STAFF_A[1], 4, [3, 100])
        return self

    # ------------------------------------------------------------ reviews API
    def api(self, method: str, path: str, who: str | None = None, body=None, headers=None):
        h = dict(self.org.as_(who) if who else self.org.hr)
        h.update(headers or {})
        return self.org.client.open(R + path, method=method, headers=h, json=body)

    def evaluation(self, nip: str, period_seq: int = 0) -> dict:
        r = self.api("GET", f"/evaluations?limit=200&period_seq={period_seq}")
        found = [e for e in r.get_json()["items"] if e["employee_nip"] == nip]
        assert len(found) == 1, found
        return self.api("GET", f"/evaluations/{found[0]['id']}").get_json()

    def rate(self, nip: str, hasil="meets", perilaku="meets", **extra) -> dict:
        if perilaku == "below":  # a "below" names its BerAKHLAK values (issue 15)
            extra.setdefault("perilaku_below_values", ["kolaboratif"])
        ev = self.evaluation(nip)
        etag = self.api("GET", f"/evaluations/{ev['id']}").headers["ETag"]
        r = self.api(
            "PUT",
            f"/evaluations/{ev['id']}/rating",
            ev["penilai_nip"],
            {"rating_hasil": hasil, "rating_perilaku": perilaku, **extra},
            {"If-Match": etag},
        )
        assert r.status_code == 200, r.get_json()
        self.sync()
        return r.get_json()

    def act(self, nip: str, action: str, who: str) -> dict:
        ev = self.evaluation(nip)
        r = self.api("POST", f"/evaluations/{ev['id']}/{action}", who)
        assert r.status_code == 200, r.get_json()
        self.sync()
        return r.get_json()

    def signed(self, *nips: str, hasil="meets", perilaku="meets", **extra) -> list[dict]:
        """Each rated in ``annual_evaluation``, then signed by their penilai in ``sign_off``."""
        extra.setdefault("deviation_reason", "Sesuai bukti dukung yang ada.")  # when the suggestion differs
        rated = [self.rate(nip, hasil, perilaku, **extra) for nip in nips]
        self.advance_to("sign_off")
        return [self.act(nip, "sign", ev["penilai_nip"]) for nip, ev in zip(nips, rated)]


@pytest.fixture
def team(stack) -> Team:
    return Team(stack).to_annual()


def etag_of(resp) -> str:
    """The ETag the page carries in its form (as the browser sends it back)."""
    return html.unescape(re.search(r'name="etag" value="([^"]*)"', text(resp)).group(1))


def plain(resp) -> str:
    """The page's text without tags and with collapsed spaces (what a reader sees)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text(resp)))


def no_missing_keys(resp) -> None:
    assert not re.search(r"\bevaluations\.[a-z_]+\.[a-z_.]+", plain(resp)), "untranslated key on the page"


# ------------------------------------------------------------------ the employee


def test_my_evaluations_list_periodic_and_annual_with_status(team):
    b = team.stack.browser()
    b.login(STAFF_A[0])
    resp = b.get("/evaluasi")
    assert resp.status_code == 200
    page = plain(resp)
    assert "Evaluasi tahunan" in page and "Tahunan 2026" in page
    assert "Evaluasi periodik" in page and all(f"Triwulan {q}" in page for q in ("I", "II", "III", "IV"))
    assert page.count("Terbuka") == 5  # four quarters and the year, none rated
    annual = team.evaluation(STAFF_A[0])
    assert f'href="/evaluasi/{annual["id"]}"' in text(resp)
    no_missing_keys(resp)
    # once rated and signed, the predikat shows in the list
    team.signed(STAFF_A[0], hasil="meets", perilaku="meets")
    page = plain(b.get("/evaluasi"))
    assert "Ditandatangani penilai" in page and "Baik" in page
    english = plain(b.get("/evaluasi?lang=en"))
    assert "My Evaluations" in english and "Annual evaluations" in english


def test_self_assessment_draft_then_submit_with_errors_beside_the_fields(team):
    ev = team.evaluation(STAFF_A[0])
    b = team.stack.browser()
    b.login(STAFF_A[0])
    resp = b.get(f"/evaluasi/{ev['id']}")
    page = text(resp)
    assert "Penilaian diri" in page and 'name="achievements"' in page and "Kirim penilaian diri" in page
    etag = etag_of(resp)
    assert etag
    # submit with a field missing: refused beside the field, nothing saved
    resp = b.post(
        f"/evaluasi/{ev['id']}/penilaian-diri",
        {"etag": etag, "action": "submit", "achievements": "Arsip digital selesai."},
    )
    assert resp.status_code == 422
    page = text(resp)
    assert 'id="e-challenges"' in page and 'id="e-improvement_plan"' in page and "Wajib diisi." in page
    assert "Arsip digital selesai." in page  # what was typed stays
    assert team.evaluation(STAFF_A[0])["self_assessment"] == {}
    # a draft: saved with If-Match, the status stays open
    iki_id = team.plans[STAFF_A[0]]["rhk"][0]["iki"][0]["id"]
    resp = b.post(
        f"/evaluasi/{ev['id']}/penilaian-diri",
        {
            "etag": etag,
            "action": "save",
            "achievements": "Arsip digital selesai.",
            f"iki_comments.{iki_id}": "Lima dokumen, bukan empat.",
        },
    )
    assert resp.status_code == 200 and "Draf penilaian diri tersimpan." in text(resp)
    saved = team.evaluation(STAFF_A[0])
    assert saved["status"] == "open" and saved["self_assessment"]["achievements"] == "Arsip digital selesai."
    assert saved["self_assessment"]["iki_comments"] == {iki_id: "Lima dokumen, bukan empat."}
    kasi = team.stack.browser()
    kasi.login(KASI_A)
    assert "Arsip digital selesai." not in text(kasi.get(f"/evaluasi/{ev['id']}"))  # a draft stays the employee's
    # the stale form (old ETag) is refused: someone (here: the draft) changed it meanwhile
    resp = b.post(f"/evaluasi/{ev['id']}/penilaian-diri", {"etag": etag, "action": "save", "achievements": "x"})
    assert resp.status_code == 422 and "diubah orang lain" in text(resp)
    assert team.evaluation(STAFF_A[0])["self_assessment"]["achievements"] == "Arsip digital selesai."
    # submit from the fresh page
    etag = etag_of(b.get(f"/evaluasi/{ev['id']}"))
    resp = b.post(
        f"/evaluasi/{ev['id']}/penilaian-diri",
        {
            "etag": etag,
            "action": "submit",
            "achievements": "Arsip digital selesai.",
            "challenges": "Data kecamatan terlambat.",
            "improvement_plan": "Jadwal dimajukan dua minggu.",
        },
    )
    assert resp.status_code == 200
    page = plain(resp)
    assert "Penilaian diri terkirim" in page and "Data kecamatan terlambat." in page
    assert 'name="achievements"' not in text(resp)  # no longer editable
    assert team.evaluation(STAFF_A[0])["status"] == "self_assessed"
    for path in (f"/evaluasi/{ev['id']}", f"/evaluasi/{ev['id']}/nilai"):  # the penilai reads it once sent
        assert "Data kecamatan terlambat." in plain(kasi.get(path))


def test_another_employee_opening_my_evaluation_gets_tidak_berwenang_and_no_data(team):
    ev = team.evaluation(STAFF_A[0])
    team.signed(STAFF_A[0], hasil="meets", perilaku="meets")
    for nip in (STAFF_A[1], STAFF_B[0], KASI_B):
        b = team.stack.browser()
        b.login(nip)
        for path in (f"/evaluasi/{ev['id']}", f"/evaluasi/{ev['id']}/nilai", f"/evaluasi/{ev['id']}/dokumen.pdf"):
            resp = b.get(path)
            assert resp.status_code == 403, (nip, path)
            page = text(resp)
            assert "Tidak berwenang" in page and "Rina Wati" not in page and STAFF_A[0] not in page
        resp = b.post(f"/evaluasi/{ev['id']}/terima")
        assert resp.status_code == 403
    assert team.evaluation(STAFF_A[0])["status"] == "signed"
    # another agency's employee too
    b = team.stack.browser()
    b.login(OTHER_EMP)
    assert b.get(f"/evaluasi/{ev['id']}").status_code == 403


def test_the_employee_downloads_the_pdf_through_the_portal(team):
    ev = team.evaluation(STAFF_A[0])
    b = team.stack.browser()
    b.login(STAFF_A[0])
    draft = b.get(f"/evaluasi/{ev['id']}/dokumen.pdf")
    assert draft.status_code == 200 and draft.mimetype == "application/pdf" and draft.data.startswith(b"%PDF")
    team.signed(STAFF_A[0], hasil="meets", perilaku="meets")
    page = plain(b.get(f"/evaluasi/{ev['id']}"))
    signed = team.evaluation(STAFF_A[0])
    assert "Unduh dokumen (PDF, versi 1)" in page and signed["content_hash"] in page
    pdf = b.get(f"/evaluasi/{ev['id']}/dokumen.pdf")
    assert (
        pdf.mimetype == "application/pdf"
        and pdf.data.startswith(b"%PDF")
        and b"v1.pdf" in pdf.headers["Content-Disposition"].encode()
    )


def test_acknowledge_then_object_inside_the_window_and_not_after(team):
    clock = team.stack.clock
    team.signed(*STAFF_A[:2])
    b = team.stack.browser()
    b.login(STAFF_A[0])
    ev = team.evaluation(STAFF_A[0])
    page = plain(b.get(f"/evaluasi/{ev['id']}"))
    assert "Saya telah menerima hasil penilaian" in page
    assert "setelah Anda menerima hasil penilaian" in page  # no objection before acknowledging
    resp = b.post(f"/evaluasi/{ev['id']}/terima")
    assert resp.status_code == 200 and "Hasil penilaian telah Anda terima." in text(resp)
    ack = team.evaluation(STAFF_A[0])
    assert ack["status"] == "acknowledged"
    closing = (clock.now.date() + timedelta(days=14)).isoformat()
    page = plain(b.get(f"/evaluasi/{ev['id']}"))
    assert f"sampai dengan {closing}" in page and "Ajukan keberatan" in page
    # reasons are required; too short for the API: its message beside the field
    resp = b.post(f"/evaluasi/{ev['id']}/keberatan", {"reasons": ""})
    assert resp.status_code == 422 and 'id="e-reasons"' in text(resp) and "Wajib diisi." in text(resp)
    resp = b.post(f"/evaluasi/{ev['id']}/keberatan", {"reasons": "Kurang"})
    assert resp.status_code == 422 and 'id="e-reasons"' in text(resp)
    assert team.api("GET", "/objections", STAFF_A[0]).get_json()["items"] == []
    clock.advance(days=14)  # the last day: still allowed
    resp = b.post(f"/evaluasi/{ev['id']}/keberatan", {"reasons": "Bukti digitalisasi arsip belum dipertimbangkan."})
    assert resp.status_code == 200
    page = plain(resp)
    assert "Keberatan Anda telah diajukan" in page and "Bukti digitalisasi arsip" in page
    assert "Menunggu keputusan atasan pejabat penilai." in page
    # the colleague acknowledges, and comes back on day 15: the window has closed
    other = team.stack.browser()
    other.login(STAFF_A[1])
    ev1 = team.evaluation(STAFF_A[1])
    clock.advance(days=-14)
    other.post(f"/evaluasi/{ev1['id']}/terima")
    clock.advance(days=15)
    page = plain(other.get(f"/evaluasi/{ev1['id']}"))
    assert f"ditutup pada {closing}" in page and "Ajukan keberatan" not in page
    # a form sent anyway (an old tab): the API refuses and its message shows beside the field
    resp = other.post(f"/evaluasi/{ev1['id']}/keberatan", {"reasons": "Terlambat, tetapi tetap keberatan."})
    assert resp.status_code == 422 and f"ditutup pada {closing}" in plain(resp)
    assert [o["employee_nip"] for o in team.api("GET", "/objections").get_json()["items"]] == [STAFF_A[0]]


def test_the_objection_window_runs_on_the_agency_date(team):
    """Acknowledged at 20:00 UTC, 03:00 WIB the next day: the window closes 14 days after that day
    in Jakarta, as the reviews service counts it; at 23:30 UTC on the last day it is already the
    day after in Jakarta, and the page no longer offers an objection."""
    clock = team.stack.clock
    team.signed(STAFF_A[0])
    b = team.stack.browser()
    b.login(STAFF_A[0])
    ev = team.evaluation(STAFF_A[0])
    clock.set(clock.now.replace(hour=20, minute=0))
    assert b.post(f"/evaluasi/{ev['id']}/terima").status_code == 200
    closing = clock.now.date() + timedelta(days=15)
    page = plain(b.get(f"/evaluasi/{ev['id']}"))
    assert f"sampai dengan {closing.isoformat()}" in page and "Ajukan keberatan" in page
    clock.set(clock.now.replace(hour=16) + timedelta(days=15))  # 23:00 WIB on the last day
    assert "Ajukan keberatan" in plain(b.get(f"/evaluasi/{ev['id']}"))
    clock.advance(hours=7, minutes=30)  # 23:30 UTC: 06:30 WIB the day after
    page = plain(b.get(f"/evaluasi/{ev['id']}"))
    assert f"ditutup pada {closing.isoformat()}" in page and "Ajukan keberatan" not in page


# ------------------------------------------------------------------ the penilai


def test_rating_page_shows_the_suggestion_with_its_reasons(team):
    ev = team.evaluation(STAFF_A[0])
    b = team.stack.browser()
    b.login(KASI_A)
    resp = b.get(f"/evaluasi/{ev['id']}/nilai")
    assert resp.status_code == 200
    page = plain(resp)
    no_missing_keys(resp)
    assert "Saran sistem: Sesuai ekspektasi" in page
    assert "1 di atas" not in page  # one RHK: it meets (one IKI above, one meets)
    assert "tidak ada yang lebih dari separuh" in page
    assert "125 %" in page and "Capaian lebih dari 105 % target" in page  # 5 of 4 documents
    assert "100 %" in page and "Capaian 100 %–105 % target" in page
    assert "Rating hasil kerja" in page and "Rating perilaku kerja" in page
    html = text(resp)
    for v in ("above", "meets", "below"):
        assert f'id="f-rating_hasil-{v}"' in html and f'id="f-rating_perilaku-{v}"' in html
    assert 'name="value_level.kolaboratif"' in html and "Ekspektasi kolaboratif" in page
    # the employee may not open the penilai's page
    emp = team.stack.browser()
    emp.login(STAFF_A[0])
    assert emp.get(f"/evaluasi/{ev['id']}/nilai").status_code == 403


def test_departing_from_the_suggestion_needs_a_reason_then_the_predikat_shows_and_signing(team):
    ev = team.evaluation(STAFF_A[0])
    iki_id = team.plans[STAFF_A[0]]["rhk"][0]["iki"][0]["id"]
    b = team.stack.browser()
    b.login(KASI_A)
    etag = etag_of(b.get(f"/evaluasi/{ev['id']}/nilai"))
    form = {
        "etag": etag,
        "rating_hasil": "above",
        "rating_perilaku": "above",
        f"iki_feedback.{iki_id}": "Melebihi target dokumen.",
        "value_level.kolaboratif": "above",
        "value_text.kolaboratif": "Membantu seksi lain.",
    }
    # nothing chosen: the portal asks beside both radio groups
    resp = b.post(f"/evaluasi/{ev['id']}/nilai", {"etag": etag})
    assert (
        resp.status_code == 422 and 'id="e-f-rating_hasil"' in text(resp) and 'id="e-f-rating_perilaku"' in text(resp)
    )
    # feedback text on a value without its level
    resp = b.post(f"/evaluasi/{ev['id']}/nilai", {**form, "value_level.kolaboratif": ""})
    assert resp.status_code == 422 and "Pilih tingkatnya" in text(resp)
    # above while the suggestion is meets, without a reason: the API refuses, beside the field
    resp = b.post(f"/evaluasi/{ev['id']}/nilai", form)
    assert resp.status_code == 422
    html = text(resp)
    err = re.search(r'<p class="err" id="e-deviation_reason">([^<]+)</p>', html)
    assert err and "berbeda dari saran sistem (Sesuai ekspektasi)" in err.group(1)
    assert 'aria-invalid="true"' in html and "Melebihi target dokumen." in html  # the form keeps what was typed
    assert team.evaluation(STAFF_A[0])["status"] == "open"  # nothing saved
    resp = b.post(f"/evaluasi/{ev['id']}/nilai", {**form, "deviation_reason": REASON})
    assert resp.status_code == 200
    page = plain(resp)
    assert "Penilaian tersimpan." in page and "Sangat Baik" in page
    assert (
        "Di atas ekspektasi (hasil kerja) dan Di atas ekspektasi (perilaku kerja) menghasilkan predikat Sangat Baik"
        in page
    )
    rated = team.evaluation(STAFF_A[0])
    assert (rated["status"], rated["predikat"], rated["deviation_reason"]) == ("rated", "SANGAT_BAIK", REASON)
    assert rated["iki_feedback"] == {iki_id: "Melebihi target dokumen."}
    assert rated["value_feedback"] == {"kolaboratif": {"level": "above", "text": "Membantu seksi lain."}}
    # annual: signing waits for the sign-off stage
    assert "Penandatanganan dibuka pada tahap penandatanganan." in page and "Tandatangani penilaian" not in page
    team.advance_to("sign_off")
    page = plain(b.get(f"/evaluasi/{ev['id']}/nilai"))
    assert "Tandatangani penilaian" in page and "Simpan penilaian" not in page  # rating closed in sign-off
    resp = b.post(f"/evaluasi/{ev['id']}/tandatangani")
    assert resp.status_code == 200 and "Penilaian telah ditandatangani" in text(resp)
    assert team.evaluation(STAFF_A[0])["status"] == "signed"
    page = plain(b.get(f"/evaluasi/{ev['id']}/nilai"))
    assert "sudah ditandatangani" in page and "Simpan penilaian" not in page


# ------------------------------------------------------------------ the supervisor's lists


def test_team_page_counts_what_to_rate_sign_countersign_and_decide(team):
    kasi = team.stack.browser()
    kasi.login(KASI_A)
    resp = kasi.get("/tim/evaluasi")
    assert resp.status_code == 200
    html = text(resp)
    no_missing_keys(resp)
    assert re.search(r'id="count-to_rate">3<', html) and re.search(r'id="count-to_countersign">0<', html)
    assert all(name in html for name in ("Rina Wati", "Dewi Lestari", "Joko Widodo"))
    assert "Andi Pratama" not in html  # kasi B's staff
    team.rate(STAFF_A[0], "meets", "meets")
    html = text(kasi.get("/tim/evaluasi"))
    assert re.search(r'id="count-to_rate">2<', html) and re.search(r'id="count-to_sign">1<', html)
    # the head: rates the two kasi (heads of unit), countersigns staff as atasan penilai
    for unit in ("SEK-A", "SEK-B"):
        r = team.api(
            "PUT",
            "/org-results",
            None,
            {"cycle_id": team.org.cycle_id, "period_seq": 0, "unit_code": unit, "result": "ISTIMEWA"},
        )
        assert r.status_code == 200, r.get_json()
    head = team.stack.browser()
    head.login(HEAD)
    html = text(head.get("/tim/evaluasi"))
    assert re.search(r'id="count-to_rate">2<', html) and "Siti Aminah" in html and "Agus Salim" in html
    ev_kasi = team.evaluation(KASI_A)
    page = plain(head.get(f"/evaluasi/{ev_kasi['id']}/nilai"))
    assert "kepala unit" in page
    team.signed(STAFF_A[0], hasil="meets", perilaku="meets")
    team.act(STAFF_A[0], "acknowledge", STAFF_A[0])
    html = text(head.get("/tim/evaluasi"))
    assert re.search(r'id="count-to_countersign">1<', html) and "Rina Wati" in html
    ev = team.evaluation(STAFF_A[0])
    resp = head.post(f"/evaluasi/{ev['id']}/sahkan", {"back": "team"})
    assert resp.status_code == 200 and "Penilaian telah disahkan." in text(resp)
    assert re.search(r'id="count-to_countersign">0<', text(resp))
    assert team.evaluation(STAFF_A[0])["status"] == "countersigned"
    # a plain employee has no team page
    staff = team.stack.browser()
    staff.login(STAFF_A[1])
    assert staff.get("/tim/evaluasi").status_code == 403


def test_only_the_atasan_countersigns_and_the_follow_up_shows(team):
    team.signed(STAFF_A[0], hasil="below", perilaku="meets")
    team.act(STAFF_A[0], "acknowledge", STAFF_A[0])
    ev = team.evaluation(STAFF_A[0])
    kasi = team.stack.browser()
    kasi.login(KASI_A)
    page = plain(kasi.get(f"/evaluasi/{ev['id']}"))
    assert "Sahkan" not in page
    resp = kasi.post(f"/evaluasi/{ev['id']}/sahkan")
    assert resp.status_code == 403 and "Tidak berwenang" in plain(resp)  # the API: only the atasan penilai
    assert team.evaluation(STAFF_A[0])["status"] == "acknowledged"
    head = team.stack.browser()
    head.login(HEAD)
    page = plain(head.get(f"/evaluasi/{ev['id']}"))
    assert "Sahkan" in page and "Atasan pejabat penilai" in page
    head.post(f"/evaluasi/{ev['id']}/sahkan")
    page = plain(head.get(f"/evaluasi/{ev['id']}"))
    assert "Disahkan atasan penilai" in page and "Butuh Perbaikan" in page
    emp = team.stack.browser()
    emp.login(STAFF_A[0])
    page = plain(emp.get(f"/evaluasi/{ev['id']}"))
    assert "Tindak lanjut" in page and "Rencana pengembangan kinerja" in page and "Bimbingan kinerja" in page


# ------------------------------------------------------------------ objections


def _objection(team, nip=STAFF_A[0], hasil="meets", perilaku="below") -> dict:
    team.signed(nip, hasil=hasil, perilaku=perilaku)
    team.act(nip, "acknowledge", nip)
    ev = team.evaluation(nip)
    r = team.api(
        "POST",
        f"/evaluations/{ev['id']}/objections",
        nip,
        {"reasons": "Perilaku kolaboratif saya tidak dinilai dengan bukti."},
    )
    assert r.status_code == 201, r.get_json()
    team.sync()
    return r.get_json()


def test_the_atasan_decides_an_objection_changed_with_new_ratings(team):
    obj = _objection(team)
    head = team.stack.browser()
    head.login(HEAD)
    html = text(head.get("/tim/evaluasi"))
    assert re.search(r'id="count-objections">1<', html) and f"/keberatan/{obj['id']}" in html
    # both sides are heard: the employee and the penilai add statements
    for nip, words in ((STAFF_A[0], "Lampiran notulen rapat koordinasi."), (KASI_A, "Notulen belum diunggah.")):
        b = team.stack.browser()
        b.login(nip)
        resp = b.post(f"/keberatan/{obj['id']}/pernyataan", {"text": words})
        assert resp.status_code == 200 and "Pernyataan ditambahkan." in text(resp)
    page = plain(head.get(f"/keberatan/{obj['id']}"))
    assert "Lampiran notulen rapat koordinasi." in page and "Notulen belum diunggah." in page
    assert "Pegawai yang dinilai" in page and "Pejabat penilai kinerja" in page
    assert "Kurang/Misconduct" in page  # the contested result
    # changed without new ratings: beside the rating fields; nothing decided
    resp = head.post(f"/keberatan/{obj['id']}", {"decision": "changed", "reason": "Bukti notulen sah."})
    assert (
        resp.status_code == 422 and 'id="e-f-rating_hasil"' in text(resp) and 'id="e-f-rating_perilaku"' in text(resp)
    )
    resp = head.post(f"/keberatan/{obj['id']}", {"decision": "", "reason": ""})
    assert resp.status_code == 422 and 'id="e-f-decision"' in text(resp) and 'id="e-reason"' in text(resp)
    assert team.api("GET", f"/objections/{obj['id']}").get_json()["status"] == "under_review"
    resp = head.post(
        f"/keberatan/{obj['id']}",
        {"decision": "changed", "reason": "Bukti notulen sah.", "rating_hasil": "meets", "rating_perilaku": "meets"},
    )
    assert resp.status_code == 200
    page = plain(resp)
    assert "Keberatan telah diputus." in page and "Hasil penilaian diubah" in page and "final" in page
    assert "Dokumen versi 3 diterbitkan" in page and "Putuskan keberatan" not in page
    decided = team.api("GET", f"/objections/{obj['id']}").get_json()
    assert decided["decision"] == "changed" and decided["after"]["predikat"] == "BAIK"
    # the employee sees the final state and the new document version
    emp = team.stack.browser()
    emp.login(STAFF_A[0])
    page = plain(emp.get(f"/evaluasi/{obj['evaluation_id']}"))
    assert "Diputus" in page and "Hasil penilaian diubah" in page and "Unduh dokumen (PDF, versi 3)" in page
    assert "Diubah atas keputusan keberatan" in page
    assert "Tambahkan pernyataan" not in plain(emp.get(f"/keberatan/{obj['id']}"))  # final


def test_objection_upheld_and_only_the_atasan_decides(team):
    obj = _objection(team)
    kasi = team.stack.browser()
    kasi.login(KASI_A)
    detail = text(kasi.get(f"/evaluasi/{obj['evaluation_id']}"))  # the penilai finds it from the evaluation
    assert f"/keberatan/{obj['id']}" in detail
    page = plain(kasi.get(f"/keberatan/{obj['id']}"))
    assert "Putuskan keberatan" not in page and "Tambahkan pernyataan" in page
    resp = kasi.post(f"/keberatan/{obj['id']}", {"decision": "upheld", "reason": "Tetap sesuai bukti."})
    assert resp.status_code == 403 and "Tidak berwenang" in plain(resp)
    assert team.api("GET", f"/objections/{obj['id']}").get_json()["status"] == "filed"
    head = team.stack.browser()
    head.login(HEAD)
    resp = head.post(f"/keberatan/{obj['id']}", {"decision": "upheld", "reason": "Penilaian sesuai bukti dukung."})
    assert resp.status_code == 200
    page = plain(resp)
    assert "Hasil penilaian tetap" in page and "Penilaian sesuai bukti dukung." in page
    assert team.api("GET", f"/objections/{obj['id']}").get_json()["decision"] == "upheld"
    outsider = team.stack.browser()
    outsider.login(STAFF_B[0])
    resp = outsider.get(f"/keberatan/{obj['id']}")
    assert resp.status_code == 403 and "Perilaku kolaboratif" not in text(resp)


def test_a_periodic_evaluation_is_rated_and_signed_in_its_supervisor_phase(stack):
    t = Team(stack).approve_all_plans()
    t.advance_to("monitoring:1:check_in")
    t.realise(STAFF_A[0], 1, [4, 100])
    ev = t.evaluation(STAFF_A[0], period_seq=1)
    kasi = stack.browser()
    kasi.login(KASI_A)
    resp = kasi.get(f"/evaluasi/{ev['id']}/nilai")
    page = plain(resp)
    assert resp.status_code == 200 and "Penilaian oleh pejabat penilai dibuka pada tahap penilaian atasan" in page
    assert "Simpan penilaian" not in page and "Saran sistem: Sesuai ekspektasi" in page
    emp = stack.browser()
    emp.login(STAFF_A[0])
    assert 'name="achievements"' in text(emp.get(f"/evaluasi/{ev['id']}"))  # check-in: self-assessment open
    t.advance_to("monitoring:1:supervisor_evaluation")
    page = plain(emp.get(f"/evaluasi/{ev['id']}"))
    assert "Penilaian diri dapat diisi pada tahap penilaian diri" in page  # closed for the employee
    resp = kasi.post(
        f"/evaluasi/{ev['id']}/nilai",
        {"etag": etag_of(kasi.get(f"/evaluasi/{ev['id']}/nilai")), "rating_hasil": "meets", "rating_perilaku": "meets"},
    )
    assert resp.status_code == 200 and "Baik" in plain(resp) and "Tandatangani penilaian" in plain(resp)
    resp = kasi.post(f"/evaluasi/{ev['id']}/tandatangani")
    assert "Penilaian telah ditandatangani" in plain(resp)
    assert t.evaluation(STAFF_A[0], period_seq=1)["status"] == "signed"
    page = plain(emp.get("/evaluasi"))
    assert "Triwulan I" in page and "Ditandatangani penilai" in page and "Baik" in page


def test_a_stale_rating_form_and_a_head_of_unit_without_organisation_result(team):
    ev = team.evaluation(STAFF_A[0])
    kasi = team.stack.browser()
    kasi.login(KASI_A)
    stale = etag_of(kasi.get(f"/evaluasi/{ev['id']}/nilai"))
    team.rate(STAFF_A[0], "meets", "meets")  # the penilai, in another tab
    resp = kasi.post(
        f"/evaluasi/{ev['id']}/nilai",
        {
            "etag": stale,
            "rating_hasil": "below",
            "rating_perilaku": "below",
            "perilaku_below_values": ["loyal"],
            "deviation_reason": "Laporan terlambat.",
        },
    )
    assert resp.status_code == 422 and "diubah orang lain" in plain(resp)
    assert team.evaluation(STAFF_A[0])["rating_hasil"] == "meets"
    assert etag_of(resp) != stale  # the page now carries the latest version
    # the head rates kasi B (head of seksi B): the unit's organisation result is needed first
    head = team.stack.browser()
    head.login(HEAD)
    ev_kasi = team.evaluation(KASI_B)
    resp = head.post(
        f"/evaluasi/{ev_kasi['id']}/nilai",
        {
            "etag": etag_of(head.get(f"/evaluasi/{ev_kasi['id']}/nilai")),
            "rating_hasil": "above",
            "rating_perilaku": "meets",
        },
    )
    assert resp.status_code == 422 and "SEK-B" in plain(resp)
    assert team.evaluation(KASI_B)["status"] == "open"
    team.api(
        "PUT",
        "/org-results",
        None,
        {"cycle_id": team.org.cycle_id, "period_seq": 0, "unit_code": "SEK-B", "result": "BAIK"},
    )
    resp = head.post(
        f"/evaluasi/{ev_kasi['id']}/nilai",
        {
            "etag": etag_of(head.get(f"/evaluasi/{ev_kasi['id']}/nilai")),
            "rating_hasil": "above",
            "rating_perilaku": "meets",
        },
    )
    assert resp.status_code == 200
    rated = team.evaluation(KASI_B)
    assert (rated["rating_hasil"], rated["org_result"], rated["predikat"]) == ("meets", "BAIK", "BAIK")


def test_the_pages_in_english(team):
    ev = team.evaluation(STAFF_A[0])
    kasi = team.stack.browser()
    kasi.login(KASI_A)
    page = plain(kasi.get(f"/evaluasi/{ev['id']}/nilai?lang=en"))
    assert "Suggestion: Meets expectations" in page and "Achievement over 105 % of target" in page
    assert "Rating of work results" in page and "Save rating" in page
    page = plain(kasi.get("/tim/evaluasi"))
    assert "Team Evaluations" in page and "To rate" in page
    for path in (f"/evaluasi/{ev['id']}", f"/evaluasi/{ev['id']}/nilai", "/tim/evaluasi"):
        for lang in ("id", "en"):
            no_missing_keys(kasi.get(f"{path}?lang={lang}"))


def test_peer_feedback_shows_on_the_rating_page_only_in_aggregate_from_three_answers(team):
    ev = team.evaluation(STAFF_A[0])
    raters = [STAFF_A[1], STAFF_A[2], STAFF_B[0]]
    assert team.api("POST", f"/evaluations/{ev['id']}/peers", KASI_A, {"rater_nips": raters}).status_code == 200
    kasi = team.stack.browser()
    kasi.login(KASI_A)
    for i, nip in enumerate(raters):
        r = team.api(
            "POST",
            f"/evaluations/{ev['id']}/peer-feedback",
            nip,
            {"answers": {"kolaboratif": "above", "harmonis": "below" if i == 0 else "meets"}},
        )
        assert r.status_code == 201, r.get_json()
        page = plain(kasi.get(f"/evaluasi/{ev['id']}/nilai"))
        assert "Umpan balik rekan kerja" in page
        assert ("ditampilkan setelah paling sedikit 3 jawaban" in page) == (i < 2)
    html = text(kasi.get(f"/evaluasi/{ev['id']}/nilai"))
    row = re.search(r'<th scope="row">Kolaboratif</th>(.*?)</tr>', html).group(1)
    assert re.findall(r">(\d+)<", row) == ["3", "0", "0"]
    row = re.search(r'<th scope="row">Harmonis</th>(.*?)</tr>', html).group(1)
    assert re.findall(r">(\d+)<", row) == ["0", "2", "1"]


def test_a_qualitative_iki_is_judged_by_the_penilai_and_the_suggestion_follows(stack):
    t = Team(stack).approve_all_plans(qualitative=(STAFF_A[2],))
    t.advance_to("annual_evaluation")
    t.realise(STAFF_A[2], 4, [5])  # the numeric IKI: 5 of 4 documents (above)
    ev = t.evaluation(STAFF_A[2])
    qual = t.plans[STAFF_A[2]]["rhk"][0]["iki"][1]["id"]
    kasi = stack.browser()
    kasi.login(KASI_A)
    resp = kasi.get(f"/evaluasi/{ev['id']}/nilai")
    page = plain(resp)
    assert "Tanpa target angka: perlu penilaian kualitatif" in page and "Diterima tanpa revisi" in page
    assert "Saran sistem: Di atas ekspektasi" in page  # only the numeric IKI is assessable so far
    assert f'name="iki_judgements.{qual}"' in text(resp) and "Penilaian kualitatif: Mutu laporan perencanaan" in page
    # judged below: the RHK is below, so is the suggestion; rating "above" now needs a reason
    form = {
        "etag": etag_of(resp),
        f"iki_judgements.{qual}": "below",
        "rating_hasil": "above",
        "rating_perilaku": "meets",
    }
    resp = kasi.post(f"/evaluasi/{ev['id']}/nilai", form)
    assert resp.status_code == 422
    assert "berbeda dari saran sistem (Di bawah ekspektasi)" in plain(resp)
    resp = kasi.post(f"/evaluasi/{ev['id']}/nilai", {**form, "rating_hasil": "below"})
    assert resp.status_code == 200
    page = plain(resp)
    assert "Saran sistem: Di bawah ekspektasi" in page and "Ditentukan oleh penilaian kualitatif" in page
    assert re.search(r'<option value="below" selected>', text(resp))  # the judgement is kept in the form
    rated = t.evaluation(STAFF_A[2])
    assert (rated["suggested_hasil"], rated["rating_hasil"], rated["predikat"]) == ("below", "below", "BUTUH_PERBAIKAN")
