"""The employee's pages: my SKP, drafting it through the no-JavaScript form (cascade picker, IKI
slots, BerAKHLAK expectations), editing with the ETag, submitting, realisation with evidence and
the daily log."""

from __future__ import annotations

import html
import io
import re

from tests.plans.support import HEAD, KASI_A, OTHER_EMP, STAFF_A, STAFF_B, rhk
from tests.portal.support import text

BERAKHLAK = ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif")


def kasi_plan(org) -> dict:
    """KASI_A's approved plan (cascaded from the head's), the source of STAFF_A's cascade picker."""
    return org.cascade(org.head_plan(), KASI_A, approver=HEAD)


def form_data(parent_id: str, **extra) -> dict:
    data = {
        "approach": "kuantitatif",
        "rhk_slots": "3",
        "iki_slots": "3",
        "rhk-0-description": "Tersusunnya dokumen perencanaan seksi",
        "rhk-0-kind": "utama",
        "rhk-0-parent": parent_id,
        "rhk-0-iki-0-aspect": "kuantitas",
        "rhk-0-iki-0-indicator": "Jumlah dokumen perencanaan",
        "rhk-0-iki-0-target_value": "4",
        "rhk-0-iki-0-target_unit": "dokumen",
        "rhk-0-iki-1-aspect": "kualitas",
        "rhk-0-iki-1-indicator": "Dokumen diterima tanpa revisi",
        "rhk-0-iki-1-target_value": "90",
        "rhk-0-iki-1-target_unit": "%",
    }
    data |= {f"behaviour-{v}": f"Ekspektasi {v}" for v in BERAKHLAK}
    return data | extra


def errors_of(page: str) -> dict[str, str]:
    """``{field name: message}`` of the errors shown beside the fields."""
    return {m.group(1): m.group(2) for m in re.finditer(r'<p class="err" id="e-([^"]+)">([^<]*)</p>', page)}


def my_plans(org, nip):
    return org.get(f"/plans?employee_nip={nip}", org.as_(nip)).get_json()["items"]


def test_the_form_offers_my_superiors_rhk_and_shows_the_expectations_read_only(stack):
    ka = kasi_plan(stack.org)
    b = stack.browser()
    b.login(STAFF_A[0])
    page = text(b.get(f"/skp/new?cycle_id={stack.org.cycle_id}"))
    assert "Susun SKP" in page and "Siti Aminah" in page
    assert f'<option value="{ka["rhk"][0]["id"]}">{ka["rhk"][0]["description"]} (utama)</option>' in page
    # the seven values, not for the employee to write: no field, no generic text, "not yet written"
    for v in BERAKHLAK:
        assert f'name="behaviour-{v}"' not in page and f'data-value="{v}"' in page
    assert "Berorientasi Pelayanan" in page and page.count("Belum ditulis oleh atasan") == 7
    assert "ditulis oleh atasan Anda (pejabat penilai), bukan oleh Anda" in page
    assert "paling lambat dua hari kerja" not in page  # the generic text once prefilled
    assert page.count('name="rhk-') and 'name="rhk-2-iki-2-indicator"' in page and 'name="rhk-3-' not in page
    assert "rhk-0-goal" not in page  # only a head of unit may name an organisation goal


def test_more_rows_re_renders_with_what_was_typed_and_saves_nothing(stack):
    ka = kasi_plan(stack.org)
    b = stack.browser()
    b.login(STAFF_A[0])
    b.get(f"/skp/new?cycle_id={stack.org.cycle_id}")
    resp = b.post(f"/skp/new?cycle_id={stack.org.cycle_id}", form_data(ka["rhk"][0]["id"], more="rhk"))
    page = text(resp)
    assert resp.status_code == 200 and 'name="rhk-3-description"' in page and 'value="4"' in page
    assert "Tersusunnya dokumen perencanaan seksi" in page
    resp = b.post(f"/skp/new?cycle_id={stack.org.cycle_id}", form_data(ka["rhk"][0]["id"], more="iki"))
    assert 'name="rhk-0-iki-3-indicator"' in text(resp)
    assert my_plans(stack.org, STAFF_A[0]) == []


