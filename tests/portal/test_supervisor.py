"""The superior's pages: the team dashboard, today's team logs (page and fragment), and the SKP
review with approve and return with a required note."""

from __future__ import annotations

import re

from tests.plans.support import HEAD, KASI_A, KASI_B, STAFF_A, STAFF_B, iki, rhk
from tests.portal.support import text
from tests.portal.test_employee import BERAKHLAK, errors_of


def submitted(org, nip=STAFF_A[0], parent=None):
    """``nip``'s SKP, complete and submitted to their superior (KASI_A's plan approved first)."""
    parent = parent or org.cascade(org.head_plan(), KASI_A, approver=HEAD)
    plan = org.create_plan(
        nip,
        [rhk("Tersusunnya laporan bulanan", parent=parent["rhk"][0]["id"], ikis=[iki("kuantitas", 12, "laporan")])],
        behaviour={v: f"Ekspektasi {v}" for v in BERAKHLAK},
    )
    assert org.submit(plan["id"], nip).status_code == 200
    return plan, parent


def test_team_dashboard_lists_waiting_plans_and_everyone(stack):
    org = stack.org
    plan, kasi = submitted(org)
    org.cascade(kasi, STAFF_A[1])  # a draft
    b = stack.browser()
    b.login(KASI_A)
    page = text(b.get("/tim"))
    assert "1 SKP diajukan kepada Anda." in page
    waiting = page[page.index("SKP menunggu persetujuan") : page.index("Evaluasi untuk dinilai")]
    assert f'href="/tim/skp/{plan["id"]}">Rina Wati</a>' in waiting and "Dewi Lestari" not in waiting
    table = page[page.index("SKP bawahan langsung") :]
    assert "Dewi Lestari" in table and "Draf" in table and "Joko Widodo" in table and "belum menyusun SKP" in table
    assert "0 evaluasi menunggu penilaian Anda." in page
    assert 'src="/assets/team.js"' in page and 'data-src="/tim/log-hari-ini"' in page
    assert "Penyelarasan RHK saya" in page  # KASI_A has an SKP: its coverage is shown
    kasi_b = stack.browser()
    kasi_b.login(KASI_B)  # no SKP of their own yet: a link to draft it
    assert f'href="/skp/new?cycle_id={org.cycle_id}">Susun SKP</a>' in text(kasi_b.get("/tim"))


def test_team_page_is_for_superiors_only(stack):
    b = stack.browser()
    b.login(STAFF_A[0])
    resp = b.get("/tim")
    assert resp.status_code == 403 and "Tidak berwenang" in text(resp)


def test_todays_team_logs_on_the_page_and_in_the_fragment(stack):
    org = stack.org
    for nip, activity in ((STAFF_A[0], "Menyusun laporan"), (STAFF_A[1], "Entri data"), (STAFF_B[0], "Survei jalan")):
        r = org.post("/daily-logs", org.as_(nip), {"date": "2026-01-05", "activity": activity, "minutes": 45})
        assert r.status_code == 201, r.get_json()
    org.post("/daily-logs", org.as_(STAFF_A[2]), {"date": "2026-01-02", "activity": "Kemarin dulu", "minutes": 30})
    b = stack.browser()
    b.login(KASI_A)
    page = text(b.get("/tim"))
    assert "Menyusun laporan" in page and "Rina Wati" in page and "Entri data" in page
    assert "Survei jalan" not in page and "Kemarin dulu" not in page  # another team; another day
    frag = b.get("/tim/log-hari-ini")
    body = text(frag)
    assert frag.status_code == 200 and "<html" not in body and "Menyusun laporan" in body and "08:00" in body
    org.post("/daily-logs", org.as_(STAFF_A[2]), {"date": "2026-01-05", "activity": "Baru saja", "minutes": 10})
    assert "Baru saja" in text(b.get("/tim/log-hari-ini"))
    other = stack.browser()
    other.login(KASI_B)
    assert "Menyusun laporan" not in text(other.get("/tim/log-hari-ini"))
    assert "Survei jalan" in text(other.get("/tim/log-hari-ini"))


def test_review_shows_the_plan_with_my_rhk_and_approves(stack):
    org = stack.org
    plan, kasi = submitted(org)
    b = stack.browser()
    b.login(KASI_A)
    page = text(b.get(f"/tim/skp/{plan['id']}"))
    assert "SKP Rina Wati" in page and "Tersusunnya laporan bulanan" in page
    assert kasi["rhk"][0]["description"] in page  # the RHK of mine it supports, by its text
    assert "Ekspektasi kolaboratif" in page and "Setujui SKP" in page and "Kembalikan dengan catatan" in page
    resp = b.post(f"/tim/skp/{plan['id']}/approve", {"etag": f'"{org.plan(plan["id"])["version"]}"'})
    assert "SKP Rina Wati disetujui." in text(resp) and "Setujui SKP" not in text(resp)
    after = org.plan(plan["id"])
    assert after["status"] == "approved" and after["revision"] == 1 and after["approved_by"] == KASI_A
    assert "1 SKP diajukan" not in text(b.get("/tim"))
    version = text(b.get(f"/skp/{plan['id']}/versi/1"))  # the approved version, as approved
    assert "SKP revisi 1 (disetujui)" in version and kasi["rhk"][0]["description"] in version


