"""The published results a citizen reads without signing in (PermenPANRB 14/2017 requires publishing
them): one page per closed campaign with the IKM, its mutu, the NRR per unsur, respondents against the
minimum sample and the follow-up, and a list per agency — nothing of any respondent. And bug 6 of
issue 15: a campaign for a unit the agency's directory does not have was accepted (201)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from services.surveys.directory import find_unit, rm_unit
from tests.surveys.support import answers, campaign_body, field_errors, problem, questionnaire

RESULTS = "/surveys/results"
SUGGESTION = "Pak Budi Santoso di loket 3 membentak saya, nomor HP saya 081234567890"
PROFILE = {"age": 67, "sex": "female", "education": "s1", "occupation": "swasta", "service_type": "Poli gigi lansia"}


def _text(resp) -> str:
    html = resp.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _patch(sv, cid: int, body: dict):
    etag = sv.get(f"/campaigns/{cid}").headers["ETag"]
    return sv.patch(f"/campaigns/{cid}", body, {**sv.hr, "If-Match": etag})


def _published(sv, follow_up: str | None = "Menambah petugas loket pendaftaran mulai Mei 2026.") -> dict:
    """A closed campaign of PKM-01: five respondents (three answer 4 throughout; two answer 3 but 2 for
    U3, one of them with a suggestion and a full profile). NRR 3.6 for every unsur but U3 (3.2): IKM
    32/9 = 3.5556, unit 88.89 (A, Sangat Baik), priority U3."""
    c = sv.open()
    for _ in range(3):
        assert sv.record(c["id"], questionnaire(4)).status_code == 201
    assert sv.record(c["id"], {"answers": answers(3, U3=2), "profile": {}}).status_code == 201
    body = {"answers": answers(3, U3=2), "profile": PROFILE, "suggestion": SUGGESTION}
    assert sv.record(c["id"], body).status_code == 201
    assert sv.post(f"/campaigns/{c['id']}/close").status_code == 200
    if follow_up:
        r = _patch(sv, c["id"], {"follow_up": follow_up})
        assert r.status_code == 200, r.get_json()
    return sv.get(f"/campaigns/{c['id']}").get_json()


# ------------------------------------------------------------------ bug 6: the unit must exist


def test_a_campaign_for_a_unit_the_directory_does_not_have_is_refused_on_its_field(sv):
    before = sv.counts()
    body = problem(sv.post("/campaigns", campaign_body(unit_code="PKM-99")), 422, "validation")
    assert field_errors(body) == {"unit_code": "unit.unknown"}
    assert "PKM-99" in body["errors"][0]["detail"] and "direktori" in body["errors"][0]["detail"]
    en = sv.post("/campaigns", campaign_body(unit_code="PKM-99"), {**sv.hr, "Accept-Language": "en"}).get_json()
    assert "not in your agency's directory" in en["errors"][0]["detail"]
    assert sv.counts() == before  # nothing saved, no audit row, no event
    # every error at once: the unknown unit beside a bad period
    body = problem(sv.post("/campaigns", campaign_body(unit_code="NOPE", end_date="2025-12-31")), 422)
    assert set(field_errors(body)) == {"unit_code", "end_date"}


def test_units_are_per_agency_and_the_directory_names_the_unit(sv):
    other = sv.headers("hr", agency="OTHER", sub="hr@other")
    problem(sv.post("/campaigns", campaign_body(unit_code="PKM-01"), other), 422, "validation")  # PKTD's unit
    c = sv.create(unit_code="DISDUK", unit_name=None)
    assert c["unit_code"] == "DISDUK" and c["unit_name"] == "Dinas Kependudukan dan Pencatatan Sipil"


def test_the_units_read_model_keeps_the_newest_event(sv):
    newer, older = datetime(2026, 3, 2, tzinfo=timezone.utc), datetime(2026, 3, 1, tzinfo=timezone.utc)
    with sv.db() as s, s.begin():
        rm_unit(s, {"id": 77, "agency_code": "PKTD", "code": "UPT-PASAR", "name": "UPT Pasar Baru"}, newer)
        rm_unit(s, {"id": 77, "agency_code": "PKTD", "code": "UPT-PASAR", "name": "Nama lama"}, older)
    with sv.db() as s:
        assert find_unit(s, "PKTD", "UPT-PASAR").name == "UPT Pasar Baru"
    assert sv.create(unit_code="UPT-PASAR", unit_name=None)["unit_name"] == "UPT Pasar Baru"


# ------------------------------------------------------------------ the public page of a campaign


def test_a_published_campaign_shows_its_figures_to_anyone(sv):
    c = _published(sv)
    assert c["results_path"] == f"{RESULTS}/PKTD/{c['id']}"  # the API names the page once published
    r = sv.client.get(c["results_path"])  # no login
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert r.headers["Content-Language"] == "id" and "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    text = _text(r)
    assert "Puskesmas Teluk Damar" in text and "Pelayanan rawat jalan" in text
    assert "88,89" in text and "3,5556" in text  # IKM unit and IKM (1–4)
    assert re.search(r"Mutu pelayanan A ", text) and "Sangat Baik" in text
    for code in ("U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8", "U9"):
        assert code in text
    assert text.count("3,60") == 8 and "3,20" in text  # NRR per unsur, 2 decimals
    assert re.search(r"Prioritas perbaikan[^:]*:\s*U3 Waktu penyelesaian", text)
    assert "Responden 5 " in text and "278" in text and "(kurang 273)" in text  # Krejcie–Morgan of 1,000
    assert "Menambah petugas loket pendaftaran mulai Mei 2026." in text
    en = _text(sv.client.get(f"{RESULTS}/PKTD/{c['id']}?lang=en"))
    assert "88.89" in en and "Very good" in en and "Follow-up" in en
    assert "Minimum sample not reached (273 more needed)" in en


def test_the_page_holds_nothing_of_a_respondent(sv):
    c = _published(sv)
    html = sv.client.get(f"{RESULTS}/PKTD/{c['id']}").get_data(as_text=True)
    html_en = sv.client.get(f"{RESULTS}/PKTD/{c['id']}?lang=en").get_data(as_text=True)
    listing = sv.client.get(f"{RESULTS}/PKTD").get_data(as_text=True)
    for page in (html, html_en, listing):
        page = re.sub(r"<style>.*?</style>", "", page, flags=re.S)  # the page's own CSS has numbers too
        for secret in ("Budi", "081234567890", "loket 3", "Poli gigi lansia", "Perempuan", "Female", "Swasta", "67"):
            assert secret.lower() not in page.lower(), secret
        assert "hr@pktd" not in page and c["slug"] not in page  # nor who ran it, nor the form's token-like link


def test_an_unpublished_campaign_is_not_found(sv):
    draft = sv.create()
    running = sv.open()
    assert draft["results_path"] is None and running["results_path"] is None
    assert sv.record(running["id"], questionnaire(4)).status_code == 201
    for cid in (draft["id"], running["id"], 999_999):
        r = sv.client.get(f"{RESULTS}/PKTD/{cid}")
        assert r.status_code == 404 and r.mimetype == "text/html", cid
        assert "belum diumumkan" in r.get_data(as_text=True)
    closed = _published(sv)
    assert sv.client.get(f"{RESULTS}/OTHER/{closed['id']}").status_code == 404  # not under another agency
    assert sv.client.get(f"{RESULTS}/PK%20TD/{closed['id']}").status_code == 404
    listing = _text(sv.client.get(f"{RESULTS}/PKTD"))
    assert listing.count("Puskesmas Teluk Damar") == 1  # the closed one, not the draft or the open one


def test_closing_without_answers_publishes_a_page_without_an_index(sv):
    c = sv.open(unit_code="DISDUK", service_type="Pembuatan KTP-el")
    sv.post(f"/campaigns/{c['id']}/close")
    r = sv.client.get(f"{RESULTS}/PKTD/{c['id']}")
    assert r.status_code == 200
    text = _text(r)
    assert "Indeks belum dapat dihitung" in text or "belum dapat" in text
    assert "Rencana tindak lanjut belum diumumkan." in text


def test_too_few_respondents_publish_the_count_but_not_the_figures(sv):
    """Two respondents' averages are their own answers: the page gives the count, no index."""
    c = sv.open()
    sv.record(c["id"], questionnaire(4))
    sv.record(c["id"], {"answers": answers(1, U7=2), "profile": {}})
    sv.post(f"/campaigns/{c['id']}/close")
    assert sv.ikm(c["id"])["ikm_unit"] is not None  # HR still has the index
    text = _text(sv.client.get(f"{RESULTS}/PKTD/{c['id']}"))
    assert "Indeks tidak diumumkan: 2 responden terlalu sedikit" in text
    assert "Responden 2 " in text
    for figure in ("1,00", "1,50", "2,50", "3,00", "62,50", "65,28"):
        assert figure not in text, figure
    assert "Indeks tidak tersedia" in _text(sv.client.get(f"{RESULTS}/PKTD"))


