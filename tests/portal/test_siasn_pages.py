"""The SIASN page for HR (issue 16, Deliver 4; services/portal/pages_hr_siasn.py): without SIASN's
credentials it says so and offers the file instead of the push; the file downloads as the API gives
it; the state per employee; "mark uploaded" per employee or for the whole downloaded file, a bad form
answered beside its fields (Bahasa Indonesia first) with nothing saved."""

from __future__ import annotations

import hashlib
import html
import json
import re
from pathlib import Path

from tests.plans.support import STAFF_A
from tests.portal.support import text

R = "/reviews/api/v1"


def errors_of(page: str) -> dict[str, str]:
    return {m[0]: html.unescape(m[1]) for m in re.findall(r'<p class="err" id="e-([^"]+)">([^<]*)</p>', page)}


def countersigned(stack, **changes) -> dict:
    """E's (staff A[0]) first periodic evaluation, rated and countersigned (set in the reviews database:
    the sign-off chain itself is tested in tests/reviews)."""
    from services.reviews.models import Evaluation
    from tests.portal.test_hr import HrChain

    ch = HrChain(stack, getattr(stack, "settle", None))  # a live stack's bus worker delivers on its own
    ch.approve_all_plans()
    ch.advance_to("monitoring:1:check_in")
    ev = ch.evaluation_of(STAFF_A[0], period_seq=1)
    platform = stack.emb.apps["reviews"].extensions["kinerja"]
    with platform.session_factory() as s:
        row = s.get(Evaluation, ev["id"])
        values = dict(status="countersigned", rating_hasil="meets", rating_perilaku="above", predikat="BAIK")
        for k, v in (values | changes).items():
            setattr(row, k, v)
        s.commit()
    return ev


def test_not_configured_offers_the_file_instead_of_the_push(stack):
    hr = stack.browser()
    hr.login("hr:PKMB")
    page = text(hr.get(f"/hr/siasn?cycle_id={stack.org.cycle_id}"))
    assert "SIASN belum dikonfigurasi" in page and 'id="kirim"' not in page
    assert "Unduh JSON" in page and "Unduh CSV" in page and "Tandai sudah diunggah" in page
    english = text(hr.get(f"/hr/siasn?cycle_id={stack.org.cycle_id}&lang=en"))
    assert "SIASN is not configured" in english and "Download CSV" in english

    from services.reviews.siasn import SiasnClient, SiasnConfig

    config = SiasnConfig(url="http://siasn.test", gateway_token="g", sso_token="s")
    stack.emb.apps["reviews"].extensions["siasn_client"] = lambda: SiasnClient(config)
    page = text(hr.get(f"/hr/siasn?cycle_id={stack.org.cycle_id}&lang=id"))
    assert 'id="kirim"' in page and "SIASN belum dikonfigurasi" not in page and "Unduh JSON" in page


def test_download_then_mark_the_whole_file_uploaded(stack):
    ev = countersigned(stack)
    hr = stack.browser()
    hr.login("hr:PKMB")
    cycle = stack.org.cycle_id
    page = text(hr.get(f"/hr/siasn?cycle_id={cycle}"))
    row = page[page.index(f'id="evaluasi-{ev["id"]}"') :][:1500]
    assert "Rina Wati" in row and "Belum dikirim" in row and 'name="evaluation_ids"' in row

    resp = hr.get(f"/hr/siasn/unduh?cycle_id={cycle}&kind=periodic&format=json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert re.fullmatch(
        rf'attachment; filename="siasn-kinerjaperiodik-PKMB-siklus-{cycle}-\d{{4}}-\d\d-\d\d\.json"',
        resp.headers["Content-Disposition"],
    )
    payloads = json.loads(resp.data)
    assert [p["pnsDinilaiId"] for p in payloads] == [STAFF_A[0]] and payloads[0]["kuadranKinerjaNilai"] == 2
    sha = hashlib.sha256(resp.data).hexdigest()

    page = text(hr.get(f"/hr/siasn?cycle_id={cycle}"))
    assert "Semua evaluasi dalam berkas siasn-kinerjaperiodik-PKMB" in page and "(1 evaluasi)" in page
    done = hr.post(f"/hr/siasn/terunggah?cycle_id={cycle}", {"whole_file": "1", "note": "Diunggah lewat SIASN web"})
    page = text(done)
    assert done.status_code == 200 and "1 evaluasi ditandai sudah diunggah ke SIASN." in page
    row = page[page.index(f'id="evaluasi-{ev["id"]}"') :][:1500]
    assert "Diunggah manual" in row and "Diunggah lewat SIASN web" in row and 'name="evaluation_ids"' not in row

    # the same file is not news any more: the next file is empty, and the API knows the file's hash
    assert json.loads(hr.get(f"/hr/siasn/unduh?cycle_id={cycle}&kind=periodic&format=json").data) == []
    api = stack.org.client.post(
        f"{R}/siasn/uploaded",
        json={"cycle_id": cycle, "kind": "periodic", "sha256": sha},
        headers=stack.org.hr,
    )
    assert api.status_code == 422 and api.get_json()["errors"][0]["code"] == "siasn.file_nothing_new"


