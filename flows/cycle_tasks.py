"""The Prefect tasks of the cycle flow: each one call (or a few) to the services' APIs through the
flows' :class:`~flows.client.ServiceClient`, retried by Prefect only when trying again may help
(:func:`transient`). Every write is idempotent (``advance`` with ``expected``, reminder batches
keyed per cycle/stage/threshold, escalations once per level, SIASN pushes keyed per day), so a
repeated task or run duplicates nothing. The stages that call them: :mod:`flows.cycle_stages`."""

from __future__ import annotations

import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from prefect import task
from prefect.cache_policies import NO_CACHE

from . import schedule as sch
from .client import ServiceClient, ServiceError

PLANS, REVIEWS, NOTIFY = "/plans/api/v1", "/reviews/api/v1", "/notifications/api/v1"
SETTLE_SECONDS = float(os.environ.get("KINERJA_FLOW_SETTLE_SECONDS", "10"))  # evaluations opened from events
HAS_PLAN = ("approved", "revised")  # a revised plan keeps its approved content as the basis


def transient(task, task_run, state) -> bool:
    """Retry a task only when trying again may help: the service was unreachable or failed (5xx).
    A 4xx is an answer; a programming error stays one."""
    exc = getattr(state, "data", None)
    if isinstance(exc, ServiceError):
        return exc.transient
    return isinstance(exc, httpx.TransportError)


SERVICE_TASK = dict(retries=3, retry_delay_seconds=[1, 2, 4], retry_condition_fn=transient, cache_policy=NO_CACHE)


def in_order(items, submit: Callable[[Any], Any], in_flight: int) -> Iterator[Any]:
    """The results of ``submit(item)`` for each item, in the items' order, with at most
    ``in_flight`` submitted and not yet done. After a failure nothing more is submitted; those in
    flight end (every call here is idempotent), then the failure is raised."""
    pending: deque = deque()
    try:
        for item in items:
            if len(pending) >= in_flight:
                yield pending.popleft().result()
            pending.append(submit(item))
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            try:
                future.result()
            except Exception:  # noqa: BLE001 - the first failure is the one raised
                pass


@task(name="read-cycle", **SERVICE_TASK)
def read_cycle(client: ServiceClient, cycle_id: int) -> dict:
    return client.get(f"{PLANS}/cycles/{cycle_id}")


@task(name="advance-cycle", task_run_name="advance {expected}", **SERVICE_TASK)
def advance_cycle(client: ServiceClient, cycle_id: int, expected: str) -> dict:
    """Move the cycle one step if it is still at ``expected``; when someone moved it first, the 409
    names where it is, and that is where the flow goes on from."""
    try:
        cycle = client.post(f"{PLANS}/cycles/{cycle_id}/advance", {"expected": expected})
        return {"advanced": True, "state": cycle["state"]}
    except ServiceError as exc:
        if exc.status == 409 and exc.code == "cycle.not_expected":
            return {"advanced": False, "state": exc.body.get("stage")}
        raise


@task(name="stage-opened-at", task_run_name="opened-at {state}", **SERVICE_TASK)
def stage_opened_at(client: ServiceClient, cycle_id: int, state: str) -> str | None:
    """When the cycle entered ``state``: the plans service's audit row of that advance."""
    at = None
    for row in client.pages(f"{PLANS}/audit", entity_type="cycle", entity_id=str(cycle_id)):
        if row.get("action") == "cycle.advanced" and (row.get("after") or {}).get("state") == state:
            at = row["at"]  # oldest first: the last one wins
    return at


@task(name="planning-status", **SERVICE_TASK)
def planning_status(client: ServiceClient, cycle: dict) -> dict:
    """Every active employee in the cycle's scope and the status of their SKP."""
    scope = set(cycle.get("unit_codes") or [])
    employees = {
        e["nip"]: e
        for e in client.pages(f"{PLANS}/employees", active="true")
        if not scope or e.get("unit_code") in scope
    }
    status = {p["employee_nip"]: p["status"] for p in client.pages(f"{PLANS}/plans", cycle_id=cycle["id"])}
    return {
        "employees": {
            nip: {"superior_nip": e.get("superior_nip"), "unit_code": e.get("unit_code"), "status": status.get(nip)}
            for nip, e in employees.items()
        }
    }


