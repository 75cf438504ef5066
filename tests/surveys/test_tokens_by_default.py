"""The survey index feeds employees' results, so a new campaign admits one response per one-time
token by default; HR may open its form to anyone only with a reason, and such a form takes a
limited number of responses per address and day (not 5 a minute, 7,200 a day)."""

from __future__ import annotations

from services.common.config import Config
from services.surveys.app import create_app
from services.surveys.settings import Settings
from tests.surveys.support import API, Surveys, campaign_body, field_errors, problem, questionnaire, seed_units


def open_default(sv) -> dict:
    """A campaign created and opened with a body that does not mention the form's openness."""
    body = {k: v for k, v in campaign_body().items() if not k.startswith("open_form")}
    c = sv.post("/campaigns", body).get_json()
    r = sv.post(f"/campaigns/{c['id']}/open")
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_a_new_campaign_takes_one_response_per_token_by_default(sv):
    c = open_default(sv)
    assert c["uses_tokens"] is True and c["tokens_issued"] == 0
    url = f"{API}/public/{c['slug']}/responses"
    assert field_errors(problem(sv.client.post(url, json=questionnaire()), 422)) == {"token": "token.required"}
    code = sv.post(f"/campaigns/{c['id']}/tokens", {"count": 1}).get_json()["codes"][0]
    assert sv.client.post(url, json=questionnaire(token=code)).status_code == 201
    assert sv.responses() == 1


def test_opening_the_form_to_anyone_needs_a_reason_kept_in_the_audit(sv):
    body = problem(sv.post("/campaigns", {**campaign_body(), "open_form": True, "open_form_reason": None}), 422)
    assert field_errors(body) == {"open_form_reason": "campaign.open_form_reason"}
    c = sv.create()  # the test body opens the form, with its reason
    assert c["uses_tokens"] is False
    rows = sv.get(f"/audit?entity_type=campaign&entity_id={c['id']}").get_json()["items"]
    created = [row for row in rows if row["action"] == "campaign.created"][0]
    assert created["after"]["uses_tokens"] is False and created["after"]["open_form_reason"].startswith("Loket")


def test_a_form_open_to_anyone_takes_a_limited_number_per_address_and_day(sv, campaign, clock):
    url = f"{API}/public/{campaign['slug']}/responses"
    limit = sv.app.extensions["kinerja"].settings.open_form_per_day
    assert limit == 20
    addr = {"REMOTE_ADDR": "10.9.9.9"}
    accepted = 0
    for _ in range(30):  # three a minute (this fixture's minute limit), for ten minutes
        for _ in range(3):
            accepted += sv.client.post(url, json=questionnaire(), environ_base=addr).status_code == 201
        clock.advance(seconds=61)
    assert accepted == limit
    r = sv.client.post(url, json=questionnaire(), environ_base=addr)
    assert field_errors(problem(r, 429, "response.rate_limited_day")) == {"client": "response.rate_limited_day"}
    assert int(r.headers["Retry-After"]) > 60
    assert sv.client.post(url, json=questionnaire(), environ_base={"REMOTE_ADDR": "10.9.9.8"}).status_code == 201
    clock.advance(seconds=int(r.headers["Retry-After"]) + 1)  # the next UTC day
    assert sv.client.post(url, json=questionnaire(), environ_base=addr).status_code == 201
    assert sv.responses() == limit + 2


def test_the_former_default_can_be_restored(tmp_path, clock):
    config = Config.from_env("surveys", env={"KINERJA_VAR": str(tmp_path)}, testing=True)
    settings = Settings.from_env(config, env={"SURVEYS_TOKENS_BY_DEFAULT": "0", "SURVEYS_OPEN_FORM_PER_DAY": "2"})
    app = create_app(config, clock=clock, settings=settings)
    try:
        seed_units(app)
        sv = Surveys(app, app.test_client())
        c = open_default(sv)
        assert c["uses_tokens"] is False
        url = f"{API}/public/{c['slug']}/responses"
        assert [sv.client.post(url, json=questionnaire()).status_code for _ in range(3)] == [201, 201, 429]
    finally:
        app.extensions["kinerja"].engine.dispose()