def test_a_bad_mark_is_answered_beside_its_fields_and_nothing_is_saved(stack):
    ev = countersigned(stack)
    hr = stack.browser()
    hr.login("hr:PKMB")
    cycle = stack.org.cycle_id
    resp = hr.post(f"/hr/siasn/terunggah?cycle_id={cycle}", {"mark_kind": "", "note": "x" * 501})
    assert resp.status_code == 422
    assert errors_of(text(resp)) == {
        "mark_kind": "Pilih jenis hasil.",
        "evaluation_ids": "Centang paling sedikit satu pegawai, atau pilih semua isi berkas.",
        "note": "Catatan paling banyak 500 karakter.",
    }
    resp = hr.post(f"/hr/siasn/terunggah?cycle_id={cycle}", {"whole_file": "1"})
    assert resp.status_code == 422 and "Belum ada berkas yang diunduh" in errors_of(text(resp))["whole_file"]
    # the API refuses: a periodic evaluation marked as an annual result — named beside the ticks
    resp = hr.post(f"/hr/siasn/terunggah?cycle_id={cycle}", {"mark_kind": "annual", "evaluation_ids": [str(ev["id"])]})
    page = text(resp)
    assert resp.status_code == 422 and errors_of(page) == {
        "evaluation_ids": f"Evaluasi {ev['id']} bukan jenis hasil yang dipilih."
    }
    assert f'value="{ev["id"]}" id="pilih-{ev["id"]}" checked' in page  # the ticks are kept
    resp = hr.post(
        f"/hr/siasn/terunggah?cycle_id={cycle}&lang=en", {"mark_kind": "annual", "evaluation_ids": [str(ev["id"])]}
    )
    assert errors_of(text(resp)) == {"evaluation_ids": f"Evaluation {ev['id']} is not of the chosen kind."}
    page = text(hr.get(f"/hr/siasn?cycle_id={cycle}&state=uploaded"))
    assert f'id="evaluasi-{ev["id"]}"' not in page  # nothing was marked
    # ticked with the right kind: marked
    ok = hr.post(
        f"/hr/siasn/terunggah?cycle_id={cycle}&lang=id", {"mark_kind": "periodic", "evaluation_ids": [str(ev["id"])]}
    )
    assert "1 evaluasi ditandai" in text(ok)
    assert f'id="evaluasi-{ev["id"]}"' in text(hr.get(f"/hr/siasn?cycle_id={cycle}&state=uploaded"))


def test_an_evaluation_without_a_siasn_value_is_listed_instead_of_a_file(stack):
    ev = countersigned(stack, penilai_name=None)
    hr = stack.browser()
    hr.login("hr:PKMB")
    cycle = stack.org.cycle_id
    resp = hr.get(f"/hr/siasn/unduh?cycle_id={cycle}&kind=periodic&format=csv")
    page = text(resp)
    assert resp.status_code == 422 and 'id="tidak-terpetakan"' in page
    assert f"Rina Wati ({STAFF_A[0]}): penilaiNama kosong" in html.unescape(page)
    resp = hr.get(f"/hr/siasn/unduh?cycle_id={cycle}&kind=periodic&format=csv&skip_unmapped=1")
    assert resp.status_code == 200 and resp.data.decode().count("\r\n") == 1  # the header only
    assert ev["id"]


def test_another_agency_sees_none_of_it(stack):
    countersigned(stack)
    other = stack.browser()
    other.login("hr:OTHER")
    page = text(other.get(f"/hr/siasn?cycle_id={stack.org.cycle_id}"))
    assert "Rina Wati" not in page
    resp = other.get(f"/hr/siasn/unduh?cycle_id={stack.org.cycle_id}&kind=periodic&format=json")
    assert resp.status_code == 404 and "Rina" not in text(resp)


def test_every_catalogue_key_of_the_page_exists_in_both_languages():
    root = Path(__file__).resolve().parents[2] / "services" / "portal"
    ids = json.loads((root / "messages" / "siasn" / "id.json").read_text(encoding="utf-8"))
    ens = json.loads((root / "messages" / "siasn" / "en.json").read_text(encoding="utf-8"))
    assert set(ids) == set(ens) and all(k.startswith("siasn.") for k in ids)
    known = set(ids)
    for sub in ("", "notif", "hr"):
        known |= set(json.loads((root / "messages" / sub / "id.json").read_text(encoding="utf-8")))
    used = set()
    for path in (root / "pages_hr_siasn.py", root / "templates" / "portal" / "siasn" / "index.html"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+(?:\.[a-z_0-9]+)+)["']""", path.read_text(encoding="utf-8")))
    assert used and used <= known, sorted(used - known)