@task(name="evaluation-status", task_run_name="evaluations p{period_seq}", **SERVICE_TASK)
def evaluation_status(
    client: ServiceClient, cycle_id: int, period_seq: int, settle_seconds: float = SETTLE_SECONDS
) -> dict:
    """The period's evaluations (0 = annual), and who has an approved SKP but no evaluation yet
    (active employees only). Evaluations open from events: a short, bounded wait lets ones in
    flight arrive.

    The directory is read only when some SKP holder has no evaluation (whether they are still
    active decides whether one is owed), and then once: a province's directory is 500 pages,
    which every period's two looks would otherwise read even when nothing is missing."""
    holders = {p["employee_nip"] for p in client.pages(f"{PLANS}/plans", cycle_id=cycle_id) if p["status"] in HAS_PLAN}
    active: set[str] | None = None
    stop, delay = time.monotonic() + settle_seconds, 0.05
    while True:
        evaluations = client.all(f"{REVIEWS}/evaluations", cycle_id=cycle_id, period_seq=period_seq)
        without = holders - {e["employee_nip"] for e in evaluations}
        if without and active is None:
            active = {e["nip"] for e in client.pages(f"{PLANS}/employees", active="true")}
        not_opened = sorted(without & active) if without else []
        if not not_opened or time.monotonic() >= stop:
            return {"evaluations": evaluations, "not_opened": not_opened}
        time.sleep(delay)
        delay = min(1.0, delay * 2)


