"""The penilai's ekspektasi khusus pimpinan in the portal (issue 15, Deliver 2): one subordinate's page
(/tim/skp/<id>/ekspektasi) with the seven values, errors beside the fields, saving with If-Match and a
stale version that keeps what was typed; the approval that names the values still missing; and the
team's bulk page, where each SKP is written on its own and one outside the reporting line is refused
by name while the rest are done."""

from __future__ import annotations

import html
import re

from tests.plans.support import HEAD, KASI_A, KASI_B, STAFF_A, iki, rhk
from tests.portal.support import text
from tests.portal.test_employee import BERAKHLAK, errors_of

TEXT = "Menyerahkan laporan bulanan paling lambat tanggal 5 setiap bulan."


def draft(org, nip, parent, behaviour=None) -> dict:
    """``nip``'s SKP as a draft, with no expectations unless given (as the employee's form now leaves them)."""
    return org.create_plan(
        nip,
        [rhk("Tersusunnya laporan bulanan", parent=parent["rhk"][0]["id"], ikis=[iki("kuantitas", 12, "laporan")])],
        behaviour=behaviour or {},
    )


def form_of(page: str) -> dict:
    data = {m.group(1): html.unescape(m.group(2)) for m in re.finditer(r'name="([^"]+)" value="([^"]*)"', page)}
    for m in re.finditer(r'<textarea id="f-([^"]+)" name="[^"]+"[^>]*>([^<]*)</textarea>', page, re.S):
        data[m.group(1)] = html.unescape(m.group(2))
    return data


def test_the_penilai_writes_one_subordinates_expectations(stack):
    org = stack.org
    ka = org.cascade(org.head_plan(), KASI_A, approver=HEAD)
    plan = draft(org, STAFF_A[0], ka, behaviour={"loyal": "Teks lama yang ditulis pegawai."})
    b = stack.browser()
    b.login(KASI_A)
    team = text(b.get("/tim"))  # linked from the team's table and the SKP review
    assert f'href="/tim/skp/{plan["id"]}/ekspektasi">Ekspektasi</a>' in team and 'href="/tim/ekspektasi" ' in team
    review = text(b.get(f"/tim/skp/{plan['id']}"))
    assert f'href="/tim/skp/{plan["id"]}/ekspektasi"' in review
    assert "setelah Anda menulis ekspektasi khusus pimpinan untuk: Berorientasi Pelayanan" in review
    assert "ditulis oleh pegawai, bukan oleh Anda: Loyal" in review
    page = text(b.get(f"/tim/skp/{plan['id']}/ekspektasi"))
    assert "Ekspektasi khusus pimpinan untuk Rina Wati" in page
    for v in BERAKHLAK:
        assert f'name="behaviour-{v}"' in page
    assert "Berorientasi Pelayanan" in page and "Teks lama yang ditulis pegawai." in page
    assert "Teks saat ini ditulis oleh pegawai, belum oleh Anda" in page
    # errors beside the fields, nothing saved
    data = form_of(page) | {"behaviour-akuntabel": "Rajin", "behaviour-adaptif": "x" * 2001, "behaviour-harmonis": TEXT}
    resp = b.post(f"/tim/skp/{plan['id']}/ekspektasi", data)
    errs = errors_of(text(resp))
    assert resp.status_code == 422
    assert errs["behaviour-akuntabel"].startswith("Terlalu singkat")
    assert errs["behaviour-adaptif"] == "Terlalu panjang: 2001 karakter, paling banyak 2000."
    assert "behaviour-harmonis" not in errs and TEXT in text(resp)  # what was typed stays
    assert org.plan(plan["id"])["behaviour"] == {"loyal": "Teks lama yang ditulis pegawai."}
    # saved: the penilai's now, shown to the employee on the SKP
    data = form_of(page) | {f"behaviour-{v}": f"{TEXT} ({v})" for v in BERAKHLAK}
    resp = b.post(f"/tim/skp/{plan['id']}/ekspektasi", data)
    assert "Ekspektasi khusus pimpinan untuk Rina Wati disimpan." in text(resp)
    after = org.plan(plan["id"])
    assert after["behaviour_by_penilai"] == list(BERAKHLAK) and after["behaviour"]["loyal"] == f"{TEXT} (loyal)"
    audit = org.get(f"/audit?subject={STAFF_A[0]}&limit=200", org.hr).get_json()
    assert any(a["action"] == "plan.behaviour_set" for a in audit["items"])
    staff = stack.browser()
    staff.login(STAFF_A[0])
    mine = text(staff.get(f"/skp/{plan['id']}"))
    assert f"{TEXT} (kolaboratif)" in mine and "Belum ditulis oleh atasan" not in mine
    # another penilai's subordinate, and the employee themself, cannot use the page
    other = stack.browser()
    other.login(KASI_B)
    assert other.get(f"/tim/skp/{plan['id']}/ekspektasi").status_code == 403
    assert staff.get(f"/tim/skp/{plan['id']}/ekspektasi").status_code == 403
    head = stack.browser()  # in her reporting line, but not her penilai: reads them, writes nothing
    head.login(HEAD)
    page = text(head.get(f"/tim/skp/{plan['id']}/ekspektasi"))
    assert "Hanya pejabat penilai pegawai ini" in page and 'name="behaviour-loyal"' not in page
    assert f"{TEXT} (loyal)" in page
    resp = head.post(f"/tim/skp/{plan['id']}/ekspektasi", {"behaviour-loyal": "Ditulis oleh kepala puskesmas."})
    assert resp.status_code == 403 and org.plan(plan["id"])["behaviour"]["loyal"] == f"{TEXT} (loyal)"


