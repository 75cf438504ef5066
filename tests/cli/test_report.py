"""``kinerja hr report`` (and ``cycle status``) on a cycle taken through the whole appraisal year:
approved SKPs, a public satisfaction survey, periodic and annual evaluations, a unit off the curve
with an HR override, sign-off, two objections (one changed, one upheld), follow-up, closed."""

from __future__ import annotations

import re
import subprocess
import uuid
from pathlib import Path

import pytest
from werkzeug.test import Client as WsgiClient

from kinerja.embedded import Embedded
from kinerja.http import Client
from kinerja.report import build_report
from services.common.bus import Topology
from tests.cli.conftest import SERVICES, Server, serve
from tests.plans.support import HEAD, KASI_A, KASI_B, STAFF_A, STAFF_B, FakeClock, Org, Tokens, seed
from tests.reviews.support import Chain

ALL = [HEAD, KASI_A, KASI_B, *STAFF_A, *STAFF_B]
ANNUAL = {
    HEAD: ("meets", "meets"),
    KASI_A: ("meets", "meets"),
    KASI_B: ("above", "above"),
    STAFF_A[0]: ("meets", "meets"),
    STAFF_A[1]: ("meets", "meets"),
    STAFF_A[2]: ("meets", "meets"),
    STAFF_B[0]: ("above", "above"),
    STAFF_B[1]: ("below", "meets"),
    STAFF_B[2]: ("meets", "below"),
}


def _ok(r, status=(200, 201)):
    assert r.status_code in status, (r.request.path, r.status_code, r.get_data(as_text=True)[:1500])
    return r.get_json()


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    clock = FakeClock()
    emb = Embedded(
        env={"KINERJA_VAR": str(tmp_path_factory.mktemp("var"))},
        clock=clock,
        services=SERVICES,
        topology=Topology.isolated(f"t{uuid.uuid4().hex[:8]}."),
    )
    srv, thread = serve(emb)
    try:
        server = Server(emb, f"http://127.0.0.1:{srv.server_port}")
        plans_app = emb.apps["plans"]
        org = Org(plans_app, WsgiClient(emb.wsgi), Tokens(server.secret), clock)
        seed(org)
        chain = Chain(emb, org)
        chain.approve_all_plans()
        _survey(org, "SEK-A", "Seksi Perencanaan", mood=3)
        _survey(org, "DINAS", "Dinas Pekerjaan Umum", mood=4)
        chain.advance_to("monitoring:1:check_in")
        chain.advance_to("annual_evaluation")
        evs = {e["employee_nip"]: e for e in chain.evaluations(cycle_id=org.cycle_id, period_seq=0)}
        assert set(evs) == set(ALL)
        for unit, result in (("DINAS", "BAIK"), ("SEK-A", "BAIK"), ("SEK-B", "ISTIMEWA")):
            _ok(chain.set_org_result(unit, result, period_seq=0))
        for nip, ev in evs.items():
            _ok(chain.self_assess(ev, nip))
        for nip, (hasil, perilaku) in ANNUAL.items():
            ev = evs[nip]
            who = chain.as_(ev["penilai_nip"]) if ev["penilai_nip"] else chain.hr
            penilai = {**who, "If-Match": chain.etag(ev["id"])}
            _ok(
                chain.put(
                    f"/evaluations/{ev['id']}/rating",
                    penilai,
                    {
                        "rating_hasil": hasil,
                        "rating_perilaku": perilaku,
                        "deviation_reason": "Penilaian berdasarkan bukti dukung.",
                        # a perilaku below expectations names the values below (DOMAIN.md: the development plan)
                        **({"perilaku_below_values": ["kolaboratif"]} if perilaku == "below" else {}),
                    },
                )
            )
        chain.advance_to("calibration")
        cal = _ok(chain.get(f"/calibration?cycle_id={org.cycle_id}&period_seq=0", chain.hr))
        off = [u["unit_code"] for u in cal["units"] if u["violations"]]
        assert "SEK-A" in off, cal  # four Baik in a Baik unit: more than 70 % and no one below
        for unit in off:
            _ok(
                chain.post(
                    "/calibration/overrides",
                    chain.hr,
                    {
                        "cycle_id": org.cycle_id,
                        "period_seq": 0,
                        "unit_code": unit,
                        "reason": "Unit kecil; distribusi ditinjau bersama pimpinan dan dipertahankan.",
                    },
                )
            )
        chain.advance_to("sign_off")
        for nip, ev in evs.items():
            for who, action in ((ev["penilai_nip"], "sign"), (nip, "acknowledge"), (ev["atasan_nip"], "countersign")):
                _ok(chain.post(f"/evaluations/{ev['id']}/{action}", chain.as_(who) if who else chain.hr))
        chain.advance_to("objections")
        changed = _ok(
            chain.post(
                f"/evaluations/{evs[STAFF_B[2]]['id']}/objections",
                chain.as_(STAFF_B[2]),
                {"reasons": "Bukti pengawasan lapangan bulan Maret belum dipertimbangkan."},
            )
        )
        _ok(
            chain.post(
                f"/objections/{changed['id']}/decide",
                chain.as_(HEAD),
                {
                    "decision": "changed",
                    "reason": "Bukti foto sah.",
                    "rating_hasil": "meets",
                    "rating_perilaku": "meets",
                },
            )
        )
        upheld = _ok(
            chain.post(
                f"/evaluations/{evs[STAFF_A[2]]['id']}/objections",
                chain.as_(STAFF_A[2]),
                {"reasons": "Penilaian perilaku tidak mempertimbangkan kegiatan lapangan."},
            )
        )
        _ok(
            chain.post(
                f"/objections/{upheld['id']}/decide",
                chain.as_(HEAD),
                {"decision": "upheld", "reason": "Penilaian sesuai bukti."},
            )
        )
        chain.advance_to("closed")
        yield {
            "server": server,
            "emb": emb,
            "cycle_id": org.cycle_id,
            "changed": changed["id"],
            "upheld": upheld["id"],
            "evaluations": evs,
        }
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=10)
        emb.close()


