"""The demo's machinery: the simulated clock the services and the flows share, the in-process
caller of the HTTP APIs (the people's requests), and the real Prefect flow runs that carry the
cycle on between the people's turns."""

from __future__ import annotations

import contextlib
import os
import time
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from werkzeug.test import Client

import flows  # noqa: F401  (Prefect's quiet, offline defaults: before anything imports Prefect)
from flows.clock import SettableClock
from services.common.auth import issue_token

from .embedded import Embedded

JAKARTA = ZoneInfo("Asia/Jakarta")
#: Where the flows find the services in the demo: no server, an in-process transport (see :class:`Flows`).
BASE_URL = "http://kinerja.demo"
#: Reminders 3 days and 1 day before each deadline (the flow's parameter; production uses 7, 3, 1).
REMINDER_DAYS = [3, 1]


class DemoError(RuntimeError):
    pass


def at(y, m, d, hour=9) -> datetime:
    """A Jakarta wall-clock moment, in UTC."""
    return datetime(y, m, d, hour, tzinfo=JAKARTA).astimezone(timezone.utc)


class DemoClock(SettableClock):
    """The demo's injectable clock, shared by the services and the flows (``flows.clock.set_clock``):
    the year 2026 runs in seconds. The flows move it while they wait for deadlines; the demo moves it
    only forwards, to when the people act."""

    def __init__(self):
        super().__init__(at(2026, 1, 5))

    def forward_to(self, when: datetime) -> None:
        if when > self():
            self.set(when)

    def today(self) -> date:
        return self().astimezone(JAKARTA).date()


class Api:
    def __init__(self, wsgi, secret: str):
        self.client = Client(wsgi)
        self.secret = secret
        self.calls = 0

    def token(self, roles, agency=None, nip=None):
        return issue_token(self.secret, roles=list(roles), agency=agency, nip=nip, sub=nip)

    def call(
        self, method, path, token, *, json_body=None, data=None, content_type=None, expect=(200, 201), headers=None
    ):
        h = {"Authorization": f"Bearer {token}", **(headers or {})}
        resp = self.client.open(path, method=method, json=json_body, data=data, content_type=content_type, headers=h)
        self.calls += 1
        if resp.status_code not in expect:
            raise DemoError(f"{method} {path} → {resp.status_code}: {resp.get_data(as_text=True)[:800]}")
        return resp.get_json(silent=True), resp

    def all(self, path: str, token: str) -> list[dict]:
        """Every item of a paginated list (``path`` has a query already), page by page."""
        items, cursor = [], None
        while True:
            page, _ = self.call("GET", path + "&limit=200" + (f"&cursor={cursor}" if cursor else ""), token)
            items += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return items


class Flows:
    """The demo's flow runs: real Prefect flow runs (against the one API the demo opened) of the
    flows in :mod:`flows`, reaching the embedded services in-process through a transport
    registered for :data:`BASE_URL`. While a flow runs, the bus worker relays and consumes events
    in the background (the reviews service opens evaluations from the plans service's stage
    events, the notifications service turns reminders into inbox entries and e-mails); after
    it, the bus is pumped quiet so that the people act on a settled state."""

    def __init__(self, emb: Embedded, hr_token: str, say):
        import httpx

        from flows.client import register_transport

        self.emb, self.hr_token, self.say = emb, hr_token, say
        self.runs: list[dict] = []
        register_transport(BASE_URL, httpx.WSGITransport(app=emb.wsgi))

    def close(self) -> None:
        from flows.client import register_transport

        register_transport(BASE_URL, None)

    @contextlib.contextmanager
    def _bus_running(self):
        emb = self.emb
        emb.start_worker()
        try:
            yield
        finally:
            emb.job_runner.stop()
            emb.worker.stop()
            emb.worker = emb.job_runner = None
            emb.pump()

    def run(self, flow, **params) -> dict:
        from flows.runner import run_flow

        prior = os.environ.get("KINERJA_TOKEN")
        os.environ["KINERJA_TOKEN"] = self.hr_token  # the flows take the token from here, never a stored parameter
        started = time.perf_counter()
        try:
            with self._bus_running():
                state = run_flow(flow, base_url=BASE_URL, clock="simulated", return_state=True, **params)
        finally:
            if prior is None:
                os.environ.pop("KINERJA_TOKEN", None)
            else:
                os.environ["KINERJA_TOKEN"] = prior
        result = state.result(raise_on_failure=False)
        if not state.is_completed():
            raise DemoError(f"flow run {flow.name} ended {state.name}: {result}")
        self.runs.append(
            {
                "flow": flow.name,
                "flow_run_id": str(state.state_details.flow_run_id),
                "state": state.name,
                "seconds": round(time.perf_counter() - started, 2),
            }
        )
        return result

    def cycle(self, cycle_id: int, until: str | None = None) -> dict:
        """One run of ``evaluation_cycle``: as far as the people allow (or ``until``)."""
        from flows.cycle import evaluation_cycle

        report = self.run(evaluation_cycle, cycle_id=cycle_id, until=until, reminder_days=REMINDER_DAYS)
        sent = sum(r["created"] for r in report["reminders"].values())
        escalated = sum(report["escalations"].values())
        self.runs[-1].update(
            status=report["status"],
            cycle_state=report["state"],
            stage_changes=sum(1 for step in report["steps"] if " → " in step),
            reminders_sent=sent,
            escalations=escalated,
            missing=sorted(report["missing"]),
        )
        day = self.emb.clock().astimezone(JAKARTA).strftime("%Y-%m-%d")
        self.say(
            f"  [alur {len(self.runs)}] evaluation-cycle {self.runs[-1]['state']}: {report['status']} di/at "
            f"{report['state']} ({day}); {self.runs[-1]['stage_changes']} perpindahan tahap / stage changes, "
            f"{sent} pengingat / reminders, {escalated} eskalasi / escalations"
        )
        for warning in report["warnings"]:
            self.say(f"      catatan / note: {warning}")
        return report

    def surveys(self) -> dict:
        from flows.surveys import survey_aggregation

        report = self.run(survey_aggregation)
        self.runs[-1].update(status="closed", campaigns_closed=len(report["closed"]))
        self.say(
            f"  [alur {len(self.runs)}] survey-aggregation {self.runs[-1]['state']}: {len(report['closed'])} "
            "kampanye ditutup, IKM terbit / campaigns closed, IKM published"
        )
        return report
