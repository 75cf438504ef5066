"""The portal's shell: login, sessions, language, inbox, and the pages a person may not open."""

from __future__ import annotations

import time

import pytest

from services.common.auth import issue_token
from services.common.config import ConfigError
from services.portal.app import create_app
from services.portal.pages_hr_calibration import when
from services.portal.settings import PortalSettings
from services.portal.web import local_time
from tests.plans.support import KASI_A, STAFF_A
from tests.portal.support import text


def test_visitor_is_sent_to_login_and_back_to_the_page_asked_for(stack):
    b = stack.browser()
    resp = b.get("/inbox", follow_redirects=False)
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login?next=/inbox")
    page = text(b.get(resp.headers["Location"]))
    assert "Masuk ke Kinerja" in page and "Siti Aminah" in page and "HR PKMB" in page
    resp = b.post("/login", {"person": STAFF_A[0], "next": "/inbox"}, follow_redirects=False)
    assert resp.status_code == 302 and resp.headers["Location"] == "/inbox"
    assert "Notifikasi" in text(b.get("/inbox"))


def test_login_refuses_an_unknown_person_beside_the_field(stack):
    b = stack.browser()
    b.get("/login")
    resp = b.post("/login", {"person": "199999999999999999"})
    assert resp.status_code == 422
    page = text(resp)
    assert 'aria-invalid="true"' in page and "Pilih pegawai atau HR dari daftar." in page
    assert b.get("/", follow_redirects=False).status_code == 302  # still signed out


def test_login_refuses_a_forged_form(stack):
    b = stack.browser()
    b.get("/login")
    resp = b.post("/login", {"person": STAFF_A[0], "csrf_token": "forged"})
    assert resp.status_code == 422 and "Formulir sudah kedaluwarsa" in text(resp)
    assert b.get("/", follow_redirects=False).status_code == 302


def test_a_supervisor_sees_the_team_card_and_an_employee_does_not(stack):
    kasi, staff = stack.browser(), stack.browser()
    kasi.login(KASI_A)
    staff.login(STAFF_A[0])
    assert "Tim saya" in text(kasi.get("/"))
    home = text(staff.get("/"))
    assert "Selamat datang, Rina Wati" in home and "Tim saya" not in home
    assert "Perencanaan SKP" in home  # the cycle's stage in Bahasa Indonesia


def test_english_toggle_is_remembered(stack):
    b = stack.browser()
    b.login(STAFF_A[0])
    assert "Welcome, Rina Wati" in text(b.get("/?lang=en"))
    page = text(b.get("/"))
    assert "Welcome, Rina Wati" in page and '<html lang="en">' in page
    assert "Selamat datang" in text(b.get("/?lang=id"))


def test_expired_session_returns_to_login_then_to_the_page(stack, monkeypatch):
    b = stack.browser()
    b.login(STAFF_A[0])
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 9 * 3600)  # past the session's 8 hours
    resp = b.get("/inbox", follow_redirects=False)
    assert (
        resp.status_code == 302
        and "next=/inbox" in resp.headers["Location"]
        and "expired=1" in resp.headers["Location"]
    )
    page = text(b.get(resp.headers["Location"]))
    assert "Sesi Anda telah berakhir" in page
    monkeypatch.setattr(time, "time", real)
    b.get(resp.headers["Location"])  # (the ended session is gone: a fresh form for the sign-in)
    assert (
        b.post("/login", {"person": STAFF_A[0], "next": "/inbox"}, follow_redirects=False).headers["Location"]
        == "/inbox"
    )


def test_a_token_the_services_refuse_returns_to_login(stack):
    b = stack.browser()
    b.login(STAFF_A[0])
    # a session whose token the services no longer accept (e.g. a rotated secret): the API answers 401
    bad = issue_token("another-secret-0123456789-0123456789", roles=["employee"], agency="PKMB", nip=STAFF_A[0])
    portal = stack.emb.wsgi.portal
    from services.portal.auth import SESSION_KEY

    client = portal.test_client()
    with client.session_transaction() as sess:
        sess[SESSION_KEY] = {
            "token": bad,
            "nip": STAFF_A[0],
            "name": "Rina",
            "roles": ["employee"],
            "agency": "PKMB",
            "expires_at": time.time() + 3600,
        }
    resp = client.get("/inbox")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login?next=/inbox")


