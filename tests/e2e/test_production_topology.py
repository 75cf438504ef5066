"""The production topology end to end: ``make up`` on this machine (PostgreSQL, RabbitMQ, gunicorn
per app, a worker per service, nginx, a Prefect server and process worker, the development
identity provider), then, through the gateway with RS256 tokens, what an agency does first:
import a directory, open a cycle, draft, submit and approve the plans; the cycle is moved by the
Prefect worker from its deployment; the events crossed RabbitMQ; another agency's system, the
reference client ``examples/agency_client.py``, verifies the webhook deliveries of final results and
pulls the results feed; a person signs into the portal; ``make down`` leaves no process behind.

The tests of this module run in order on one topology (its own directory, ports, databases and
RabbitMQ vhost, so a developer's ``make up`` and the other tests are never touched)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from services.plans.domain import BERAKHLAK
from tests.conftest import _need
from tests.plans.support import EMPLOYEES_CSV, HEAD, KASI_A, KASI_B, STAFF_A, STAFF_B, UNITS_CSV, iki, rhk

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
NAME = os.environ.get("E2E_UP_NAME") or "kinerja_e2e"  # another name and port: a second run beside this one
PORT = int(os.environ.get("E2E_UP_PORT") or 28080)
PORT_BASE = PORT + 20
AGENCY = "E2E"
GATEWAY = f"http://127.0.0.1:{PORT}"
P, R, N = "/plans/api/v1", "/reviews/api/v1", "/notifications/api/v1"
SUPERIOR = {KASI_A: HEAD, KASI_B: HEAD, **{n: KASI_A for n in STAFF_A}, **{n: KASI_B for n in STAFF_B}}
UP_SECONDS = 300


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout:.0f} s (last: {last!r})")


def _purge(env: dict) -> None:
    """A fresh start: the topology's databases and vhost of an earlier run are dropped."""
    from sqlalchemy.engine import make_url

    from services.common.db import drop_database

    base = make_url("postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    for db in ("plans", "reviews", "surveys", "notifications", "portal", "prefect"):
        drop_database(base.set(database=f"{NAME}_{db}").render_as_string(hide_password=False))
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    subprocess.run([ctl, "-q", "delete_vhost", NAME], capture_output=True, timeout=60)
    shutil.rmtree(env["KINERJA_UP_DIR"], ignore_errors=True)


def make(target: str, env: dict, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "-s", target], cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def topology(tmp_path_factory):
    _need("PostgreSQL", "127.0.0.1", 5432)
    _need("RabbitMQ", "127.0.0.1", 5672)
    up_dir = tmp_path_factory.mktemp("up")
    env = {
        "KINERJA_UP_DIR": str(up_dir),
        "UP_NAME": NAME,
        "UP_PORT": str(PORT),
        "UP_PORT_BASE": str(PORT_BASE),
        "UP_AGENCY": AGENCY,
    }
    _purge(env)
    started = time.monotonic()
    done = make("up", env, UP_SECONDS)
    seconds = time.monotonic() - started
    info = {
        "env": env,
        "dir": up_dir,
        "out": done.stdout,
        "seconds": seconds,
        "pids": {p.stem: json.loads(p.read_text())["pid"] for p in (up_dir / "run").glob("*.pid")},
    }
    try:
        assert done.returncode == 0, f"make up failed ({seconds:.0f} s):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        yield info
    finally:
        make("down", env, 120)  # whatever happened (the last test checks what down leaves)


def idp(topology):
    from kinerja.devidp import IdpStore

    return IdpStore(topology["dir"] / "idp")


def token(topology, *roles, nip=None, **kw) -> dict:
    t = idp(topology).access_token(
        issuer=f"http://127.0.0.1:{PORT_BASE + 90}",
        audience="kinerja",
        sub=nip or "t",
        roles=list(roles),
        agency=AGENCY,
        nip=nip,
        **kw,
    )
    return {"Authorization": f"Bearer {t}"}


@pytest.fixture(scope="module")
def api():
    with httpx.Client(base_url=GATEWAY, timeout=30) as client:
        yield client


def call(api, method, path, headers, body=None, expect=(200, 201), **kw) -> httpx.Response:
    r = api.request(method, path, headers=headers, json=body, **kw)
    assert r.status_code in expect, f"{method} {path}: {r.status_code} {r.text[:500]}"
    return r


# ---------------------------------------------------------------------- the tests, in order


def test_make_up_starts_every_process_and_says_where_to_sign_in(topology):
    out = topology["out"]
    assert f"{GATEWAY}/" in out and f"hr.{AGENCY.lower()} / " in out, out
    names = set(topology["pids"])
    assert names == {
        "idp",
        "plans",
        "reviews",
        "surveys",
        "notifications",
        "portal",
        "plans-worker",
        "reviews-worker",
        "surveys-worker",
        "notifications-worker",
        "gateway",
        "prefect-server",
        "prefect-worker",
    }, names
    print(f"\nmake up: {topology['seconds']:.1f} s, {len(names)} processes")  # noqa: T201 (the closing note's figure)


def test_make_up_twice_starts_nothing_new(topology):
    again = make("up", topology["env"], UP_SECONDS)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert "0 started now" in again.stdout, again.stdout
    pids = {p.stem: json.loads(p.read_text())["pid"] for p in (topology["dir"] / "run").glob("*.pid")}
    assert pids == topology["pids"]


def test_the_services_connect_as_a_role_that_cannot_rewrite_the_audit_log(topology, api):
    """The services use ``kinerja_e2e_app``, granted by ``kinerja db upgrade --grant-to``: it writes
    their tables but may not UPDATE, DELETE or TRUNCATE the append-only ones."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import ProgrammingError

    secrets_ = json.loads((topology["dir"] / "secrets.json").read_text())
    role = f"{NAME}_app"
    assert api.get("/plans/readyz").status_code == 200
    owner = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    with owner.connect() as conn:  # who is connected to the services' databases (not Prefect's)
        users = set(
            conn.execute(
                text("SELECT usename FROM pg_stat_activity WHERE datname LIKE :d AND datname <> :p"),
                {"d": f"{NAME}\\_%", "p": f"{NAME}_prefect"},
            ).scalars()
        )
    owner.dispose()
    assert users == {role}, users
    as_app = create_engine(f"postgresql+psycopg://{role}:{secrets_['db_app_password']}@127.0.0.1:5432/{NAME}_reviews")
    try:
        for table in ("audit_log", "evaluation_documents"):
            with pytest.raises(ProgrammingError, match="permission denied"):
                with as_app.begin() as conn:
                    conn.execute(text(f"DELETE FROM {table}"))
    finally:
        as_app.dispose()


def test_the_gateway_refuses_bad_tokens_and_hides_metrics(topology, api):
    hr = {
        "Authorization": "Bearer "
        + subprocess.run(
            [str(ROOT / ".venv" / "bin" / "kinerja"), "token", "--role", "hr", "--agency", AGENCY],
            env={
                **os.environ,
                **topology["env"],
                "KINERJA_MODE": "production",
                "DEV_IDP_DIR": str(topology["dir"] / "idp"),
                "DEV_IDP_ISSUER": f"http://127.0.0.1:{PORT_BASE + 90}",
                "JWT_JWKS_URL": "http://127.0.0.1:1/jwks.json",
                "JWT_AUDIENCE": "kinerja",
                "DATABASE_URL": "postgresql://postgres@127.0.0.1/postgres",
                "BROKER_URL": "amqp://guest:guest@127.0.0.1//",
            },
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    }
    assert call(api, "GET", f"{P}/agencies/{AGENCY}", hr).json()["code"] == AGENCY
    # a token signed by a key the JWKS does not hold, or for another audience: 401 problem+json
    from kinerja.devidp import IdpStore

    stranger = IdpStore(topology["dir"] / "stranger").access_token(
        issuer=f"http://127.0.0.1:{PORT_BASE + 90}", audience="kinerja", sub="x", roles=["hr"], agency=AGENCY
    )
    import jwt

    from services.common.config import DEV_JWT_SECRET

    hs256 = jwt.encode(
        {
            "sub": "x",
            "roles": ["hr"],
            "agency": AGENCY,
            "exp": int(time.time()) + 600,
            "aud": "kinerja",
            "iss": f"http://127.0.0.1:{PORT_BASE + 90}",
        },
        DEV_JWT_SECRET,
        "HS256",
    )
    wrong_aud = idp(topology).access_token(
        issuer=f"http://127.0.0.1:{PORT_BASE + 90}", audience="other", sub="x", roles=["hr"], agency=AGENCY
    )
    for bad in (stranger, wrong_aud, hs256):
        r = api.get(f"{P}/agencies/{AGENCY}", headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json"), r.text
    assert api.get("/plans/metrics").status_code == 404  # not through the public gateway
    # a large body passes the gateway (nginx's workers buffer it in memory, not in a folder they cannot enter)
    big = "code,name,parent_code\n" + "".join(f"U{i:05d},Unit percobaan nomor {i} yang panjang,\n" for i in range(3000))
    r = api.post(
        f"{P}/directory/import",
        params={"kind": "units", "dry_run": "true"},
        content=big.encode(),
        headers={**hr, "Content-Type": "text/csv"},
    )
    assert len(big) > 100_000 and r.status_code == 200 and r.json()["created"] == 3000, r.text[:300]
    direct = httpx.get(f"http://127.0.0.1:{PORT_BASE + 1}/plans/metrics", timeout=10)
    assert direct.status_code == 200 and "kinerja_http_requests_total" in direct.text


def test_hr_imports_the_directory_and_the_people_plan_through_the_gateway(topology, api):
    hr = token(topology, "hr", nip=None)
    for kind, text, created in (("units", UNITS_CSV, 3), ("employees", EMPLOYEES_CSV, 9)):
        r = call(
            api,
            "POST",
            f"{P}/directory/import",
            {**hr, "Content-Type": "text/csv"},
            params={"kind": kind},
            content=text.encode(),
        )
        assert r.json()["created"] == created, r.json()
    cycle = call(api, "POST", f"{P}/cycles", hr, {"year": 2027, "period_type": "quarterly"}).json()
    assert (
        call(api, "POST", f"{P}/cycles/{cycle['id']}/advance", hr, {"expected": "draft"}).json()["stage"] == "planning"
    )
    topology["cycle_id"] = cycle["id"]

    def person(nip):
        return token(topology, "employee", *(["supervisor"] if nip in (HEAD, KASI_A, KASI_B) else []), nip=nip)

    plans = {}
    for nip in [HEAD, KASI_A, KASI_B, *STAFF_A, *STAFF_B]:
        if nip == HEAD:
            content = [
                rhk(
                    "Meningkatnya kualitas jalan kabupaten",
                    goal="Sasaran PK 1: jalan mantap 90%",
                    ikis=[iki("kuantitas", 90, "%")],
                )
            ]
        else:
            parent = plans[SUPERIOR[nip]]
            content = [
                rhk(
                    f"Mendukung {parent['rhk'][0]['description']} ({nip[-3:]})",
                    parent=parent["rhk"][0]["id"],
                    ikis=[iki("kuantitas", 4, "dokumen")],
                )
            ]
        body = {
            "cycle_id": cycle["id"],
            "approach": "kuantitatif",
            "rhk": content,
            "behaviour": {v: f"Ekspektasi {v}" for v in BERAKHLAK},
        }
        plan = call(api, "POST", f"{P}/plans", person(nip), body).json()
        call(api, "POST", f"{P}/plans/{plan['id']}/submit", person(nip))
        approver = hr if nip == HEAD else person(SUPERIOR[nip])
        plans[nip] = call(api, "POST", f"{P}/plans/{plan['id']}/approve", approver).json()
        assert plans[nip]["status"] == "approved"


def test_the_prefect_worker_moves_the_cycle_from_its_deployment(topology, api):
    prefect = f"http://127.0.0.1:{PORT_BASE + 42}/api"
    dep = httpx.get(f"{prefect}/deployments/name/evaluation-cycle/cycle-once", timeout=10)
    assert dep.status_code == 200, dep.text
    assert dep.json()["work_pool_name"] == "kinerja"
    # the Prefect server keeps its state in PostgreSQL (not a SQLite file under PREFECT_HOME)
    from sqlalchemy import create_engine, text

    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:5432/{NAME}_prefect")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM deployment")).scalar() == 4
    engine.dispose()
    run = httpx.post(
        f"{prefect}/deployments/{dep.json()['id']}/create_flow_run",
        timeout=10,
        json={"parameters": {"cycle_id": topology["cycle_id"]}},
    )
    assert run.status_code == 201, run.text
    run_id = run.json()["id"]

    def finished():
        fr = httpx.get(f"{prefect}/flow_runs/{run_id}", timeout=10).json()
        return fr if fr["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None

    fr = wait_for(finished, 240, "the worker runs the cycle flow")
    log = (topology["dir"] / "logs" / "prefect-worker.log").read_text(errors="replace")
    assert fr["state"]["type"] == "COMPLETED", f"{fr['state']}\n{log[-3000:]}"
    assert run_id in log  # the process worker picked it up (not this process)
    hr = token(topology, "hr")
    state = call(api, "GET", f"{P}/cycles/{topology['cycle_id']}", hr).json()["state"]
    assert state == "monitoring:1:check_in"  # planning complete → closed; Q1 2027 has not ended
    # the operator's Prefect command line lists them (it answered 422 with Prefect 3.8.8 here)
    cli = {**os.environ, "PREFECT_API_URL": prefect, "PREFECT_HOME": str(topology["dir"] / "prefect"), "COLUMNS": "240"}
    prefect_bin = str(ROOT / ".venv" / "bin" / "prefect")
    listed = subprocess.run([prefect_bin, "deployment", "ls"], env=cli, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and "cycle-once" in listed.stdout, listed.stdout + listed.stderr
    runs = subprocess.run(
        [prefect_bin, "flow-run", "ls", "--state", "COMPLETED"], env=cli, capture_output=True, text=True, timeout=60
    )
    assert runs.returncode == 0 and run_id in runs.stdout, runs.stdout + runs.stderr


def test_the_events_crossed_rabbitmq(topology, api):
    hr = token(topology, "hr")
    # reviews opened the period's evaluations from plans.cycle.stage_changed (its read model knew the SKPs)
    evs = wait_for(
        lambda: (
            call(api, "GET", f"{R}/evaluations", hr, params={"cycle_id": topology["cycle_id"], "period_seq": 1}).json()[
                "items"
            ]
            or None
        ),
        60,
        "evaluations opened by reviews from the plans events",
    )
    assert len(evs) == 9 and {e["penilai_nip"] for e in evs if e["employee_nip"] in STAFF_A} == {KASI_A}
    # notifications told the employee their SKP was approved (the inbox, from plans.plan.approved)
    staff = token(topology, "employee", nip=STAFF_A[0])
    items = wait_for(lambda: call(api, "GET", f"{N}/inbox", staff).json()["items"] or None, 60, "a notification")
    assert any("SKP" in (i.get("title") or "") for i in items), items
    from kombu import Connection

    with Connection(f"amqp://guest:guest@127.0.0.1:5672/{NAME}", connect_timeout=5) as conn:
        channel = conn.channel()
        for service in ("plans", "reviews", "surveys", "notifications"):
            queue = f"{service}.events.dlq"
            try:
                _, messages, _ = channel.queue_declare(queue=queue, passive=True)
            except Exception:  # noqa: BLE001 - a service that consumes nothing has no queue
                channel = conn.channel()
                continue
            assert messages == 0, f"{queue} holds {messages} dead-lettered events"


def person(topology, nip: str) -> dict:
    return token(topology, "employee", *(["supervisor"] if nip in (HEAD, KASI_A, KASI_B) else []), nip=nip)


def finalize(api, topology, ev: dict) -> None:
    """The penilai rates and signs, the employee acknowledges, the atasan countersigns: the result is
    final (in the feed). Retried while reviews has not yet heard of the cycle's stage (events travel)."""
    penilai, atasan = person(topology, ev["penilai_nip"]), person(topology, ev["atasan_nip"])
    path = f"{R}/evaluations/{ev['id']}"
    reason = "Dinilai dari pengamatan langsung."  # whatever the suggestions were
    body = {"rating_hasil": "meets", "rating_perilaku": "meets", "notes": "Pertahankan kinerja."}
    body |= {"deviation_reason": reason, "perilaku_deviation_reason": reason}

    def allowed(method, url, headers, **kw):
        r = api.request(method, url, headers=headers, **kw)
        if r.status_code == 409 and r.json().get("code") == "stage.not_allowed":
            return None
        assert r.status_code == 200, f"{method} {url}: {r.status_code} {r.text[:500]}"
        return r

    etag = call(api, "GET", path, penilai).headers["ETag"]
    wait_for(lambda: allowed("PUT", f"{path}/rating", {**penilai, "If-Match": etag}, json=body), 60, "rating")
    call(api, "POST", f"{path}/sign", penilai)
    call(api, "POST", f"{path}/acknowledge", person(topology, ev["employee_nip"]))
    call(api, "POST", f"{path}/countersign", atasan)


class Output:
    """The lines a process prints, read as they come."""

    def __init__(self, proc: subprocess.Popen):
        self.lines: list[str] = []
        self.seen = 0
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def expect(self, pattern: str, timeout: float = 60) -> re.Match:
        """The next line (after those already matched) matching ``pattern``."""

        def found():
            for i in range(self.seen, len(self.lines)):
                if m := re.search(pattern, self.lines[i]):
                    self.seen = i + 1
                    return m
            return None

        try:
            return wait_for(found, timeout, f"a line {pattern!r}")
        except AssertionError:
            raise AssertionError(f"no line {pattern!r} in:\n" + "\n".join(self.lines)) from None


def test_the_reference_client_verifies_deliveries_and_pulls_the_feed_incrementally(topology, api, tmp_path):
    """``examples/agency_client.py`` with the machine client ``make up`` printed: its first pull
    holds the result that is already final; the next result to become final arrives as a signed
    ``reviews.result.finalized`` delivery that it verifies, and its pull then returns that one only;
    a tampered delivery is refused."""
    import socket

    from standardwebhooks import Webhook

    started = time.monotonic()
    printed = re.search(r"Agency client: +(tpp-e2e) / (\S+) ", topology["out"])
    assert printed, topology["out"]
    hr, cycle = token(topology, "hr"), topology["cycle_id"]
    for expected in ("monitoring:1:check_in", "monitoring:1:self_assessment"):  # to the supervisor evaluation
        call(api, "POST", f"{P}/cycles/{cycle}/advance", hr, {"expected": expected})
    evs = call(api, "GET", f"{R}/evaluations", hr, params={"cycle_id": cycle, "period_seq": 1, "limit": 50}).json()
    first, second = ({e["employee_nip"]: e for e in evs["items"]}[nip] for nip in STAFF_A[:2])
    finalize(api, topology, first)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    state = tmp_path / "agency-client.json"
    env = {
        **os.environ,
        "KINERJA_URL": GATEWAY,
        "KINERJA_TOKEN_URL": f"http://127.0.0.1:{PORT_BASE + 90}/token",
        "KINERJA_CLIENT_ID": printed[1],
        "KINERJA_CLIENT_SECRET": printed[2],
        "RECEIVER_PORT": str(port),
        "CLIENT_STATE": str(state),
    }
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "agency_client.py")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out = Output(proc)
    try:
        webhook = int(out.expect(r"^subscribed: webhook (\d+) ")[1])
        out.expect(rf"^result: {STAFF_A[0]} .* BAIK \(none\)$")  # meets × meets
        out.expect(r"^pulled: 1 result\(s\) changed since the beginning$")
        out.expect(r"^listening: ")
        kept = json.loads(state.read_text())
        assert list(kept["results"]) == [str(first["id"])] and kept["webhook"]["secret"].startswith("whsec_")

        mark = out.seen
        finalize(api, topology, second)  # → reviews.result.finalized → RabbitMQ → notifications → the webhook
        out.expect(rf"^verified: reviews\.result\.finalized \S+ for {STAFF_A[1]}$", 90)
        out.seen = mark  # the pull it starts (or one started by a delivery just before) reads it
        out.expect(rf"^result: {STAFF_A[1]} .* BAIK \(none\)$")
        out.expect(rf"^pulled: 1 result\(s\) changed since {re.escape(kept['changed_at'])}$")
        kept = json.loads(state.read_text())
        assert set(kept["results"]) == {str(first["id"]), str(second["id"])}
        assert kept["changed_at"] == kept["results"][str(second["id"])]["changed_at"]

        # Kinerja's delivery log says the receiver took it (2xx)
        client = httpx.post(env["KINERJA_TOKEN_URL"], data={"grant_type": "client_credentials"}, auth=printed.groups())
        machine = {"Authorization": f"Bearer {client.json()['access_token']}"}
        sent = call(api, "GET", f"{N}/webhooks/{webhook}/deliveries", machine).json()["items"]
        # (the first result's event may have reached notifications after the subscription: then two)
        assert sent and {(d["event_type"], d["status"]) for d in sent} == {("reviews.result.finalized", "sent")}, sent

        # a delivery whose body was changed after signing is refused, and pulls nothing
        event = {"type": "reviews.result.finalized", "id": "x", "data": {"employee_nip": STAFF_A[2]}}
        signed = json.dumps(event).encode()
        stamp = datetime.now(timezone.utc)
        headers = {
            "webhook-id": "msg_tampered",
            "webhook-timestamp": str(int(stamp.timestamp())),
            "webhook-signature": Webhook(kept["webhook"]["secret"]).sign("msg_tampered", stamp, signed),
            "Content-Type": "application/cloudevents+json",
        }
        tampered = signed.replace(b'"data": {', b'"data": {"predikat": "sangat baik", ')
        r = httpx.post(f"http://127.0.0.1:{port}/kinerja", content=tampered, headers=headers, timeout=10)
        assert r.status_code == 400
        out.expect(r"^refused: a delivery that does not verify ")
        ok = httpx.post(f"http://127.0.0.1:{port}/kinerja", content=signed, headers=headers, timeout=10)
        assert ok.status_code == 204  # the same headers with the body as signed do verify
        out.expect(rf"^verified: reviews\.result\.finalized x for {STAFF_A[2]}$")
        out.expect(r"^pulled: 0 result\(s\) changed since ")
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        code = proc.wait(timeout=20)
    assert code == 0 and not any("Traceback" in line for line in out.lines), "\n".join(out.lines)
    print(f"\nreference client: {time.monotonic() - started:.1f} s")  # noqa: T201 (the closing note's figure)


