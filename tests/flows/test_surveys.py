"""``survey_aggregation``: campaigns whose end date passed are closed (which publishes their
IKM); on demand, the interim IKM of open campaigns is published; a second run changes nothing."""

from __future__ import annotations

from datetime import timedelta

from flows import schedule as sch
from flows.surveys import survey_aggregation
from tests.flows.support import S

UNSUR = [f"U{i}" for i in range(1, 10)]


def campaign(stack, unit: str, end: str, answers: int) -> dict:
    body = {
        "unit_code": unit,
        "unit_name": f"Unit {unit}",
        "service_type": "Pelayanan perizinan",
        "start_date": "2026-01-01",
        "end_date": end,
        "population": 500,
    }
    c = stack.call("POST", f"{S}/campaigns", stack.hr, body).json()
    stack.call("POST", f"{S}/campaigns/{c['id']}/open", stack.hr)
    token = stack.tokens.token("agency", agency="PKMB", sub="kiosk-1", scope="surveys:responses:write")
    kiosk = {"Authorization": f"Bearer {token}"}
    for n in range(answers):
        stack.call(
            "POST",
            f"{S}/campaigns/{c['id']}/responses",
            kiosk,
            {"answers": {u: 3 + (n + i) % 2 for i, u in enumerate(UNSUR)}, "profile": {}},
        )
    return c


def status(stack, cid: int) -> str:
    return stack.call("GET", f"{S}/campaigns/{cid}", stack.hr).json()["status"]


def test_ended_campaigns_close_and_open_ones_republish_on_demand(stack):
    ended = campaign(stack, "SEK-A", "2026-03-31", answers=4)
    running = campaign(stack, "SEK-B", "2026-06-30", answers=3)
    empty = campaign(stack, "DINAS", "2026-06-30", answers=0)
    stack.clock.set(sch.end_of_day("2026-03-31") + timedelta(hours=8))  # 1 April, morning in Jakarta

    report = survey_aggregation.fn(
        base_url=stack.base_url, token=stack.hr_token, clock="simulated", republish_open=True
    )
    assert report["closed"] == [ended["id"]] and report["already_closed"] == []
    assert set(report["published"]) == {str(running["id"])} and report["skipped"] == [empty["id"]]
    assert status(stack, ended["id"]) == "closed" and status(stack, running["id"]) == "open"
    ikm = stack.call("GET", f"{S}/campaigns/{ended['id']}/ikm", stack.hr).json()
    assert ikm["respondents"] == 4 and ikm["ikm_unit"] is not None

    again = survey_aggregation.fn(base_url=stack.base_url, token=stack.hr_token, clock="simulated")
    assert again == {"closed": [], "already_closed": [], "published": {}, "skipped": []}
