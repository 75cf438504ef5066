"""Responses through the kiosk/agency API, batches, the anonymous kiosk API and the CSV import of
paper questionnaires: bad input is a problem+json naming the field, and nothing is recorded."""

from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest

from services.surveys.domain import UNSUR
from tests.surveys.support import API, answers, field_errors, problem, questionnaire


def test_kiosk_records_a_questionnaire(sv, campaign):
    body = questionnaire(
        3,
        profile={"age": 34, "sex": "female", "education": "s1", "occupation": "swasta", "service_type": "Poli umum"},
        suggestion="Ruang tunggu perlu kipas angin.",
    )
    r = sv.record(campaign["id"], body)
    assert r.status_code == 201, r.get_json()
    got = r.get_json()
    assert got["id"] and got["campaign_id"] == campaign["id"] and got["channel"] == "api"
    ev = sv.outbox("surveys.response.recorded")[-1]["envelope"]["data"]
    assert ev["count"] == 1 and ev["respondents"] == 1 and ev["first_response_id"] == got["id"]
    sugg = sv.get(f"/campaigns/{campaign['id']}/suggestions").get_json()["items"]
    assert [s["suggestion"] for s in sugg] == ["Ruang tunggu perlu kipas angin."]


def test_answers_are_stored_by_unsur_code_not_position(sv, campaign):
    # keys in the questionnaire's order (U9 before U8), different values for U8 and U9
    body = {"answers": {"U1": 4, "U2": 4, "U3": 4, "U4": 4, "U5": 4, "U6": 4, "U7": 4, "U9": 3, "U8": 1}}
    assert sv.record(campaign["id"], body).status_code == 201
    nrr = sv.ikm(campaign["id"])["nrr"]
    assert nrr["U8"] == 1.0 and nrr["U9"] == 3.0


@pytest.mark.parametrize(
    "body,field,code",
    [
        (questionnaire(answers=answers(U4=5)), "answers.U4", "answer.range"),
        (questionnaire(answers=answers(U4=0)), "answers.U4", "answer.range"),
        (questionnaire(answers=answers(U1="4")), "answers.U1", "answer.range"),
        (questionnaire(answers=answers(U1=True)), "answers.U1", "answer.range"),
        (questionnaire(answers=answers(U1=None)), "answers.U1", "answer.range"),
        (questionnaire(answers=answers(U1=3.5)), "answers.U1", "answer.range"),
        (questionnaire(answers={u: 4 for u in UNSUR if u != "U7"}), "answers.U7", "answer.missing"),
        (questionnaire(answers=answers(U10=4)), "answers.U10", "answer.unknown_unsur"),
        (questionnaire(answers=answers(u1=4)), "answers.u1", "answer.unknown_unsur"),
        ({"profile": {}}, "answers", "field.required"),
        ({"answers": [4] * 9}, "answers", "answer.type"),
        (questionnaire(profile={"age": 5}), "profile.age", "profile.age"),
        (questionnaire(profile={"age": "tiga puluh"}), "profile.age", "field.type"),
        (questionnaire(profile={"sex": "x"}), "profile.sex", "profile.sex"),
        (questionnaire(profile={"education": "phd"}), "profile.education", "profile.education"),
        (questionnaire(profile={"occupation": "astronaut"}), "profile.occupation", "profile.occupation"),
        (questionnaire(profile={"shoe_size": 42}), "profile.shoe_size", "field.unknown"),
        (questionnaire(suggestion="x" * 2001), "suggestion", "response.suggestion_length"),
        (questionnaire(token="NOSUCHCODE"), "token", "token.unknown"),
        (questionnaire(extra=1), "extra", "field.unknown"),
    ],
)
def test_bad_questionnaire_names_the_field_and_records_nothing(sv, campaign, body, field, code):
    before = sv.counts()
    r = sv.record(campaign["id"], body)
    errors = field_errors(problem(r, 422, "validation"))
    assert errors.get(field) == code, errors
    assert sv.counts() == before


def test_every_error_of_a_questionnaire_at_once_in_indonesian_then_english(sv, campaign):
    body = {"answers": {"U1": 9, "U2": 4, "U11": 1}, "profile": {"age": 3}}
    r = sv.record(campaign["id"], body)
    errs = problem(r, 422)["errors"]
    fields = {e["field"] for e in errs}
    assert {"answers.U1", "answers.U11", "answers.U3", "answers.U9", "profile.age"} <= fields
    u1 = next(e for e in errs if e["field"] == "answers.U1")
    assert u1["detail"] == "Jawaban unsur U1 harus bilangan bulat 1 sampai 4." and u1["pointer"] == "#/answers/U1"
    en = sv.record(campaign["id"], body, {**sv.kiosk, "Accept-Language": "en"})
    u1 = next(e for e in problem(en, 422)["errors"] if e["field"] == "answers.U1")
    assert u1["detail"] == "The answer for unsur U1 must be a whole number from 1 to 4."