def test_a_stale_version_keeps_what_was_typed_beside_what_is_saved(stack):
    org = stack.org
    ka = org.cascade(org.head_plan(), KASI_A, approver=HEAD)
    plan = draft(org, STAFF_A[0], ka)
    b = stack.browser()
    b.login(KASI_A)
    page = text(b.get(f"/tim/skp/{plan['id']}/ekspektasi"))
    # meanwhile someone else writes (here: through the API, with the current version)
    etag = org.get(f"/plans/{plan['id']}", org.as_(KASI_A)).headers["ETag"]
    r = org.put(
        f"/plans/{plan['id']}/behaviour", org.as_(KASI_A) | {"If-Match": etag}, {"behaviour": {"kompeten": TEXT}}
    )
    assert r.status_code == 200
    mine = "Mengikuti satu pelatihan perencanaan tahun ini."
    resp = b.post(f"/tim/skp/{plan['id']}/ekspektasi", form_of(page) | {"behaviour-kompeten": mine})
    body = text(resp)
    assert resp.status_code == 409 and "SKP ini berubah sejak Anda membukanya" in body
    assert mine in body and "Tersimpan saat ini:" in body and TEXT in body  # nothing lost, both in sight
    assert org.plan(plan["id"])["behaviour"] == {"kompeten": TEXT}
    # the page now carries the current version: saving again writes what was typed
    resp = b.post(f"/tim/skp/{plan['id']}/ekspektasi", form_of(body) | {"behaviour-kompeten": mine})
    assert "disimpan" in text(resp) and org.plan(plan["id"])["behaviour"]["kompeten"] == mine


def test_approval_names_the_values_still_missing(stack):
    org = stack.org
    ka = org.cascade(org.head_plan(), KASI_A, approver=HEAD)
    plan = draft(org, STAFF_A[0], ka, behaviour={v: f"{TEXT} {v}" for v in BERAKHLAK[:5]})
    assert org.submit(plan["id"], STAFF_A[0]).status_code == 200
    b = stack.browser()
    b.login(KASI_A)
    page = text(b.get(f"/tim/skp/{plan['id']}"))
    etag = html.unescape(re.search(r'name="etag" value="([^"]+)"', page).group(1))
    resp = b.post(f"/tim/skp/{plan['id']}/approve", {"etag": etag})
    body = text(resp)
    assert resp.status_code == 422
    assert "SKP belum disetujui: ekspektasi khusus pimpinan belum ditulis untuk Adaptif, Kolaboratif." in body
    assert org.plan(plan["id"])["status"] == "submitted"
    page = text(b.get(f"/tim/skp/{plan['id']}/ekspektasi"))
    data = form_of(page) | {"behaviour-adaptif": f"{TEXT} adaptif", "behaviour-kolaboratif": f"{TEXT} kolaboratif"}
    assert "disimpan" in text(b.post(f"/tim/skp/{plan['id']}/ekspektasi", data))
    page = text(b.get(f"/tim/skp/{plan['id']}"))
    etag = html.unescape(re.search(r'name="etag" value="([^"]+)"', page).group(1))
    assert "SKP Rina Wati disetujui." in text(b.post(f"/tim/skp/{plan['id']}/approve", {"etag": etag}))
    # approved: the page only shows them (a change goes through a revision of the SKP)
    page = text(b.get(f"/tim/skp/{plan['id']}/ekspektasi"))
    assert "SKP ini sudah disetujui" in page and 'name="behaviour-loyal"' not in page


