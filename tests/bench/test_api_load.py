"""bench/api_load.py's pure parts: the mix, wrk's output as api_load.lua prints it, the medians, the
Lua data file. Nothing here starts a server or times anything."""

from __future__ import annotations

import json

import pytest

from bench import api_load


def wrk_output(statuses, errors=None, samples=None, requests=1000, duration_us=10_000_000) -> str:
    raw = {
        "requests": requests,
        "duration_us": duration_us,
        "bytes": 123456,
        "errors": errors or {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0},
        "statuses": statuses,
        "sent": {"plan_get": 600, "evaluation_get": 400},
        "samples": {} if samples is None else samples,  # the Lua encoder writes an empty table as {}
        "latency_us": {"mean": 12000.5, "max": 90000, "p50": 10000, "p90": 20000, "p95": 25000, "p99": 60000},
    }
    return "Running 10s test @ http://127.0.0.1:18480\n  2 threads and 16 connections\nWRK_JSON " + json.dumps(raw)


def test_parse_wrk_reads_the_figures_in_milliseconds_and_requests_per_second():
    r = api_load.parse_wrk(wrk_output({"200": 700, "201": 300}))
    assert r["requests"] == 1000 and r["seconds"] == 10.0 and r["rps"] == 100.0
    assert (r["p50_ms"], r["p90_ms"], r["p95_ms"], r["p99_ms"], r["max_ms"]) == (10.0, 20.0, 25.0, 60.0, 90.0)
    assert r["mean_ms"] == pytest.approx(12.0005)
    assert r["statuses"] == {200: 700, 201: 300}
    assert r["failed"] == 0 and r["not_2xx"] == {} and r["socket_errors"] == {} and r["samples"] == []
    assert r["sent"] == {"plan_get": 600, "evaluation_get": 400}


def test_parse_wrk_counts_every_answer_that_is_not_2xx_and_every_socket_error_as_failed():
    out = wrk_output(
        {"200": 990, "409": 4, "503": 1},
        errors={"connect": 0, "read": 2, "write": 0, "status": 5, "timeout": 3},
        samples=['409 {"code": "plan.stale"}'],
    )
    r = api_load.parse_wrk(out)
    assert r["not_2xx"] == {409: 4, 503: 1}
    assert r["socket_errors"] == {"read": 2, "timeout": 3}  # wrk's "status" errors are the statuses above
    assert r["failed"] == 10
    assert r["samples"] == ['409 {"code": "plan.stale"}']
    with pytest.raises(api_load.BenchError, match="10 of 1000 requests failed"):
        api_load.check(r, "Kinerja run 1")


def test_parse_wrk_without_its_line_is_a_broken_run():
    with pytest.raises(api_load.BenchError, match="no WRK_JSON line"):
        api_load.parse_wrk("unable to connect to 127.0.0.1:18480 Connection refused\n")


def test_a_run_without_requests_is_broken():
    with pytest.raises(api_load.BenchError):
        api_load.check(api_load.parse_wrk(wrk_output({}, requests=0)), "floor warm-up")


def test_medians_take_each_figure_on_its_own():
    runs = [
        {
            "rps": 100.0,
            "p50_ms": 10,
            "p90_ms": 20,
            "p95_ms": 30,
            "p99_ms": 90,
            "mean_ms": 12,
            "max_ms": 100,
            "requests": 5,
        },
        {
            "rps": 300.0,
            "p50_ms": 30,
            "p90_ms": 40,
            "p95_ms": 50,
            "p99_ms": 70,
            "mean_ms": 32,
            "max_ms": 300,
            "requests": 7,
        },
        {
            "rps": 200.0,
            "p50_ms": 20,
            "p90_ms": 30,
            "p95_ms": 40,
            "p99_ms": 80,
            "mean_ms": 22,
            "max_ms": 200,
            "requests": 6,
        },
    ]
    m = api_load.medians(runs)
    assert m["rps"] == 200.0 and m["p95_ms"] == 40 and m["p99_ms"] == 80 and m["requests"] == 18


def test_parse_mix_names_the_weight_of_each_kind():
    assert api_load.parse_mix("30,20,10,10,10,20") == dict(zip(api_load.KINDS, (30, 20, 10, 10, 10, 20), strict=True))
    for bad in ("30,20", "30,20,10,10,10,x", "0,0,0,0,0,0", "30,20,10,10,10,20,5"):
        with pytest.raises(ValueError, match="--mix"):
            api_load.parse_mix(bad)


def test_lua_value_writes_the_data_file_literals():
    data = {"cycle": 3, "date": "2026-12-06", "employees": [{"nip": "19", "plan": 7, "iki": ["a", 'b"c\\d']}]}
    assert api_load.lua_value(data) == (
        '{cycle = 3, date = "2026-12-06", employees = {{nip = "19", plan = 7, iki = {"a", "b\\"c\\\\d"}}}}'
    )
    assert api_load.lua_value("line\nbreak") == '"line\\nbreak"'
    with pytest.raises(ValueError):
        api_load.lua_value({"not an identifier": 1})
    with pytest.raises(TypeError):
        api_load.lua_value(None)


def test_name_and_port_base_move_every_port_and_name_of_the_run(monkeypatch):
    for name in ("NAME", "PORT_BASE", "GATEWAY_PORT", "FLOOR_PORT_BASE", "FLOOR_GATEWAY_PORT"):
        monkeypatch.setattr(api_load, name, getattr(api_load, name))  # restored after the test
    api_load.set_names("kinerja_bench_api17", 18700)
    assert (api_load.GATEWAY_PORT, api_load.FLOOR_PORT_BASE, api_load.FLOOR_GATEWAY_PORT) == (18780, 18710, 18781)
    env = api_load.up_env(api_load.ROOT / "var")
    assert (env["UP_NAME"], env["UP_PORT_BASE"], env["UP_PORT"]) == ("kinerja_bench_api17", "18700", "18780")
    for bad in ("Kinerja_Bench", "kinerja-bench", "bench;drop"):
        with pytest.raises(SystemExit):
            api_load.set_names(bad, 18700)