def _survey(org: Org, unit: str, name: str, mood: int) -> None:
    hr = org.hr
    c = org.client
    campaign = _ok(
        c.post(
            "/surveys/api/v1/campaigns",
            headers=hr,
            json={
                "unit_code": unit,
                "unit_name": name,
                "service_type": "Pelayanan umum",
                "title": f"SKM {name} 2026",
                "start_date": "2026-10-01",
                "end_date": "2026-12-15",
                "population": 40,
            },
        )
    )
    _ok(c.post(f"/surveys/api/v1/campaigns/{campaign['id']}/open", headers=hr))
    answers = [
        {"answers": {f"U{k}": max(1, min(4, mood - (k == 3) - (i % 3 == 0 and k == 9))) for k in range(1, 10)}}
        for i in range(campaign["min_sample"] + 2)
    ]
    _ok(c.post(f"/surveys/api/v1/campaigns/{campaign['id']}/responses:batch", headers=hr, json=answers))
    _ok(c.post(f"/surveys/api/v1/campaigns/{campaign['id']}/close", headers=hr))


def test_report_writes_html_pdf_and_documents(year, tmp_path):
    server, cycle_id = year["server"], year["cycle_id"]
    out = tmp_path / "laporan"
    r = server.hr("report", cycle_id, "--out", out, "--pdf", "--documents", 3)
    assert r.exit_code == 0, r.output
    assert f"HTML: {out / 'report.html'}" in r.output and f"PDF:  {out / 'report.pdf'}" in r.output
    assert "Dokumen evaluasi (evaluation documents): 3" in r.output

    html = (out / "report.html").read_text(encoding="utf-8")
    for code in ("DINAS", "SEK-A", "SEK-B"):
        assert code in html
    assert html.count("<svg") >= 1 + 3 + 2  # plans bars, a curve per unit, an IKM chart per surveyed unit
    assert "<script" not in html.lower() and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "Laporan Siklus Penilaian Kinerja" in html and "(HR cycle report)" in html
    assert "Ditutup (closed)" in html
    # the curve: SEK-A broke it and HR overrode; its band is drawn
    assert "rentang yang diizinkan (allowed band)" in html and "pengecualian HR (override)" in html
    assert "B maks. 3, ada 4 (max 3, actual 4)" in html
    # IKM per unsur for both surveyed units
    assert re.search(r"IKM \d+\.\d+ · mutu [A-D]", html) and html.count("U9") >= 3
    # objections: the changed one is derived from the evaluation, the gap is said out loud
    assert f"#{year['changed']}" in html and "Diubah" in html
    assert f"#{year['upheld']}" in html and "Ditolak, nilai tetap" in html  # upheld objections are listed too
    # follow-up plans
    assert "Rencana pengembangan (development plan): 1" in html and "Penghargaan (recognition): 2" in html

    pdf = (out / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    from pypdf import PdfReader

    reader = PdfReader(out / "report.pdf")
    assert len(reader.pages) >= 3
    text = "\n".join(p.extract_text() for p in reader.pages)
    for needle in (
        "Laporan Siklus Penilaian Kinerja",
        "DINAS",
        "SEK-A",
        "SEK-B",
        "Kalibrasi",
        "Indeks Kepuasan",
        "Keberatan",
        "Tindak lanjut",
    ):
        assert needle in text, needle

    docs = sorted((out / "documents").glob("*.pdf"))
    assert len(docs) == 3 and all(d.read_bytes().startswith(b"%PDF") for d in docs)
    assert all("tahunan" in d.name for d in docs)  # annual documents first

    # the first page renders (pdftoppm) — looked at by eye once when this was written
    png = tmp_path / "page"
    done = subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(out / "report.pdf"), str(png)], capture_output=True
    )
    if done.returncode == 0:
        assert any(tmp_path.glob("page*.png"))


