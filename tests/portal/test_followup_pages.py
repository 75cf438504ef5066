"""Follow-up pages (issue 15): HR lists follow-ups with their status and filters by it, opens one and
marks it completed with what was done — refused beside the field, in Bahasa Indonesia, while the
note is missing, and refused whole when someone changed it meanwhile; the penilai finds their team's;
an owner records progress only; the employee reads status and completion on the evaluation page."""

from __future__ import annotations

import re

import pytest

from tests.plans.support import HEAD, KASI_A, KASI_B, STAFF_B
from tests.portal.support import text
from tests.portal.test_hr import annual_curve_broken, hr

NOTE = "Mengikuti pelatihan pelayanan prima 3 hari dan 4 sesi bimbingan; keluhan layanan turun."
R = "/reviews/api/v1"


@pytest.fixture
def fus(stack):
    """Countersigned: STAFF_B[0] Sangat Baik (recognition), STAFF_B[2] Kurang/Misconduct (development)."""
    ch = annual_curve_broken(stack)
    ch.advance_to("sign_off")
    for nip in (STAFF_B[0], STAFF_B[2]):
        ev = ch.evaluation_of(nip, period_seq=0)
        for action, who in (("sign", KASI_B), ("acknowledge", nip), ("countersign", HEAD)):
            r = ch.post(f"/evaluations/{ev['id']}/{action}", ch.as_(who))
            assert r.status_code == 200, (action, r.get_json())
    items = ch.get(f"/followups?cycle_id={stack.org.cycle_id}", ch.hr).get_json()["items"]
    return {i["kind"]: i for i in items}


def _api(stack, fid):
    return stack.org.client.get(f"{R}/followups/{fid}", headers=stack.org.hr).get_json()


def _form(page: str) -> dict:
    """The edit form's fields as the page shows them (what a browser would send back)."""
    out = {
        name: value
        for name, value in re.findall(r'<input type="[^"]*" id="f-[^"]+" name="([^"]+)" value="([^"]*)"', page)
    }
    out |= dict(re.findall(r'<textarea id="f-[^"]+" name="([^"]+)"[^>]*>([^<]*)</textarea>', page, re.S))
    status = re.search(r'<select id="f-status".*?<option value="([^"]+)" selected', page, re.S)
    out["status"] = status.group(1) if status else ""
    out["etag"] = re.search(r'name="etag" value="([^"]*)"', page).group(1).replace("&#34;", '"')
    return out


def test_hr_lists_with_status_and_marks_one_completed(stack, fus):
    dev = fus["development"]
    b = hr(stack)
    listing = text(b.get(f"/hr/tindak-lanjut?cycle_id={stack.org.cycle_id}"))
    assert listing.count("Direncanakan") >= 2 and f"/tindak-lanjut/{dev['id']}" in listing
    page = text(b.get(f"/tindak-lanjut/{dev['id']}"))
    assert "Eko Saputra" in page and "Catatan penyelesaian" in page and 'name="recommendation"' in page
    form = _form(page)
    # completed without saying what was done: refused beside the note, nothing saved
    r = b.post(f"/tindak-lanjut/{dev['id']}", form | {"status": "completed", "completion_note": ""})
    assert r.status_code == 422
    err = re.search(r'<p class="err" id="e-completion_note">([^<]+)</p>', text(r))
    assert err and "Tuliskan apa yang sudah dilakukan" in err.group(1)
    assert _api(stack, dev["id"])["status"] == "planned"
    # a due date in the past: refused beside the due date, in the portal's words
    r = b.post(f"/tindak-lanjut/{dev['id']}", form | {"due_date": "2020-01-01"})
    assert r.status_code == 422 and 'id="e-due_date"' in text(r) and "Tenggat tidak boleh sebelum hari ini" in text(r)
    r = b.post(f"/tindak-lanjut/{dev['id']}", form | {"status": "completed", "completion_note": NOTE})
    assert r.status_code == 200 and "Tindak lanjut disimpan." in text(r)
    saved = _api(stack, dev["id"])
    assert (saved["status"], saved["completion_note"]) == ("completed", NOTE) and saved["completed_at"]
    assert "sudah Selesai dan tidak dapat diubah lagi" in text(r) and 'name="status"' not in text(r)
    done = text(b.get(f"/hr/tindak-lanjut?cycle_id={stack.org.cycle_id}&status=completed"))
    assert "Eko Saputra" in done and "Andi Pratama" not in done and saved["completed_at"] in done
    planned = text(b.get(f"/hr/tindak-lanjut?cycle_id={stack.org.cycle_id}&status=planned"))
    assert "Andi Pratama" in planned and "Eko Saputra" not in planned