def test_draft_with_a_cascade_pick_then_submit(stack):
    org = stack.org
    ka = kasi_plan(org)
    b = stack.browser()
    b.login(STAFF_A[0])
    b.get(f"/skp/new?cycle_id={org.cycle_id}")
    resp = b.post(f"/skp/new?cycle_id={org.cycle_id}", form_data(ka["rhk"][0]["id"]))
    page = text(resp)
    assert resp.status_code == 200 and "Draf SKP tersimpan." in page
    assert f'Mendukung RHK atasan: <span class="parent">{ka["rhk"][0]["description"]}</span>' in page
    (plan,) = my_plans(org, STAFF_A[0])
    full = org.plan(plan["id"])
    assert full["status"] == "draft" and full["rhk"][0]["parent_rhk_id"] == ka["rhk"][0]["id"]
    assert [(k["aspect"], k["target_value"], k["target_unit"]) for k in full["rhk"][0]["iki"]] == [
        ("kuantitas", 4.0, "dokumen"),
        ("kualitas", 90.0, "%"),
    ]
    assert full["behaviour"] == {}  # fields the form does not have write nothing
    resp = b.post(f"/skp/{plan['id']}/submit")  # the expectations are the penilai's, before approving
    assert "SKP diajukan kepada atasan" in text(resp)
    assert org.plan(plan["id"])["status"] == "submitted"
    assert "Ubah SKP" not in text(b.get(f"/skp/{plan['id']}"))  # no edit once submitted


def test_missing_fields_show_beside_the_field_and_nothing_is_saved(stack):
    org = stack.org
    ka = kasi_plan(org)
    b = stack.browser()
    b.login(STAFF_A[0])
    b.get(f"/skp/new?cycle_id={org.cycle_id}")
    before = org.counts()["plans"]
    data = form_data(
        ka["rhk"][0]["id"],
        **{
            "rhk-0-parent": "",
            "rhk-0-iki-0-target_value": "empat",
            "rhk-0-iki-1-target_unit": "",
            "rhk-1-description": "RHK tanpa IKI",
            "rhk-1-parent": ka["rhk"][0]["id"],
        },
    )
    resp = b.post(f"/skp/new?cycle_id={org.cycle_id}", data)
    assert resp.status_code == 422
    page = text(resp)
    errs = errors_of(page)
    assert errs == {
        "rhk-0-parent": "Pilih RHK atasan yang didukung RHK ini.",
        "rhk-0-iki-0-target_value": "Isi dengan angka.",
        "rhk-0-iki-1-target_unit": "Wajib diisi.",
        "rhk-1-iki-0-indicator": "Setiap RHK memerlukan minimal satu IKI.",
    }
    assert 'id="f-rhk-0-parent" name="rhk-0-parent"  aria-invalid="true"' in page or re.search(
        r'id="f-rhk-0-parent"[^>]*aria-invalid="true"', page
    )
    assert "belum ada yang disimpan" in page and 'value="empat"' in page  # what was typed stays
    assert org.counts()["plans"] == before and my_plans(org, STAFF_A[0]) == []


def test_an_empty_form_asks_for_one_rhk(stack):
    kasi_plan(stack.org)
    b = stack.browser()
    b.login(STAFF_A[0])
    b.get(f"/skp/new?cycle_id={stack.org.cycle_id}")
    resp = b.post(
        f"/skp/new?cycle_id={stack.org.cycle_id}", {"approach": "kuantitatif", "rhk_slots": "3", "iki_slots": "3"}
    )
    assert resp.status_code == 422
    assert errors_of(text(resp)) == {"rhk-0-description": "Tulis minimal satu rencana hasil kerja."}