def test_the_closed_forms_qr_code_leads_to_the_results(sv):
    c = _published(sv)
    r = sv.form(c["slug"])
    assert r.status_code == 410
    assert f'href="/surveys/results/PKTD/{c["id"]}?lang=id"' in r.get_data(as_text=True)
    assert "Lihat hasil survei ini" in r.get_data(as_text=True)
    running = sv.form(sv.open()["slug"])  # an open survey's form: the questionnaire, no results yet
    assert running.status_code == 200 and "/surveys/results/" not in running.get_data(as_text=True)


# ------------------------------------------------------------------ the list per agency


def test_the_agency_list_links_each_published_campaign_with_its_index(sv):
    first = _published(sv)
    second = sv.open(unit_code="DISDUK", service_type="Pembuatan KTP-el", title="SKM Disdukcapil Triwulan I")
    for _ in range(5):
        sv.record(second["id"], questionnaire(2))
    sv.post(f"/campaigns/{second['id']}/close")
    r = sv.client.get(f"{RESULTS}/PKTD")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert f'href="/surveys/results/PKTD/{first["id"]}?lang=id"' in html
    assert f'href="/surveys/results/PKTD/{second["id"]}?lang=id"' in html
    text = _text(r)
    assert "88,89" in text and "50,00" in text and "SKM Disdukcapil Triwulan I" in text
    assert "Sangat Baik" in text and "Tidak Baik" in text
    assert "Belum ada" in _text(sv.client.get(f"{RESULTS}/OTHER"))  # an agency with nothing published
    assert sv.client.get(f"{RESULTS}/PKTD?lang=en").headers["Content-Language"] == "en"


