"""An acting official (Plt/Plh) in the portal (issue 15, Deliver 3): HR appoints a staff member who
supervises nobody as Plt of the seksi's head; for the appointment's dates they sign in as a
supervisor, find the seksi's SKPs and evaluations on their pages, rate and sign as Plt — the pages
and the document say so — and after it ends they see none of it."""

from __future__ import annotations

from datetime import timedelta

from tests.plans.support import JAKARTA, KASI_A, STAFF_A, STAFF_B
from tests.portal.support import text
from tests.portal.test_evaluations import Team, etag_of, plain

PLT = STAFF_B[0]  # Andi Pratama, Teknisi Jalan: no reports of his own


def appoint(org, days: int = 30) -> dict:
    start = org.clock().astimezone(JAKARTA).date()
    body = {"acting_nip": PLT, "for_nip": KASI_A, "kind": "plt", "start_date": start.isoformat()}
    r = org.post("/acting", org.hr, body | {"end_date": (start + timedelta(days=days)).isoformat()})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_a_plt_rates_and_signs_for_the_seksi_head_and_the_pages_say_so(stack):
    t = Team(stack).approve_all_plans()
    t.advance_to("monitoring:1:check_in")
    t.realise(STAFF_A[0], 1, [4, 100])
    t.advance_to("monitoring:1:supervisor_evaluation")
    ev = t.evaluation(STAFF_A[0], period_seq=1)
    before = stack.browser()
    before.login(PLT)
    assert before.get("/tim").status_code == 403  # not a supervisor before the appointment
    assert before.get(f"/evaluasi/{ev['id']}/nilai").status_code in (403, 404)

    appoint(stack.org)
    t.sync()
    plt = stack.browser()
    plt.login(PLT)  # the development login makes a Plt/Plh a supervisor
    team = plain(plt.get("/tim"))
    assert "Rina Wati" in team and "Dewi Lestari" in team  # the seksi's SKPs, through the appointment
    assert "Rina Wati" in plain(plt.get("/tim/evaluasi"))
    resp = plt.get(f"/evaluasi/{ev['id']}/nilai")
    page = plain(resp)
    assert resp.status_code == 200 and "Anda bertindak sebagai Plt. Kepala Seksi Perencanaan untuk Siti Aminah" in page
    assert "Simpan penilaian" in page
    resp = plt.post(
        f"/evaluasi/{ev['id']}/nilai",
        {"etag": etag_of(resp), "rating_hasil": "meets", "rating_perilaku": "meets"},
    )
    assert resp.status_code == 200 and "Tandatangani penilaian" in plain(resp), plain(resp)[:2000]
    resp = plt.post(f"/evaluasi/{ev['id']}/tandatangani")
    assert "Penilaian telah ditandatangani" in plain(resp)
    signed = t.evaluation(STAFF_A[0], period_seq=1)
    assert signed["status"] == "signed" and signed["signed_acting"]["nip"] == PLT
    # the employee reads who signed, and as what
    emp = stack.browser()
    emp.login(STAFF_A[0])
    detail = plain(emp.get(f"/evaluasi/{ev['id']}"))
    assert f"oleh Andi Pratama (NIP {PLT}) sebagai Plt. Kepala Seksi Perencanaan" in detail


def test_after_the_appointment_the_plt_sees_nothing_of_the_seksi(stack):
    t = Team(stack).approve_all_plans()
    t.advance_to("monitoring:1:check_in")
    appoint(stack.org, days=3)
    t.sync()
    ev = t.evaluation(STAFF_A[0], period_seq=1)
    plt = stack.browser()
    plt.login(PLT)
    assert plt.get(f"/evaluasi/{ev['id']}").status_code == 200
    stack.clock.advance(days=4)
    assert plt.get(f"/evaluasi/{ev['id']}").status_code in (403, 404)
    assert "Rina Wati" not in text(plt.get("/evaluasi"))


def test_a_plt_approves_the_seksis_skp_alone_or_in_bulk(stack):
    from tests.portal.test_supervisor import submitted

    plan, _ = submitted(stack.org)  # Rina Wati's SKP, submitted to Siti Aminah
    appoint(stack.org)
    stack.pump()
    plt = stack.browser()
    plt.login(PLT)
    team = plain(plt.get("/tim"))
    assert "1 SKP diajukan kepada Anda." in team and "Rina Wati" in team
    review = text(plt.get(f"/tim/skp/{plan['id']}"))
    assert f'action="/tim/skp/{plan["id"]}/approve"' in review  # the decision is the Plt's to make
    bulk = plain(plt.get("/tim/massal/setujui"))
    assert "Rina Wati" in bulk
    resp = plt.post("/tim/massal/setujui/jalankan", {"item": [str(plan["id"])]})
    assert "1 berhasil, 0 ditolak." in plain(resp)
    assert stack.org.plan(plan["id"])["status"] == "approved"
