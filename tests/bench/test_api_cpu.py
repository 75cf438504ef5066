"""bench/api_cpu.py's pure parts: the requests it sends are those of bench/api_load.lua, the weighted
figure, the mix. Nothing here builds an app or times anything."""

from __future__ import annotations

import pytest

from bench import api_cpu

DATA = {
    "cycle": 7,
    "date": "2026-12-06",
    "employees": [
        {"nip": "e1", "token": "te1", "plan": 11, "iki": ["i1", "i2"]},
        {"nip": "e2", "token": "te2", "plan": 12, "iki": ["i3"]},
    ],
    "supervisors": [{"nip": "s1", "token": "ts1", "evals": [5, 6]}],
}


def test_each_kind_goes_to_its_service_and_path_as_the_lua_script_sends_it():
    paths = {kind: api_cpu.requests_of(kind, DATA, 1, 0)[0] for kind in api_cpu.KINDS}
    assert paths["plan_get"][:3] == ("plans", "GET", "/plans/api/v1/plans/11")
    assert paths["log_post"][:3] == ("plans", "POST", "/plans/api/v1/daily-logs")
    assert paths["log_post"][4] | {} == {
        "date": "2026-12-06",
        "minutes": 15,
        "activity": "Menyusun bahan rapat koordinasi dan notula kegiatan nomor 0",
        "iki_id": "i1",
    }
    assert paths["realisation_post"][2] == "/plans/api/v1/plans/11/realisations"
    assert paths["realisation_post"][4] == {"iki_id": "i1", "period_seq": 1, "value": 1}
    assert paths["team_logs"][2] == "/plans/api/v1/daily-logs?team=true&limit=50"
    assert paths["team_plans"][2] == "/plans/api/v1/plans?cycle_id=7&penilai_nip=s1&limit=50"
    assert paths["evaluation_get"][:3] == ("reviews", "GET", "/reviews/api/v1/evaluations/5")
    for kind, (_, _, _, headers, _) in paths.items():
        person = "s1" if kind in ("team_logs", "team_plans", "evaluation_get") else "e1"
        assert headers["Authorization"] == f"Bearer t{person}" and headers["X-Bench-Nip"] == person
        assert headers["X-Forwarded-For"] and headers["X-Request-ID"]


def test_requests_walk_the_people_round_robin():
    nips = [r[3]["X-Bench-Nip"] for r in api_cpu.requests_of("plan_get", DATA, 4, 1)]
    assert nips == ["e2", "e1", "e2", "e1"]


def test_the_weighted_figure_and_the_mix():
    mix = api_cpu.parse_mix("30,20,10,10,10,20")
    assert api_cpu.weighted(dict.fromkeys(api_cpu.KINDS, 2.0), mix) == 2.0
    with pytest.raises(SystemExit):
        api_cpu.parse_mix("1,2,3")
