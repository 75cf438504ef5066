"""Issue 15, exports and bulk actions: the Excel exports of plans, realisations and predikat per unit
(HR: the whole agency or one unit; a supervisor: the people they rate), and a supervisor's bulk
approve and bulk sign — a confirmation naming everyone, each item through its own API call, the
ones outside the reporting line refused by name with the reason while the rest are done."""

from __future__ import annotations

import html
import re
from io import BytesIO

from openpyxl import load_workbook

from tests.plans.support import HEAD, KASI_A, KASI_B, STAFF_A, STAFF_B
from tests.portal.support import text
from tests.portal.test_evaluations import Team, plain

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SEK_A = {"Siti Aminah", "Rina Wati", "Dewi Lestari", "Joko Widodo"}
EVERYONE = SEK_A | {"Budi Santoso", "Agus Salim", "Andi Pratama", "Maya Sari", "Eko Saputra"}


def workbook(resp):
    assert resp.status_code == 200, text(resp)[:500]
    assert resp.mimetype == XLSX and ".xlsx" in resp.headers["Content-Disposition"]
    return load_workbook(BytesIO(resp.get_data()))


def rows(ws) -> list[dict]:
    """The sheet's rows as dicts keyed by the header row (checked to be frozen)."""
    assert ws.freeze_panes == "A2"
    values = list(ws.iter_rows(values_only=True))
    header = values[0]
    assert all(ws.cell(row=1, column=i).font.bold for i in range(1, len(header) + 1))
    assert all(ws.column_dimensions[chr(64 + i)].width >= 8 for i in range(1, min(len(header), 26) + 1))
    return [dict(zip(header, r)) for r in values[1:]]


# ------------------------------------------------------------------ exports


