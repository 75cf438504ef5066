"""The services the flows talk to, for real, over HTTP on 127.0.0.1: every service in one embedded
app (isolated in-process bus, background worker relaying and consuming events) served by a
threaded werkzeug server on a free port, the settable clock shared by the services and the
flows (``flows.clock.set_clock``), and the small agency of ``tests.plans.support`` (9 employees
of PKMB, a quarterly 2026 cycle in planning) seeded through the API.

``People`` acts as the people between flow steps: drafting and approving SKPs, self-assessing,
rating, signing, objecting — each through the HTTP API with that person's token.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

import httpx
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.test import Client

from flows.clock import SettableClock, set_clock
from kinerja.embedded import Embedded
from services.common.bus import Topology
from services.plans.domain import BERAKHLAK
from tests.plans.support import HEAD, KASI_A, KASI_B, STAFF_A, STAFF_B, START, Org, Tokens, iki, rhk, seed

SERVICES = ("plans", "reviews", "surveys", "notifications")
P, R, N, S = "/plans/api/v1", "/reviews/api/v1", "/notifications/api/v1", "/surveys/api/v1"
ALL = [HEAD, KASI_A, KASI_B, *STAFF_A, *STAFF_B]
SUPERIOR = {KASI_A: HEAD, KASI_B: HEAD, **{n: KASI_A for n in STAFF_A}, **{n: KASI_B for n in STAFF_B}}
HR_EMAIL = "sdm@pkmb.go.id"


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # no access log lines in the test output
        pass


def wait_for(predicate, timeout: float = 10.0, what: str = "condition"):
    """Bounded poll (events travel through the in-process bus asynchronously)."""
    stop, delay = time.monotonic() + timeout, 0.02
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= stop:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(delay)
        delay = min(0.25, delay * 2)


class Stack:
    """Embedded services on a local port, a shared settable clock, the seeded agency."""

    def __init__(self, var_dir, start=START, period_type: str = "quarterly", clock: SettableClock | None = None):
        self.clock = clock or SettableClock(start)  # another kind: shared with a flow in another process
        set_clock(self.clock)
        self.emb = Embedded(
            env={"KINERJA_VAR": str(var_dir)},
            clock=self.clock,
            services=SERVICES,
            topology=Topology.isolated(f"t{uuid.uuid4().hex[:8]}."),
        )
        self.tokens = Tokens(self.emb.platform("plans").config.jwt_secret)
        self.org = Org(self.emb.apps["plans"], Client(self.emb.wsgi), self.tokens, self.clock)
        seed(self.org)  # synchronously through WSGI, before the worker runs (a quarterly cycle in planning)
        if period_type != "quarterly":  # a shorter year for the end-to-end run: its own cycle
            r = self.org.post(
                "/cycles",
                self.org.hr,
                {"year": 2026, "period_type": period_type, "name": f"Penilaian Kinerja 2026 ({period_type})"},
            )
            assert r.status_code == 201, r.get_json()
            self.org.cycle_id = r.get_json()["id"]
            assert self.org.advance("draft").status_code == 200
        self.emb.pump()
        self.emb.start_worker()
        self.server = make_server("127.0.0.1", 0, self.emb.wsgi, threaded=True, request_handler=_Quiet)
        self.thread = threading.Thread(target=self.server.serve_forever, name="services-http", daemon=True)
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.server.server_port}"
        self.http = httpx.Client(base_url=self.base_url, timeout=30)
        self.cycle_id = self.org.cycle_id
        self.hr_token = self.tokens.token("hr", agency="PKMB", sub="hr@pkmb")
        self.people = People(self)
        # HR's contact for escalations (an e-mail address: HR has no NIP here)
        self.call("PUT", f"{N}/hr-contacts", self.hr, {"contacts": [{"name": "Bagian SDM", "email": HR_EMAIL}]})

    def close(self) -> None:
        self.http.close()
        self.server.shutdown()
        self.thread.join(5)
        self.emb.close()
        set_clock(None)

    # ------------------------------------------------------------------ HTTP as someone

    @property
    def hr(self) -> dict:
        return {"Authorization": f"Bearer {self.hr_token}"}

    def person(self, nip: str) -> dict:
        roles = ("employee", "supervisor") if nip in (HEAD, KASI_A, KASI_B) else ("employee",)
        return {"Authorization": f"Bearer {self.tokens.token(*roles, agency='PKMB', nip=nip, sub=nip)}"}

    def call(self, method: str, path: str, headers: dict, body=None, expect=(200, 201), **kw) -> httpx.Response:
        resp = self.http.request(method, path, headers=headers, json=body, **kw)
        assert resp.status_code in expect, f"{method} {path} → {resp.status_code}: {resp.text[:600]}"
        return resp

    def all(self, path: str, headers: dict | None = None, **params) -> list[dict]:
        items, cursor = [], None
        while True:
            q = {**params, "limit": 200, **({"cursor": cursor} if cursor else {})}
            page = self.call("GET", path, headers or self.hr, params=q).json()
            items += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return items

    # ------------------------------------------------------------------ what a user would see

    def state(self) -> str:
        return self.call("GET", f"{P}/cycles/{self.cycle_id}", self.hr).json()["state"]

    def evaluations(self, period_seq: int) -> list[dict]:
        return self.all(f"{R}/evaluations", cycle_id=self.cycle_id, period_seq=period_seq)

    def batch(self, key: str) -> dict | None:
        """The reminder batch with every item (its GET answers one page at a time)."""
        resp = self.http.get(f"{N}/reminders/{key}", headers=self.hr, params={"limit": 200})
        if resp.status_code != 200:
            return None
        batch = resp.json()
        cursor = batch.pop("next_cursor")
        while cursor:
            page = self.call("GET", f"{N}/reminders/{key}", self.hr, params={"limit": 200, "cursor": cursor}).json()
            batch["items"] += page["items"]
            cursor = page["next_cursor"]
        return batch

    def inbox(self, nip: str) -> list[dict]:
        return self.all(f"{N}/inbox", self.person(nip))

    def inbox_templates(self, nip: str) -> Counter:
        return Counter(n["template"] for n in self.inbox(nip))

    def hr_mails(self, template: str | None = None) -> list[dict]:
        return [
            d
            for d in self.all(f"{N}/deliveries", channel="email")
            if d.get("target") == HR_EMAIL and template in (None, d.get("template"))
        ]

    def flow_params(self, **extra) -> dict:
        return {
            "cycle_id": self.cycle_id,
            "base_url": self.base_url,
            "token": self.hr_token,
            "clock": "simulated",
            **extra,
        }


class People:
    """The agency's people acting through the API."""

    def __init__(self, stack: Stack):
        self.s = stack

    def plans(self, leave_out: tuple[str, ...] = (), draft: tuple[str, ...] = ()) -> dict[str, dict]:
        """Cascaded SKPs top-down: the head's (approved by HR), the kasi's (by the head), the
        staff's (by their kasi). ``leave_out`` write none; ``draft`` stop before submitting."""
        s, out = self.s, {}
        goals = [
            rhk(
                "Meningkatnya kualitas jalan kabupaten",
                goal="Sasaran PK 1: jalan mantap 90%",
                ikis=[iki("kuantitas", 90, "%")],
            )
        ]
        for nip in [HEAD, KASI_A, KASI_B, *STAFF_A, *STAFF_B]:
            if nip in leave_out:
                continue
            if nip == HEAD:
                content = goals
            else:
                parent = out[SUPERIOR[nip]]
                content = [
                    rhk(
                        f"Mendukung {parent['rhk'][0]['description']} ({nip[-3:]})",
                        parent=parent["rhk"][0]["id"],
                        ikis=[iki("kuantitas", 4, "dokumen")],
                    )
                ]
            body = {
                "cycle_id": s.cycle_id,
                "approach": "kuantitatif",
                "rhk": content,
                "behaviour": {v: f"Ekspektasi {v}" for v in BERAKHLAK},
            }
            plan = s.call("POST", f"{P}/plans", s.person(nip), body).json()
            out[nip] = plan
            if nip in draft:
                continue
            s.call("POST", f"{P}/plans/{plan['id']}/submit", s.person(nip))
            approver = s.hr if nip == HEAD else s.person(SUPERIOR[nip])
            out[nip] = s.call("POST", f"{P}/plans/{plan['id']}/approve", approver).json()
        return out

    def realise(self, plans: dict[str, dict], period_seq: int, factor: float = 1.0) -> None:
        s = self.s
        for nip, plan in plans.items():
            if plan["status"] != "approved":
                continue
            for r in plan["rhk"]:
                for i in r["iki"]:
                    s.call(
                        "POST",
                        f"{P}/plans/{plan['id']}/realisations",
                        s.person(nip),
                        {"iki_id": i["id"], "period_seq": period_seq, "value": i["target_value"] * factor},
                    )

    def act(self, method: str, path: str, headers: dict, body=None) -> httpx.Response:
        """A person's action; retried while the reviews service has not yet heard of the stage change
        (409 ``stage.not_allowed``: events travel asynchronously)."""

        def attempt():
            resp = self.s.http.request(method, path, headers=headers, json=body)
            if resp.status_code == 409 and resp.json().get("code") == "stage.not_allowed":
                return None
            assert resp.status_code in (200, 201), f"{method} {path} → {resp.status_code}: {resp.text[:600]}"
            return resp

        return wait_for(attempt, what=f"{method} {path} to be allowed")

    def self_assess(self, evaluations: list[dict]) -> None:
        for ev in evaluations:
            self.act(
                "POST",
                f"{R}/evaluations/{ev['id']}/self-assessment/submit",
                self.s.person(ev["employee_nip"]),
                {
                    "achievements": "Target tercapai sesuai rencana.",
                    "challenges": "Data lapangan terlambat.",
                    "improvement_plan": "Jadwal pengumpulan data lebih awal.",
                },
            )

    def rate(self, evaluations: list[dict]) -> None:
        s = self.s
        for ev in evaluations:
            who = s.person(ev["penilai_nip"]) if ev["penilai_nip"] else s.hr
            sug = s.call("GET", f"{R}/evaluations/{ev['id']}/suggestion", who).json()
            body = {
                "rating_hasil": sug["rating"] or "meets",
                "rating_perilaku": "meets",
                "notes": "Pertahankan kinerja.",
            }
            if sug["rating"] is None:
                body["deviation_reason"] = "Tidak ada realisasi tercatat; dinilai dari pengamatan langsung."

            def rate_once(ev=ev, who=who, body=body):
                current = s.http.get(f"{R}/evaluations/{ev['id']}", headers=who)
                resp = s.http.put(
                    f"{R}/evaluations/{ev['id']}/rating",
                    headers={**who, "If-Match": current.headers["ETag"]},
                    json=body,
                )
                if resp.status_code == 409 and resp.json().get("code") == "stage.not_allowed":
                    return None
                assert resp.status_code == 200, resp.text[:600]
                return resp

            wait_for(rate_once, what=f"rating evaluation {ev['id']}")

    def sign_all(self, evaluations: list[dict]) -> None:
        s = self.s
        for ev in evaluations:
            self.act(
                "POST", f"{R}/evaluations/{ev['id']}/sign", s.person(ev["penilai_nip"]) if ev["penilai_nip"] else s.hr
            )
            self.act("POST", f"{R}/evaluations/{ev['id']}/acknowledge", s.person(ev["employee_nip"]))
            self.act(
                "POST",
                f"{R}/evaluations/{ev['id']}/countersign",
                s.person(ev["atasan_nip"]) if ev["atasan_nip"] else s.hr,
            )
