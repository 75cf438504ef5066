"""The world the authorization matrix runs in: the four services in one embedded runner (an isolated
in-process bus), the small agency of :mod:`tests.plans.support` plus an unrelated reporting line, a
second agency, and one object of each kind for each of the matrix's three owners:

- ``own``   — the target employee E (staff A[0], under kasi A, under the head), or agency PKMB's
  object for agency-level things (cycles, campaigns, webhooks);
- ``other`` — Y, a person of the same agency outside E's line and outside every supervisor role of
  the matrix (unit INSP: X heads it, Y reports to X), or a second PKMB object;
- ``agency`` — a person or object of agency OTHER.

Built once per test module (a few seconds): plans approved, both agencies' cycles in monitoring,
evaluations opened from the plans events, realisations with evidence, daily logs, peers nominated,
organisation results, campaigns, webhooks with a delivery, reminders in each person's inbox.
Objections and follow-up plans, which come at the end of a year's chain, are written directly.
Writes that move an object's state act on objects of their own (``cycle_w``, ``campaign_w``), so
the reads keep meeting the same world; :mod:`tests.authz.requests` says how each write is made."""

from __future__ import annotations

import io
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import jwt
from sqlalchemy import func, select
from werkzeug.serving import make_server
from werkzeug.test import Client

from kinerja.embedded import Embedded
from services.common.bus import Topology
from services.plans.domain import BERAKHLAK
from services.reviews.siasn import SiasnClient, SiasnConfig
from tests.plans.support import (
    API,
    HEAD,
    KASI_A,
    KASI_B,
    NEW_B,
    NEW_C,
    OTHER_EMP,
    STAFF_A,
    STAFF_B,
    FakeClock,
    Org,
    Tokens,
    iki,
    rhk,
    seed,
)

X, Y = NEW_B, NEW_C  # the unrelated line: X heads unit INSP, Y reports to X
E = STAFF_A[0]
PEOPLE = {"own": E, "other": Y, "agency": OTHER_EMP}
OBJECTS = ("own", "other", "agency")
ROLES = (
    "anonymous",
    "owner",
    "other_employee",
    "superior",
    "atasan",
    "unrelated_supervisor",
    "hr",
    "hr_other",
    "machine",
    "admin",
)
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
RAPI, SAPI, NAPI = "/reviews/api/v1", "/surveys/api/v1", "/notifications/api/v1"


@dataclass
class World:
    emb: Embedded
    org: Org
    client: Client
    ids: dict = field(default_factory=dict)  # kind -> {object: id}
    server: object = None  # a real HTTP server over the same services, for the read-model rebuilds
    server_url: str = ""

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
        self.emb.close()

    @property
    def tokens(self) -> Tokens:
        return self.org.tokens

    def headers(self, role: str) -> dict:
        o, t = self.org, self.org.tokens
        if role.startswith("machine:"):  # a machine client holding one scope (issue 16)
            claims = {"sub": "bkd-sync", "roles": ["agency"], "agency": "PKMB", "scope": role.partition(":")[2]}
            now = int(time.time())
            token = jwt.encode(claims | {"iat": now, "exp": now + 3600}, t.secret, algorithm="HS256")
            return {"Authorization": f"Bearer {token}"}
        return {
            "anonymous": {},
            "owner": o.as_(E),
            "other_employee": o.as_(STAFF_A[1]),
            "superior": o.as_(KASI_A),
            "atasan": o.as_(HEAD),
            "unrelated_supervisor": o.as_(KASI_B),
            "hr": o.hr,
            "hr_other": o.other_hr,
            "machine": t.headers("agency", sub="bkd-sync"),
            "admin": o.admin,
        }[role]

    def person_headers(self, nip: str) -> dict:
        """Headers of a person of the matrix's objects (Y and X are supervisors in INSP)."""
        if nip in (X, Y):
            return self.org.tokens.supervisor(nip)
        return self.org.as_(nip)

    def etag(self, path: str) -> str:
        """The current ETag of a resource, read as an admin (the case's caller may not see it)."""
        return self.call("GET", path, self.org.admin).headers.get("ETag", "")

    def fresh_webhook(self, obj: str) -> int:
        h = self.org.other_hr if obj == "agency" else self.org.hr
        return self.ok(self.call("POST", f"{NAPI}/webhooks", h, json=HOOK))["id"]

    def traces(self, service: str) -> tuple:
        """The last audit row and outbox event of a service: a refused write must move neither."""
        platform = self.emb.platform(service)
        t = platform.tables
        with platform.session_factory() as s:
            return s.scalar(select(func.max(t.audit.c.id))), s.scalar(select(func.max(t.outbox.c.id)))

    def pump(self) -> None:
        self.emb.pump()

    def call(self, method: str, path: str, headers: dict, **kw):
        return self.client.open(path, method=method, headers=headers, **kw)

    def ok(self, r, status=(200, 201)):
        assert r.status_code in ((status,) if isinstance(status, int) else status), (
            r.status_code,
            r.get_data(as_text=True)[:1500],
        )
        return r.get_json(silent=True)


