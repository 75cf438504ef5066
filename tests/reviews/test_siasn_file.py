"""SIASN by hand (issue 16, Deliver 4; services/reviews/siasn_file.py): the file HR uploads to SIASN
holds exactly what the push would send, as JSON or CSV; evaluations marked uploaded leave later files
and pushes; bad marks are refused naming each evaluation, with nothing saved; the state per
evaluation. The cycle and evaluations are those of tests/reviews/test_siasn.py."""

from __future__ import annotations

import base64
import csv
import hashlib
import io

import pytest
from sqlalchemy import func, select

from services.common.auth import issue_token
from services.common.errors import Problem
from services.reviews.models import SiasnPush
from services.reviews.siasn_export import push_results
from services.reviews.siasn_file import render
from tests.reviews import test_siasn as base
from tests.reviews.test_siasn import AGENCY, FakeSiasn, client_for, hr

app, seeded = base.app, base.seeded  # the fixtures of test_siasn: its app, cycle 7 and its evaluations

API = "/reviews/api/v1/siasn"
BAD_FIELDS = {"penilaiNama", "penilaiNipNrp", "penilaiGolongan", "penilaiJabatan", "penilaiUnorNama"}


def headers(app, roles=("hr",), agency=AGENCY, **claims) -> dict:
    secret = app.extensions["kinerja"].config.jwt_secret
    return {"Authorization": f"Bearer {issue_token(secret, roles=list(roles), agency=agency, **claims)}"}


@pytest.fixture
def http(app):
    return app.test_client()


def pushed_bodies(app, kind: str) -> dict[str, dict]:
    """What the push sends to a SIASN that accepts everything, by employee id and period."""
    with FakeSiasn(fail_first=0) as fake, app.app_context(), app.extensions["kinerja"].uow() as s:
        push_results(s, hr(), 7, kind, client_for(fake))
        return {(b.get("pnsDinilaiOrang") or b["pnsDinilaiId"], b.get("bulanMulaiPenilaian")): b for _, b in fake.saved}


def push_rows(app) -> int:
    with app.extensions["kinerja"].uow() as s:
        return s.scalar(select(func.count()).select_from(SiasnPush))


# ------------------------------------------------------------------ the file


def test_a_payload_that_cannot_be_built_is_named_before_any_file(app, seeded, http):
    r = http.get(f"{API}/export?cycle_id=7&kind=skp22", headers=headers(app))
    assert r.status_code == 422 and r.get_json()["code"] == "siasn.unmapped"
    problem = r.get_json()
    assert problem["evaluation_ids"] == [seeded["annual_bad"]] and problem["count"] == 1
    fields = {e["field"] for e in problem["errors"]}
    assert fields == {f"evaluations[{seeded['annual_bad']}].{f}" for f in BAD_FIELDS}
    assert all("Kepala Dinas (198801012010011001)" in e["detail"] for e in problem["errors"])  # who, in Bahasa
    assert "kosong" in problem["errors"][0]["detail"]


def test_json_file_is_exactly_what_the_push_sends(app, seeded, http):
    r = http.get(f"{API}/export?cycle_id=7&kind=skp22&format=json&skip_unmapped=true", headers=headers(app))
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.headers["Content-Disposition"] == 'attachment; filename="siasn-skp22-PEMKOT-X-siklus-7-2026-01-20.json"'
    digest = base64.b64encode(hashlib.sha256(r.data).digest()).decode()
    assert r.headers["Repr-Digest"] == f"sha-256=:{digest}:" and r.headers["Kinerja-Siasn-Count"] == "2"
    assert r.headers["Kinerja-Siasn-Skipped"] == str(seeded["annual_bad"])
    payloads = r.get_json()
    assert [p["pnsDinilaiOrang"] for p in payloads] == ["199001012015031001", "199203152016022002"]  # by NIP
    sent = pushed_bodies(app, "annual")
    assert payloads == [sent[(p["pnsDinilaiOrang"], None)] for p in payloads]
    # sent now: left out of the next file; with include_all the same bytes again (same results, same file)
    assert http.get(f"{API}/export?cycle_id=7&kind=annual&skip_unmapped=1", headers=headers(app)).data == b"[]\n"
    again = http.get(f"{API}/export?cycle_id=7&kind=annual&skip_unmapped=1&include_all=1", headers=headers(app))
    assert again.data == r.data


