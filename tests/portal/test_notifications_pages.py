"""The notification pages of the portal (issue 15): everyone's notification settings, HR's inbox,
and for HR the notification rules, HR contacts, webhook subscriptions (the secret shown once) and
the results sent to SIASN — each in Bahasa Indonesia and English, refused to the wrong role, a bad
form answered beside its fields with nothing saved, a good one saved."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from tests.plans.support import KASI_A, STAFF_A
from tests.portal.support import text

N = "/notifications/api/v1"
HR_PAGES = [
    "/hr/notifikasi",
    "/hr/notifikasi/aturan",
    "/hr/notifikasi/kontak",
    "/hr/notifikasi/saluran",
    "/hr/notifikasi/pengiriman",
    "/hr/webhook",
    "/hr/siasn",
]
TITLES = {  # page → (Bahasa Indonesia, English)
    "/pengaturan-notifikasi": ("Pengaturan notifikasi", "Notification settings"),
    "/hr/notifikasi": ("Notifikasi &amp; integrasi", "Notifications &amp; integration"),
    "/hr/notifikasi/aturan": ("Aturan notifikasi", "Notification rules"),
    "/hr/notifikasi/kontak": ("Kontak HR", "HR contacts"),
    "/hr/notifikasi/saluran": ("Saluran pesan instansi", "Agency messaging channels"),
    "/hr/notifikasi/pengiriman": ("Log pengiriman", "Delivery log"),
    "/hr/webhook": ("Langganan webhook", "Webhook subscriptions"),
    "/hr/siasn": ("Pengiriman ke SIASN", "Results sent to SIASN"),
}


def api(stack, method: str, path: str, headers: dict, body=None):
    return stack.org.client.open(N + path, method=method, headers=headers, json=body)


def login(stack, who: str):
    b = stack.browser()
    b.login(who)
    return b


def errors_of(page: str) -> dict[str, str]:
    """The inline errors of a page: ``{field name: message}`` (``<p class="err" id="e-<name>">``)."""
    return {m[0]: html.unescape(m[1]) for m in re.findall(r'<p class="err" id="e-([^"]+)">([^<]*)</p>', page)}


# ------------------------------------------------------------------ every page, both languages, the right role


@pytest.mark.parametrize("path", list(TITLES))
def test_each_page_in_bahasa_indonesia_and_english(stack, path):
    b = login(stack, "hr:PKMB" if path.startswith("/hr") else STAFF_A[0])
    indonesian, english = TITLES[path]
    resp = b.get(path)
    assert resp.status_code == 200 and f"<h1>{indonesian}</h1>" in text(resp)
    resp = b.get(path + "?lang=en")
    assert resp.status_code == 200 and f"<h1>{english}</h1>" in text(resp)


@pytest.mark.parametrize("person", [STAFF_A[0], KASI_A])
def test_employees_and_supervisors_get_tidak_berwenang_on_the_hr_pages(stack, person):
    b = login(stack, person)
    for path in [*HR_PAGES, "/hr/webhook/1"]:
        resp = b.get(path)
        assert resp.status_code == 403 and "Tidak berwenang" in text(resp), path
    resp = b.post("/hr/notifikasi/kontak", {"contact_count": "1", "contact-0-name": "X", "contact-0-email": "x@y.id"})
    assert resp.status_code == 403
    assert api(stack, "GET", "/hr-contacts", stack.org.hr).get_json()["contacts"] == []
    assert b.post("/hr/webhook", {"url": "http://127.0.0.1:9/h", "event_types": "plans.#"}).status_code == 403
    assert api(stack, "GET", "/webhooks", stack.org.hr).get_json()["items"] == []


def test_visitors_are_sent_to_login(stack):
    b = stack.browser()
    for path in ["/pengaturan-notifikasi", *HR_PAGES]:
        resp = b.get(path, follow_redirects=False)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], path


def test_nav_links_settings_for_everyone_and_the_hr_page_for_hr(stack):
    page = text(login(stack, STAFF_A[0]).get("/"))
    assert 'href="/pengaturan-notifikasi">Pengaturan Notifikasi</a>' in page and "/hr/notifikasi" not in page
    page = text(login(stack, "hr:PKMB").get("/"))
    assert 'href="/hr/notifikasi">Notifikasi &amp; Integrasi</a>' in page


# ------------------------------------------------------------------ preferences


def _prefs(stack, nip=STAFF_A[0]) -> dict:
    return api(stack, "GET", "/preferences", stack.org.as_(nip)).get_json()


GOOD = {
    "language": "en",
    "email": "1",
    "quiet_start": "21.00",  # as times are written in Indonesia
    "quiet_end": "6:00",
    "timezone": "Asia/Makassar",
    "digest": "1",
    "digest_hour": "18",
    "apprise_urls": "",
    "overrides": "reviews.evaluation.*: inapp, email\nplans.feedback.given: inapp",
}


def test_preferences_save_and_show_again(stack):
    b = login(stack, STAFF_A[0])
    resp = b.post("/pengaturan-notifikasi", GOOD)
    assert resp.status_code == 200 and "Pengaturan notifikasi disimpan." in text(resp)
    prefs = _prefs(stack)
    assert prefs["language"] == "en" and prefs["email"] is True and prefs["apprise"] is False
    assert (prefs["quiet_start"], prefs["quiet_end"], prefs["timezone"]) == ("21:00", "06:00", "Asia/Makassar")
    assert prefs["digest"] is True and prefs["digest_hour"] == 18
    assert prefs["overrides"] == {"reviews.evaluation.*": ["inapp", "email"], "plans.feedback.given": ["inapp"]}
    page = text(b.get("/pengaturan-notifikasi"))
    assert 'value="21:00"' in page and 'value="18"' in page and "reviews.evaluation.*: inapp, email" in page
    assert '<option value="Asia/Makassar" selected>' in page
    # switching everything off again: unticked boxes and empty quiet hours
    b.post(
        "/pengaturan-notifikasi",
        {**GOOD, "email": "", "digest": "", "quiet_start": "", "quiet_end": "", "overrides": ""},
    )
    prefs = _prefs(stack)
    assert prefs["email"] is False and prefs["digest"] is False and prefs["quiet_start"] is None
    assert prefs["overrides"] == {}


def test_preferences_bad_form_errors_beside_each_field_nothing_saved(stack):
    b = login(stack, STAFF_A[0])
    before = _prefs(stack)
    resp = b.post(
        "/pengaturan-notifikasi",
        {
            **GOOD,
            "quiet_start": "25:00",
            "quiet_end": "",
            "digest_hour": "30",
            "overrides": "reviews.#: email\nno colon",
        },
    )
    assert resp.status_code == 422
    errs = errors_of(text(resp))
    assert errs["quiet_start"].startswith("Isi jam dengan format JJ:MM")
    assert errs["digest_hour"] == "Isi jam 0 sampai 23."
    assert errs["overrides"].startswith("Isian ke-2:")
    assert "Periksa isian yang ditandai" in text(resp) and 'value="25:00"' in text(resp)  # typed values kept
    assert _prefs(stack) == before
    # what only the API knows: a pattern it refuses, an unknown zone; an unusable Apprise URL (line 2)
    resp = b.post("/pengaturan-notifikasi", {**GOOD, "overrides": "Bad Pattern!: email", "timezone": "Mars/Base"})
    assert resp.status_code == 422 and set(errors_of(text(resp))) == {"timezone", "overrides"}
    resp = b.post("/pengaturan-notifikasi", {**GOOD, "apprise_urls": "mailto://a@b.id\nnot a url"})
    assert resp.status_code == 422 and list(errors_of(text(resp))) == ["apprise_urls"]
    assert errors_of(text(resp))["apprise_urls"].startswith("Isian ke-2:")
    assert _prefs(stack) == before
    resp = b.post("/pengaturan-notifikasi?lang=en", {**GOOD, "digest_hour": "x"})
    assert resp.status_code == 422 and errors_of(text(resp))["digest_hour"] == "Enter an hour from 0 to 23."


def test_hr_without_a_nip_is_told_where_its_messages_go(stack):
    page = text(login(stack, "hr:PKMB").get("/pengaturan-notifikasi"))
    assert (
        "untuk pegawai (dengan NIP)" in page
        and 'href="/hr/notifikasi/kontak"' in page
        and 'action="/pengaturan-notifikasi"' not in page
    )


def test_a_forged_preferences_form_changes_nothing(stack):
    b = login(stack, STAFF_A[0])
    before = _prefs(stack)
    b.get("/pengaturan-notifikasi")
    resp = b.post("/pengaturan-notifikasi", {**GOOD, "csrf_token": "forged"})
    assert resp.status_code == 400 and _prefs(stack) == before


# ------------------------------------------------------------------ HR's inbox


def test_hr_reads_the_messages_of_its_address_only_contacts_in_its_inbox(stack):
    hr = login(stack, "hr:PKMB")
    hr.post(
        "/hr/notifikasi/kontak",
        {"contact_count": "1", "contact-0-name": "Kepegawaian", "contact-0-email": "sdm@pkmb.go.id"},
    )
    assert stack.org.advance("planning").status_code == 200  # plans.cycle.stage_changed → the hr audience
    stack.pump()
    page = text(hr.get("/inbox"))
    assert "Tidak ada notifikasi." not in page and "Tandai semua sudah dibaca" in page
    assert "Pesan untuk kontak HR yang hanya berupa alamat e-mail." in page
    assert "Periode penilaian 2026: tahap" in page and "Yth. Kepegawaian," in page
    unread = api(stack, "GET", "/inbox/unread-count", stack.org.hr).get_json()["unread"]
    assert unread >= 1 and f"{unread} belum dibaca" in text(hr.get("/"))
    hr.post("/inbox/read-all")
    assert api(stack, "GET", "/inbox/unread-count", stack.org.hr).get_json()["unread"] == 0
    # HR of another agency: nothing of it
    assert "Tidak ada notifikasi." in text(login(stack, "hr:OTHER").get("/inbox"))


# ------------------------------------------------------------------ rules


def _rules(stack) -> dict:
    return api(stack, "GET", "/rules", stack.org.hr).get_json()


def _rules_form(rules: list[dict]) -> dict:
    form = {"rule_count": str(len(rules))}
    for i, r in enumerate(rules):
        form |= {f"rule-{i}-{k}": r[k] for k in ("event_type", "audience", "template")}
        form[f"rule-{i}-when"] = json.dumps(r["when"]) if r.get("when") else ""
        if r["enabled"]:
            form[f"rule-{i}-enabled"] = "1"
    return form


def test_rules_edit_add_remove_and_back_to_the_defaults(stack):
    hr = login(stack, "hr:PKMB")
    data = _rules(stack)
    assert data["default"] is True
    page = text(hr.get("/hr/notifikasi/aturan"))
    assert "plans.plan.submitted" in page and "Instansi memakai aturan bawaan." in page
    assert "state: planning" in page  # a rule's condition is shown (and kept)
    assert "Pemberi umpan balik (atasan yang menulisnya)" in page  # every audience is named, in words
    form = _rules_form(data["rules"])
    form["rule-0-enabled"] = ""  # plans.plan.submitted off
    form["rule-1-remove"] = "1"  # plans.plan.returned gone
    form |= {"rule-new-event_type": "reviews.evaluation.rated", "rule-new-audience": "penilai"}
    form |= {"rule-new-template": "evaluation.rated", "rule-new-enabled": "1"}
    resp = hr.post("/hr/notifikasi/aturan", form)
    assert resp.status_code == 200 and f"({len(data['rules'])} aturan)" in text(resp)
    after = _rules(stack)
    assert after["default"] is False and len(after["rules"]) == len(data["rules"])
    assert after["rules"][0]["enabled"] is False and after["rules"][0]["event_type"] == "plans.plan.submitted"
    assert "plans.plan.returned" not in [r["event_type"] for r in after["rules"]]
    assert after["rules"][-1] == {
        "event_type": "reviews.evaluation.rated",
        "audience": "penilai",
        "template": "evaluation.rated",
        "enabled": True,
        "when": None,
    }
    assert [r["when"] for r in after["rules"]] == [
        r["when"] for r in data["rules"] if r["event_type"] != "plans.plan.returned"
    ] + [None]
    resp = hr.post("/hr/notifikasi/aturan/bawaan")
    assert "Aturan bawaan dipakai kembali." in text(resp) and _rules(stack)["default"] is True


def test_rules_bad_form_errors_beside_the_row_nothing_saved(stack):
    hr = login(stack, "hr:PKMB")
    data = _rules(stack)
    form = _rules_form(data["rules"]) | {"rule-2-event_type": "", "rule-new-event_type": "plans.plan.*"}
    resp = hr.post("/hr/notifikasi/aturan", form)  # a blank event type; a new row without recipient or template
    assert resp.status_code == 422
    errs = errors_of(text(resp))
    assert errs == {
        "rule-2-event_type": "Wajib diisi.",
        "rule-new-audience": "Pilih penerima.",
        "rule-new-template": "Pilih templat.",
    }
    assert 'value="plans.plan.*"' in text(resp)
    # a pattern only the API refuses, in the row after a removed one: beside that row
    form = _rules_form(data["rules"]) | {"rule-0-remove": "1", "rule-3-event_type": "Plans Plan!"}
    resp = hr.post("/hr/notifikasi/aturan", form)
    assert resp.status_code == 422 and list(errors_of(text(resp))) == ["rule-3-event_type"]
    assert _rules(stack) == data


# ------------------------------------------------------------------ HR contacts


def test_contacts_bad_rows_beside_their_fields_then_saved_and_removed(stack):
    hr = login(stack, "hr:PKMB")
    bad = {
        "contact_count": "3",
        "contact-0-name": "Kepegawaian",
        "contact-0-email": "not-an-address",
        "contact-1-name": "",
        "contact-1-nip": "12345",
        "contact-2-name": "Sekretariat",
    }
    resp = hr.post("/hr/notifikasi/kontak", bad)
    assert resp.status_code == 422
    assert errors_of(text(resp)) == {
        "contact-0-email": "Alamat e-mail tidak valid.",
        "contact-1-name": "Wajib diisi.",
        "contact-1-nip": "NIP terdiri atas 18 angka.",
        "contact-2-email": "Isi e-mail atau NIP.",
    }
    assert api(stack, "GET", "/hr-contacts", stack.org.hr).get_json()["contacts"] == []
    good = {
        "contact_count": "2",
        "contact-0-name": "Kepegawaian",
        "contact-0-email": "sdm@pkmb.go.id",
        "contact-0-language": "id",
        "contact-1-name": "Siti (Kasi)",
        "contact-1-nip": KASI_A,
        "contact-1-language": "en",
    }
    resp = hr.post("/hr/notifikasi/kontak", good)
    assert resp.status_code == 200 and "Kontak HR disimpan (2 kontak)." in text(resp)
    contacts = api(stack, "GET", "/hr-contacts", stack.org.hr).get_json()["contacts"]
    assert [(c["name"], c["email"], c["nip"], c["language"]) for c in contacts] == [
        ("Kepegawaian", "sdm@pkmb.go.id", None, "id"),
        ("Siti (Kasi)", None, KASI_A, "en"),
    ]
    assert 'value="sdm@pkmb.go.id"' in text(hr.get("/hr/notifikasi/kontak"))
    hr.post("/hr/notifikasi/kontak", {**good, "contact-0-name": "", "contact-0-email": ""})  # an emptied row goes
    assert [c["name"] for c in api(stack, "GET", "/hr-contacts", stack.org.hr).get_json()["contacts"]] == [
        "Siti (Kasi)"
    ]


# ------------------------------------------------------------------ the agency's channels and delivery log


def test_agency_channels_refused_address_beside_the_field_then_saved(stack):
    hr = login(stack, "hr:PKMB")
    resp = hr.post("/hr/notifikasi/saluran", {"apprise_urls": "json://127.0.0.1:9/wa?to={phone}\nno-such-scheme://x"})
    assert resp.status_code == 422
    assert errors_of(text(resp))["apprise_urls"].startswith("Isian ke-2:")
    assert api(stack, "GET", "/agency-settings", stack.org.hr).get_json()["apprise_urls"] == []
    resp = hr.post("/hr/notifikasi/saluran", {"apprise_urls": "json://127.0.0.1:9/wa?to={phone}\n"})
    assert resp.status_code == 200 and "(1 alamat)" in text(resp)
    assert api(stack, "GET", "/agency-settings", stack.org.hr).get_json()["apprise_urls"] == [
        "json://127.0.0.1:9/wa?to={phone}"
    ]
    assert "json://127.0.0.1:9/wa?to={phone}" in text(hr.get("/hr/notifikasi/saluran"))


def test_delivery_log_of_the_agency_with_filters(stack):
    hr = login(stack, "hr:PKMB")
    hr.post(
        "/hr/notifikasi/kontak", {"contact_count": "1", "contact-0-name": "SDM", "contact-0-email": "sdm@pkmb.go.id"}
    )
    assert stack.org.advance("planning").status_code == 200
    stack.pump()
    page = text(hr.get("/hr/notifikasi/pengiriman?channel=email"))
    assert "sdm@pkmb.go.id" in page and "cycle.stage_changed" in page
    assert "Tidak ada pengiriman yang cocok." in text(hr.get("/hr/notifikasi/pengiriman?channel=webhook"))
    assert "sdm@pkmb.go.id" not in text(login(stack, "hr:OTHER").get("/hr/notifikasi/pengiriman"))


# ------------------------------------------------------------------ webhooks


def test_webhook_create_shows_the_secret_once_then_disable_rotate_delete(stack):
    hr = login(stack, "hr:PKMB")
    resp = hr.post(
        "/hr/webhook",
        {"url": "http://127.0.0.1:9/hook", "event_types": "reviews.evaluation.*\nplans.#", "description": "BKD"},
    )
    assert resp.status_code == 200 and "Langganan dibuat." in text(resp)
    (sub,) = api(stack, "GET", "/webhooks", stack.org.hr).get_json()["items"]
    assert sub["event_types"] == ["reviews.evaluation.*", "plans.#"] and sub["description"] == "BKD"
    secret = re.search(r'<code id="secret">(whsec_[^<]+)</code>', text(resp))
    assert secret and "tidak akan ditampilkan lagi" in text(resp)
    again = text(hr.get(f"/hr/webhook/{sub['id']}"))
    assert secret.group(1) not in again and 'id="secret"' not in again  # once only
    assert "http://127.0.0.1:9/hook" in text(hr.get("/hr/webhook")) and "Aktif" in again
    assert "Belum ada pengiriman." in again
    assert stack.org.advance("planning").status_code == 200  # plans.cycle.stage_changed matches plans.#
    stack.pump()
    log = text(hr.get(f"/hr/webhook/{sub['id']}"))
    assert "plans.cycle.stage_changed" in log and "Antre" in log

    resp = hr.post(f"/hr/webhook/{sub['id']}/nonaktifkan")
    assert "Langganan dinonaktifkan." in text(resp) and "dinonaktifkan manual" in text(resp)
    assert api(stack, "GET", f"/webhooks/{sub['id']}", stack.org.hr).get_json()["active"] is False
    stack.clock.advance(minutes=10)
    stack.pump()  # the dispatcher skips what is due for a disabled subscription
    hr.post(f"/hr/webhook/{sub['id']}/aktifkan")
    assert api(stack, "GET", f"/webhooks/{sub['id']}", stack.org.hr).get_json()["active"] is True
    # the skipped delivery: sent again from the log
    (d,) = api(stack, "GET", f"/webhooks/{sub['id']}/deliveries", stack.org.hr).get_json()["items"]
    assert d["status"] == "skipped" and "Dilewati" in text(hr.get(f"/hr/webhook/{sub['id']}"))
    resp = hr.post(f"/hr/webhook/{sub['id']}/kirim-ulang/{d['id']}")
    assert "Pengiriman dijadwalkan ulang." in text(resp) and "Antre" in text(resp)
    assert api(stack, "GET", f"/deliveries/{d['id']}", stack.org.hr).get_json()["status"] == "queued"

    resp = hr.post(f"/hr/webhook/{sub['id']}/rahasia-baru")
    rotated = re.search(r'<code id="secret">(whsec_[^<]+)</code>', text(resp))
    assert rotated and rotated.group(1) != secret.group(1)

    resp = hr.post(f"/hr/webhook/{sub['id']}/hapus")  # without the confirmation: nothing deleted
    assert (
        "Centang konfirmasi" in text(resp)
        and len(api(stack, "GET", "/webhooks", stack.org.hr).get_json()["items"]) == 1
    )
    resp = hr.post(f"/hr/webhook/{sub['id']}/hapus", {"confirm": "1"})
    assert "Langganan dihapus" in text(resp) and api(stack, "GET", "/webhooks", stack.org.hr).get_json()["items"] == []


def test_webhook_bad_form_errors_beside_the_fields_nothing_saved(stack):
    hr = login(stack, "hr:PKMB")
    resp = hr.post("/hr/webhook", {"url": "", "event_types": " ", "description": "x"})
    assert resp.status_code == 422
    assert errors_of(text(resp)) == {"url": "Wajib diisi.", "event_types": "Wajib diisi."}
    resp = hr.post("/hr/webhook", {"url": "ftp://example.go.id/x", "event_types": "plans.#"})
    assert resp.status_code == 422 and list(errors_of(text(resp))) == ["url"]
    assert 'value="ftp://example.go.id/x"' in text(resp)
    resp = hr.post("/hr/webhook", {"url": "http://127.0.0.1:9/h", "event_types": "plans.#, Bad Pattern"})
    assert resp.status_code == 422 and list(errors_of(text(resp))) == ["event_types"]
    assert errors_of(text(resp))["event_types"].startswith("Isian ke-2:")
    assert api(stack, "GET", "/webhooks", stack.org.hr).get_json()["items"] == []


def test_another_agencys_webhook_is_not_shown_nor_changed(stack):
    r = api(stack, "POST", "/webhooks", stack.org.hr, {"url": "http://127.0.0.1:9/h", "event_types": ["plans.#"]})
    sub = r.get_json()
    other = login(stack, "hr:OTHER")
    assert other.get(f"/hr/webhook/{sub['id']}").status_code == 403
    assert "127.0.0.1:9/h" not in text(other.get("/hr/webhook"))
    assert other.post(f"/hr/webhook/{sub['id']}/nonaktifkan").status_code in (403, 404)
    other.post(f"/hr/webhook/{sub['id']}/hapus", {"confirm": "1"})
    assert api(stack, "GET", f"/webhooks/{sub['id']}", stack.org.hr).get_json()["active"] is True


# ------------------------------------------------------------------ SIASN


def test_siasn_push_not_configured_is_said_beside_the_form(stack):
    hr = login(stack, "hr:PKMB")
    resp = hr.post(f"/hr/siasn?cycle_id={stack.org.cycle_id}", {"kind": ""})
    assert resp.status_code == 422 and errors_of(text(resp)) == {"kind": "Pilih jenis hasil."}
    resp = hr.post(f"/hr/siasn?cycle_id={stack.org.cycle_id}", {"kind": "annual"})
    assert resp.status_code == 422 and "SIASN" in errors_of(text(resp))["kind"]
    assert "Belum ada catatan pengiriman" in text(resp)


def test_siasn_push_and_its_records(stack):
    from services.reviews.models import SiasnPush
    from services.reviews.siasn import SiasnClient, SiasnConfig
    from tests.portal.test_hr import HrChain

    config = SiasnConfig(url="http://siasn.test", gateway_token="g", sso_token="s")
    stack.emb.apps["reviews"].extensions["siasn_client"] = lambda: SiasnClient(
        config, http=lambda url, body, headers, timeout: (200, '{"success": true}'), sleep=lambda s: None
    )
    hr = login(stack, "hr:PKMB")
    cycle = stack.org.cycle_id
    resp = hr.post(f"/hr/siasn?cycle_id={cycle}", {"kind": "annual"})
    assert resp.status_code == 200 and "Dikirim ke SIASN: 0 berhasil, 0 gagal" in text(resp)
    assert "Sent to SIASN: 0 succeeded" in text(hr.post(f"/hr/siasn?cycle_id={cycle}&lang=en", {"kind": "periodic"}))

    # the records of earlier pushes: who, which period, sent or failed with SIASN's answer
    ch = HrChain(stack)
    ch.approve_all_plans()
    ch.advance_to("monitoring:1:check_in")
    ev = ch.evaluation_of(STAFF_A[0], period_seq=1)
    platform = stack.emb.apps["reviews"].extensions["kinerja"]
    with platform.session_factory() as s:
        for status, code, body in (
            ("failed", 400, '{"success": false, "message": "NIP tidak ditemukan"}'),
            ("sent", 200, "{}"),
        ):
            s.add(
                SiasnPush(
                    evaluation_id=ev["id"],
                    endpoint="/kinerjaperiodik/save",
                    payload={},
                    status=status,
                    attempts=1,
                    response_status=code,
                    response_body=body,
                    at=stack.clock(),
                )
            )
        s.commit()
    page = text(hr.get(f"/hr/siasn?cycle_id={cycle}&lang=id"))
    assert "Rina Wati" in page and "Triwulan I" in page and "NIP tidak ditemukan" in page
    assert "Gagal" in page and "Terkirim" in page and "HTTP 400" in page
    page = text(hr.get(f"/hr/siasn?cycle_id={cycle}&status=failed"))
    assert "HTTP 400" in page and "HTTP 200" not in page
    other = text(login(stack, "hr:OTHER").get(f"/hr/siasn?cycle_id={cycle}"))
    assert "Rina Wati" not in other


# ------------------------------------------------------------------ catalogue


def test_every_catalogue_key_these_pages_use_exists_in_both_languages():
    root = Path(__file__).resolve().parents[2] / "services" / "portal"
    ids = json.loads((root / "messages" / "notif" / "id.json").read_text(encoding="utf-8"))
    ens = json.loads((root / "messages" / "notif" / "en.json").read_text(encoding="utf-8"))
    assert set(ids) == set(ens) and all(k.startswith("notif.") for k in ids)
    common = json.loads((root / "messages" / "id.json").read_text(encoding="utf-8"))
    common |= json.loads((root / "messages" / "hr" / "id.json").read_text(encoding="utf-8"))
    sources = [root / "pages_notifications.py", root / "pages_hr_notifications.py"]
    sources += list((root / "templates" / "portal" / "notif").glob("*.html"))
    used = set()
    for path in sources:
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+(?:\.[a-z_0-9]+)+)["']""", path.read_text(encoding="utf-8")))
    assert len(used) > 80
    assert not sorted(used - set(ids) - set(common))