def test_a_person_signs_into_the_portal_through_the_identity_provider(topology):
    password = json.loads((topology["dir"] / "secrets.json").read_text())["hr_password"]
    with httpx.Client(base_url=GATEWAY, timeout=30, follow_redirects=False) as browser:
        r = browser.get("/login/oidc", params={"next": "/hr/siklus"})
        assert r.status_code == 302
        authorize = r.headers["location"]
        assert authorize.startswith(f"http://127.0.0.1:{PORT_BASE + 90}/authorize?")
        assert "code_challenge_method=S256" in authorize
        assert f"redirect_uri=http%3A%2F%2F127.0.0.1%3A{PORT}%2Fauth%2Fcallback" in authorize  # the gateway's port
        form = browser.get(authorize)
        assert form.status_code == 200 and "Masuk" in form.text
        hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form.text))
        wrong = browser.post(
            authorize.split("?")[0], data={**hidden, "username": f"hr.{AGENCY.lower()}", "password": "wrong"}
        )
        assert wrong.status_code == 401
        back = browser.post(
            authorize.split("?")[0], data={**hidden, "username": f"hr.{AGENCY.lower()}", "password": password}
        )
        assert back.status_code == 302 and back.headers["location"].startswith(f"{GATEWAY}/auth/callback?code=")
        landed = browser.get(back.headers["location"])
        assert landed.status_code == 302 and landed.headers["location"].endswith("/hr/siklus"), landed.text[:500]
        page = browser.get("/hr/siklus")
        assert page.status_code == 200, page.text[:500]
        assert f"Admin SDM {AGENCY}" in page.text and "2027" in page.text


