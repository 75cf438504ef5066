"""``survey_aggregation``: closes the public satisfaction campaigns whose end date has passed
(closing publishes their IKM, which the plans service records as the realisation of the mapped
IKI) and, on demand, publishes the interim IKM of the campaigns still open.

Idempotent: a campaign closed meanwhile answers 409 and is counted as already closed; an open
campaign without a complete answer set (``ikm.no_data``) is skipped. Campaign end dates are
Jakarta dates (the surveys service's ``SURVEYS_TIMEZONE``): a campaign ending on 31 March closes
from 1 April.
"""

from __future__ import annotations

from prefect import flow, task

from . import schedule as sch
from .client import ServiceClient, ServiceError, resolve_token
from .clock import get_clock
from .cycle_tasks import SERVICE_TASK
from .runner import invoke, log

__all__ = ["survey_aggregation"]

SURVEYS = "/surveys/api/v1"


@task(name="open-campaigns", **SERVICE_TASK)
def open_campaigns(client: ServiceClient) -> list[dict]:
    return [
        {"id": c["id"], "unit_code": c["unit_code"], "end_date": c["end_date"], "respondents": c.get("respondents")}
        for c in client.pages(f"{SURVEYS}/campaigns", status="open")
    ]


@task(name="close-campaigns", task_run_name="close campaigns #{chunk}", **SERVICE_TASK)
def close_campaigns(client: ServiceClient, campaign_ids: list[int], chunk: int = 0) -> dict:
    closed, already = [], []
    for cid in campaign_ids:
        try:
            client.post(f"{SURVEYS}/campaigns/{cid}/close")
            closed.append(cid)
        except ServiceError as exc:
            if exc.status != 409:
                raise
            already.append(cid)  # closed by HR (or an earlier attempt) meanwhile
    return {"closed": closed, "already": already}


@task(name="publish-ikm", task_run_name="publish IKM #{chunk}", **SERVICE_TASK)
def publish_ikm(client: ServiceClient, campaign_ids: list[int], day: str, chunk: int = 0) -> dict:
    published, no_data = {}, []
    for cid in campaign_ids:
        try:
            # one publication per campaign and day, even when a retry repeats the request
            out = client.post(f"{SURVEYS}/campaigns/{cid}/ikm:publish", idempotency_key=f"flows:ikm:{cid}:{day}")
            published[cid] = out.get("ikm_unit")
        except ServiceError as exc:
            if exc.status != 409:
                raise
            no_data.append(cid)  # no complete answers yet, or closed meanwhile
    return {"published": published, "skipped": no_data}


@flow(name="survey-aggregation")
def survey_aggregation(
    base_url: str, token: str | None = None, clock: str = "real", republish_open: bool = False, batch_size: int = 50
) -> dict:
    """Close the campaigns whose end date passed; with ``republish_open``, publish the interim IKM
    of those still open. ``token``: an HR token (default ``$KINERJA_TOKEN``)."""
    token = resolve_token(token)
    now = get_clock(clock).now()
    today = sch.local_date(now)
    report = {"closed": [], "already_closed": [], "published": {}, "skipped": []}
    with ServiceClient(base_url, token) as client:
        campaigns = invoke(open_campaigns, client)
        ended = [c["id"] for c in campaigns if sch.as_date(c["end_date"]) < today]
        running = [c["id"] for c in campaigns if sch.as_date(c["end_date"]) >= today]
        for n, start in enumerate(range(0, len(ended), batch_size)):
            out = invoke(close_campaigns, client, ended[start : start + batch_size], chunk=n)
            report["closed"] += out["closed"]
            report["already_closed"] += out["already"]
        if republish_open:
            for n, start in enumerate(range(0, len(running), batch_size)):
                out = invoke(publish_ikm, client, running[start : start + batch_size], today.isoformat(), chunk=n)
                report["published"].update({str(k): v for k, v in out["published"].items()})
                report["skipped"] += out["skipped"]
    log().info(
        f"surveys on {today}: closed {len(report['closed'])} ended campaign(s) (IKM published), "
        f"{len(report['already_closed'])} already closed; interim IKM published for "
        f"{len(report['published'])}, skipped {len(report['skipped'])} without complete answers"
    )
    return report