def test_csv_file_has_a_row_per_payload_and_a_column_per_field(app, seeded, http):
    r = http.get(f"{API}/export?cycle_id=7&kind=kinerjaperiodik&format=csv", headers=headers(app))
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.headers["Content-Disposition"].endswith(
        'filename="siasn-kinerjaperiodik-PEMKOT-X-siklus-7-2026-01-20.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(r.data.decode("utf-8"))))
    sent = pushed_bodies(app, "periodic")
    assert len(rows) == 2 == len(sent)
    for row in rows:
        body = sent[(row["pnsDinilaiId"], int(row["bulanMulaiPenilaian"]))]
        assert list(row) == list(body) and row == {k: str(v) for k, v in body.items()}
    assert [(r["bulanMulaiPenilaian"], r["bulanSelesaiPenilaian"]) for r in rows] == [("1", "3"), ("4", "6")]
    # pushed now: left out of the next file, back with include_all
    assert http.get(f"{API}/export?cycle_id=7&kind=periodic&format=csv", headers=headers(app)).data.count(b"\r\n") == 1
    everything = http.get(f"{API}/export?cycle_id=7&kind=periodic&format=csv&include_all=true", headers=headers(app))
    assert everything.data == r.data and "-semua-" in everything.headers["Content-Disposition"]


def test_a_nested_value_is_never_written_into_a_csv_cell():
    assert render("annual", "json", [{"tahun": 2025, "x": {"a": 1}}]).startswith(b"[")
    with pytest.raises(Problem) as exc:
        render("annual", "csv", [{"tahun": 2025, "x": {"a": 1}}])
    assert exc.value.status == 422 and exc.value.errors[0].code == "siasn.csv_nested"
    assert render("annual", "csv", []).decode().startswith("tahun,hasilKinerjaNilai,")  # an empty file keeps its header


def test_only_hr_of_the_agency_downloads(app, seeded, http):
    url = f"{API}/export?cycle_id=7&kind=skp22&skip_unmapped=true"
    assert http.get(url, headers=headers(app, roles=("employee",), nip="199001012015031001")).status_code == 403
    assert http.get(url, headers=headers(app, agency="OTHER")).status_code == 404
    assert http.get(url, headers=headers(app, roles=("agency",))).status_code == 403
    assert http.get(url).status_code == 401
    bad = http.get(f"{API}/export?cycle_id=7&kind=weekly&format=xml", headers=headers(app))
    assert bad.status_code == 422 and {e["field"] for e in bad.get_json()["errors"]} == {"kind", "format"}


# ------------------------------------------------------------------ marked uploaded


def test_marked_uploaded_leaves_the_file_and_the_push(app, seeded, http):
    r = http.post(
        f"{API}/uploaded",
        json={"cycle_id": 7, "kind": "skp22", "evaluation_ids": [seeded["annual_a"]], "note": "Diunggah 19 Jan"},
        headers=headers(app, sub="hr-ani"),
    )
    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    assert (out["uploaded"], out["evaluation_ids"], out["by"], out["note"]) == (
        1,
        [seeded["annual_a"]],
        "hr-ani",
        "Diunggah 19 Jan",
    )
    file = http.get(f"{API}/export?cycle_id=7&kind=skp22&skip_unmapped=true", headers=headers(app)).get_json()
    assert [p["pnsDinilaiOrang"] for p in file] == ["199203152016022002"]
    assert (
        len(
            http.get(
                f"{API}/export?cycle_id=7&kind=skp22&include_all=1&skip_unmapped=1", headers=headers(app)
            ).get_json()
        )
        == 2
    )
    with FakeSiasn(fail_first=0) as fake, app.app_context(), app.extensions["kinerja"].uow() as s:
        pushed = push_results(s, hr(), 7, "annual", client_for(fake))
        assert pushed["skipped"] == 1 and "199001012015031001" not in {b["pnsDinilaiOrang"] for _, b in fake.saved}
    with app.extensions["kinerja"].uow() as s:
        row = s.scalars(select(SiasnPush).where(SiasnPush.status == "uploaded")).one()
        assert (row.evaluation_id, row.actor, row.note, row.attempts) == (
            seeded["annual_a"],
            "hr-ani",
            "Diunggah 19 Jan",
            0,
        )
        assert row.payload["pnsDinilaiOrang"] == "199001012015031001" and row.endpoint == "/skp22/save"
    audit = http.get("/reviews/api/v1/audit?entity_type=cycle&entity_id=7", headers=headers(app)).get_json()["items"]
    marked = [a for a in audit if a["action"] == "siasn.uploaded"]
    assert len(marked) == 1 and marked[0]["actor"] == "hr-ani"
    assert marked[0]["after"]["evaluation_ids"] == [seeded["annual_a"]]
    log = http.get(f"{API}/pushes?cycle_id=7&status=uploaded", headers=headers(app)).get_json()["items"]
    assert [(i["actor"], i["note"]) for i in log] == [("hr-ani", "Diunggah 19 Jan")]


def test_bad_marks_are_named_and_nothing_is_saved(app, seeded, http):
    with app.extensions["kinerja"].uow() as s:
        other = s.scalar(select(func.max(SiasnPush.id)))  # none yet
    assert other is None
    http.post(
        f"{API}/uploaded",
        json={"cycle_id": 7, "kind": "annual", "evaluation_ids": [seeded["annual_b"]]},
        headers=headers(app),
    )
    before = push_rows(app)
    ids = [seeded["annual_a"], seeded["annual_b"], 999999, seeded["annual_signed"], seeded["q1"]]
    r = http.post(
        f"{API}/uploaded", json={"cycle_id": 7, "kind": "annual", "evaluation_ids": ids}, headers=headers(app)
    )
    assert r.status_code == 422
    got = {e["field"]: e["code"] for e in r.get_json()["errors"]}
    assert got == {
        "evaluation_ids[1]": "siasn.already_uploaded",
        "evaluation_ids[2]": "siasn.evaluation_unknown",
        "evaluation_ids[3]": "siasn.not_countersigned",
        "evaluation_ids[4]": "siasn.evaluation_kind",
    }
    assert "999999" in {e["field"]: e["detail"] for e in r.get_json()["errors"]}["evaluation_ids[2]"]
    assert push_rows(app) == before  # annual_a, valid, was not marked either
    for body in (
        {"cycle_id": 7, "kind": "annual"},
        {"cycle_id": 7, "kind": "annual", "evaluation_ids": [1], "sha256": "a" * 64},
    ):
        r = http.post(f"{API}/uploaded", json=body, headers=headers(app))
        assert r.status_code == 422 and r.get_json()["errors"][0]["code"] == "siasn.ids_or_file"
    r = http.post(
        f"{API}/uploaded",
        json={"cycle_id": 7, "kind": "annual", "evaluation_ids": [seeded["annual_a"]]},
        headers=headers(app, agency="OTHER"),
    )
    assert r.status_code == 404
    r = http.post(
        f"{API}/uploaded",
        json={"cycle_id": 7, "kind": "annual", "evaluation_ids": [1], "note": "x" * 501},
        headers=headers(app),
    )
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "note"
    assert push_rows(app) == before


def test_mark_every_evaluation_of_a_downloaded_file_by_its_hash(app, seeded, http):
    file = http.get(f"{API}/export?cycle_id=7&kind=periodic&format=csv", headers=headers(app))
    sha = hashlib.sha256(file.data).hexdigest()
    unknown = http.post(
        f"{API}/uploaded", json={"cycle_id": 7, "kind": "periodic", "sha256": "0" * 64}, headers=headers(app)
    )
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0] == unknown.get_json()["errors"][0] | {
        "field": "sha256",
        "code": "siasn.file_unknown",
    }
    r = http.post(
        f"{API}/uploaded", json={"cycle_id": 7, "kind": "kinerjaperiodik", "sha256": sha.upper()}, headers=headers(app)
    )
    assert r.status_code == 200 and sorted(r.get_json()["evaluation_ids"]) == sorted([seeded["q1"], seeded["q2"]])
    again = http.post(f"{API}/uploaded", json={"cycle_id": 7, "kind": "periodic", "sha256": sha}, headers=headers(app))
    assert again.status_code == 422 and again.get_json()["errors"][0]["code"] == "siasn.file_nothing_new"