def test_a_follow_up_changed_meanwhile_is_refused_with_what_is_saved_now(stack, fus):
    dev = fus["development"]
    b = hr(stack)
    form = _form(text(b.get(f"/tindak-lanjut/{dev['id']}")))
    penilai = stack.browser()
    penilai.login(KASI_B)
    theirs = _form(text(penilai.get(f"/tindak-lanjut/{dev['id']}")))
    r = penilai.post(f"/tindak-lanjut/{dev['id']}", theirs | {"status": "in_progress", "completion_note": "Sesi 1."})
    assert r.status_code == 200 and "Tindak lanjut disimpan." in text(r)
    r = b.post(f"/tindak-lanjut/{dev['id']}", form | {"recommendation": "Pelatihan teknis pelayanan."})
    page = text(r)
    assert r.status_code == 409 and "sudah diubah orang lain sejak halaman dibuka" in page
    assert "Pelatihan teknis pelayanan." in page  # what I typed stays
    assert "Tersimpan saat ini:" in page
    saved = _api(stack, dev["id"])
    assert saved["status"] == "in_progress" and saved["recommendation"] == dev["recommendation"]


def test_the_penilai_finds_the_team_and_an_owner_records_progress_only(stack, fus):
    dev, rec = fus["development"], fus["recognition"]
    penilai = stack.browser()
    penilai.login(KASI_B)
    assert "/tim/tindak-lanjut" in text(penilai.get("/tim/evaluasi"))  # from the team's evaluations
    team = text(penilai.get("/tim/tindak-lanjut"))
    assert "Eko Saputra" in team and "Andi Pratama" in team and f"/tindak-lanjut/{rec['id']}" in team
    ev_page = text(penilai.get(f"/evaluasi/{dev['evaluation_id']}"))
    assert f"/tindak-lanjut/{dev['id']}" in ev_page  # reached from the team's evaluation too
    # HR hands the plan to kasi A, who may record progress but not change the plan
    b = hr(stack)
    form = _form(text(b.get(f"/tindak-lanjut/{dev['id']}")))
    r = b.post(f"/tindak-lanjut/{dev['id']}", form | {"owner_nip": KASI_A})
    assert r.status_code == 200 and _api(stack, dev["id"])["owner_nip"] == KASI_A
    owner = stack.browser()
    owner.login(KASI_A)
    page = text(owner.get(f"/tindak-lanjut/{dev['id']}"))
    assert 'name="recommendation"' not in page and 'name="status"' in page and "Sebagai penanggung jawab" in page
    r = owner.post(f"/tindak-lanjut/{dev['id']}", _form(page) | {"status": "cancelled"})
    assert r.status_code == 422 and 'id="e-cancel_reason"' in text(r) and "Tuliskan alasan pembatalan." in text(r)
    r = owner.post(
        f"/tindak-lanjut/{dev['id']}", _form(page) | {"status": "cancelled", "cancel_reason": "Pegawai mutasi."}
    )
    assert r.status_code == 200 and _api(stack, dev["id"])["status"] == "cancelled"


def test_the_employee_reads_status_and_completion_on_the_evaluation_page(stack, fus):
    dev = fus["development"]
    b = hr(stack)
    form = _form(text(b.get(f"/tindak-lanjut/{dev['id']}")))
    assert (
        b.post(f"/tindak-lanjut/{dev['id']}", form | {"status": "completed", "completion_note": NOTE}).status_code
        == 200
    )
    me = stack.browser()
    me.login(STAFF_B[2])
    page = text(me.get(f"/evaluasi/{dev['evaluation_id']}"))
    section = page[page.index('id="tindak-lanjut"') :]
    assert "Selesai" in section and NOTE in section and "Tanggal selesai" in section
    assert f"/tindak-lanjut/{dev['id']}" not in section  # no way to change it
    own = text(me.get(f"/tindak-lanjut/{dev['id']}"))
    assert NOTE in own and 'name="status"' not in own
    r = me.post(f"/tindak-lanjut/{dev['id']}", {"status": "in_progress", "etag": '"1"'})
    assert r.status_code == 403 and _api(stack, dev["id"])["status"] == "completed"
    english = text(me.get(f"/evaluasi/{dev['evaluation_id']}?lang=en"))
    assert "Completed" in english and "Completion note" in english
    other = stack.browser()
    other.login(STAFF_B[1])
    assert other.get(f"/tindak-lanjut/{dev['id']}").status_code == 404


def test_every_key_of_these_pages_exists_in_both_languages():
    import json
    from pathlib import Path

    from services.portal.pages_followups import STATUSES, WORDED

    root = Path(__file__).resolve().parents[2] / "services" / "portal"
    area = {lang: json.loads((root / "messages" / "followups" / f"{lang}.json").read_text()) for lang in ("id", "en")}
    assert set(area["id"]) == set(area["en"]) and all(k.startswith("followups.") for k in area["id"])
    merged = {}
    for lang in ("id", "en"):
        merged[lang] = json.loads((root / "messages" / f"{lang}.json").read_text())
        for d in sorted(p for p in (root / "messages").iterdir() if p.is_dir()):
            merged[lang] |= json.loads((d / f"{lang}.json").read_text())
    sources = [
        root / "pages_followups.py",
        root / "templates" / "portal" / "hr" / "followups.html",
        *(root / "templates" / "portal" / "followups").glob("*.html"),
    ]
    used = {f"followups.status.{s}" for s in STATUSES} | {"followups.error." + c.split(".", 1)[1] for c in WORDED}
    for path in sources:
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+(?:\.[a-z_0-9]+)+)["']""", path.read_text()))
    for lang in ("id", "en"):
        assert not sorted(used - set(merged[lang])), lang