def test_hr_and_a_supervisor_export_plans_realisations_and_predikat(stack):
    team = Team(stack).to_annual()  # every SKP approved; staff A0 and A1 realised quarter IV
    team.rate(STAFF_A[0], "meets", "meets")  # Baik
    cycle = team.org.cycle_id
    hr = stack.browser()
    hr.login("hr:PKMB")
    page = text(hr.get("/hr/ekspor"))
    assert "Ekspor Excel" in page and "/hr/ekspor/rencana.xlsx" in page and 'value="SEK-A"' in page
    assert "/hr/ekspor" in text(hr.get("/hr/laporan"))
    # plans: one row per IKI of everyone (head 3, everyone else 2), headers in Bahasa Indonesia
    wb = workbook(hr.get(f"/hr/ekspor/rencana.xlsx?cycle_id={cycle}"))
    ws = wb["Rencana SKP"]
    plans = rows(ws)
    assert ws["A1"].value == "NIP" and ws["B1"].value == "Nama" and ws["I1"].value == "Rencana hasil kerja (RHK)"
    assert {r["Nama"] for r in plans} == EVERYONE and len(plans) == 3 + 8 * 2
    rina = [r for r in plans if r["NIP"] == STAFF_A[0]]
    assert [(r["Aspek"], r["Target"], r["Satuan"]) for r in rina] == [
        ("Kuantitas", 4, "dokumen"),
        ("Kualitas", 100, "%"),
    ]
    assert rina[0]["Status"] == "Disetujui" and rina[0]["Unit kerja"] == "Seksi Perencanaan"
    # one unit
    wb = workbook(hr.get(f"/hr/ekspor/rencana.xlsx?cycle_id={cycle}&unit_code=SEK-A"))
    assert {r["Nama"] for r in rows(wb.active)} == SEK_A
    wb = workbook(hr.get(f"/hr/ekspor/predikat.xlsx?cycle_id={cycle}&period_seq=0&unit_code=SEK-B"))
    assert {r["Kode unit"] for r in rows(wb["Predikat per pegawai"])} == {"SEK-B"}
    wb = workbook(hr.get(f"/hr/ekspor/rencana.xlsx?cycle_id={cycle}&unit_code=DINAS"))  # with the units below it
    assert {r["Nama"] for r in rows(wb.active)} == EVERYONE
    # realisations of quarter IV: achievement against the target
    wb = workbook(hr.get(f"/hr/ekspor/realisasi.xlsx?cycle_id={cycle}&period_seq=4"))
    real = rows(wb["Realisasi"])
    got = sorted((r["Nama"], r["Realisasi"], r["Capaian (%)"]) for r in real)
    assert got == [("Dewi Lestari", 3, 75), ("Dewi Lestari", 100, 100), ("Rina Wati", 5, 125), ("Rina Wati", 100, 100)]
    assert {r["Periode"] for r in real} == {"Triwulan IV-Akhir"}
    # predikat per unit of the annual evaluation, and per person
    wb = workbook(hr.get(f"/hr/ekspor/predikat.xlsx?cycle_id={cycle}&period_seq=0"))
    per_unit = {r["Kode unit"]: r for r in rows(wb["Predikat per unit"])}
    assert per_unit["SEK-A"]["Jumlah pegawai"] == 4 and per_unit["SEK-A"]["Baik"] == 1
    assert per_unit["SEK-A"]["Belum dinilai"] == 3 and per_unit["SEK-B"]["Baik"] == 0
    assert per_unit[None]["Unit kerja"] == "Jumlah" and per_unit[None]["Jumlah pegawai"] == 9
    people = {r["Nama"]: r for r in rows(wb["Predikat per pegawai"])}
    assert people["Rina Wati"]["Predikat"] == "Baik" and people["Andi Pratama"]["Predikat"] is None
    # the supervisor: their team only
    kasi = stack.browser()
    kasi.login(KASI_A)
    assert "/tim/ekspor" in text(kasi.get("/tim"))
    page = text(kasi.get("/tim/ekspor"))
    assert "/tim/ekspor/predikat.xlsx" in page and 'name="unit_code"' not in page
    team_plans = rows(workbook(kasi.get(f"/tim/ekspor/rencana.xlsx?cycle_id={cycle}")).active)
    assert {r["Nama"] for r in team_plans} == SEK_A - {"Siti Aminah"}
    team_real = rows(workbook(kasi.get(f"/tim/ekspor/realisasi.xlsx?cycle_id={cycle}")).active)
    assert {r["Nama"] for r in team_real} == {"Rina Wati", "Dewi Lestari"}
    wb = workbook(kasi.get(f"/tim/ekspor/predikat.xlsx?cycle_id={cycle}&period_seq=0"))
    assert {r["Nama"] for r in rows(wb["Predikat per pegawai"])} == {"Rina Wati", "Dewi Lestari", "Joko Widodo"}
    other = stack.browser()
    other.login(KASI_B)
    wb = workbook(other.get(f"/tim/ekspor/rencana.xlsx?cycle_id={cycle}"))
    assert {r["Nama"] for r in rows(wb.active)} == {"Andi Pratama", "Maya Sari", "Eko Saputra"}
    # in English
    wb = workbook(hr.get(f"/hr/ekspor/rencana.xlsx?cycle_id={cycle}&lang=en"))
    ws = wb["SKP plans"]
    assert ws["B1"].value == "Name" and rows(ws)[0]["Status"] == "Approved"
    assert "Excel exports" in text(hr.get("/hr/ekspor?lang=en"))


def test_exports_are_for_hr_and_supervisors_only(stack):
    staff = stack.browser()
    staff.login(STAFF_A[0])
    for path in ("/hr/ekspor", "/hr/ekspor/rencana.xlsx", "/tim/ekspor", "/tim/ekspor/predikat.xlsx"):
        resp = staff.get(path)
        assert resp.status_code == 403 and resp.mimetype == "text/html", path
    hr = stack.browser()
    hr.login("hr:PKMB")
    assert hr.get("/tim/ekspor/rencana.xlsx").status_code == 403  # HR has no team; it has the agency's export
    assert hr.get("/hr/ekspor/tidak-ada.xlsx").status_code == 404
    resp = hr.get("/hr/ekspor/rencana.xlsx?unit_code=NOPE")
    assert resp.status_code == 404 and "Unit kerja tidak dikenal di instansi Anda." in text(resp)


