"""The Prefect deployments of the Kinerja flows, and registering them with a Prefect server.

``kinerja flows deploy`` (the one-shot of compose and Kubernetes, and a step of ``make up``)
creates the process work pool if it is missing and applies every deployment below. The
entrypoints are module paths (``flows.cycle.evaluation_cycle``), so a worker runs them from the
installed package: no source tree, no pull step. Applying again updates the deployments in place.

The bearer token is never a parameter (Prefect would store it with every run): the worker's
environment provides it (``KINERJA_TOKEN``, or client credentials: ``KINERJA_TOKEN_URL``,
``KINERJA_CLIENT_ID``, ``KINERJA_CLIENT_SECRET``), for one agency per worker (several agencies:
one work pool or queue each)."""

from __future__ import annotations

from dataclasses import dataclass, field

WORK_POOL = "kinerja"
TIMEZONE = "Asia/Jakarta"


@dataclass(frozen=True)
class Deployment:
    name: str
    flow: str  # module path of the flow function
    description: str
    tags: tuple[str, ...]
    parameters: dict = field(default_factory=dict)
    cron: str | None = None  # in TIMEZONE; None: on demand only
    concurrency_limit: int | None = 1


DEPLOYMENTS = (
    # Every morning: carry each open cycle of the agency on — close what is complete or past its
    # deadline, open the next stage, remind, escalate, report what is missing (DESIGN.md §4).
    Deployment(
        "cycle-daily",
        "flows.cycle.advance_open_cycles",
        "Daily advance of every open evaluation cycle (07:00 WIB)",
        ("kinerja", "cycle"),
        {"reminder_days": [7, 3, 1], "batch_size": 200},
        "0 7 * * *",
    ),
    # Between the daily runs: the reminders and escalations that came due; no stage moves.
    Deployment(
        "reminder-sweep",
        "flows.cycle.reminder_sweep",
        "Reminder and escalation sweep of every open cycle, every 4 hours",
        ("kinerja", "reminders"),
        {"reminder_days": [7, 3, 1], "batch_size": 200},
        "0 */4 * * *",
    ),
    # Every night: close the survey campaigns whose end date passed (publishing their IKM) and
    # publish the interim IKM of the open ones (the plans service records it as realisation).
    Deployment(
        "survey-aggregation-daily",
        "flows.surveys.survey_aggregation",
        "Daily survey aggregation (IKM) at 01:00 WIB",
        ("kinerja", "surveys"),
        {"republish_open": True, "batch_size": 50},
        "0 1 * * *",
    ),
    # On demand: one cycle now (parameter cycle_id), e.g. right after HR fixed what a run reported.
    Deployment(
        "cycle-once",
        "flows.cycle.evaluation_cycle",
        "Carry one cycle on now (parameter cycle_id)",
        ("kinerja", "cycle"),
        {},
        None,
        None,
    ),
)


def _flow(path: str):
    import importlib

    module, name = path.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def deploy(base_url: str, *, work_pool: str = WORK_POOL, paused: bool = False) -> list[tuple[str, str]]:
    """Create the work pool if missing and apply every deployment; returns ``(name, id)`` pairs.
    ``base_url``: the gateway the flows call (``KINERJA_BASE_URL``). ``paused``: register the
    schedules paused; otherwise a deployment an operator paused stays paused."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.deployments.runner import EntrypointType
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
    from prefect.schedules import Cron

    was_paused: dict[str, bool] = {}
    with get_client(sync_client=True) as client:
        try:
            client.create_work_pool(WorkPoolCreate(name=work_pool, type="process"))
        except ObjectAlreadyExists:
            pass
        for d in DEPLOYMENTS:
            try:
                was_paused[d.name] = bool(client.read_deployment_by_name(f"{_flow(d.flow).name}/{d.name}").paused)
            except ObjectNotFound:
                pass
    applied = []
    for d in DEPLOYMENTS:
        params = {"base_url": base_url, "clock": "real", **d.parameters}
        schedules = [Cron(d.cron, timezone=TIMEZONE)] if d.cron else None
        deployment = _flow(d.flow).to_deployment(
            d.name,
            schedules=schedules,
            paused=paused or was_paused.get(d.name, False),
            parameters=params,
            description=d.description,
            tags=list(d.tags),
            concurrency_limit=d.concurrency_limit,
            work_pool_name=work_pool,
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
        applied.append((f"{_flow(d.flow).name}/{d.name}", str(deployment.apply())))
    return applied
