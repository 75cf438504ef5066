"""bench/record.py: one well-formed JSON line per figure, and a table of the latest per name."""

from __future__ import annotations

import json

from bench import record as bench_record


def test_record_appends_a_line_and_the_table_shows_the_latest_per_name(tmp_path, monkeypatch):
    out = tmp_path / "deep" / "results.jsonl"
    monkeypatch.setenv("BENCH_RESULTS", str(out))

    bench_record.record("events.e2e", 400.0, "events/s", floor=16000.0, offered=1000)
    bench_record.record("surveys.ikm_api", 0.2, "s", floor=0.1, ratio=0.5)
    bench_record.record("events.e2e", 8000.0, "events/s", floor=16000.0)
    bench_record.record("demo_time.wall", 40.0, "s")

    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4
    first = json.loads(lines[0])
    assert first["name"] == "events.e2e"
    assert first["value"] == 400.0 and first["unit"] == "events/s" and first["floor"] == 16000.0
    assert first["ratio"] == 400.0 / 16000.0  # a rate: value / floor
    assert first["extra"] == {"offered": 1000}
    assert first["machine"]["cpus"] >= 1 and first["machine"]["python"] and first["machine"]["platform"]
    assert first["at"].endswith("+00:00")
    assert "commit" in first
    assert json.loads(lines[1])["ratio"] == 0.5  # a time: the caller's ratio is kept
    assert json.loads(lines[3])["floor"] is None and json.loads(lines[3])["ratio"] is None

    latest = bench_record.latest()
    assert sorted(latest) == ["demo_time.wall", "events.e2e", "surveys.ikm_api"]
    assert latest["events.e2e"]["value"] == 8000.0

    table = bench_record.table()
    rows = [line for line in table.splitlines() if line.startswith("events.e2e")]
    assert len(rows) == 1
    assert "8,000.0 events/s" in rows[0] and "0.500" in rows[0]
    assert "400.0" not in table


def test_table_command_without_records(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BENCH_RESULTS", str(tmp_path / "none.jsonl"))
    assert bench_record.main(["--table"]) == 0
    assert "no benchmark records" in capsys.readouterr().out