def test_logout_ends_the_session(stack):
    b = stack.browser()
    b.login(STAFF_A[0])
    b.post("/logout")
    assert b.get("/", follow_redirects=False).status_code == 302


def test_inbox_shows_only_my_notifications_and_marks_them_read(stack):
    org = stack.org
    plan = org.cascade(org.head_plan(), KASI_A)
    assert org.submit(plan["id"], KASI_A).status_code == 200
    stack.pump()
    head = stack.browser()
    head.login(org.HEAD)
    page = text(head.get("/inbox"))
    assert "Siti Aminah" in page and "Tandai semua sudah dibaca" in page
    link = f"/skp/{plan['id']}"  # the notification links to the portal's page, which opens for the superior
    assert f'{link}"' in page
    review = head.get(link)
    assert review.status_code == 200 and "Siti Aminah" in text(review)
    other = stack.browser()
    other.login(STAFF_A[1])
    assert "Siti Aminah" not in text(other.get("/inbox"))
    head.post("/inbox/read-all")
    assert "0 belum dibaca" in text(head.get("/"))


def test_unknown_page_is_a_clear_not_found(stack):
    b = stack.browser()
    b.login(STAFF_A[0])
    resp = b.get("/no/such/page")
    assert resp.status_code == 404 and "Tidak ditemukan" in text(resp)


def test_hr_home_shows_the_running_cycles(stack):
    b = stack.browser()
    b.login("hr:PKMB")
    page = text(b.get("/"))
    assert "Pengelolaan kinerja" in page and "1 periode penilaian berjalan" in page


def test_only_the_most_specific_menu_entry_is_current(stack):
    b = stack.browser()
    b.login(KASI_A)
    page = text(b.get("/tim/evaluasi"))
    assert page.count('aria-current="page"') == 1
    assert 'href="/tim/evaluasi" aria-current="page"' in page


def test_portal_settings_are_typed_read_once_and_a_wrong_value_names_its_variable():
    s = PortalSettings.from_env(
        {
            "PORTAL_SESSION_MINUTES": "60",
            "PORTAL_SECURE_COOKIES": "yes",
            "REVIEWS_OBJECTION_DAYS": "21",
            "LOG_LEVEL": "warn",
        }
    )
    assert (s.session_minutes, s.secure_cookies, s.objection_days, s.log_level) == (60, True, 21, "WARNING")
    assert s.dev_login and s.secret_key and s.api_url is None  # embedded: the dev login, a derived session secret
    assert PortalSettings.from_env({}) == PortalSettings()  # nothing set: the defaults
    for name, value in (
        ("PORTAL_SESSION_MINUTES", "an hour"),
        ("PROXY_HOPS", "-1"),
        ("PORTAL_API_TIMEOUT", "soon"),
        ("PORTAL_SECURE_COOKIES", "perhaps"),
        ("REVIEWS_SUGGEST_THRESHOLD", "five percent"),
        ("LOG_LEVEL", "loud"),
        ("KINERJA_MODE", "prod"),
        ("KINERJA_TIMEZONE", "Asia/Bandung"),
    ):
        with pytest.raises(ConfigError, match=name):
            PortalSettings.from_env({name: value})


def test_the_pages_show_times_in_the_agency_zone():
    """KINERJA_TIMEZONE, as the services read it: WIB by default, WIT for an agency in Papua."""
    for zone, shown in (("Asia/Jakarta", "2026-03-01 07:30 WIB"), ("Asia/Jayapura", "2026-03-01 09:30 WIT")):
        app = create_app(PortalSettings.from_env({"KINERJA_TIMEZONE": zone}, testing=True))
        with app.test_request_context():
            assert when("2026-03-01T00:30:00Z") == shown
            assert local_time("2026-02-28T23:30:00+00:00").date().isoformat() == "2026-03-01"