def test_api_field_errors_land_on_the_slot_typed_in(stack):
    """A duplicate aspect is the API's rule: its error ``rhk[0].iki[1].aspect`` must come back beside
    the second IKI slot actually used (here slot 2, slot 1 left empty)."""
    org = stack.org
    ka = kasi_plan(org)
    b = stack.browser()
    b.login(STAFF_A[0])
    b.get(f"/skp/new?cycle_id={org.cycle_id}")
    data = form_data(
        ka["rhk"][0]["id"],
        **{
            "rhk-0-iki-1-indicator": "",
            "rhk-0-iki-1-target_value": "",
            "rhk-0-iki-1-target_unit": "",
            "rhk-0-iki-2-aspect": "kuantitas",
            "rhk-0-iki-2-indicator": "Lagi",
            "rhk-0-iki-2-target_value": "1",
            "rhk-0-iki-2-target_unit": "x",
        },
    )
    resp = b.post(f"/skp/new?cycle_id={org.cycle_id}", data)
    assert resp.status_code == 422
    assert list(errors_of(text(resp))) == ["rhk-0-iki-2-aspect"]
    assert my_plans(org, STAFF_A[0]) == []


def test_a_head_of_unit_may_name_an_organisation_goal(stack):
    b = stack.browser()
    b.login(HEAD)
    page = text(b.get(f"/skp/new?cycle_id={stack.org.cycle_id}"))
    assert 'name="rhk-0-goal"' in page and "kepala unit" in page
    assert 'name="rhk-0-parent"' not in page  # the top official has no superior's RHK to pick
    resp = b.post(f"/skp/new?cycle_id={stack.org.cycle_id}", form_data(""))
    assert resp.status_code == 422
    assert errors_of(text(resp)) == {
        "rhk-0-goal": "Tulis sasaran organisasi (perjanjian kinerja) yang didukung RHK ini."
    }
    data = form_data("", **{"rhk-0-goal": "Sasaran PK 1: jalan mantap 90%"})
    resp = b.post(f"/skp/new?cycle_id={stack.org.cycle_id}", data)
    assert "Draf SKP tersimpan." in text(resp) and "Sasaran PK 1: jalan mantap 90%" in text(resp)


def test_edit_keeps_ids_and_a_stale_etag_is_refused(stack):
    org = stack.org
    ka = kasi_plan(org)
    plan = org.cascade(ka, STAFF_A[0])
    b = stack.browser()
    b.login(STAFF_A[0])
    page = text(b.get(f"/skp/{plan['id']}/edit"))
    assert plan["rhk"][0]["description"] in page and plan["rhk"][0]["id"] in page
    etag = html.unescape(re.search(r'name="etag" value="([^"]+)"', page).group(1))
    data = {m.group(1): html.unescape(m.group(2)) for m in re.finditer(r'name="([^"]+)" value="([^"]*)"', page)}
    data.update(
        {
            "rhk-0-description": "Deskripsi yang diperbaiki",
            "rhk-0-parent": ka["rhk"][0]["id"],
            "rhk-0-kind": "utama",
            "approach": "kuantitatif",
            "rhk-0-iki-0-aspect": "kuantitas",
            "rhk-0-iki-1-aspect": "kualitas",
        }
    )
    for button in ("csrf_token", "more", "then"):  # the page's buttons are not pressed
        data.pop(button)
    resp = b.post(f"/skp/{plan['id']}/edit", data)
    assert "Draf SKP tersimpan." in text(resp) and "Deskripsi yang diperbaiki" in text(resp)
    after = org.plan(plan["id"])
    assert after["rhk"][0]["id"] == plan["rhk"][0]["id"]
    assert after["behaviour"] == plan["behaviour"]  # the expectations stay as they were
    # the same form again, with the ETag read before the first save: someone changed it meanwhile
    resp = b.post(f"/skp/{plan['id']}/edit", data | {"etag": etag, "rhk-0-description": "Tertimpa?"})
    assert resp.status_code == 409 and "telah diubah di tempat lain" in text(resp)
    assert org.plan(plan["id"])["rhk"][0]["description"] == "Deskripsi yang diperbaiki"