def test_return_needs_a_note_beside_the_field(stack):
    org = stack.org
    plan, _ = submitted(org)
    b = stack.browser()
    b.login(KASI_A)
    b.get(f"/tim/skp/{plan['id']}")
    resp = b.post(f"/tim/skp/{plan['id']}/return", {"note": "   "})
    assert resp.status_code == 422
    page = text(resp)
    assert errors_of(page) == {"note": "Tulis catatan agar pegawai tahu apa yang perlu diperbaiki."}
    assert re.search(r'id="f-note"[^>]*aria-invalid="true"', page)
    assert org.plan(plan["id"])["status"] == "submitted"
    resp = b.post(f"/tim/skp/{plan['id']}/return", {"note": "Tambahkan IKI kualitas untuk RHK 1."})
    assert "dikembalikan dengan catatan" in text(resp)
    after = org.plan(plan["id"])
    assert after["status"] == "returned" and after["return_note"] == "Tambahkan IKI kualitas untuk RHK 1."
    assert "Tambahkan IKI kualitas untuk RHK 1." in text(b.get(f"/tim/skp/{plan['id']}"))


def test_only_the_direct_superior_decides(stack):
    org = stack.org
    plan, _ = submitted(org)
    head = stack.browser()
    head.login(HEAD)  # an indirect superior: may read, not decide
    page = text(head.get(f"/tim/skp/{plan['id']}"))
    assert "Tersusunnya laporan bulanan" in page and "Setujui SKP" not in page and "pejabat penilai lain" in page
    resp = head.post(f"/tim/skp/{plan['id']}/approve")
    assert resp.status_code == 403 and "Tidak berwenang" in text(resp)
    other = stack.browser()
    other.login(KASI_B)  # another section's head: not even the plan
    resp = other.get(f"/tim/skp/{plan['id']}")
    assert resp.status_code == 403 and "Tersusunnya laporan bulanan" not in text(resp)
    assert other.post(f"/tim/skp/{plan['id']}/return", {"note": "Bukan urusan saya"}).status_code == 403
    assert org.plan(plan["id"])["status"] == "submitted"


def test_deciding_twice_says_why(stack):
    org = stack.org
    plan, _ = submitted(org)
    b = stack.browser()
    b.login(KASI_A)
    b.get(f"/tim/skp/{plan['id']}")
    b.post(f"/tim/skp/{plan['id']}/approve")
    resp = b.post(f"/tim/skp/{plan['id']}/return", {"note": "Terlambat"})
    assert resp.status_code == 409 and org.plan(plan["id"])["status"] == "approved"


def test_a_superior_opening_a_subordinates_skp_link_gets_the_review(stack):
    org = stack.org
    plan, _ = submitted(org)
    b = stack.browser()
    b.login(KASI_A)
    resp = b.get(f"/skp/{plan['id']}", follow_redirects=False)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/tim/skp/{plan['id']}")


def test_team_dashboard_shows_how_my_rhk_are_supported(stack):
    org = stack.org
    head = org.head_plan()
    kasi = org.approved_plan(
        KASI_A,
        [rhk("RHK kasi pertama", parent=head["rhk"][0]["id"]), rhk("RHK kasi kedua", parent=head["rhk"][1]["id"])],
        HEAD,
    )
    draft = org.cascade(kasi, STAFF_A[0])  # supports the first, once approved
    b = stack.browser()
    b.login(KASI_A)
    page = text(b.get("/tim"))
    assert "0 dari 2 RHK Anda didukung SKP bawahan." in page  # a draft is no support yet (issue 15, bug 4)
    assert "belum disetujui, sehingga belum dihitung sebagai dukungan: Rina Wati" in page
    assert org.submit(draft["id"], STAFF_A[0]).status_code == 200
    assert org.approve(draft["id"], KASI_A).status_code == 200
    page = text(b.get("/tim"))
    cov = page[page.index("Penyelarasan RHK saya") : page.index("Log harian tim")]
    assert "1 dari 2 RHK Anda didukung SKP bawahan." in cov
    first, second = cov[cov.index("RHK kasi pertama") : cov.index("RHK kasi kedua")], cov[cov.index("RHK kasi kedua") :]
    assert "Didukung oleh: Rina Wati" in first and "Belum didukung RHK bawahan." in second
    assert '<progress max="2" value="1"' in cov
