"""A follow-up's progress (issue 15): HR, the penilai or the owner move it planned → in_progress →
completed (dated, with what was done) or cancelled (with a reason), through PATCH with If-Match;
a transition the status forbids is a 409, a bad field a 422 beside it with nothing kept; the
employee only reads; the list filters by status."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from services.reviews.models import platform_tables as reviews_tables
from tests.plans.support import HEAD, KASI_A, KASI_B, STAFF_B, field_errors, problem

REASON = "Penilaian berdasarkan bukti dukung."
NOTE = "Mengikuti pelatihan penyusunan laporan (3 hari) dan 4 sesi bimbingan dengan atasan; laporan kini tepat waktu."


@pytest.fixture
def fu(chain):
    """The development plan of STAFF_B[0] (Butuh Perbaikan) and the recognition of STAFF_B[1]."""
    chain.advance_to("monitoring:1:check_in")
    chain.set_org_result("SEK-B", "ISTIMEWA")
    chain.advance_to("monitoring:1:supervisor_evaluation")
    for nip, (hasil, perilaku) in {STAFF_B[0]: ("below", "meets"), STAFF_B[1]: ("above", "above")}.items():
        ev = chain.evaluation_of(nip)
        assert chain.rate(ev, KASI_B, hasil, perilaku, deviation_reason=REASON).status_code == 200
        for who, action in ((KASI_B, "sign"), (nip, "acknowledge"), (HEAD, "countersign")):
            r = chain.post(f"/evaluations/{ev['id']}/{action}", chain.as_(who))
            assert r.status_code == 200, r.get_json()
    items = chain.get(f"/followups?cycle_id={chain.org.cycle_id}", chain.hr).get_json()["items"]
    return {i["kind"]: i for i in items}


def _outbox(chain, type_):
    t = reviews_tables.outbox
    with chain.emb.apps["reviews"].extensions["kinerja"].session_factory() as s:
        rows = s.execute(select(t).where(t.c.type == type_).order_by(t.c.id)).mappings()
        return [dict(r)["envelope"] for r in rows]


def _patch(chain, fid, who, body, etag: str | None = "fresh"):
    if etag == "fresh":
        etag = chain.get(f"/followups/{fid}", chain.hr).headers["ETag"]
    headers = {**who, **({"If-Match": etag} if etag else {})}
    return chain.org.client.patch(f"/reviews/api/v1/followups/{fid}", headers=headers, json=body)


def test_a_new_follow_up_is_planned_and_moves_to_completed_with_what_was_done(chain, fu):
    dev = fu["development"]
    assert (dev["status"], dev["completed_at"], dev["completion_note"]) == ("planned", None, None)
    assert dev["penilai_nip"] == KASI_B and dev["owner_nip"] == KASI_B
    one = chain.get(f"/followups/{dev['id']}", chain.as_(STAFF_B[0]))  # the employee reads theirs
    assert one.status_code == 200 and one.headers["ETag"] and one.get_json()["status"] == "planned"
    problem(_patch(chain, dev["id"], chain.hr, {"status": "in_progress"}, etag=None), 428, "etag.required")
    r = _patch(chain, dev["id"], chain.as_(KASI_B), {"status": "in_progress", "completion_note": "Sesi 1 selesai."})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "in_progress" and r.headers["ETag"] != one.headers["ETag"]
    problem(_patch(chain, dev["id"], chain.hr, {"status": "completed"}, etag=one.headers["ETag"]), 412, "etag.stale")
    r = _patch(chain, dev["id"], chain.hr, {"status": "completed", "completion_note": NOTE})
    assert r.status_code == 200, r.get_json()
    done = r.get_json()
    # completed today, in the agency's zone: the day the plan was made (due 90 days later)
    assert done["status"] == "completed" and done["completion_note"] == NOTE
    assert done["completed_at"] == str(date.fromisoformat(dev["due_date"]) - timedelta(days=90))
    # final: no going back, no more changes
    problem(_patch(chain, dev["id"], chain.hr, {"status": "in_progress"}), 409, "followup.closed")
    problem(_patch(chain, dev["id"], chain.hr, {"recommendation": "Pelatihan lanjutan."}), 409, "followup.closed")
    assert _patch(chain, dev["id"], chain.hr, {"status": "completed"}).status_code == 200  # no change asked
    # every change audited with its before and after, and announced (without the texts)
    audit = chain.get(f"/audit?entity_type=followup&entity_id={dev['id']}", chain.hr)
    assert audit.status_code == 200, audit.get_json()
    rows = audit.get_json()["items"]
    assert sorted((r["before"]["status"], r["after"]["status"]) for r in rows) == [
        ("in_progress", "completed"),
        ("planned", "in_progress"),
    ]
    events = [e["data"] for e in _outbox(chain, "reviews.followup.updated")]
    assert [(e["previous_status"], e["status"]) for e in events] == [
        ("planned", "in_progress"),
        ("in_progress", "completed"),
    ]
    assert events[-1]["completed_at"] == done["completed_at"] and "completion_note" not in events[-1]


def test_a_transition_the_status_forbids_is_refused(chain, fu):
    dev = fu["development"]
    assert _patch(chain, dev["id"], chain.hr, {"status": "in_progress"}).status_code == 200
    problem(_patch(chain, dev["id"], chain.hr, {"status": "planned"}), 409, "followup.transition")
    rec = fu["recognition"]
    r = _patch(chain, rec["id"], chain.hr, {"status": "cancelled", "cancel_reason": "Pegawai pindah instansi."})
    assert r.status_code == 200 and r.get_json()["cancel_reason"] == "Pegawai pindah instansi."
    assert r.get_json()["completed_at"] is None
    problem(_patch(chain, rec["id"], chain.hr, {"status": "completed", "completion_note": NOTE}), 409)


def test_bad_fields_are_refused_one_by_one_and_nothing_is_kept(chain, fu):
    dev = fu["development"]
    before = chain.get(f"/followups/{dev['id']}", chain.hr)
    yesterday = str(date.fromisoformat(dev["due_date"]) - timedelta(days=91))
    tomorrow = str(date.fromisoformat(dev["due_date"]) - timedelta(days=89))
    cases = [
        ({"status": "completed"}, {"completion_note": "followup.completion_note_required"}),
        ({"status": "completed", "completion_note": "   "}, {"completion_note": "followup.completion_note_required"}),
        ({"status": "cancelled"}, {"cancel_reason": "followup.cancel_reason_required"}),
        ({"cancel_reason": "Tidak jadi."}, {"cancel_reason": "followup.cancel_reason_unexpected"}),
        ({"due_date": yesterday}, {"due_date": "followup.due_in_past"}),
        (
            {"status": "completed", "completion_note": NOTE, "completed_at": tomorrow},
            {"completed_at": "followup.completed_in_future"},
        ),
        ({"completed_at": yesterday}, {"completed_at": "followup.completed_at_unexpected"}),
        ({"owner_nip": "199999999999999999"}, {"owner_nip": "followup.owner_unknown"}),
        ({"owner_nip": None}, {"owner_nip": "followup.owner_required"}),
        (
            {"status": "cancelled", "due_date": yesterday, "recommendation": "   "},
            {
                "cancel_reason": "followup.cancel_reason_required",
                "recommendation": "followup.recommendation_required",
            },
        ),
        ({"status": "done"}, {"status": None}),
    ]
    for body, expected in cases:
        errors = field_errors(problem(_patch(chain, dev["id"], chain.hr, body), 422))
        if None in expected.values():
            assert set(errors) == set(expected), (body, errors)
        else:
            assert errors == expected, (body, errors)
    after = chain.get(f"/followups/{dev['id']}", chain.hr)
    assert after.headers["ETag"] == before.headers["ETag"] and after.get_json() == before.get_json()
    # a past completion date is kept as given; a due date in the past is fine once it is completed
    r = _patch(chain, dev["id"], chain.hr, {"status": "completed", "completion_note": NOTE, "completed_at": yesterday})
    assert r.status_code == 200 and r.get_json()["completed_at"] == yesterday, r.get_json()


def test_who_may_change_a_follow_up(chain, fu):
    dev = fu["development"]
    # the employee and a colleague: read-only, or not at all; HR of another agency: hidden
    problem(_patch(chain, dev["id"], chain.as_(STAFF_B[0]), {"status": "in_progress"}), 403, "followup.only_parties")
    problem(_patch(chain, dev["id"], chain.as_(STAFF_B[1]), {"status": "in_progress"}), 404)
    problem(_patch(chain, dev["id"], chain.org.other_hr, {"status": "in_progress"}), 404)
    problem(chain.get(f"/followups/{dev['id']}", chain.as_(STAFF_B[1])), 404)
    # HR hands the plan to another official (kasi A): the owner records progress, not the plan
    r = _patch(chain, dev["id"], chain.hr, {"owner_nip": KASI_A})
    assert r.status_code == 200 and r.get_json()["owner_nip"] == KASI_A
    owner = chain.as_(KASI_A)
    assert [i["id"] for i in chain.get("/followups", owner).get_json()["items"]] == [dev["id"]]
    problem(_patch(chain, dev["id"], owner, {"due_date": dev["due_date"][:4] + "-12-31"}), 403)
    r = _patch(chain, dev["id"], owner, {"status": "in_progress"})
    assert r.status_code == 200 and r.get_json()["status"] == "in_progress"
    # the penilai still sees and plans their team's follow-up, though no longer its owner
    mine = chain.get("/followups?kind=development", chain.as_(KASI_B)).get_json()["items"]
    assert [i["id"] for i in mine] == [dev["id"]]
    r = _patch(chain, dev["id"], chain.as_(KASI_B), {"recommendation": "Bimbingan teknis penyusunan laporan."})
    assert r.status_code == 200, r.get_json()


def test_the_list_filters_by_status(chain, fu):
    dev, rec = fu["development"], fu["recognition"]
    r = _patch(chain, rec["id"], chain.hr, {"status": "completed", "completion_note": "Piagam penghargaan diberikan."})
    assert r.status_code == 200
    by = lambda s: [i["id"] for i in chain.get(f"/followups?status={s}", chain.hr).get_json()["items"]]  # noqa: E731
    assert (by("planned"), by("completed"), by("cancelled")) == ([dev["id"]], [rec["id"]], [])
    evaluation = chain.get(f"/followups?evaluation_id={dev['evaluation_id']}", chain.as_(STAFF_B[0])).get_json()
    assert [i["id"] for i in evaluation["items"]] == [dev["id"]]
    assert field_errors(problem(chain.get("/followups?status=selesai", chain.hr), 422)).keys() == {"status"}