def test_build_report_as_a_function_in_process(year, tmp_path):
    """The demo calls build_report directly, with no server: the client dispatches to the WSGI app."""
    server = year["server"]
    client = Client(token=server.hr_token, wsgi=year["emb"].wsgi)
    paths = build_report(client, year["cycle_id"], tmp_path / "r", pdf=False, documents=1)
    assert paths["html"] == tmp_path / "r" / "report.html" and paths["html"].exists()
    assert paths["pdf"] is None and not (tmp_path / "r" / "report.pdf").exists()
    assert [p.name for p in paths["documents"]] == [Path(p).name for p in paths["documents"]]
    assert len(paths["documents"]) == 1 and paths["documents"][0].read_bytes().startswith(b"%PDF")


def test_status_of_a_closed_cycle_shows_evaluations_and_calibration(year):
    server = year["server"]
    r = server.hr("cycle", "status", year["cycle_id"])
    assert r.exit_code == 0, r.output
    out = r.output
    assert "Tahap (stage): Ditutup (closed) [closed]" in out
    assert "Evaluasi per unit dan status — Tahunan (evaluations per unit by status, annual)" in out
    annual = out.split("Evaluasi per unit dan status — Tahunan")[1].split("Kalibrasi")[0]
    rows = {
        line.split()[0]: line.split() for line in annual.splitlines() if line.startswith(("DINAS", "SEK-A", "SEK-B"))
    }
    assert rows["SEK-A"][1:7] == ["0", "0", "0", "0", "0", "4"]  # all four countersigned
    assert "Kalibrasi — Tahunan (calibration per unit, annual)" in out
    cal = out.split("Kalibrasi — Tahunan")[1]
    sek_a = next(line for line in cal.splitlines() if line.startswith("SEK-A"))
    assert "ya (yes)" in sek_a and "maks." in sek_a  # overridden, with the violation named


def test_report_without_reviews_or_surveys_still_writes_and_says_why(server, tmp_path):
    """A cycle reviews has not heard of (no events pumped) and no surveys: the report notes it."""
    admin = server.client(server.token("admin", agency=None, sub="admin@kinerja"))
    admin.post("/plans/api/v1/agencies", {"code": "PKMB", "name": "Pemerintah Kabupaten Maju Bersama"})
    c = server.client()
    cycle = c.post("/plans/api/v1/cycles", {"year": 2026, "period_type": "semester"})
    paths = build_report(c, cycle["id"], tmp_path, pdf=True)
    html = paths["html"].read_text(encoding="utf-8")
    assert "Tidak ada survei pada tahun 2026" in html and "Belum ada evaluasi yang dinilai" in html
    assert paths["pdf"].read_bytes().startswith(b"%PDF")