def test_submit_without_expectations_goes_to_the_penilai_who_writes_them(stack):
    org = stack.org
    ka = kasi_plan(org)
    plan = org.create_plan(STAFF_A[0], [rhk("RHK", parent=ka["rhk"][0]["id"])], behaviour={})
    b = stack.browser()
    b.login(STAFF_A[0])
    b.get(f"/skp/{plan['id']}")
    resp = b.post(f"/skp/{plan['id']}/submit")
    assert "SKP diajukan kepada atasan" in text(resp) and org.plan(plan["id"])["status"] == "submitted"
    assert text(resp).count("Belum ditulis oleh atasan") == 7
    etag = org.get(f"/plans/{plan['id']}", org.as_(KASI_A)).headers["ETag"]
    r = org.put(
        f"/plans/{plan['id']}/behaviour", org.as_(KASI_A) | {"If-Match": etag}, {"behaviour": {"loyal": "Setia"}}
    )
    assert r.status_code == 200
    page = text(b.get(f"/skp/{plan['id']}"))  # the employee sees the penilai's text on the SKP
    assert "Setia" in page and page.count("Belum ditulis oleh atasan") == 6


def test_returned_plan_shows_the_note_on_my_list_and_the_plan(stack):
    org = stack.org
    ka = kasi_plan(org)
    plan = org.cascade(ka, STAFF_A[0])
    org.put(
        f"/plans/{plan['id']}",
        org.as_(STAFF_A[0]) | {"If-Match": f'"{plan["version"]}"'},
        {"approach": "kuantitatif", "rhk": plan["rhk"], "behaviour": {v: "x y z" for v in BERAKHLAK}},
    )
    assert org.submit(plan["id"], STAFF_A[0]).status_code == 200
    assert (
        org.post(f"/plans/{plan['id']}/return", org.as_(KASI_A), {"note": "Target kualitas terlalu rendah"}).status_code
        == 200
    )
    b = stack.browser()
    b.login(STAFF_A[0])
    assert "Target kualitas terlalu rendah" in text(b.get("/skp"))
    page = text(b.get(f"/skp/{plan['id']}"))
    assert "Dikembalikan atasan dengan catatan" in page and "Target kualitas terlalu rendah" in page
    assert "Ubah SKP" in page and "Ajukan ke atasan" in page


def test_another_employees_plan_is_not_for_me(stack):
    org = stack.org
    ka = kasi_plan(org)
    plan = org.cascade(ka, STAFF_A[0])
    for nip in (STAFF_A[1], STAFF_B[0], OTHER_EMP):
        b = stack.browser()
        b.login(nip)
        for path in (f"/skp/{plan['id']}", f"/skp/{plan['id']}/edit", f"/skp/{plan['id']}/realisasi"):
            resp = b.get(path)
            assert resp.status_code == 403 and "Tidak berwenang" in text(resp), (nip, path)
            assert plan["rhk"][0]["description"] not in text(resp)
        assert b.post(f"/skp/{plan['id']}/submit").status_code == 403
    assert org.plan(plan["id"])["status"] == "draft"


