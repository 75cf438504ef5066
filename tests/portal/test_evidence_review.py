"""Evidence review in the portal (issue 15): the penilai opens each evidence file from the supervisor's
progress page and from the rating page (streamed through the portal with the supervisor's own token),
accepts it or asks for another with a note (required, shown beside the field, nothing saved); the
employee sees the status and the note beside the file on their progress page. Both languages; the
colleague, a supervisor outside the line and HR of another agency reach neither the page nor the file."""

from __future__ import annotations

import io

import pytest

from tests.plans.support import API, HEAD, KASI_A, KASI_B, STAFF_A
from tests.portal.support import text
from tests.portal.test_employee import errors_of
from tests.portal.test_evaluations import Team, plain

E = STAFF_A[0]  # Rina Wati, kasi A's direct report
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def upload(org, plan: dict, period_seq: int, filename: str, value: float = 2) -> dict:
    iki_id = plan["rhk"][0]["iki"][0]["id"]
    rec = org.post(
        f"/plans/{plan['id']}/realisations", org.as_(E), {"iki_id": iki_id, "period_seq": period_seq, "value": value}
    )
    assert rec.status_code == 201, rec.get_json()
    r = org.client.post(
        f"{API}/plans/{plan['id']}/realisations/{rec.get_json()['id']}/evidence",
        headers=org.as_(E),
        data={"file": (io.BytesIO(PDF), filename, "application/pdf")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def status_of(org, plan_id: int, evidence_id: int) -> tuple[str, str | None]:
    for r in org.get(f"/plans/{plan_id}/realisations", org.as_(E)).get_json():
        for ev in r["evidence"]:
            if ev["id"] == evidence_id:
                return ev["review_status"], ev["review_note"]
    raise AssertionError(evidence_id)


@pytest.fixture
def monitoring(stack):
    """Kasi A's and staff A[0]'s SKP approved, the cycle in monitoring (period 1), one file uploaded."""
    hp, ka, sa = stack.org.team_a()
    stack.org.advance_to("monitoring:1:check_in")
    ev = upload(stack.org, sa, 1, "laporan-januari.pdf")
    stack.pump()
    return sa, ev


def test_the_penilai_opens_a_file_asks_for_another_then_accepts_and_the_employee_sees_it(stack, monitoring):
    sa, ev = monitoring
    kasi = stack.browser()
    kasi.login(KASI_A)
    url = f"/tim/skp/{sa['id']}/bukti"
    assert f'href="{url}"' in text(kasi.get("/tim"))  # from the team dashboard, per approved plan
    resp = kasi.get(url)
    assert resp.status_code == 200
    page = plain(resp)
    assert "Progres dan bukti dukung Rina Wati" in page and "laporan-januari.pdf" in page
    assert "Menunggu diperiksa: 1" in page
    assert f'href="/skp/bukti/{ev["id"]}"' in text(resp)
    opened = kasi.get(f"/skp/bukti/{ev['id']}")  # streamed through the portal with kasi A's token
    assert opened.status_code == 200 and opened.data == PDF and opened.mimetype == "application/pdf"

    # asking for another file without a note: the error beside the note, nothing saved
    form = {"plan_id": str(sa["id"]), "period_seq": "1", "decision": "needs_replacement", f"note-{ev['id']}": "  "}
    resp = kasi.post(f"/tim/bukti/{ev['id']}/periksa", form)
    assert resp.status_code == 422
    assert errors_of(text(resp)) == {f"note-{ev['id']}": "Catatan wajib diisi saat meminta bukti lain."}
    assert status_of(stack.org, sa["id"], ev["id"]) == ("pending", None)

    note = "Lampirkan laporan yang sudah ditandatangani."
    resp = kasi.post(f"/tim/bukti/{ev['id']}/periksa", form | {f"note-{ev['id']}": note})
    assert resp.status_code == 200
    page = plain(resp)
    assert "Permintaan bukti pengganti untuk laporan-januari.pdf terkirim kepada pegawai" in page
    assert "Perlu diganti" in page and note in page
    assert status_of(stack.org, sa["id"], ev["id"]) == ("needs_replacement", note)

    emp = stack.browser()
    emp.login(E)
    mine = plain(emp.get(f"/skp/{sa['id']}/realisasi?period_seq=1"))
    assert "laporan-januari.pdf" in mine and "Perlu diganti" in mine and f"Catatan penilai: “{note}”" in mine
    assert "Terima" not in mine  # the employee has no review buttons
    en = plain(emp.get(f"/skp/{sa['id']}/realisasi?period_seq=1&lang=en"))
    assert "Needs replacing" in en and "Appraiser" in en and note in en

    resp = kasi.post(f"/tim/bukti/{ev['id']}/periksa", {"plan_id": str(sa["id"]), "decision": "accepted"})
    assert resp.status_code == 200 and "Bukti laporan-januari.pdf diterima" in plain(resp)
    assert status_of(stack.org, sa["id"], ev["id"])[0] == "accepted"
    assert "Diterima" in plain(emp.get(f"/skp/{sa['id']}/realisasi?period_seq=1&lang=id"))  # the choice sticks
    en = plain(kasi.get(url + "?lang=en"))
    assert "Progress and evidence of Rina Wati" in en and "Accepted: 1" in en


def test_others_reach_neither_the_page_nor_the_file(stack, monitoring):
    sa, ev = monitoring
    url, file_url = f"/tim/skp/{sa['id']}/bukti", f"/skp/bukti/{ev['id']}"
    review = {"plan_id": str(sa["id"]), "decision": "accepted"}
    colleague = stack.browser()
    colleague.login(STAFF_A[1])
    assert colleague.get(file_url).status_code == 403
    assert colleague.get(url).status_code == 403  # not a supervisor
    outsider = stack.browser()
    outsider.login(KASI_B)  # a supervisor outside Rina's line
    assert outsider.get(url).status_code == 403
    assert outsider.get(file_url).status_code == 403
    assert outsider.post(f"/tim/bukti/{ev['id']}/periksa", review).status_code == 403
    assert status_of(stack.org, sa["id"], ev["id"]) == ("pending", None)
    # the atasan penilai opens the file and the page, read-only: only the penilai reviews
    head = stack.browser()
    head.login(HEAD)
    assert head.get(file_url).status_code == 200
    page = text(head.get(url))
    assert "laporan-januari.pdf" in page and 'name="decision"' not in page
    assert "Hanya pejabat penilai kinerja yang dapat menerima bukti" in plain(head.get(url))
    resp = head.post(f"/tim/bukti/{ev['id']}/periksa", review)
    assert resp.status_code == 403 and "Hanya pejabat penilai kinerja (atau Plt/Plh-nya)" in plain(resp)
    assert status_of(stack.org, sa["id"], ev["id"]) == ("pending", None)
    # HR of the agency opens the file
    hr = stack.browser()
    hr.login("hr:PKMB")
    assert hr.get(file_url).status_code == 200


def test_the_rating_page_links_each_file_with_the_review_buttons(stack):
    team = Team(stack).approve_all_plans()
    team.advance_to("annual_evaluation")
    plan = team.plans[E]
    ev_file = upload(stack.org, plan, 4, "rekap-tahunan.pdf", value=5)
    team.sync()
    evaluation = team.evaluation(E)
    kasi = stack.browser()
    kasi.login(KASI_A)
    rating = f"/evaluasi/{evaluation['id']}/nilai"
    resp = kasi.get(rating)
    assert resp.status_code == 200
    html = text(resp)
    assert f'href="/skp/bukti/{ev_file["id"]}"' in html and "rekap-tahunan.pdf" in html  # no longer a bare count
    assert f'action="/tim/bukti/{ev_file["id"]}/periksa"' in html and f'value="rating:{evaluation["id"]}"' in html
    assert f'href="/tim/skp/{plan["id"]}/bukti' in html
    # a missing note shows beside the field (on the evidence page), nothing saved
    assert 'name="period_seq" value="4"' in html  # the file's period: an error shows the page that has it
    form = {"plan_id": str(plan["id"]), "period_seq": "4", "back": f"rating:{evaluation['id']}"}
    form["decision"] = "needs_replacement"
    resp = kasi.post(f"/tim/bukti/{ev_file['id']}/periksa", form)
    assert resp.status_code == 422 and f"note-{ev_file['id']}" in errors_of(text(resp))
    resp = kasi.post(f"/tim/bukti/{ev_file['id']}/periksa", form | {"decision": "accepted"})
    assert resp.status_code == 200 and resp.request.path == rating  # back on the rating page
    page = plain(resp)
    assert "Bukti rekap-tahunan.pdf diterima" in page and "Diterima" in page
    assert "Accepted" in plain(kasi.get(rating + "?lang=en"))


def test_every_catalogue_key_of_these_pages_exists_in_both_languages():
    import json
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "services" / "portal"
    own = {lang: json.loads((root / "messages" / "evidence" / f"{lang}.json").read_text()) for lang in ("id", "en")}
    assert set(own["id"]) == set(own["en"])
    merged = {lang: own[lang] | json.loads((root / "messages" / f"{lang}.json").read_text()) for lang in own}
    sources = [root / "pages_evidence.py"] + [
        root / "templates" / "portal" / "evidence" / n for n in ("_files.html", "progress.html")
    ]
    used = set()
    for path in sources:
        used |= set(re.findall(r"""\bt\(\s*f?["']([a-z_]+(?:\.[a-z_0-9]+)+)["']""", path.read_text()))
    used |= {f"evidence.status.{s}" for s in ("pending", "accepted", "needs_replacement")}  # built from the status
    used |= {f"evidence.saved.{s}" for s in ("accepted", "needs_replacement")}
    assert len(used) > 20
    for lang, messages in merged.items():
        assert not sorted(used - set(messages)), lang