@pytest.mark.browser
def test_in_a_real_browser_hr_signs_in_and_sees_the_cycle(topology):
    """Chromium applies what httpx does not (the provider's Content-Security-Policy on the form's
    redirect, the cookies' flags): the whole sign-in as a person does it."""
    from playwright.sync_api import sync_playwright

    from tests.portal.browser import FLAGS, chromium_or_skip, screenshot

    password = json.loads((topology["dir"] / "secrets.json").read_text())["hr_password"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_or_skip(), args=FLAGS)
        try:
            page = browser.new_page()
            page.goto(f"{GATEWAY}/hr/siklus")
            page.wait_for_url(f"http://127.0.0.1:{PORT_BASE + 90}/authorize?**")
            page.fill("#username", f"hr.{AGENCY.lower()}")
            page.fill("#password", password)
            page.get_by_role("button", name="Masuk").click()
            page.wait_for_url(f"{GATEWAY}/hr/siklus", timeout=20_000)
            body = page.text_content("body")
            screenshot(page, "production-topology-hr-cycles")
            assert f"Admin SDM {AGENCY}" in body and "2027" in body
        finally:
            browser.close()


def test_make_down_leaves_no_process_behind(topology):
    from kinerja.up_processes import group_alive, groups_under

    groups = {name: groups_under(pid) for name, pid in topology["pids"].items()}  # flow runs have their own
    done = make("down", topology["env"], 120)
    assert done.returncode == 0, done.stdout + done.stderr
    alive = [name for name, owned in groups.items() if any(group_alive(g) for g in owned)]
    assert not alive, f"still running after make down: {alive}"
    import socket

    for port in (PORT, *(PORT_BASE + o for o in (1, 2, 3, 4, 5, 42, 90))):
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open after make down"