def build(tmp_path) -> World:
    clock = FakeClock()
    env = {
        "KINERJA_VAR": str(tmp_path),
        "SURVEYS_RATE_LIMIT_PER_MINUTE": "1000",  # one address sends every case of the public form
        "SURVEYS_OPEN_FORM_PER_DAY": "1000",  # … every column's (the machine:<scope> ones too), in one day
        "PUBLIC_RATE_PER_MINUTE": "0",
        "WEBHOOK_TIMEOUT": "1",
    }
    saved = {k: os.environ.get(k) for k in env if k != "KINERJA_VAR"}
    os.environ.update({k: v for k, v in env.items() if k in saved})  # the services' settings read os.environ
    try:
        emb = Embedded(
            env=env,
            clock=clock,
            services=("plans", "reviews", "surveys", "notifications"),
            topology=Topology.isolated(f"authz{uuid.uuid4().hex[:8]}."),
            portal=False,
        )
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    client = Client(emb.wsgi)
    # the read-model rebuilds read the plans API of "this very server" (the socket the request came
    # in on): serve the same services on a real socket and send those cases through it
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log line per request
    server = make_server("127.0.0.1", 0, emb.wsgi, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # SIASN answers nothing here; the push has nothing countersigned to send, so it never calls out
    siasn = SiasnConfig(url="http://127.0.0.1:9/apisiasn/1.0/", gateway_token="g", sso_token="s")
    emb.apps["reviews"].extensions["siasn_client"] = lambda: SiasnClient(siasn, sleep=lambda _: None)
    plans_app = emb.apps["plans"]
    org = Org(plans_app, client, Tokens(plans_app.extensions["kinerja"].config.jwt_secret), clock)
    seed(org)
    w = World(emb, org, client, server=server, server_url=f"http://127.0.0.1:{server.server_port}")
    _directory(w)
    _plans(w)
    _progress(w)
    _reviews(w)
    _surveys(w)
    _notifications(w)
    return w


def _directory(w: World) -> None:
    org = w.org
    w.ok(org.import_csv("units", "code,name,parent_code\nINSP,Inspektorat,\n"))
    csv = (
        "nip,name,position,unit_code,superior_nip\n"
        f"{X},Xaverius Inspektur,Inspektur,INSP,\n"
        f"{Y},Yuliana Auditor,Auditor,INSP,{X}\n"
    )
    w.ok(org.import_csv("employees", csv))
    # peers for OTHER's employee, and a unit both agencies have (the creates of either HR name it)
    w.ok(org.import_csv("units", "code,name,parent_code\nUMUM,Bagian Umum,\n", headers=org.other_hr))
    w.ok(org.import_csv("units", "code,name,parent_code\nUMUM,Bagian Umum,\n"))
    csv = "nip,name,position,unit_code\n" + "".join(f"{n},Rekan {n[-3:]},Analis,UMUM\n" for n in OTHER_PEERS)
    w.ok(org.import_csv("employees", csv, headers=org.other_hr))
    r = org.post("/cycles", org.other_hr, {"year": 2026, "period_type": "quarterly"})
    w.ids["cycle"] = {"own": org.cycle_id, "agency": w.ok(r)["id"]}
    advance_to(w, "planning", w.ids["cycle"]["agency"], org.other_hr)
    # second cycles: the objects of the cycle writes (advance, periods), so the main cycles stay put
    r = org.post("/cycles", org.hr, {"year": 2027, "period_type": "quarterly"})
    w.ids["cycle_w"] = {"own": w.ok(r)["id"]}
    r = org.post("/cycles", org.hr, {"year": 2028, "period_type": "quarterly"})
    w.ids["cycle_w"]["other"] = w.ok(r)["id"]
    r = org.post("/cycles", org.other_hr, {"year": 2027, "period_type": "quarterly"})
    w.ids["cycle_w"]["agency"] = w.ok(r)["id"]
    w.ids["cycle"]["other"] = w.ids["cycle_w"]["other"]
    # acting appointments (Plt) for next year, so nobody's reach changes during the run
    w.ids["acting"] = {}
    for obj, acting, hr in (
        ("own", STAFF_B[1], org.hr),
        ("other", STAFF_B[2], org.hr),
        ("agency", OTHER_PEERS[0], org.other_hr),
    ):
        body = {"acting_nip": acting, "for_nip": PEOPLE[obj], "kind": "plt"}
        r = org.post("/acting", hr, body | {"start_date": "2027-02-01", "end_date": "2027-02-28"})
        w.ids["acting"][obj] = w.ok(r)["id"]
    # grants across agencies (issue 16): two PKMB gave clients of OTHER, one OTHER gave PKMB's machine client
    w.ids["grant"] = {}
    expires = (org.app.extensions["kinerja"].today() + timedelta(days=365)).isoformat()
    for obj, client, agency, hr in (
        ("own", "prov-a", "OTHER", org.hr),
        ("other", "prov-b", "OTHER", org.hr),
        ("agency", "bkd-sync", "PKMB", org.other_hr),
    ):
        body = {"client_id": client, "client_agency": agency, "scope": "directory:read", "expires_on": expires}
        w.ids["grant"][obj] = w.ok(org.post("/grants", hr, body))["id"]


def advance_to(w: World, label: str, cycle_id: int, hr: dict) -> None:
    for _ in range(20):
        state = w.ok(w.org.get(f"/cycles/{cycle_id}", hr))["state"]
        if state == label:
            return
        w.ok(w.org.post(f"/cycles/{cycle_id}/advance", hr, {"expected": state}))
    raise AssertionError(f"cycle {cycle_id} never reached {label}")


def _rhks(parent: dict | None, tag: str) -> list[dict]:
    if parent is None:
        return [rhk(f"Sasaran {tag}", goal=f"Sasaran organisasi {tag}", ikis=[iki("kuantitas", 4, "dokumen")])]
    return [rhk(f"Mendukung {tag}", parent=parent["rhk"][0]["id"], ikis=[iki("kuantitas", 4, "dokumen")])]


def _plan(w: World, nip: str, parent: dict | None, approver_headers: dict | None, cycle_id: int) -> dict:
    org = w.org
    body = {"cycle_id": cycle_id, "approach": "kuantitatif", "rhk": _rhks(parent, nip[-3:])}
    body["behaviour"] = {k: f"Ekspektasi {k}" for k in BERAKHLAK}
    p = w.ok(org.post("/plans", w.person_headers(nip), body))
    if approver_headers is None:
        return p
    w.ok(org.post(f"/plans/{p['id']}/submit", w.person_headers(nip)))
    return w.ok(org.post(f"/plans/{p['id']}/approve", approver_headers))


def _plans(w: World) -> None:
    org = w.org
    own_cycle, other_cycle = w.ids["cycle"]["own"], w.ids["cycle"]["agency"]
    head = _plan(w, HEAD, None, org.hr, own_cycle)
    kasi_a = _plan(w, KASI_A, head, org.as_(HEAD), own_cycle)
    kasi_b = _plan(w, KASI_B, head, org.as_(HEAD), own_cycle)
    e = _plan(w, E, kasi_a, org.as_(KASI_A), own_cycle)
    _plan(w, STAFF_A[1], kasi_a, org.as_(KASI_A), own_cycle)
    _plan(w, STAFF_B[0], kasi_b, org.as_(KASI_B), own_cycle)
    x = _plan(w, X, None, org.hr, own_cycle)
    y = _plan(w, Y, x, w.person_headers(X), own_cycle)
    o = _plan(w, OTHER_EMP, None, org.other_hr, other_cycle)
    w.ids["plan"] = {"own": e["id"], "other": y["id"], "agency": o["id"]}
    w.ids["plan_body"] = {"own": e, "other": y, "agency": o}
    w.ids["parent"] = {"own": kasi_a, "other": x, "agency": None}
    advance_to(w, "monitoring:1:check_in", own_cycle, org.hr)
    advance_to(w, "monitoring:1:check_in", other_cycle, org.other_hr)
    w.pump()


def _progress(w: World) -> None:
    org = w.org
    w.ids["realisation"], w.ids["evidence"] = {}, {}
    for obj, nip in PEOPLE.items():
        plan = w.ids["plan_body"][obj]
        iki_id = plan["rhk"][0]["iki"][0]["id"]
        h = w.person_headers(nip)
        r = w.ok(org.post(f"/plans/{plan['id']}/realisations", h, {"iki_id": iki_id, "period_seq": 1, "value": 2}))
        w.ids["realisation"][obj] = r["id"]
        r = w.client.post(
            f"{API}/plans/{plan['id']}/realisations/{r['id']}/evidence",
            headers=h,
            data={"file": (io.BytesIO(PDF), "bukti.pdf", "application/pdf")},
            content_type="multipart/form-data",
        )
        w.ids["evidence"][obj] = w.ok(r)["id"]
        w.ok(org.post("/daily-logs", h, {"date": "2026-01-05", "activity": "Menyusun laporan", "minutes": 60}))
    _feedback(w)
    w.pump()


def _feedback(w: World) -> None:
    """A coaching record on each object's plan (the agency's employee has no superior to give one
    through the API, so they are written directly), for the employee's replies."""
    from services.plans.models import Feedback

    givers = {"own": KASI_A, "other": X, "agency": OTHER_EMP}
    w.ids["feedback"] = {}
    with w.emb.apps["plans"].extensions["kinerja"].session_factory() as s:
        for obj, giver in givers.items():
            fb = Feedback(
                plan_id=w.ids["plan"][obj],
                giver_nip=giver,
                value_code="akuntabel",
                kind="coaching",
                text="Sesi bimbingan.",
                created_at=datetime(2026, 1, 5, tzinfo=timezone.utc),
            )
            s.add(fb)
            s.flush()
            w.ids["feedback"][obj] = fb.id
        s.commit()


def _reviews(w: World) -> None:
    from services.reviews.document_pdf import render_pdf
    from services.reviews.domain import content_hash
    from services.reviews.models import Evaluation, EvaluationDocument, FollowUp, Objection

    app = w.emb.apps["reviews"]
    w.ids["evaluation"], w.ids["objection"], w.ids["followup"] = {}, {}, {}
    w.ids["document_pdf"] = {}
    now = datetime(2026, 1, 6, tzinfo=timezone.utc)
    with app.extensions["kinerja"].session_factory() as s:
        for obj, nip in PEOPLE.items():
            ev = s.scalar(select(Evaluation).where(Evaluation.employee_nip == nip, Evaluation.period_seq == 1))
            assert ev is not None, f"no evaluation opened for {nip}"
            w.ids["evaluation"][obj] = ev.id
            # objections and follow-up plans come at the end of a long chain (rating, sign-off); the
            # matrix needs only that they exist with the right people, so they are written directly
            o = Objection(
                evaluation_id=ev.id,
                agency_code=ev.agency_code,
                employee_nip=nip,
                atasan_nip=ev.atasan_nip,
                reasons="Bukti belum dipertimbangkan.",
                status="filed",
                statements=[],
                filed_at=now,
                version=1,
            )
            f = FollowUp(
                evaluation_id=ev.id,
                cycle_id=ev.cycle_id,
                agency_code=ev.agency_code,
                employee_nip=nip,
                kind="development",
                predikat="butuh_perbaikan",
                below_iki=[],
                below_values=[],
                recommendation="Pelatihan penyusunan laporan.",
                owner_nip=ev.penilai_nip,
                created_at=now,
            )
            s.add_all([o, f])
            s.flush()
            w.ids["objection"][obj], w.ids["followup"][obj] = o.id, f.id
            # a stored document version (the evaluation itself stays open) and its PDF, for the verify endpoint
            content = {"evaluation_id": ev.id, "employee": {"nip": nip, "name": ev.employee_name}}
            digest = content_hash(content)
            s.add(
                EvaluationDocument(
                    evaluation_id=ev.id,
                    version=1,
                    content=content,
                    content_hash=digest,
                    reason="signed",
                    created_at=now,
                )
            )
            w.ids["document_pdf"][obj] = render_pdf(content, digest, 1, created_at=now)
        s.commit()
    w.ids["org_result"] = {}
    for obj, u, h in (("own", "SEK-A", w.org.hr), ("other", "INSP", w.org.hr), ("agency", "BIRO", w.org.other_hr)):
        body = {"cycle_id": w.ids["cycle"]["agency" if obj == "agency" else "own"], "period_seq": 1, "unit_code": u}
        body["result"] = "BAIK"
        w.ids["org_result"][obj] = w.ok(w.client.put(f"{RAPI}/org-results", headers=h, json=body))["id"]
    # staff A[1] (the matrix's "other employee") is a nominated peer rater of E's evaluation
    r = w.client.post(f"{RAPI}/evaluations/{w.ids['evaluation']['own']}/peers", headers=w.org.as_(KASI_A), json=PEERS)
    w.ok(r)
    _results(w)


_COPIED = ("agency_code", "plan_id", "plan_revision", "employee_nip", "employee_name", "position", "unit_code")
_COPIED += ("unit_name", "penilai_nip", "atasan_nip")
_FINAL = {"kind": "annual", "period_seq": 0, "period_name": "Tahunan", "status": "countersigned", "predikat": "BAIK"}
_FINAL |= {"rating_hasil": "meets", "rating_perilaku": "meets", "content_hash": "0" * 64, "document_version": 3}


def _results(w: World) -> None:
    """A final (countersigned) annual result of each object's person for the results feed, written
    directly (a year's chain is long) in the second cycles, which the SIASN cases never read."""
    from services.reviews.models import Evaluation

    at = datetime(2026, 1, 6, tzinfo=timezone.utc)
    cycles = {"own": w.ids["cycle_w"]["own"], "other": w.ids["cycle_w"]["own"], "agency": w.ids["cycle_w"]["agency"]}
    w.ids["result"] = {}
    with w.emb.apps["reviews"].extensions["kinerja"].session_factory() as s:
        for obj in OBJECTS:
            base = s.get(Evaluation, w.ids["evaluation"][obj])
            ev = Evaluation(
                **{c: getattr(base, c) for c in _COPIED},
                cycle_id=cycles[obj],
                **_FINAL,
                signed_at=at,
                acknowledged_at=at,
                countersigned_at=at,
                result_changed_at=at,
                created_at=at,
                updated_at=at,
            )
            s.add(ev)
            s.flush()
            w.ids["result"][obj] = ev.id
        s.commit()


PEERS = {"rater_nips": [STAFF_A[1], STAFF_B[1], STAFF_B[2]]}
OTHER_PEERS = ["198909092012011011", "199010102013012012", "199111112014011013"]  # agency OTHER


def _surveys(w: World) -> None:
    w.pump()  # surveys learns the units from plans.unit.upserted
    body = {
        "unit_code": "UMUM",  # a unit both agencies have: the creates of either HR name it
        "unit_name": "Bagian Umum",
        "service_type": "Pelayanan perizinan",
        "start_date": "2026-01-01",
        "end_date": "2026-03-31",
        "population": 1000,
        "open_form": True,
        "open_form_reason": "Loket tanpa struk: formulir terbuka untuk semua pengunjung",
    }
    w.ids["campaign"], w.ids["slug"] = {}, {}
    for obj, h in (("own", w.org.hr), ("other", w.org.hr), ("agency", w.org.other_hr)):
        c = w.ok(w.client.post(f"{SAPI}/campaigns", headers=h, json=body))
        c = w.ok(w.client.post(f"{SAPI}/campaigns/{c['id']}/open", headers=h))
        w.ids["campaign"][obj], w.ids["slug"][obj] = c["id"], c["slug"]
    # drafts for the writes that move a campaign (open, close, publish), so the others stay open
    w.ids["campaign_w"] = {}
    for obj, h in (("own", w.org.hr), ("other", w.org.hr), ("agency", w.org.other_hr)):
        w.ids["campaign_w"][obj] = w.ok(w.client.post(f"{SAPI}/campaigns", headers=h, json=body))["id"]
    # closed campaigns: their results are published (the public results pages)
    w.ids["campaign_closed"] = {}
    for obj, h in (("own", w.org.hr), ("other", w.org.hr), ("agency", w.org.other_hr)):
        c = w.ok(w.client.post(f"{SAPI}/campaigns", headers=h, json=body))
        w.ok(w.client.post(f"{SAPI}/campaigns/{c['id']}/open", headers=h))
        w.ids["campaign_closed"][obj] = (
            c["agency_code"],
            w.ok(w.client.post(f"{SAPI}/campaigns/{c['id']}/close", headers=h))["id"],
        )
    w.ids["campaign_body"] = body


TASK = {"task": "Mengisi realisasi SKP"}
HOOK = {"url": "http://127.0.0.1:9/kinerja-hook", "event_types": ["plans.cycle.*"]}


def _notifications(w: World) -> None:
    """Webhooks of both agencies (and a delivery of each, from a cycle event), a reminder batch per
    person (their inbox notification and delivery), the rules as a valid body to PUT back."""
    from services.notifications.models import Delivery, Notification

    w.pump()
    w.ids["webhook"], w.ids["batch"] = {}, {}
    for obj, h in (("own", w.org.hr), ("other", w.org.hr), ("agency", w.org.other_hr)):
        w.ids["webhook"][obj] = w.ok(w.client.post(f"{NAPI}/webhooks", headers=h, json=HOOK))["id"]
    for h in (w.org.hr, w.org.other_hr):
        w.ok(w.org.post("/cycles", h, {"year": 2029, "period_type": "semester"}))
    for obj, nip in PEOPLE.items():
        h = w.org.other_hr if obj == "agency" else w.org.hr
        key = f"matrix-{obj}"
        body = {"batch_key": key, "template": "reminder.generic", "recipients": [{"nip": nip}], "params": TASK}
        w.ok(w.client.post(f"{NAPI}/reminders", headers=h, json=body))
        w.ids["batch"][obj] = key
    w.pump()
    w.ok(w.client.post(f"{NAPI}/dispatch", headers=w.org.admin))
    w.pump()
    app = w.emb.apps["notifications"]
    w.ids["notification"], w.ids["delivery"], w.ids["hook_delivery"] = {}, {}, {}
    with app.extensions["kinerja"].session_factory() as s:
        for obj, nip in PEOPLE.items():
            w.ids["notification"][obj] = s.scalar(
                select(Notification.id).where(Notification.recipient_nip == nip).order_by(Notification.id)
            )
            w.ids["delivery"][obj] = s.scalar(
                select(Delivery.id).where(Delivery.recipient_nip == nip).order_by(Delivery.id)
            )
            w.ids["hook_delivery"][obj] = s.scalar(
                select(Delivery.id).where(Delivery.subscription_id == w.ids["webhook"][obj]).order_by(Delivery.id)
            )
    for kind in ("notification", "delivery", "hook_delivery"):
        assert all(w.ids[kind].values()), (kind, w.ids[kind])
    w.ids["rules"] = w.ok(w.client.get(f"{NAPI}/rules", headers=w.org.hr))["rules"]
    w.ids["distribution_rules"] = w.ok(w.client.get(f"{RAPI}/distribution-rules", headers=w.org.hr))["rules"]