def test_bulk_writes_each_and_refuses_one_outside_my_line_by_name(stack):
    org = stack.org
    hp = org.head_plan()
    ka = draft(org, KASI_A, hp)  # the head's two reports: drafts without expectations
    kb = draft(org, KASI_B, hp)
    rina = draft(org, STAFF_A[0], ka)  # the head's reporting line, but kasi A is her penilai
    b = stack.browser()
    b.login(HEAD)
    page = text(b.get("/tim/ekspektasi"))
    table = page[page.index('id="expectation-people"') :]
    assert "Siti Aminah" in table and "Agus Salim" in table and "Rina Wati" not in table
    assert table.count("0 dari 7 nilai") == 2 and "Belum: Berorientasi Pelayanan, Akuntabel" in table
    # nothing chosen and a text too short: both said, nothing written
    resp = b.post("/tim/ekspektasi/konfirmasi", {"behaviour-loyal": "Setia"})
    errs = errors_of(text(resp))
    assert resp.status_code == 422 and errs["item"] == "Pilih setidaknya satu pegawai."
    assert errs["behaviour-loyal"].startswith("Terlalu singkat")
    texts = {"behaviour-loyal": TEXT, "behaviour-kolaboratif": "Hadir dan aktif di rapat koordinasi lintas seksi."}
    chosen = {"item": [str(ka["id"]), str(kb["id"]), str(rina["id"])]}  # Rina's SKP added to the form by hand
    resp = b.post("/tim/ekspektasi/konfirmasi", texts | chosen)
    confirm = text(resp)
    listed = confirm[confirm.index('id="confirm-list"') : confirm.index("</ol>")]
    assert "Siti Aminah" in listed and "Agus Salim" in listed and "Rina Wati" in listed  # everyone named
    assert TEXT in confirm and "tidak diubah" in confirm  # the values left empty stay as they are
    assert org.plan(ka["id"])["behaviour"] == {}  # nothing written before the confirmation
    data = {m.group(1): html.unescape(m.group(2)) for m in re.finditer(r'name="([^"]+)" value="([^"]*)"', confirm)}
    data["item"] = re.findall(r'name="item" value="(\d+)"', confirm)
    resp = b.post("/tim/ekspektasi/jalankan", data)
    result = text(resp)
    assert "2 berhasil, 1 ditolak." in result
    refused = re.search(r'<tr class="refused" data-id="(\d+)">\s*<th scope="row">([^<]+)</th>', result)
    assert refused and int(refused.group(1)) == rina["id"] and refused.group(2) == "Rina Wati"
    for plan in (ka, kb):
        after = org.plan(plan["id"])
        assert after["behaviour"] == {"loyal": TEXT, "kolaboratif": texts["behaviour-kolaboratif"]}
        assert after["behaviour_by_penilai"] == ["loyal", "kolaboratif"]
    assert org.plan(rina["id"])["behaviour"] == {}
    # the list now says what is written per value
    table = text(b.get("/tim/ekspektasi"))
    assert table.count("2 dari 7 nilai") == 2


def test_bulk_refuses_an_skp_changed_since_the_confirmation(stack):
    org = stack.org
    hp = org.head_plan()
    ka, kb = draft(org, KASI_A, hp), draft(org, KASI_B, hp)
    b = stack.browser()
    b.login(HEAD)
    b.get("/tim/ekspektasi")
    confirm = text(b.post("/tim/ekspektasi/konfirmasi", {"behaviour-adaptif": TEXT, "item": [ka["id"], kb["id"]]}))
    data = {m.group(1): html.unescape(m.group(2)) for m in re.finditer(r'name="([^"]+)" value="([^"]*)"', confirm)}
    data["item"] = re.findall(r'name="item" value="(\d+)"', confirm)
    current = org.plan(kb["id"])  # Agus saves his draft after the confirmation was shown
    r = org.put(
        f"/plans/{kb['id']}",
        org.as_(KASI_B) | {"If-Match": f'"{current["version"]}"'},
        {"approach": "kuantitatif", "rhk": current["rhk"], "behaviour": {}},
    )
    assert r.status_code == 200
    result = text(b.post("/tim/ekspektasi/jalankan", data))
    assert "1 berhasil, 1 ditolak." in result and "Telah diubah sejak Anda mengonfirmasi" in result
    assert org.plan(ka["id"])["behaviour"] == {"adaptif": TEXT} and org.plan(kb["id"])["behaviour"] == {}


