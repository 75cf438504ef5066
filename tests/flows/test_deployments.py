"""``flows.deployments`` names real flows with parameters they accept, on valid schedules in
Jakarta time, and never carries the token (``kinerja flows deploy`` applies them; the production
topology test runs one from a Prefect worker)."""

from __future__ import annotations

from prefect.client.schemas.schedules import CronSchedule

import flows  # noqa: F401  (quiet, offline Prefect defaults)
from flows.deployments import DEPLOYMENTS, TIMEZONE, WORK_POOL, _flow


def test_every_deployment_runs_a_flow_with_parameters_it_accepts():
    assert {d.name for d in DEPLOYMENTS} == {"cycle-daily", "reminder-sweep", "survey-aggregation-daily", "cycle-once"}
    for d in DEPLOYMENTS:
        params = {"base_url": "https://kinerja.example.go.id", "clock": "real", **d.parameters}
        if d.name == "cycle-once":
            params["cycle_id"] = 1  # given when the run is started
        _flow(d.flow).validate_parameters(params)  # raises on an unknown or ill-typed parameter
        assert "token" not in d.parameters, f"{d.name}: the token comes from the worker's environment"


def test_schedules_run_in_jakarta_time_and_one_at_a_time():
    crons = {d.name: d.cron for d in DEPLOYMENTS}
    assert crons == {
        "cycle-daily": "0 7 * * *",
        "reminder-sweep": "0 */4 * * *",
        "survey-aggregation-daily": "0 1 * * *",
        "cycle-once": None,
    }
    for d in DEPLOYMENTS:
        if d.cron:
            CronSchedule(cron=d.cron, timezone=TIMEZONE)  # valid
            assert d.concurrency_limit == 1
    assert TIMEZONE == "Asia/Jakarta" and WORK_POOL == "kinerja"


def test_the_deploy_command_needs_the_prefect_server_named(monkeypatch):
    from click.testing import CliRunner

    from kinerja.cli import main

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    out = CliRunner().invoke(main, ["flows", "deploy", "--base-url", "http://gw"])
    assert out.exit_code == 1 and "set PREFECT_API_URL" in out.output