# ------------------------------------------------------------------ bulk approve


def _submitted_to_head(org):
    """Kasi A's and kasi B's SKPs submitted to the head; staff A0's submitted to kasi A."""
    hp = org.head_plan()
    plans = {KASI_A: org.cascade(hp, KASI_A), KASI_B: org.cascade(hp, KASI_B, which=1)}
    plans[STAFF_A[0]] = org.cascade(plans[KASI_A], STAFF_A[0])
    for nip, p in plans.items():
        assert org.submit(p["id"], nip).status_code == 200
    return plans


def test_bulk_approve_confirms_who_then_refuses_the_one_outside_the_line_by_name(stack):
    org = stack.org
    plans = _submitted_to_head(org)
    head = stack.browser()
    head.login(HEAD)
    resp = head.get("/tim/massal/setujui")
    page = text(resp)
    assert resp.status_code == 200 and "Setujui SKP sekaligus" in page
    assert "Siti Aminah" in page and "Agus Salim" in page and "Rina Wati" not in page  # only my direct reports
    # nothing ticked: the error beside the list, nothing done
    resp = head.post("/tim/massal/setujui/konfirmasi", {})
    assert resp.status_code == 422 and "Pilih setidaknya satu pegawai." in text(resp)
    assert re.search(r'id="e-item"', text(resp))
    # the two kasi and, from a stale or crafted form, staff A0 (whose penilai is kasi A)
    ka, kb, outsider = plans[KASI_A]["id"], plans[KASI_B]["id"], plans[STAFF_A[0]]["id"]
    ids = [ka, outsider, kb]  # the refused one in the middle: the rest goes on after it
    resp = head.post("/tim/massal/setujui/konfirmasi", {"item": [str(i) for i in ids]})
    confirm = plain(resp)
    assert resp.status_code == 200 and "Anda akan menyetujui SKP 3 pegawai berikut" in confirm
    assert all(n in confirm for n in ("Siti Aminah", "Agus Salim", "Rina Wati")) and "Setujui 3 SKP" in confirm
    assert all(org.plan(i)["status"] == "submitted" for i in ids)  # the confirmation changes nothing
    resp = head.post("/tim/massal/setujui/jalankan", {"item": [str(i) for i in ids]})
    assert resp.status_code == 200
    result = plain(resp)
    assert "2 berhasil, 1 ditolak." in result
    table = text(resp)
    assert re.search(
        r'class="ok" data-id="%d">\s*<th scope="row">Siti Aminah</th>\s*<td><span class="badge s-approved">Disetujui'
        % ka,
        table,
    )
    assert re.search(r'class="ok" data-id="%d">\s*<th scope="row">Agus Salim</th>' % kb, table)
    refused = re.search(r'class="refused" data-id="%d">(.*?)</tr>' % outsider, table, re.S).group(1)
    assert "Rina Wati" in refused and "Ditolak" in refused and "Hanya pejabat penilai kinerja" in refused
    assert [org.plan(i)["status"] for i in (ka, kb, outsider)] == ["approved", "approved", "submitted"]
    assert org.plan(ka)["approved_by"] == HEAD
    # each approval audited on its own
    audit = org.get("/audit?entity_type=plan&limit=200", org.hr).get_json()["items"]
    approved = [a for a in audit if a["action"] == "plan.approved"]
    assert sorted(int(a["entity_id"]) for a in approved) == sorted([ka, kb])
    # another section's head: the plan is hidden from them, refused by the name the confirmation showed
    kasi_b = stack.browser()
    kasi_b.login(KASI_B)
    kasi_b.get("/tim/massal/setujui")
    sa0 = plans[STAFF_A[0]]["id"]
    confirm = plain(kasi_b.post("/tim/massal/setujui/konfirmasi", {"item": [str(sa0)]}))
    assert f"SKP nomor {sa0}" in confirm and "Rina Wati" not in confirm  # nothing of it leaks
    resp = kasi_b.post("/tim/massal/setujui/jalankan", {"item": [str(sa0)], f"label.{sa0}": f"SKP nomor {sa0}"})
    assert "0 berhasil, 1 ditolak." in plain(resp) and f"SKP nomor {sa0}" in plain(resp)
    assert org.plan(sa0)["status"] == "submitted"