@pytest.mark.parametrize(
    "data,content_type,status",
    [
        (b"{not json", "application/json", 400),
        (b"", "application/json", 400),
        (b"answers=4", "application/x-www-form-urlencoded", 415),
        (b"[1,2]", "application/json", 422),
        (b'"text"', "application/json", 422),
        (b"null", "application/json", 422),
    ],
)
def test_garbage_bodies_are_client_errors(sv, campaign, data, content_type, status):
    r = sv.client.post(
        f"{API}/campaigns/{campaign['id']}/responses", data=data, content_type=content_type, headers=sv.kiosk
    )
    problem(r, status)
    assert sv.responses() == 0


def test_closed_or_draft_campaign_takes_no_responses(sv, campaign):
    draft = sv.create()
    body = problem(sv.record(draft["id"], questionnaire()), 409, "campaign.not_open")
    assert field_errors(body) == {"campaign": "campaign.not_open"}
    sv.post(f"/campaigns/{campaign['id']}/close")
    problem(sv.record(campaign["id"], questionnaire()), 409, "campaign.not_open")
    problem(sv.batch(campaign["id"], [questionnaire()]), 409, "campaign.not_open")
    assert sv.responses() == 0


def test_a_token_admits_one_response(sv):
    c = sv.open(tokens=2)
    codes = [t["code"] for t in sv.get(f"/campaigns/{c['id']}/tokens").get_json()["items"]]
    assert sv.record(c["id"], questionnaire(token=codes[0])).status_code == 201
    body = problem(sv.record(c["id"], questionnaire(token=codes[0])), 422)
    assert field_errors(body) == {"token": "token.used"}
    assert sv.responses() == 1
    # the authenticated kiosk API does not need a token, even when the campaign issues them
    assert sv.record(c["id"], questionnaire()).status_code == 201


def test_batch_is_all_or_nothing_and_names_the_row(sv, campaign):
    good = [questionnaire(4)] * 3
    bad = good + [questionnaire(answers=answers(U2=7)), questionnaire(answers={"U1": 1})]
    body = problem(sv.batch(campaign["id"], bad), 422, "validation")
    errors = field_errors(body)
    assert errors["[3].answers.U2"] == "answer.range" and errors["[4].answers.U9"] == "answer.missing"
    assert sv.responses() == 0 and not sv.outbox("surveys.response.recorded")
    r = sv.batch(campaign["id"], good)
    assert r.status_code == 201 and r.get_json()["recorded"] == 3
    got = r.get_json()
    assert got["last_response_id"] - got["first_response_id"] == 2
    events = sv.outbox("surveys.response.recorded")
    assert len(events) == 1 and events[0]["envelope"]["data"]["count"] == 3  # one event per call


def test_batch_refuses_duplicate_tokens_and_bad_shapes(sv):
    c = sv.open(tokens=1)
    code = sv.get(f"/campaigns/{c['id']}/tokens").get_json()["items"][0]["code"]
    body = problem(sv.batch(c["id"], [questionnaire(token=code), questionnaire(token=code)]), 422)
    assert field_errors(body) == {"[1].token": "token.duplicate"}
    problem(sv.batch(c["id"], questionnaire()), 422)  # an object, not a list
    problem(sv.batch(c["id"], []), 422)
    problem(sv.batch(c["id"], [questionnaire()] * 1001), 422)
    assert field_errors(problem(sv.batch(c["id"], [questionnaire(), 7]), 422)) == {"[1]": "field.type"}
    assert sv.responses() == 0


def test_idempotency_key_makes_a_retried_batch_count_once(sv, campaign):
    headers = {**sv.kiosk, "Idempotency-Key": "kiosk-7-batch-42"}
    first = sv.batch(campaign["id"], [questionnaire()] * 2, headers)
    again = sv.batch(campaign["id"], [questionnaire()] * 2, headers)
    assert first.status_code == again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert sv.responses() == 2


# ------------------------------------------------------------------ anonymous kiosk API


