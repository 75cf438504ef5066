"""``deploy/prefect.yaml`` names real flows with parameters they accept, on valid schedules, and
never carries the token."""
from __future__ import annotations

import importlib
from pathlib import Path

import yaml

from prefect.client.schemas.schedules import CronSchedule

ROOT = Path(__file__).resolve().parents[2]


def deployments() -> dict[str, dict]:
    config = yaml.safe_load((ROOT / "deploy" / "prefect.yaml").read_text())
    return {d["name"]: d for d in config["deployments"]}


def flow_of(entrypoint: str):
    path, name = entrypoint.split(":")
    return getattr(importlib.import_module(path.removesuffix(".py").replace("/", ".")), name)


def test_every_deployment_runs_a_flow_with_parameters_it_accepts():
    found = deployments()
    assert set(found) == {"cycle-daily", "reminder-sweep", "survey-aggregation-daily", "cycle-once"}
    for name, d in found.items():
        flow = flow_of(d["entrypoint"])
        params = dict(d.get("parameters") or {})
        if name == "cycle-once":
            params["cycle_id"] = 1  # given when the run is started
        flow.validate_parameters(params)  # raises on an unknown or ill-typed parameter
        assert "token" not in params, f"{name}: the token comes from the worker's KINERJA_TOKEN"
        assert params["clock"] == "real"
        assert d["work_pool"]["name"] == "kinerja"


def test_schedules_run_in_jakarta_time():
    found = deployments()
    crons = {name: [CronSchedule(cron=s["cron"], timezone=s["timezone"]) for s in d.get("schedules") or []]
             for name, d in found.items()}
    assert [(s.cron, s.timezone) for s in crons["cycle-daily"]] == [("0 7 * * *", "Asia/Jakarta")]
    assert [s.cron for s in crons["reminder-sweep"]] == ["0 */4 * * *"]
    assert len(crons["survey-aggregation-daily"]) == 1 and crons["cycle-once"] == []