def test_bulk_approve_in_english_and_forbidden_to_non_supervisors(stack):
    org = stack.org
    plans = _submitted_to_head(org)
    head = stack.browser()
    head.login(HEAD)
    page = plain(head.get("/tim/massal/setujui?lang=en"))
    assert "Approve SKPs in bulk" in page and "Continue to confirmation" in page
    ids = [str(plans[KASI_A]["id"]), str(plans[STAFF_A[0]]["id"])]
    assert "You are about to approve the SKP of these 2 employees" in plain(
        head.post("/tim/massal/setujui/konfirmasi", {"item": ids})
    )
    result = plain(head.post("/tim/massal/setujui/jalankan", {"item": ids}))
    assert "1 done, 1 refused." in result and "Approved" in result and "Refused" in result
    assert "Only the penilai (direct superior) or their acting official can do this." in result
    assert head.post("/tim/massal/setujui/jalankan", {"item": ["x"]}).status_code == 422
    for who in (STAFF_A[1], "hr:PKMB"):
        b = stack.browser()
        b.login(who)
        for path in ("/tim/massal/setujui", "/tim/massal/tandatangani"):
            assert b.get(path).status_code == 403, (who, path)
        resp = b.post("/tim/massal/setujui/jalankan", {"item": ids})
        assert resp.status_code == 403 and "Tidak berwenang" in text(resp)
    assert org.plan(plans[KASI_B]["id"])["status"] == "submitted"
    assert stack.browser().get("/tim/massal/setujui", follow_redirects=False).status_code == 302  # signed out


def confirmed(resp) -> dict:
    """The confirmation page's form as the browser sends it: the items with their labels and versions."""
    form: dict = {}
    for name, value in re.findall(
        r'<input type="hidden" name="((?:item|label|version)[^"]*)" value="([^"]*)">', text(resp)
    ):
        form.setdefault(name, []).append(html.unescape(value))
    return form


def test_bulk_approve_refuses_a_plan_changed_since_the_confirmation(stack):
    org = stack.org
    plans = _submitted_to_head(org)
    ka, kb = plans[KASI_A]["id"], plans[KASI_B]["id"]
    head = stack.browser()
    head.login(HEAD)
    head.get("/tim/massal/setujui")
    form = confirmed(head.post("/tim/massal/setujui/konfirmasi", {"item": [str(ka), str(kb)]}))
    assert form["item"] == [str(ka), str(kb)] and form[f"label.{kb}"] == ["Agus Salim"]
    # meanwhile (another tab) the head returns kasi B's SKP and kasi B submits it again, changed
    assert org.post(f"/plans/{kb}/return", org.as_(HEAD), {"note": "Perbaiki target"}).status_code == 200
    assert org.submit(kb, KASI_B).status_code == 200
    result = plain(head.post("/tim/massal/setujui/jalankan", form))
    assert "1 berhasil, 1 ditolak." in result
    assert "Agus Salim Ditolak Telah diubah sejak Anda mengonfirmasi; buka dan periksa kembali." in result
    assert org.plan(ka)["status"] == "approved" and org.plan(kb)["status"] == "submitted"


# ------------------------------------------------------------------ bulk sign