# ------------------------------------------------------------------ the follow-up HR writes after closing


def test_only_the_follow_up_changes_once_closed_and_it_is_audited(sv):
    c = _published(sv, follow_up=None)
    problem(_patch(sv, c["id"], {"title": "baru"}), 409, "campaign.closed_immutable")
    problem(_patch(sv, c["id"], {"follow_up": "x", "population": 5}), 409, "campaign.closed_immutable")
    r = _patch(sv, c["id"], {"follow_up": "  Pelatihan layanan prima untuk petugas.  "})
    assert r.status_code == 200 and r.get_json()["follow_up"] == "Pelatihan layanan prima untuk petugas."
    rows = sv.get(f"/audit?entity_id={c['id']}").get_json()
    items = rows["items"] if isinstance(rows, dict) else rows
    updated = [i for i in items if i["action"] == "campaign.updated"]
    assert updated and updated[-1]["after"]["follow_up"] == "Pelatihan layanan prima untuk petugas."
    problem(_patch(sv, c["id"], {"follow_up": "x" * 4001}), 422, "validation")
    assert "Pelatihan layanan prima" in _text(sv.client.get(f"{RESULTS}/PKTD/{c['id']}"))


def test_results_pages_are_public_paths_counted_per_address(sv, surveys_app, clock):
    """No bearer token needed, and the platform's per-address limit counts them (public_limit.py)."""
    limit = surveys_app.extensions["kinerja"].public_limit
    saved = limit.per_minute
    limit.per_minute = 2
    try:
        clock.advance(seconds=timedelta(minutes=1).total_seconds())
        addr = {"REMOTE_ADDR": "10.15.6.1"}
        codes = [sv.client.get(f"{RESULTS}/PKTD", environ_base=addr).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
    finally:
        limit.per_minute = saved