# ------------------------------------------------------------------ state per evaluation


def test_state_per_evaluation(app, seeded, http):
    with FakeSiasn(fail_first=0) as fake, app.app_context(), app.extensions["kinerja"].uow() as s:
        push_results(s, hr(), 7, "annual", client_for(fake))  # two sent, the one without a penilai failed (400)
    http.post(
        f"{API}/uploaded",
        json={"cycle_id": 7, "kind": "periodic", "evaluation_ids": [seeded["q2"]], "note": "manual"},
        headers=headers(app, sub="hr-ani"),
    )
    r = http.get(f"{API}/status?cycle_id=7", headers=headers(app))
    assert r.status_code == 200
    body = r.get_json()
    states = {i["evaluation_id"]: i for i in body["items"]}
    assert body["counts"] == {"not_sent": 1, "sent": 2, "failed": 1, "uploaded": 1} and body["configured"] is False
    assert states[seeded["annual_bad"]]["state"] == "failed" and "penilaiNama" in states[seeded["annual_bad"]]["error"]
    assert states[seeded["q1"]]["state"] == "not_sent" and seeded["annual_signed"] not in states
    assert (states[seeded["q2"]]["state"], states[seeded["q2"]]["uploaded_by"], states[seeded["q2"]]["note"]) == (
        "uploaded",
        "hr-ani",
        "manual",
    )
    only = http.get(f"{API}/status?cycle_id=7&kind=kinerjaperiodik&state=not_sent", headers=headers(app)).get_json()
    assert [i["evaluation_id"] for i in only["items"]] == [seeded["q1"]] and only["counts"]["uploaded"] == 1
    page1 = http.get(f"{API}/status?cycle_id=7&limit=2", headers=headers(app)).get_json()
    page2 = http.get(f"{API}/status?cycle_id=7&limit=2&cursor={page1['next_cursor']}", headers=headers(app)).get_json()
    assert len(page1["items"]) == 2 and page2["items"][0]["evaluation_id"] > page1["items"][1]["evaluation_id"]
    assert http.get(f"{API}/status?cycle_id=7", headers=headers(app, agency="OTHER")).status_code == 404