def test_bulk_sign_signs_mine_and_refuses_the_one_i_do_not_rate_by_name(stack):
    team = Team(stack).to_annual()
    for unit in ("SEK-A", "SEK-B"):  # the kasi are heads of unit: their hasil is the unit result (ISTIMEWA: no minimum)
        r = team.api(
            "PUT",
            "/org-results",
            None,
            {"cycle_id": team.org.cycle_id, "period_seq": 0, "unit_code": unit, "result": "ISTIMEWA"},
        )
        assert r.status_code == 200, r.get_json()
    for nip in (KASI_A, KASI_B, STAFF_A[0]):
        team.rate(nip, "meets", "meets")
    team.advance_to("sign_off")
    evs = {nip: team.evaluation(nip)["id"] for nip in (KASI_A, KASI_B, STAFF_A[0])}
    head = stack.browser()
    head.login(HEAD)
    page = text(head.get("/tim/massal/tandatangani"))
    assert "Tandatangani evaluasi sekaligus" in page and "Siti Aminah" in page and "Agus Salim" in page
    assert "Rina Wati" not in page  # the head is her atasan penilai, not her penilai
    assert "/tim/massal/tandatangani" in text(head.get("/tim/evaluasi"))
    ids = [str(evs[KASI_A]), str(evs[STAFF_A[0]]), str(evs[KASI_B])]  # the one I do not rate in the middle
    confirm = plain(head.post("/tim/massal/tandatangani/konfirmasi", {"item": ids}))
    assert "Anda akan menandatangani evaluasi 3 pegawai berikut" in confirm and "Rina Wati" in confirm
    assert team.evaluation(KASI_A)["status"] == "rated"
    resp = head.post("/tim/massal/tandatangani/jalankan", {"item": ids})
    result = plain(resp)
    assert "2 berhasil, 1 ditolak." in result
    refused = re.search(r'class="refused" data-id="%s">(.*?)</tr>' % ids[1], text(resp), re.S).group(1)
    assert "Rina Wati" in refused and "Hanya pejabat penilai kinerja yang dapat melakukan ini." in refused
    assert [team.evaluation(n)["status"] for n in (KASI_A, KASI_B, STAFF_A[0])] == ["signed", "signed", "rated"]
    assert team.evaluation(KASI_A)["content_hash"]  # each signed on its own: a frozen document each
    # the penilai signs the rest in English; a second run refuses what is signed already, by name
    kasi = stack.browser()
    kasi.login(KASI_A)
    page = plain(kasi.get("/tim/massal/tandatangani?lang=en"))
    assert "Sign evaluations in bulk" in page and "Rina Wati" in page
    result = plain(kasi.post("/tim/massal/tandatangani/jalankan", {"item": [ids[1], ids[0]]}))
    assert "1 done, 1 refused." in result and "Signed" in result and "Siti Aminah" in result
    assert team.evaluation(STAFF_A[0])["status"] == "signed" and team.evaluation(STAFF_B[0])["status"] != "signed"


def test_the_catalogue_has_every_key_of_these_pages_in_both_languages(stack):
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "services" / "portal"
    own = {lang: json.loads((root / "messages" / "bulk" / f"{lang}.json").read_text()) for lang in ("id", "en")}
    assert set(own["id"]) == set(own["en"]) and all(k.startswith(("bulk.", "export.")) for k in own["id"])
    sources = [root / "pages_exports.py", root / "pages_bulk.py", *(root / "templates" / "portal").glob("[be]*/*.html")]
    used = set()
    for path in sources:
        used |= set(re.findall(r"""\bt\(\s*f?["']([a-z_]+(?:\.[a-z_0-9{}'\[\]]+)+)["']""", path.read_text()))
    assert len(used) > 20
    merged = {lang: json.loads((root / "messages" / f"{lang}.json").read_text()) | own[lang] for lang in own}
    for lang in merged:
        merged[lang] |= json.loads((root / "messages" / "hr" / f"{lang}.json").read_text())
        missing = sorted(
            k for k in used if "{" not in k and k.startswith(("bulk.", "export.")) and k not in merged[lang]
        )
        assert not missing, (lang, missing)
    # the dynamic keys, rendered: no page shows a key instead of words
    b = stack.browser()
    b.login(HEAD)
    for lang in ("id", "en"):
        for path in ("/tim/massal/setujui", "/tim/massal/tandatangani", "/tim/ekspor"):
            assert not re.search(r"\b(bulk|export)\.[a-z_]+", plain(b.get(f"{path}?lang={lang}"))), (lang, path)
