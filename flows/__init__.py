"""Prefect flows driving each evaluation cycle over the services' HTTP APIs (issue: flows).
Flows never import a service.

- :mod:`flows.cycle` — ``evaluation_cycle``: reads where a cycle stands and moves it on (DESIGN.md §4)
  (its stages :mod:`flows.cycle_stages`, the run and its loop :mod:`flows.cycle_run`, the API calls
  :mod:`flows.cycle_tasks`)
- :mod:`flows.surveys` — ``survey_aggregation``: closes finished campaigns, republishes IKM
- :mod:`flows.client` — the flows' defaults of the one HTTP client of ``services/common`` (retries,
  problem+json errors, cursor pages, concurrency)
- :mod:`flows.clock` — real or simulated time; :mod:`flows.schedule` — when each stage is due
- :mod:`flows.runner` — run a flow for real (ephemeral Prefect API, quiet) or as plain functions

Importing this package sets Prefect's quiet, offline defaults (no telemetry, a project-local
``PREFECT_HOME``) unless the environment already chose otherwise; it must happen before Prefect
is imported, so import ``flows`` first.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def _quiet_defaults() -> None:
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    home = Path(os.environ.setdefault("PREFECT_HOME", str(PROJECT / "var" / "prefect"))).expanduser()
    try:  # Prefect creates only the last level, and warns on import when it cannot (a fresh clone: no var/)
        home.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass


_quiet_defaults()