def test_in_english(stack):
    org = stack.org
    ka = org.cascade(org.head_plan(), KASI_A, approver=HEAD)
    plan = draft(org, STAFF_A[0], ka)
    b = stack.browser()
    b.login(KASI_A)
    page = text(b.get(f"/tim/skp/{plan['id']}/ekspektasi?lang=en"))
    assert "Leader&#39;s specific expectations for Rina Wati" in page
    resp = b.post(f"/tim/skp/{plan['id']}/ekspektasi", form_of(page) | {"behaviour-loyal": "Loyal"})
    assert errors_of(text(resp))["behaviour-loyal"].startswith("Too short: describe an observable behaviour")
    staff = stack.browser()
    staff.login(STAFF_A[0])
    assert text(staff.get(f"/skp/{plan['id']}?lang=en")).count("Not yet written by the supervisor") == 7


def test_bulk_approval_names_the_expectations_still_missing(stack):
    org = stack.org
    ka = org.cascade(org.head_plan(), KASI_A, approver=HEAD)
    ready = draft(org, STAFF_A[0], ka, behaviour={v: f"{TEXT} {v}" for v in BERAKHLAK})
    waiting = draft(org, STAFF_A[1], ka, behaviour={v: f"{TEXT} {v}" for v in BERAKHLAK[1:]})
    for plan, nip in ((ready, STAFF_A[0]), (waiting, STAFF_A[1])):
        assert org.submit(plan["id"], nip).status_code == 200
    b = stack.browser()
    b.login(KASI_A)
    b.get("/tim/massal/setujui")
    resp = b.post("/tim/massal/setujui/jalankan", {"item": [str(ready["id"]), str(waiting["id"])]})
    result = text(resp)
    assert "1 berhasil, 1 ditolak." in result
    refused = re.search(r'class="refused" data-id="%d">(.*?)</tr>' % waiting["id"], result, re.S).group(1)
    assert "Dewi Lestari" in refused
    assert "ekspektasi khusus pimpinan belum ditulis untuk Berorientasi Pelayanan" in refused
    assert org.plan(waiting["id"])["status"] == "submitted" and org.plan(ready["id"])["status"] == "approved"


def test_hr_writes_the_top_officials_expectations_and_records_the_approval(stack):
    """The head of the agency's penilai (the regional head) is outside the directory: HR finds the
    SKP on the cycle's page, writes the seven expectations and records the approval in the portal."""
    org = stack.org
    plan = org.head_plan()
    assert org.submit(plan["id"], HEAD).status_code == 200
    hr = stack.browser()
    hr.login("hr:PKMB")
    cycle = text(hr.get(f"/hr/siklus/{org.cycle_id}"))
    assert "SKP pejabat tertinggi" in cycle and f'href="/tim/skp/{plan["id"]}">Budi Santoso</a>' in cycle
    review = text(hr.get(f"/tim/skp/{plan['id']}"))
    assert f'action="/tim/skp/{plan["id"]}/approve"' in review
    page = text(hr.get(f"/tim/skp/{plan['id']}/ekspektasi"))
    data = form_of(page) | {f"behaviour-{v}": f"{TEXT} ({v})" for v in BERAKHLAK}
    assert "Ekspektasi khusus pimpinan untuk Budi Santoso disimpan." in text(
        hr.post(f"/tim/skp/{plan['id']}/ekspektasi", data)
    )
    review = hr.get(f"/tim/skp/{plan['id']}")
    etag = html.unescape(re.search(r'name="etag" value="([^"]*)"', text(review)).group(1))
    hr.post(f"/tim/skp/{plan['id']}/approve", {"etag": etag})
    assert org.plan(plan["id"])["status"] == "approved"
    # HR decides nobody else's SKP here: a kasi's is the head's to approve
    ka = draft(org, KASI_A, org.plan(plan["id"]))
    assert org.submit(ka["id"], KASI_A).status_code == 200
    assert f'action="/tim/skp/{ka["id"]}/approve"' not in text(hr.get(f"/tim/skp/{ka['id']}"))
