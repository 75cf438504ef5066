"""The index through the API (computed by the database's aggregate), the aggregate endpoint with
filters, suggestions, on-demand publishing and the report as JSON, HTML (inline SVG) and PDF."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from services.surveys.domain import UNSUR
from tests.surveys.support import answers, problem, questionnaire
from tests.surveys.test_domain import BOUNDARY_DATASETS, _respondents


def test_ikm_exact_shape_on_a_hand_computed_dataset(sv, campaign):
    rows = [
        {"U1": 4, "U2": 3, "U3": 2, "U4": 4, "U5": 3, "U6": 4, "U7": 4, "U8": 2, "U9": 3},
        {"U1": 3, "U2": 3, "U3": 3, "U4": 4, "U5": 4, "U6": 4, "U7": 4, "U8": 3, "U9": 3},
        {"U1": 4, "U2": 3, "U3": 2, "U4": 4, "U5": 3, "U6": 3, "U7": 3, "U8": 2, "U9": 2},
        {"U1": 3, "U2": 3, "U3": 3, "U4": 4, "U5": 3, "U6": 4, "U7": 4, "U8": 2, "U9": 3},
    ]
    assert sv.batch(campaign["id"], [{"answers": a} for a in rows]).status_code == 201
    assert sv.ikm(campaign["id"]) == {
        "respondents": 4,
        "nrr": {"U1": 3.5, "U2": 3.0, "U3": 2.5, "U4": 4.0, "U5": 3.25, "U6": 3.75, "U7": 3.75, "U8": 2.25, "U9": 2.75},
        "ikm": 3.1944,
        "ikm_unit": 79.86,
        "mutu": "B",
        "kinerja": "Baik",
    }


@pytest.mark.parametrize("total,ikm,ikm_unit,mutu,kinerja", BOUNDARY_DATASETS)
def test_band_boundaries_through_the_database_aggregate(sv, campaign, total, ikm, ikm_unit, mutu, kinerja):
    rows = _respondents(1000, total)
    assert sv.batch(campaign["id"], [{"answers": a} for a in rows]).status_code == 201
    got = sv.ikm(campaign["id"])
    assert (got["respondents"], got["ikm"], got["ikm_unit"], got["mutu"], got["kinerja"]) == (
        1000,
        float(ikm),
        float(ikm_unit),
        mutu,
        kinerja,
    )


def test_no_responses_means_no_index(sv, campaign):
    assert sv.ikm(campaign["id"]) == {
        "respondents": 0,
        "nrr": {u: None for u in UNSUR},
        "ikm": None,
        "ikm_unit": None,
        "mutu": None,
        "kinerja": None,
    }
    problem(sv.post(f"/campaigns/{campaign['id']}/ikm:publish"), 409, "ikm.no_data")


def test_publish_on_demand(sv, campaign):
    sv.batch(campaign["id"], [questionnaire(4), questionnaire(3, answers=answers(3, U3=1))])
    r = sv.post(f"/campaigns/{campaign['id']}/ikm:publish")
    assert r.status_code == 202, r.get_json()
    body = r.get_json()
    assert body["respondents"] == 2 and body["mutu"] in "ABCD"
    events = sv.outbox("surveys.ikm.computed")
    assert len(events) == 1 and events[0]["envelope"]["data"]["final"] is False
    assert events[0]["envelope"]["data"]["ikm_unit"] == body["ikm_unit"]
    problem(sv.post(f"/campaigns/{campaign['id']}/ikm:publish", headers=sv.kiosk), 403)
    draft = sv.create()
    problem(sv.post(f"/campaigns/{draft['id']}/ikm:publish"), 409, "campaign.not_open")


def test_aggregate_per_unit_period_and_service_type(sv):
    a = sv.open(unit_code="PKM-01", service_type="Rawat jalan")
    b = sv.open(unit_code="PKM-01", service_type="Imunisasi", start_date="2026-04-01", end_date="2026-06-30")
    c = sv.open(unit_code="DISDUK", service_type="KTP-el")
    sv.batch(a["id"], [questionnaire(4)] * 3)
    sv.batch(b["id"], [questionnaire(2)])
    sv.batch(c["id"], [questionnaire(3)] * 2)
    whole = sv.get("/ikm").get_json()
    assert whole["respondents"] == 6 and whole["campaigns"] == 3
    # pooled over respondents: (3·4 + 2 + 2·3) / 6 = 20/6 = 3.3333
    assert whole["ikm"] == 3.3333 and whole["ikm_unit"] == 83.33
    pkm = sv.get("/ikm?unit_code=PKM-01").get_json()
    assert (pkm["respondents"], pkm["campaigns"], pkm["ikm"]) == (4, 2, 3.5)
    q1 = sv.get("/ikm?unit_code=PKM-01&from=2026-01-01&to=2026-03-31").get_json()
    assert (q1["respondents"], q1["campaign_ids"]) == (3, [a["id"]])
    imun = sv.get("/ikm?service_type=Imunisasi").get_json()
    assert (imun["respondents"], imun["ikm_unit"], imun["mutu"]) == (1, 50.0, "D")
    grouped = sv.get("/ikm?group_by=unit_code").get_json()["groups"]
    assert [(g["key"], g["respondents"], g["campaigns"]) for g in grouped] == [("DISDUK", 2, 1), ("PKM-01", 4, 2)]
    assert sv.get("/ikm?unit_code=NONE").get_json()["respondents"] == 0
    problem(sv.get("/ikm?from=2026-05-01&to=2026-01-01"), 422)
    problem(sv.get("/ikm?group_by=colour"), 422)
    problem(sv.get("/ikm", sv.headers("employee", nip="199001012015031004")), 403)


def test_suggestions_are_listed_and_paginated(sv, campaign):
    sv.batch(campaign["id"], [questionnaire(suggestion=f"Saran nomor {i}") for i in range(5)] + [questionnaire()])
    page = sv.get(f"/campaigns/{campaign['id']}/suggestions?limit=2").get_json()
    assert [s["suggestion"] for s in page["items"]] == ["Saran nomor 0", "Saran nomor 1"] and page["next_cursor"]
    seen = [s["suggestion"] for s in page["items"]]
    while page["next_cursor"]:
        page = sv.get(f"/campaigns/{campaign['id']}/suggestions?limit=2&cursor={page['next_cursor']}").get_json()
        seen += [s["suggestion"] for s in page["items"]]
    assert seen == [f"Saran nomor {i}" for i in range(5)]
    problem(sv.get(f"/campaigns/{campaign['id']}/suggestions?cursor=garbage"), 422)


def _survey_with_a_weak_unsur(sv, campaign):
    rows = [questionnaire(4, answers=answers(4, U3=2), suggestion="Antrian terlalu lama") for _ in range(3)]
    rows.append(questionnaire(3, answers=answers(3, U3=1), suggestion="Petugas ramah “sekali” 👍 <b>ok</b>"))
    assert sv.batch(campaign["id"], rows).status_code == 201


def test_report_json_names_the_priority_and_the_sample(sv, campaign):
    _survey_with_a_weak_unsur(sv, campaign)
    rep = sv.get(f"/campaigns/{campaign['id']}/report").get_json()
    assert rep["priority"] == ["U3"]
    assert rep["index"] == sv.ikm(campaign["id"])
    assert rep["campaign"]["respondents"] == 4 and rep["campaign"]["min_sample"] == 278
    u3 = next(u for u in rep["unsur"] if u["code"] == "U3")
    assert u3 == {"code": "U3", "nrr": 1.75, "answered": 4, "priority": True}
    assert rep["suggestions_total"] == 4


def test_report_html_has_an_inline_svg_chart_the_band_and_the_suggestions(sv, campaign):
    _survey_with_a_weak_unsur(sv, campaign)
    r = sv.get(f"/campaigns/{campaign['id']}/report.html")
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert "<svg" in html and "<script" not in html
    assert html.count("<rect") == 9 and html.count('fill="#c0392b"') == 1  # one bar per unsur, U3 red
    assert "Indeks Kepuasan Masyarakat (IKM)" in html and "Prioritas perbaikan" in html
    assert "Waktu penyelesaian" in html and "Sampel minimum belum tercapai (kurang 274)" in html
    assert "&lt;b&gt;ok&lt;/b&gt;" in html  # a respondent's text is escaped
    en = sv.get(f"/campaigns/{campaign['id']}/report.html?lang=en").get_data(as_text=True)
    assert "Public Satisfaction Survey Report" in en and "Improvement priority" in en


def test_report_pdf_renders_even_with_characters_outside_latin1(sv, campaign):
    _survey_with_a_weak_unsur(sv, campaign)
    r = sv.get(f"/campaigns/{campaign['id']}/report.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert r.data.startswith(b"%PDF-") and b"%%EOF" in r.data[-1024:] and len(r.data) > 1500
    assert "inline; filename=" in r.headers["Content-Disposition"]
    empty = sv.open(unit_code="DISDUK")
    assert sv.get(f"/campaigns/{empty['id']}/report.pdf").data.startswith(b"%PDF-")


def test_report_pdf_text_lists_the_index(sv, campaign):
    _survey_with_a_weak_unsur(sv, campaign)
    pdf = PdfReader(io.BytesIO(sv.get(f"/campaigns/{campaign['id']}/report.pdf").data))
    text = "\n".join(page.extract_text() for page in pdf.pages)
    ikm = sv.ikm(campaign["id"])
    assert f"{ikm['ikm_unit']:.2f}".replace(".", ",") in text
    for needle in (
        "Laporan Survei Kepuasan Masyarakat",
        "Prioritas perbaikan",
        "Waktu penyelesaian",
        "Antrian terlalu lama",
        "Sampel minimum",
    ):
        assert needle in text, needle