@task(name="send-reminders", task_run_name="remind {batch_key} #{chunk}", **SERVICE_TASK)
def send_reminders(
    client: ServiceClient,
    batch_key: str,
    template: str,
    recipients: list[dict],
    deadline: str,
    params: dict,
    escalate_to: str,
    chunk: int = 0,
) -> dict:
    """One batch of reminders (≤ batch_size recipients). The notifications service reminds each
    (batch key, recipient) once, ever: a repeated call reports them as ``already``."""
    return client.post(
        f"{NOTIFY}/reminders",
        {
            "batch_key": batch_key,
            "template": template,
            "recipients": recipients,
            "deadline": deadline,
            "params": params,
            "escalate_to": escalate_to,
            "hr_after_hours": int(sch.GRACE.total_seconds() // 3600),
        },
    )


ESCALATE_MAX = 5000  # people per escalation call (the notifications API's limit)
ESCALATIONS_IN_FLIGHT = 2
"""Parts of a long overdue list in flight at once: a part of 5,000 is seconds of the service's CPU
and the database's; two at once keep both cores busy (the parts name different people, and each
escalation is made once per level whichever part carries it)."""


@task(name="escalate-overdue", task_run_name="escalate {batch_key}", **SERVICE_TASK)
def escalate_overdue(client: ServiceClient, batch_key: str, overdue: list[str]) -> dict:
    """Escalate who is still overdue (the superior from the deadline, HR after the grace; each level
    once per person); the others in the batch are marked done. More than ``ESCALATE_MAX`` people go
    in parts marked ``partial`` (:data:`ESCALATIONS_IN_FLIGHT` at once), which mark no one done:
    those who finished stay open in the batch until a call with the whole list, but are never
    escalated, since only the listed are."""
    url = f"{NOTIFY}/reminders/{batch_key}/escalate"
    if len(overdue) <= ESCALATE_MAX:
        results = [client.post(url, {"recipients": overdue})]
    else:  # a province's overdue list, in parts: each escalates its people and marks no one done
        parts = [overdue[i : i + ESCALATE_MAX] for i in range(0, len(overdue), ESCALATE_MAX)]
        with ThreadPoolExecutor(ESCALATIONS_IN_FLIGHT, thread_name_prefix="escalate") as pool:
            post = lambda part: pool.submit(client.post, url, {"recipients": part, "partial": True})  # noqa: E731
            results = list(in_order(parts, post, ESCALATIONS_IN_FLIGHT))
    # the batch's escalations by target: each answer's counts are the batch's when its part was
    # committed (its items only the part's), so the largest are the latest
    levels: dict[str, int] = {}
    for r in results:
        for to, n in ((r.get("counts") or {}).get("escalations") or {}).items():
            if n:
                levels[to] = max(levels.get(to, 0), n)
    return {"escalated": sum(r.get("escalated", 0) for r in results), "levels": levels}


@task(name="calibration-check", task_run_name="calibration p{period_seq}", **SERVICE_TASK)
def calibration_check(client: ServiceClient, cycle_id: int, period_seq: int) -> dict:
    """Run the distribution check (the reviews service publishes each finding once)."""
    return client.post(f"{REVIEWS}/calibration/check", params={"cycle_id": cycle_id, "period_seq": period_seq})


@task(name="org-results", **SERVICE_TASK)
def org_results(client: ServiceClient, cycle_id: int) -> list[dict]:
    return client.get(f"{REVIEWS}/org-results", cycle_id=cycle_id) or []


@task(name="acknowledgements", **SERVICE_TASK)
def last_acknowledgement(client: ServiceClient, evaluation_ids: list[int]) -> str | None:
    """The latest acknowledgement among these evaluations (one GET each, at most the client's
    concurrency in flight)."""

    def acknowledged(eid: int) -> str | None:
        return client.get(f"{REVIEWS}/evaluations/{eid}").get("acknowledged_at")

    with ThreadPoolExecutor(max_workers=client.max_concurrency) as pool:
        stamps = [sch.as_datetime(t) for t in pool.map(acknowledged, evaluation_ids) if t]
    return max(stamps).isoformat() if stamps else None


@task(name="pending-objections", **SERVICE_TASK)
def pending_objections(client: ServiceClient, cycle_id: int) -> list[dict]:
    """The cycle's objections not decided yet (filed or under review)."""
    return [
        {
            "objection_id": o["id"],
            "evaluation_id": o["evaluation_id"],
            "employee_nip": o["employee_nip"],
            "atasan_nip": o.get("atasan_nip"),
            "status": o["status"],
        }
        for o in client.pages(f"{REVIEWS}/objections", cycle_id=cycle_id)
        if o["status"] != "decided"
    ]


@task(name="siasn-push", task_run_name="siasn {kind}", **SERVICE_TASK)
def siasn_push(client: ServiceClient, cycle_id: int, kind: str, day: str) -> dict:
    """Push the countersigned results to SIASN (the service skips those already sent; one push per
    cycle, kind and day even when a retry repeats the request); a service without SIASN settings
    answers 503 ``siasn.not_configured``: a warning, not a failure."""
    try:
        return client.post(
            f"{REVIEWS}/siasn/push",
            {"cycle_id": cycle_id, "kind": kind},
            retry=False,
            idempotency_key=f"flows:siasn:{cycle_id}:{kind}:{day}",
        )
    except ServiceError as exc:
        if exc.code == "siasn.not_configured":
            return {"kind": kind, "not_configured": True, "missing": exc.body.get("missing", [])}
        raise


@task(name="cycle-summary", **SERVICE_TASK)
def cycle_summary(client: ServiceClient, cycle_id: int) -> dict:
    cycle = client.get(f"{PLANS}/cycles/{cycle_id}")
    plans = Counter(p["status"] for p in client.pages(f"{PLANS}/plans", cycle_id=cycle_id))
    evaluations: dict[str, dict] = {}
    predikat: Counter = Counter()
    for e in client.pages(f"{REVIEWS}/evaluations", cycle_id=cycle_id):
        key = "annual" if e["period_seq"] == 0 else f"p{e['period_seq']}"
        evaluations.setdefault(key, Counter())[e["status"]] += 1
        if e["period_seq"] == 0 and e.get("predikat"):
            predikat[e["predikat"]] += 1
    return {
        "state": cycle["state"],
        "plans": dict(plans),
        "evaluations": {k: dict(v) for k, v in sorted(evaluations.items())},
        "annual_predikat": dict(predikat),
    }


@task(name="open-cycles", **SERVICE_TASK)
def open_cycles(client: ServiceClient) -> list[int]:
    """The cycles the token's agency runs (an admin token: every agency's) that are neither drafts nor closed."""
    return [c["id"] for c in client.pages(f"{PLANS}/cycles") if c["stage"] not in ("draft", "closed")]