def test_public_questionnaire_and_kiosk_submission_without_login(sv, campaign):
    slug = campaign["slug"]
    q = sv.client.get(f"{API}/public/{slug}").get_json()
    assert [x["code"] for x in q["questions"]] == ["U1", "U2", "U3", "U4", "U5", "U6", "U7", "U9", "U8"]
    assert q["questions"][3]["answers"][3] == {"value": 4, "label": "Gratis"}
    en = sv.client.get(f"{API}/public/{slug}?lang=en").get_json()
    assert en["questions"][3]["answers"][0]["label"] == "Very expensive"
    r = sv.client.post(f"{API}/public/{slug}/responses", json=questionnaire())
    assert r.status_code == 201 and r.get_json()["channel"] == "kiosk"
    problem(sv.client.get(f"{API}/public/not-a-real-slug"), 404)
    draft = sv.create()
    problem(sv.client.post(f"{API}/public/{draft['slug']}/responses", json=questionnaire()), 404)


def test_flood_from_one_address_is_refused_with_429_and_not_recorded(sv, campaign, clock):
    url = f"{API}/public/{campaign['slug']}/responses"
    for _ in range(3):
        assert sv.client.post(url, json=questionnaire(), environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code == 201
    r = sv.client.post(url, json=questionnaire(), environ_base={"REMOTE_ADDR": "10.1.1.1"})
    body = problem(r, 429, "response.rate_limited")
    assert int(r.headers["Retry-After"]) >= 1 and field_errors(body) == {"client": "response.rate_limited"}
    assert sv.responses() == 3
    # another address is not affected; the next minute the first one may answer again
    assert sv.client.post(url, json=questionnaire(), environ_base={"REMOTE_ADDR": "10.1.1.2"}).status_code == 201
    clock.advance(seconds=61)
    assert sv.client.post(url, json=questionnaire(), environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code == 201
    assert sv.responses() == 5


def test_public_kiosk_needs_a_token_when_the_campaign_issues_them(sv):
    c = sv.open(tokens=1)
    code = sv.get(f"/campaigns/{c['id']}/tokens").get_json()["items"][0]["code"]
    url = f"{API}/public/{c['slug']}/responses"
    assert field_errors(problem(sv.client.post(url, json=questionnaire()), 422)) == {"token": "token.required"}
    assert sv.client.post(url, json=questionnaire(token=code)).status_code == 201
    assert field_errors(problem(sv.client.post(url, json=questionnaire(token=code)), 422)) == {"token": "token.used"}
    assert sv.responses() == 1


def test_guessing_tokens_is_slowed_down(sv):
    c = sv.open(tokens=1)
    url = f"{API}/public/{c['slug']}/responses"
    for i in range(3):
        problem(sv.client.post(url, json=questionnaire(token=f"GUESS{i}")), 422)
    problem(sv.client.post(url, json=questionnaire(token="GUESS9")), 429, "response.rate_limited")


def test_public_answers_only_within_the_campaign_period(sv, clock):
    c = sv.open()
    clock.set(datetime(2026, 4, 2, 3, 0, tzinfo=timezone.utc))
    problem(sv.client.post(f"{API}/public/{c['slug']}/responses", json=questionnaire()), 409, "campaign.outside_period")
    # paper questionnaires entered after the period by the agency are still taken while open
    assert sv.record(c["id"], questionnaire()).status_code == 201


# ------------------------------------------------------------------ CSV import of paper questionnaires

CSV_OK = """U1,U2,U3,U4,U5,U6,U7,U8,U9,age,sex,education,occupation,service_type,suggestion
4,4,3,4,3,4,4,2,3,45,L,sma,wirausaha,Poli umum,Antrian panjang di pagi hari
3,3,3,4,3,3,4,,3,28,P,s1,pns,Poli gigi,
4,3,2,4,4,4,4,3,4,,,,,,"Petugas ramah, terima kasih"
"""


def test_csv_import_records_every_row_and_blank_cells_are_unanswered(sv, campaign):
    r = sv.import_csv(campaign["id"], CSV_OK)
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"campaign_id": campaign["id"], "dry_run": False, "rows": 3, "recorded": 3, "errors": []}
    ikm = sv.ikm(campaign["id"])
    assert ikm["respondents"] == 3
    assert ikm["nrr"]["U8"] == 2.5  # (2 + 3) / 2: the blank U8 is not counted
    assert ikm["nrr"]["U3"] == round(8 / 3, 4)
    sugg = [s["suggestion"] for s in sv.get(f"/campaigns/{campaign['id']}/suggestions").get_json()["items"]]
    assert sugg == ["Antrian panjang di pagi hari", "Petugas ramah, terima kasih"]
    ev = sv.outbox("surveys.response.recorded")[-1]["envelope"]["data"]
    assert ev["channel"] == "import" and ev["count"] == 3


def test_csv_with_one_broken_row_imports_nothing_and_lists_the_errors_per_row(sv, campaign):
    broken = CSV_OK + "4,4,4,5,4,4,4,4,4,30,X,sma,pns,,\n"
    before = sv.counts()
    body = problem(sv.import_csv(campaign["id"], broken), 422, "import.rejected")
    assert field_errors(body) == {"rows[5].U4": "answer.range", "rows[5].sex": "profile.sex"}
    assert sv.counts() == before
    dry = sv.import_csv(campaign["id"], broken, dry_run=True)
    assert dry.status_code == 200
    errs = dry.get_json()["errors"]
    assert {(e["row"], e["field"], e["code"]) for e in errs} == {(5, "U4", "answer.range"), (5, "sex", "profile.sex")}
    assert errs[0]["detail"]
    assert sv.counts() == before


def test_csv_dry_run_of_a_good_file_saves_nothing(sv, campaign):
    r = sv.import_csv(campaign["id"], CSV_OK, dry_run=True)
    assert r.status_code == 200 and r.get_json()["recorded"] == 3 and r.get_json()["dry_run"] is True
    assert sv.responses() == 0


@pytest.mark.parametrize(
    "text,field,code",
    [
        ("U1,U2,U3,U4,U5,U6,U7,U8\n4,4,4,4,4,4,4,4\n", "header", "import.column_missing"),
        ("U1,U2,U3,U4,U5,U6,U7,U8,U9,colour\n4,4,4,4,4,4,4,4,4,red\n", "header", "import.column_unknown"),
        ("U1,U2,U3,U4,U5,U6,U7,U8,U9\n", "body", "import.no_rows"),
        ("", "header", "import.empty"),
        ("U1,U2,U3,U4,U5,U6,U7,U8,U9\n4,4,4\n", "rows[2].row", "import.row_length"),
        ("U1,U2,U3,U4,U5,U6,U7,U8,U9\n,,,,,,,,\n4,4,4,4,4,4,4,4,x\n", "rows[3].U9", "answer.range"),
        ("U1,U2,U3,U4,U5,U6,U7,U8,U9,age\n4,4,4,4,4,4,4,4,4,tua\n", "rows[2].age", "field.type"),
        ("U1,U2,U3,U4,U5,U6,U7,U8,U9,token\n4,4,4,4,4,4,4,4,4,NOPE\n", "rows[2].token", "token.unknown"),
    ],
)
def test_csv_problems_are_named(sv, campaign, text, field, code):
    body = problem(sv.import_csv(campaign["id"], text), 422)
    assert field_errors(body).get(field) == code, body
    assert sv.responses() == 0


def test_csv_row_with_every_answer_blank_is_an_error(sv, campaign):
    text = "U1,U2,U3,U4,U5,U6,U7,U8,U9,age\n,,,,,,,,,40\n"
    assert field_errors(problem(sv.import_csv(campaign["id"], text), 422)) == {"rows[2].answers": "answer.none"}


def test_csv_upload_as_multipart_and_wrong_media_types(sv, campaign):
    r = sv.client.post(
        f"{API}/campaigns/{campaign['id']}/responses:import",
        data={"file": (io.BytesIO(CSV_OK.encode()), "kuesioner.csv")},
        content_type="multipart/form-data",
        headers=sv.hr,
    )
    assert r.status_code == 200 and r.get_json()["recorded"] == 3
    problem(sv.client.post(f"{API}/campaigns/{campaign['id']}/responses:import", json={"a": 1}, headers=sv.hr), 415)
    r = sv.client.post(
        f"{API}/campaigns/{campaign['id']}/responses:import",
        data=b"\xff\xfe\x00U1",
        content_type="text/csv",
        headers=sv.hr,
    )
    problem(r, 422)


def test_csv_with_a_service_type_outside_the_campaign_options(sv):
    c = sv.open(service_options=["Poli umum", "Poli gigi"])
    body = problem(sv.import_csv(c["id"], CSV_OK.replace("Poli gigi", "Poli mata")), 422)
    assert field_errors(body) == {"rows[3].service_type": "profile.service_option"}
    assert sv.responses() == 0