def test_realisation_with_evidence_upload(stack):
    org = stack.org
    ka = kasi_plan(org)
    plan = org.cascade(ka, STAFF_A[0], approver=KASI_A)
    org.advance_to("monitoring:1:check_in")
    iki = plan["rhk"][0]["iki"][0]
    b = stack.browser()
    b.login(STAFF_A[0])
    page = text(b.get(f"/skp/{plan['id']}/realisasi"))
    assert "Triwulan I" in page and iki["indicator"] in page
    resp = b.post(
        f"/skp/{plan['id']}/realisasi?period_seq=1",
        {
            "iki_id": iki["id"],
            f"iki-{iki['id']}-value": "3",
            f"iki-{iki['id']}-note": "Dua dokumen final",
            f"iki-{iki['id']}-file": (io.BytesIO(b"%PDF-1.4 bukti"), "laporan.pdf", "application/pdf"),
        },
        content_type="multipart/form-data",
    )
    page = text(resp)
    assert "Realisasi tersimpan." in page and "laporan.pdf" in page and "Dua dokumen final" in page
    (rec,) = org.get(f"/plans/{plan['id']}/realisations?period_seq=1", org.as_(STAFF_A[0])).get_json()
    assert rec["value"] == 3.0 and rec["evidence"][0]["filename"] == "laporan.pdf"
    link = re.search(r'href="(/skp/bukti/\d+)"', page).group(1)
    download = b.get(link)
    assert download.status_code == 200 and download.data == b"%PDF-1.4 bukti"
    other = stack.browser()
    other.login(STAFF_A[1])
    assert other.get(link).status_code == 403
    # a renamed file is refused beside the file field (the value itself was recorded)
    resp = b.post(
        f"/skp/{plan['id']}/realisasi?period_seq=1",
        {
            "iki_id": iki["id"],
            f"iki-{iki['id']}-value": "4",
            f"iki-{iki['id']}-file": [
                (io.BytesIO(b"catatan lapangan"), "catatan.txt", "text/plain"),
                (io.BytesIO(b"MZ not a pdf"), "x.pdf", "application/pdf"),
            ],
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422
    assert "berkas x.pdf ditolak" in errors_of(text(resp))[f"iki-{iki['id']}-file"]
    # a value that is no number is refused and nothing changes
    resp = b.post(f"/skp/{plan['id']}/realisasi?period_seq=1", {"iki_id": iki["id"], f"iki-{iki['id']}-value": "tiga"})
    assert resp.status_code == 422 and errors_of(text(resp)) == {f"iki-{iki['id']}-value": "Isi dengan angka."}
    (rec,) = org.get(f"/plans/{plan['id']}/realisations?period_seq=1", org.as_(STAFF_A[0])).get_json()
    assert rec["value"] == 4.0 and [e["filename"] for e in rec["evidence"]] == ["laporan.pdf", "catatan.txt"]


def test_daily_log_quick_entry_grouped_by_day(stack):
    org = stack.org
    ka = kasi_plan(org)
    plan = org.cascade(ka, STAFF_A[0], approver=KASI_A)
    b = stack.browser()
    b.login(STAFF_A[0])
    page = text(b.get("/log-harian"))
    assert 'value="2026-01-05"' in page  # today in Jakarta (the stack's clock)
    assert plan["rhk"][0]["iki"][0]["indicator"] in page  # IKI of my approved SKP to link to
    resp = b.post(
        "/log-harian",
        {
            "date": "2026-01-05",
            "activity": "Menyusun draf dokumen",
            "minutes": "90",
            "iki_id": plan["rhk"][0]["iki"][0]["id"],
        },
    )
    assert "Kegiatan tercatat." in text(resp)
    b.post("/log-harian", {"date": "2026-01-02", "activity": "Rapat koordinasi", "minutes": "60", "iki_id": ""})
    page = text(b.get("/log-harian"))
    assert page.index("Senin, 5 Januari 2026") < page.index("Jumat, 2 Januari 2026")
    assert "90 menit (1,5 jam)" in page and "Rapat koordinasi" in page
    before = org.counts()["daily_logs"]
    resp = b.post("/log-harian", {"date": "kemarin", "activity": "", "minutes": "0"})
    assert resp.status_code == 422
    assert errors_of(text(resp)) == {
        "date": "Isi tanggal dengan format TTTT-BB-HH.",
        "activity": "Wajib diisi.",
        "minutes": "Durasi antara 1 dan 1440 menit.",
    }
    resp = b.post("/log-harian", {"date": "2026-01-06", "activity": "Besok", "minutes": "30"})
    assert resp.status_code == 422 and "date" in errors_of(text(resp))  # the future: the API refuses it
    assert org.counts()["daily_logs"] == before


def test_english_labels(stack):
    kasi_plan(stack.org)
    b = stack.browser()
    b.login(STAFF_A[0])
    page = text(b.get(f"/skp/new?cycle_id={stack.org.cycle_id}&lang=en"))
    assert "Draft SKP" in page and "Superior&#39;s RHK it supports" in page and "Add an RHK row" in page
    assert "My SKP" in text(b.get("/skp")) and "Record an activity" in text(b.get("/log-harian"))
    kasi = stack.browser()
    kasi.login(KASI_A)
    assert "Direct reports&#39; SKP" in text(kasi.get("/tim?lang=en"))


def test_error_links_name_the_slot(stack):
    ka = kasi_plan(stack.org)
    b = stack.browser()
    b.login(STAFF_A[0])
    b.get(f"/skp/new?cycle_id={stack.org.cycle_id}")
    page = text(
        b.post(
            f"/skp/new?cycle_id={stack.org.cycle_id}", form_data(ka["rhk"][0]["id"], **{"rhk-0-iki-1-target_unit": ""})
        )
    )
    assert '<a href="#f-rhk-0-iki-1-target_unit">IKI 1.2 · Satuan: Wajib diisi.</a>' in page


def test_an_approved_plan_reopens_for_revision_and_keeps_its_version(stack):
    org = stack.org
    plan = org.cascade(kasi_plan(org), STAFF_A[0], approver=KASI_A)
    b = stack.browser()
    b.login(STAFF_A[0])
    page = text(b.get(f"/skp/{plan['id']}"))
    assert "Realisasi dan bukti dukung" in page and "Buka revisi SKP" not in page  # not while planning
    org.advance_to("monitoring:1:check_in")
    page = text(b.get(f"/skp/{plan['id']}"))
    assert "Realisasi dan bukti dukung" in page and "Buka revisi SKP" in page and "Ubah SKP" not in page
    resp = b.post(f"/skp/{plan['id']}/revise")
    assert "SKP dibuka untuk revisi" in text(resp) and 'name="rhk-0-description"' in text(resp)
    assert org.plan(plan["id"])["status"] == "revised"
    page = text(resp)
    data = {m.group(1): html.unescape(m.group(2)) for m in re.finditer(r'name="([^"]+)" value="([^"]*)"', page)}
    for button in ("csrf_token", "more", "then"):
        data.pop(button)
    data |= {
        "rhk-0-description": "RHK setelah revisi",
        "rhk-0-parent": plan["rhk"][0]["parent_rhk_id"],
        "rhk-0-kind": "utama",
        "approach": "kuantitatif",
        "rhk-0-iki-0-aspect": "kuantitas",
        "rhk-0-iki-1-aspect": "kualitas",
    }
    assert "Draf SKP tersimpan." in text(b.post(f"/skp/{plan['id']}/edit", data))
    page = text(b.get(f"/skp/{plan['id']}"))
    assert "RHK setelah revisi" in page and "Versi yang disetujui" in page
    version = text(b.get(f"/skp/{plan['id']}/versi/1"))
    assert plan["rhk"][0]["description"] in version and "RHK setelah revisi" not in version
    assert "Ini versi lama" in version and "Direvisi" in version
    other = stack.browser()
    other.login(STAFF_A[1])
    assert other.get(f"/skp/{plan['id']}/versi/1").status_code == 403


def test_every_catalogue_key_used_by_these_pages_exists_in_both_languages(stack):
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "services" / "portal"
    catalogues = {}
    for lang in ("id", "en"):
        merged = json.loads((root / "messages" / f"{lang}.json").read_text(encoding="utf-8"))
        for area in sorted(p for p in (root / "messages").iterdir() if p.is_dir()):  # every area, as the portal
            merged |= json.loads((area / f"{lang}.json").read_text(encoding="utf-8"))
        catalogues[lang] = merged
    for area in ("employee", "supervisor"):
        ids = json.loads((root / "messages" / area / "id.json").read_text(encoding="utf-8"))
        ens = json.loads((root / "messages" / area / "en.json").read_text(encoding="utf-8"))
        assert set(ids) == set(ens) and all(k.startswith(area + ".") for k in ids)
    sources = [
        root / "pages_employee.py",
        root / "pages_plan.py",
        root / "skp_form.py",
        root / "pages_progress.py",
        root / "pages_supervisor.py",
        *(root / "templates" / "portal" / "employee").glob("*.html"),
        *(root / "templates" / "portal" / "supervisor").glob("*.html"),
    ]
    used = set()
    for path in sources:
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+(?:\.[a-z_0-9]+)+)["']""", path.read_text(encoding="utf-8")))
    assert len(used) > 100
    for lang, messages in catalogues.items():
        assert not sorted(used - set(messages)), lang
