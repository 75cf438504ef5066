"""The public form through the test client: rendered in Bahasa Indonesia (English with ?lang=en),
submitted without JavaScript, CSRF-protected, one response per token or a rate per address,
errors beside their fields and nothing saved when refused."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from unittest import mock

from services.common.config import Config
from services.surveys.app import create_app
from services.surveys.settings import Settings
from tests.surveys.support import Surveys, csrf_of, form_answers


def test_form_shows_the_nine_questions_with_their_wordings_in_indonesian(sv, campaign):
    r = sv.form(campaign["slug"])
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert '<html lang="id">' in html and "Survei Kepuasan Masyarakat" in html
    assert 'name="viewport"' in html and "<script" not in html
    for wording in (
        "Tidak sesuai",
        "Sangat sesuai",
        "Sangat mudah",
        "Tidak cepat",
        "Sangat mahal",
        "Gratis",
        "Sangat kompeten",
        "Tidak sopan dan ramah",
        "Sangat sopan dan ramah",
        "Tidak ada",
        "Ada tetapi tidak berfungsi",
        "Berfungsi kurang maksimal",
        "Dikelola dengan baik",
        "Buruk",
        "Sangat baik",
    ):
        assert f"<span>{wording}</span>" in html, wording
    # nine radio groups of four, asked U9 before U8 (the regulation's questionnaire)
    groups = re.findall(r'<fieldset class="[^"]*" id="q-(U\d)"', html)
    assert groups == ["U1", "U2", "U3", "U4", "U5", "U6", "U7", "U9", "U8"]
    for u in groups:
        assert len(re.findall(rf'name="{u}" value="[1-4]"', html)) == 4
    for name in ("age", "sex", "education", "occupation", "service_type", "suggestion", "csrf_token"):
        assert f'name="{name}"' in html
    assert 'name="token"' not in html  # this campaign issues no tokens
    assert r.headers["Cache-Control"] == "no-store" and "skm_csrf=" in r.headers["Set-Cookie"]
    assert "HttpOnly" in r.headers["Set-Cookie"] and "SameSite=Lax" in r.headers["Set-Cookie"]


def test_language_toggle(sv, campaign):
    html = sv.form(campaign["slug"]).get_data(as_text=True)
    assert f'href="http://localhost/surveys/s/{campaign["slug"]}?lang=en"' in html and ">English</a>" in html
    en = sv.form(campaign["slug"], lang="en")
    text = en.get_data(as_text=True)
    assert '<html lang="en">' in text and "Public Satisfaction Survey" in text and "Very polite and friendly" in text
    assert en.headers["Content-Language"] == "en" and ">Bahasa Indonesia</a>" in text
    # the browser's preference works too
    r = sv.client.get(f"/surveys/s/{campaign['slug']}", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "Public Satisfaction Survey" in r.get_data(as_text=True)


def test_submitting_the_form_saves_the_answers_keyed_by_code(sv, campaign):
    fields = form_answers(4, U8=1, U9=3) | {
        "age": "41",
        "sex": "male",
        "education": "sma",
        "occupation": "wirausaha",
        "service_type": "KTP-el",
        "suggestion": "Mohon tambah kursi tunggu.",
    }
    r = sv.submit_form(campaign["slug"], fields)
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/surveys/s/{campaign['slug']}/thanks?lang=id")
    thanks = sv.client.get(r.headers["Location"])
    assert thanks.status_code == 200 and "Terima kasih" in thanks.get_data(as_text=True)
    ikm = sv.ikm(campaign["id"])
    assert ikm["respondents"] == 1 and ikm["nrr"]["U8"] == 1.0 and ikm["nrr"]["U9"] == 3.0
    sugg = sv.get(f"/campaigns/{campaign['id']}/suggestions").get_json()["items"][0]
    assert sugg["suggestion"] == "Mohon tambah kursi tunggu." and sugg["channel"] == "form"
    assert sugg["service_type"] == "KTP-el"


def test_errors_are_shown_beside_their_fields_in_indonesian_and_nothing_is_saved(sv, campaign):
    before = sv.counts()
    fields = {k: v for k, v in form_answers(3).items() if k not in ("U2", "U9")} | {
        "U4": "7",
        "age": "5",
        "suggestion": "Cepat sekali",
    }
    r = sv.submit_form(campaign["slug"], fields)
    assert r.status_code == 422 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert "Jawaban belum dapat disimpan. Periksa isian yang ditandai." in html
    assert '<p class="error" id="err-U2" role="alert">Pilih salah satu jawaban.</p>' in html
    assert '<p class="error" id="err-U9" role="alert">Pilih salah satu jawaban.</p>' in html
    assert 'id="err-U4" role="alert">Pilih salah satu dari empat jawaban yang tersedia.' in html
    assert 'id="err-age" role="alert">Umur harus bilangan bulat 10 sampai 120 tahun.' in html
    # the error sits inside the question's own fieldset, before its choices
    u2 = html[html.index('id="q-U2"') : html.index('id="q-U3"')]
    assert "err-U2" in u2
    # what was filled in is kept
    assert 'name="U1" value="3" required\n      checked' in html or re.search(r'name="U1" value="3"[^>]*checked', html)
    assert ">Cepat sekali</textarea>" in html
    assert sv.counts() == before
    en = sv.submit_form(campaign["slug"], fields, lang="en")
    assert "Choose one answer." in en.get_data(as_text=True)


def test_csrf_token_is_required_signed_and_bound_to_the_browser(sv, campaign):
    slug = campaign["slug"]
    before = sv.counts()
    # no token
    r = sv.client.post(f"/surveys/s/{slug}", data=form_answers(4))
    assert r.status_code == 400 and "Formulir sudah kedaluwarsa atau tidak sah" in r.get_data(as_text=True)
    # a forged token
    assert sv.submit_form(slug, form_answers(4), csrf="eyJjIjoxfQ.forged.signature").status_code == 400
    # a genuine token, but posted from another browser (no cookie): a cross-site post
    token = csrf_of(sv.form(slug).data)
    other = sv.app.test_client()
    r = other.post(f"/surveys/s/{slug}", data={"csrf_token": token, **{k: str(v) for k, v in form_answers(4).items()}})
    assert r.status_code == 400
    # a token of another campaign
    second = sv.open(unit_code="DISDUK")
    foreign = csrf_of(sv.form(second["slug"]).data)
    assert sv.submit_form(slug, form_answers(4), csrf=foreign).status_code == 400
    after = sv.counts()
    assert after["responses"] == before["responses"] == 0 and after["outbox"] == 2  # only the second campaign's opening


def test_csrf_token_expires(sv, campaign, clock):
    token = csrf_of(sv.form(campaign["slug"]).data)
    with mock.patch("itsdangerous.timed.time.time", return_value=time.time() + 5 * 3600):
        r = sv.submit_form(campaign["slug"], form_answers(4), csrf=token)
    assert r.status_code == 400 and sv.responses() == 0


def test_the_same_form_is_saved_once_even_if_sent_twice(sv, campaign):
    token = csrf_of(sv.form(campaign["slug"]).data)
    first = sv.submit_form(campaign["slug"], form_answers(4), csrf=token)
    again = sv.submit_form(campaign["slug"], form_answers(4), csrf=token)
    assert first.status_code == again.status_code == 303
    assert sv.responses() == 1


def test_one_response_per_token_and_the_token_from_the_receipt_link(sv):
    c = sv.open(tokens=2)
    codes = [t["code"] for t in sv.get(f"/campaigns/{c['id']}/tokens").get_json()["items"]]
    html = sv.form(c["slug"], t=codes[0]).get_data(as_text=True)
    assert f'name="token" value="{codes[0]}"' in html and "Kode survei" in html
    # without a token
    r = sv.submit_form(c["slug"], form_answers(4))
    assert r.status_code == 422 and 'id="err-token"' in r.get_data(as_text=True)
    assert sv.submit_form(c["slug"], form_answers(4) | {"token": codes[0]}).status_code == 303
    # reused
    r = sv.submit_form(c["slug"], form_answers(3) | {"token": codes[0]})
    assert r.status_code == 422 and "Kode survei ini sudah dipakai." in r.get_data(as_text=True)
    assert sv.responses() == 1
    # the next receipt's code works; no per-address rate applies with tokens
    assert sv.submit_form(c["slug"], form_answers(3) | {"token": codes[1].lower()}).status_code == 303
    assert sv.responses() == 2


def test_flood_from_one_address_is_rate_limited(sv, campaign, clock):
    addr = {"REMOTE_ADDR": "203.0.113.9"}
    for _ in range(3):
        assert sv.submit_form(campaign["slug"], form_answers(4), environ=addr).status_code == 303
    r = sv.submit_form(campaign["slug"], form_answers(4), environ=addr)
    assert r.status_code == 429 and "Terlalu banyak" in r.get_data(as_text=True)
    assert sv.responses() == 3
    assert sv.submit_form(campaign["slug"], form_answers(4), environ={"REMOTE_ADDR": "203.0.113.10"}).status_code == 303
    clock.advance(minutes=1)
    assert sv.submit_form(campaign["slug"], form_answers(4), environ=addr).status_code == 303
    assert sv.responses() == 5


def test_rate_counts_are_kept_in_the_database_across_processes(sv, campaign, surveys_app, tmp_path, clock):
    # a second app on the same database file (another gunicorn worker) sees the first one's count
    config = Config.from_env("surveys", env={"KINERJA_VAR": str(tmp_path)}, testing=True)
    twin_app = create_app(
        config, clock=clock, settings=Settings.from_env(config, env={"SURVEYS_RATE_LIMIT_PER_MINUTE": "3"})
    )
    try:
        twin = Surveys(twin_app, twin_app.test_client())
        addr = {"REMOTE_ADDR": "198.51.100.4"}
        assert sv.submit_form(campaign["slug"], form_answers(4), environ=addr).status_code == 303
        assert twin.submit_form(campaign["slug"], form_answers(4), environ=addr).status_code == 303
        assert sv.submit_form(campaign["slug"], form_answers(4), environ=addr).status_code == 303
        assert twin.submit_form(campaign["slug"], form_answers(4), environ=addr).status_code == 429
    finally:
        twin_app.extensions["kinerja"].engine.dispose()


def test_closed_draft_unknown_and_out_of_period_forms(sv, campaign, clock):
    draft = sv.create()
    r = sv.form(draft["slug"])
    assert r.status_code == 404 and "Survei tidak ditemukan" in r.get_data(as_text=True)
    assert sv.client.get("/surveys/s/nope").status_code == 404
    token = csrf_of(sv.form(campaign["slug"]).data)
    sv.post(f"/campaigns/{campaign['id']}/close")
    r = sv.form(campaign["slug"])
    assert r.status_code == 410 and "Survei ditutup" in r.get_data(as_text=True)
    r = sv.submit_form(campaign["slug"], form_answers(4), csrf=token)
    assert r.status_code == 409 and r.mimetype == "text/html" and sv.responses() == 0
    later = sv.open(unit_code="DISDUK")
    clock.set(datetime(2026, 4, 1, 1, 0, tzinfo=timezone.utc))  # 1 April 08:00 WIB: after the period
    r = sv.form(later["slug"])
    assert r.status_code == 409 and "31-03-2026" in r.get_data(as_text=True)


def test_service_type_choices_come_from_the_campaign(sv):
    c = sv.open(service_options=["Akta kelahiran", "KTP-el"])
    html = sv.form(c["slug"]).get_data(as_text=True)
    assert '<option value="Akta kelahiran"' in html and '<select id="service_type"' in html
    r = sv.submit_form(c["slug"], form_answers(4) | {"service_type": "Paspor"})
    assert r.status_code == 422 and "Jenis layanan harus salah satu dari: Akta kelahiran, KTP-el." in r.get_data(
        as_text=True
    )
    assert sv.responses() == 0


def test_nothing_a_visitor_sends_causes_a_server_error(sv, campaign):
    slug = campaign["slug"]
    token = csrf_of(sv.form(slug).data)
    nasty = [
        {"U1": "<script>", "age": "99999999999999999999", "sex": "\x00", "suggestion": "x" * 5000},
        {"U1": "١", "U2": "²", "age": "-1", "education": "s" * 500},
        {"csrf_token": "", "U1": "4"},
    ]
    for fields in nasty:
        r = sv.client.post(f"/surveys/s/{slug}", data={"csrf_token": token, **fields})
        assert r.status_code in (400, 422), (fields, r.status_code)
        assert "<script>" not in r.get_data(as_text=True).replace("&lt;script&gt;", "")
    assert (
        sv.client.post(f"/surveys/s/{slug}", data=b"\xff\xfe", content_type="application/octet-stream").status_code
        < 500
    )
    assert sv.client.put(f"/surveys/s/{slug}").status_code == 405
    assert sv.client.get(f"/surveys/s/{slug}/qr.gif").status_code == 404
    assert sv.responses() == 0
