"""Faults in the production topology (``make up``: gunicorn per service, a ``kinerja worker`` per service,
nginx, PostgreSQL, RabbitMQ), each under load, each counting by event id what was produced (the plans
outbox), delivered (the inboxes of both consumers, reviews and notifications), duplicated (applied more
than once by a consumer) and lost (produced, not applied by both); ``redeliveries_skipped`` counts the
deliveries a consumer's inbox recognised as applied already (from the workers' logs):

- RabbitMQ stopped for 30 s while HR keeps writing;
- the bus worker processes (both consumers', and the producer's with its relay) SIGKILLed ten times in turn;
- PostgreSQL stopped and started again (in-flight requests: 503 problem+json, none half-done);
- poison messages in every service queue: dead-lettered, counted by ``/metrics``, the queue flows on.

The load is what HR does all day: saving employees' records (``POST /plans/api/v1/employees``, an upsert),
each change an ``plans.employee.upserted`` event that reviews and notifications apply to their copies.

PostgreSQL and RabbitMQ are private to this module (``tests/faults/private_servers.py``): stopping them
must never disturb the machine's shared servers that the other tests use. One topology serves every
case; the module's time is recorded with the figures."""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests import figures
from tests.faults.private_servers import PrivatePostgres, PrivateRabbit, usable
from tests.plans.support import EMPLOYEES_CSV, KASI_A, KASI_B, STAFF_A, STAFF_B, UNITS_CSV

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
NAME = "kinerja_faults"
PORT, PORT_BASE, PG_PORT, AMQP_PORT = 29080, 29200, 29432, 29672
AGENCY = "FLT"
GATEWAY = f"http://127.0.0.1:{PORT}"
P = "/plans/api/v1"
TYPE = "plans.employee.upserted"
CONSUMERS = ("reviews", "notifications")
# the workers killed in turn: both consumers of the load's events, and the producer's (its relay publishes
# them; killed between publishing and marking a row sent, it publishes that row again: the inbox holds)
KILLED = ("notifications", "reviews", "plans")
SERVICES = ("plans", "reviews", "surveys", "notifications")
QUEUED = ("plans", "reviews", "notifications")  # the services that consume events (surveys consumes none)
WRITERS = [(nip, KASI_A) for nip in STAFF_A] + [(nip, KASI_B) for nip in STAFF_B[:1]]
DELIVERY_TIMEOUT = 90


def make(target: str, env: dict, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "-s", target], cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=timeout
    )


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout:.0f} s (last: {last!r})")


@contextlib.contextmanager
def environ(**values):
    """``kinerja.up_processes`` finds its folder through ``KINERJA_UP_DIR``: set for one call only."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class Topology:
    def __init__(self, base: Path, env: dict, pg: PrivatePostgres, rabbit: PrivateRabbit):
        self.base, self.env, self.pg, self.rabbit = base, env, pg, rabbit
        self.up_dir = Path(env["KINERJA_UP_DIR"])
        self.engines = {
            svc: create_engine(
                f"postgresql+psycopg://postgres@127.0.0.1:{PG_PORT}/{NAME}_{svc}", pool_pre_ping=True, pool_size=2
            )
            for svc in SERVICES
        }
        from kinerja.devidp import IdpStore

        token = IdpStore(self.up_dir / "idp").access_token(
            issuer=f"http://127.0.0.1:{PORT_BASE + 90}",
            audience="kinerja",
            sub="hr-faults",
            roles=["hr"],
            agency=AGENCY,
        )
        self.hr = {"Authorization": f"Bearer {token}"}

    def rows(self, svc: str, sql: str, **params) -> list:
        with self.engines[svc].connect() as conn:
            return conn.execute(text(sql), params).all()

    def mark(self) -> int:
        return self.rows("plans", "SELECT coalesce(max(id), 0) FROM outbox")[0][0]

    def produced(self, since: int) -> set[str]:
        sql = "SELECT event_id FROM outbox WHERE id > :since AND type = :type"
        return {r[0] for r in self.rows("plans", sql, since=since, type=TYPE)}

    def applied(self, svc: str, ids: set[str]) -> Counter:
        if not ids:
            return Counter()
        sql = "SELECT event_id FROM inbox WHERE consumer = :consumer AND event_id = ANY(:ids)"
        return Counter(r[0] for r in self.rows(svc, sql, consumer=svc, ids=sorted(ids)))

    def pid(self, name: str) -> int:
        return json.loads((self.up_dir / "run" / f"{name}.pid").read_text())["pid"]

    def skipped_redeliveries(self) -> int:
        """Deliveries the inbox recognised as applied already (the at-least-once redeliveries)."""
        logs = [self.up_dir / "logs" / f"{svc}-worker.log" for svc in CONSUMERS]
        return sum(p.read_text(errors="replace").count("already applied, skipping") for p in logs if p.exists())

    def consumers_of(self, queue: str) -> int:
        from kombu import Connection

        with Connection(self.rabbit.url + NAME, connect_timeout=10) as conn:
            return conn.default_channel.queue_declare(queue, passive=True).consumer_count

    def readyz(self, svc: str = "plans") -> httpx.Response | None:
        try:
            return httpx.get(f"http://127.0.0.1:{PORT_BASE + SERVICES.index(svc) + 1}/{svc}/readyz", timeout=10)
        except httpx.HTTPError:
            return None

    def metrics(self, svc: str) -> str:
        r = httpx.get(f"http://127.0.0.1:{PORT_BASE + SERVICES.index(svc) + 1}/{svc}/metrics", timeout=10)
        assert r.status_code == 200, r.text[:300]
        return r.text

    def count(self, case: str, since: int, **extra) -> dict:
        """Wait until every produced event reached both consumers (or the timeout), then count by id."""
        produced = self.produced(since)

        def all_in():
            return all(set(self.applied(svc, produced)) == produced for svc in CONSUMERS)

        waited = time.monotonic()
        with contextlib.suppress(AssertionError):
            wait_for(all_in, DELIVERY_TIMEOUT, "every event delivered")
        waited = round(time.monotonic() - waited, 1)
        applied = {svc: self.applied(svc, produced) for svc in CONSUMERS}
        delivered = set.intersection(*(set(a) for a in applied.values()))
        duplicated = sum(n - 1 for a in applied.values() for n in a.values() if n > 1)
        counts = {
            "produced": len(produced),
            "delivered": len(delivered),
            "duplicated": duplicated,
            "lost": len(produced - delivered),
            **extra,
            "caught_up_seconds": waited,  # after the load stopped, until both consumers had every event
        }
        figures.record("faults", case, **counts)
        return counts


class Writer:
    """HR saving employee records through the gateway, one thread per employee (no two threads
    change the same record), until stopped; every answer is kept."""

    def __init__(self, topo: Topology, pause: float = 0.05):
        self.topo, self.pause = topo, pause
        self.stop_event = threading.Event()
        self.answers: list[tuple[float, int, str, str, str]] = []  # (time, status, content type, phone, body)
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(n, s), daemon=True) for n, s in WRITERS]

    def _run(self, nip: str, superior: str) -> None:
        with httpx.Client(base_url=GATEWAY, timeout=30, headers=self.topo.hr) as client:
            while not self.stop_event.is_set():
                phone = f"08{random.randrange(10**9, 10**10)}"
                body = {"nip": nip, "name": f"Pegawai {nip[-3:]}", "position": "Analis", "phone": phone}
                body |= {"unit_code": "SEK-A" if superior == KASI_A else "SEK-B", "superior_nip": superior}
                try:
                    r = client.post(f"{P}/employees", json=body)
                    answer = (time.monotonic(), r.status_code, r.headers.get("content-type", ""), phone, r.text[:300])
                except httpx.HTTPError as exc:
                    answer = (time.monotonic(), 0, "", phone, type(exc).__name__)
                with self._lock:
                    self.answers.append(answer)
                self.stop_event.wait(self.pause)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        for t in self.threads:
            t.join(60)

    def ok(self) -> list:
        return [a for a in self.answers if a[1] in (200, 201)]

    def failed(self) -> list:
        return [a for a in self.answers if a[1] not in (200, 201)]


@pytest.fixture(scope="module")
def topo():
    why = usable()
    if why:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"REQUIRE_SERVICES=1 but {why}")
        pytest.skip(why)
    busy = [port for port in (PG_PORT, AMQP_PORT, AMQP_PORT + 1, PORT) if _open(port)]
    assert not busy, f"ports {busy} are taken (servers of an interrupted fault-suite run? see /tmp/kinerja-faults-*)"
    started, up_seconds = time.monotonic(), None
    base = Path(tempfile.mkdtemp(prefix="kinerja-faults-"))
    base.chmod(0o755)  # the servers' users enter it
    topo = None
    pg = PrivatePostgres(base / "pg", PG_PORT)
    rabbit = PrivateRabbit(base / "rabbitmq", AMQP_PORT, NAME)
    env = {
        "KINERJA_UP_DIR": str(base / "up"),
        "UP_NAME": NAME,
        "UP_PORT": str(PORT),
        "UP_PORT_BASE": str(PORT_BASE),
        "UP_AGENCY": AGENCY,
        "UP_POSTGRES_URL": pg.url,
        "UP_RABBITMQ_URL": rabbit.url,
        **rabbit.env,  # make up creates its vhost with rabbitmqctl: on this node
    }
    try:
        pg.start()
        rabbit.start()
        done = make("up", env, 300)
        assert done.returncode == 0, f"make up failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        up_seconds = round(time.monotonic() - started, 1)
        topo = Topology(base, env, pg, rabbit)
        for kind, csv in (("units", UNITS_CSV), ("employees", EMPLOYEES_CSV)):
            r = httpx.post(
                f"{GATEWAY}{P}/directory/import",
                params={"kind": kind},
                content=csv.encode(),
                headers={**topo.hr, "Content-Type": "text/csv"},
                timeout=60,
            )
            assert r.status_code == 200, r.text[:500]
        yield topo
    finally:
        with contextlib.suppress(Exception):
            make("down", env, 120)
        if topo is not None:
            for engine in topo.engines.values():
                engine.dispose()
        rabbit.stop()
        pg.stop()
        shutil.rmtree(base, ignore_errors=True)
        figures.record(
            "faults",
            "the module (private servers, make up, every case, make down)",
            seconds=round(time.monotonic() - started, 1),
            up_seconds=up_seconds,
        )


def _open(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_rabbitmq_stopped_30_s_while_hr_keeps_writing(topo):
    since, skipped = topo.mark(), topo.skipped_redeliveries()
    down_seen = polls = 0
    with Writer(topo) as writer:
        time.sleep(2)
        topo.rabbit.stop_app()
        try:
            stopped = time.monotonic()
            while time.monotonic() - stopped < 30:
                r = topo.readyz()
                polls += 1
                if r is not None and r.status_code == 503 and r.json()["checks"]["broker"].startswith("error"):
                    down_seen += 1
                time.sleep(2)
            during = len([a for a in writer.ok() if a[0] >= stopped])
        finally:
            topo.rabbit.start_app()
        time.sleep(3)
    counts = topo.count(
        "rabbitmq stopped 30 s",
        since,
        writes_ok=len(writer.ok()),
        writes_ok_while_down=during,
        writes_failed=len(writer.failed()),
        readyz_down_seen=f"{down_seen}/{polls}",
        redeliveries_skipped=topo.skipped_redeliveries() - skipped,
    )
    assert not writer.failed(), writer.failed()[:5]
    assert during > 0 and down_seen == polls > 0, counts  # every look while it was down said so
    # how soon the workers try the broker again is tests/common/test_faults_platform.py's (within 5 s);
    # caught_up_seconds here also holds working off the backlog, which a busy machine stretches: a figure only
    assert counts["produced"] == len(writer.ok()), counts  # one event per saved change
    assert counts["lost"] == 0 and counts["duplicated"] == 0, counts
    assert wait_for(lambda: (r := topo.readyz()) is not None and r.status_code == 200, 30, "/readyz ready again")


def test_a_consumer_sigkilled_ten_times_under_load(topo):
    from kinerja.up_config import Proc
    from kinerja.up_processes import start

    since, skipped = topo.mark(), topo.skipped_redeliveries()
    kills = 0
    with Writer(topo) as writer:
        for i in range(10):
            name = f"{KILLED[i % len(KILLED)]}-worker"
            # each kill hits a worker that consumes (not one still starting), at a moment of chance
            wait_for(lambda name=name: topo.consumers_of(f"{name.split('-')[0]}.events") > 0, 60, f"{name} consuming")
            time.sleep(random.uniform(0.2, 1.2))
            pid = topo.pid(name)
            environ_of = dict(
                line.split("=", 1) for line in Path(f"/proc/{pid}/environ").read_text().split("\0") if "=" in line
            )
            argv = json.loads((topo.up_dir / "run" / f"{name}.pid").read_text())["argv"]
            os.kill(pid, signal.SIGKILL)
            kills += 1
            wait_for(lambda pid=pid: _gone(pid), 10, f"{name} gone")
            with environ(KINERJA_UP_DIR=str(topo.up_dir)):
                assert start(Proc(name, argv), topo.up_dir, environ_of)
        time.sleep(2)
    counts = topo.count(
        "consumer SIGKILLed 10 times",
        since,
        kills=kills,
        kills_by_worker=",".join(f"{w}:{len(range(i, 10, len(KILLED)))}" for i, w in enumerate(KILLED)),
        writes_ok=len(writer.ok()),
        writes_failed=len(writer.failed()),
        redeliveries_skipped=topo.skipped_redeliveries() - skipped,
    )
    assert not writer.failed(), writer.failed()[:5]
    assert counts["produced"] == len(writer.ok()) > 0, counts
    assert counts["lost"] == 0 and counts["duplicated"] == 0, counts


def _gone(pid: int) -> bool:
    """Ended (a zombie counts: its parent, ``make up``, has exited and nobody may reap it soon)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def test_postgresql_restarted_under_load(topo):
    since = topo.mark()
    audit_before = topo.rows("plans", "SELECT coalesce(max(id), 0) FROM audit_log")[0][0]
    pids = {name: topo.pid(name) for name in (*SERVICES, *(f"{s}-worker" for s in SERVICES))}
    with Writer(topo, pause=0.02) as writer:
        time.sleep(2)
        stopped = time.monotonic()
        topo.pg.restart(down=3)
        restarted = time.monotonic()
        time.sleep(5)
    after = [a for a in writer.answers if a[0] > restarted + 2]
    failed = writer.failed()
    not_clean = [a for a in failed if a[1] != 503 or not a[2].startswith("application/problem+json")]
    # none half-done: every change recorded is one audit row and one event, every 2xx answer's change is there
    audit = topo.rows(
        "plans", "SELECT count(*) FROM audit_log WHERE id > :id AND action = 'employee.updated'", id=audit_before
    )[0][0]
    events = topo.rows("plans", "SELECT envelope FROM outbox WHERE id > :id AND type = :type", id=since, type=TYPE)
    phones = {(json.loads(e[0]) if isinstance(e[0], str) else e[0])["data"].get("phone") for e in events}
    missing = [a for a in writer.ok() if a[3] not in phones]
    counts = topo.count(
        "postgresql restarted",
        since,
        writes_ok=len(writer.ok()),
        writes_failed_503=len([a for a in failed if a[1] == 503]),
        writes_failed_other=len(not_clean),
        writes_ok_after=len([a for a in after if a[1] in (200, 201)]),
        half_done=abs(audit - len(events)) + len(missing),
        restart_seconds=round(restarted - stopped, 1),
    )
    assert not not_clean, not_clean[:5]
    assert after and all(a[1] in (200, 201) for a in after), after[-5:]  # recovered by itself
    assert counts["half_done"] == 0, (audit, len(events), missing[:3])
    assert {name: topo.pid(name) for name in pids} == pids  # nothing was restarted
    assert all(Path(f"/proc/{pid}").exists() for pid in pids.values())
    assert counts["lost"] == 0 and counts["duplicated"] == 0, counts
    assert wait_for(lambda: (r := topo.readyz()) is not None and r.status_code == 200, 30, "/readyz ready again")


def _dead_lettered(metrics: str, svc: str) -> dict[str, float]:
    pattern = re.compile(r"^kinerja_events_dead_lettered_total\{(.*)\} ([0-9.e+]+)$", re.M)
    found = {}
    for labels, value in pattern.findall(metrics):
        got = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        if got.get("service") == svc:
            found[got["reason"]] = float(value)
    return found


def test_poison_messages_are_dead_lettered_counted_and_the_queues_flow(topo):
    from kombu import Connection, Producer, Queue

    from services.common.bus import make_event

    def envelope(type_, data):
        return make_event(type_, "/faults", "1", data)

    poison = {
        "invalid": [b"{not json", json.dumps({"hello": "world"}).encode()],  # malformed JSON, not an envelope
        "unknown_type": [json.dumps(envelope("faults.nothing.happened", {})).encode()],
    }
    wrong_payload = json.dumps(envelope(TYPE, {"nip": 7})).encode()  # a known type, a payload of the wrong schema
    expected = {svc: {"invalid": 2, "unknown_type": 1, "rejected": 1 if svc in CONSUMERS else 0} for svc in QUEUED}
    before = {svc: _dead_lettered(topo.metrics(svc), svc) for svc in QUEUED}
    since = topo.mark()
    with Writer(topo) as writer:
        time.sleep(1)
        with Connection(topo.rabbit.url + NAME, connect_timeout=10) as conn:
            producer = Producer(conn.channel())
            for svc in QUEUED:
                bodies = [b for group in poison.values() for b in group] + ([wrong_payload] if svc in CONSUMERS else [])
                for body in bodies:
                    producer.publish(body, exchange="", routing_key=f"{svc}.events", content_type="application/json")
        time.sleep(3)

    def counted():
        now = {svc: _dead_lettered(topo.metrics(svc), svc) for svc in QUEUED}
        grown = {
            svc: {r: int(now[svc].get(r, 0) - before[svc].get(r, 0)) for r in ("invalid", "unknown_type", "rejected")}
            for svc in QUEUED
        }
        return grown if grown == expected else None

    with contextlib.suppress(AssertionError):
        wait_for(counted, 30, "the dead letters counted")
    now = {svc: _dead_lettered(topo.metrics(svc), svc) for svc in QUEUED}
    grown = {svc: sum(now[svc].values()) - sum(before[svc].values()) for svc in QUEUED}
    with Connection(topo.rabbit.url + NAME, connect_timeout=10) as conn:
        channel = conn.channel()
        in_dlq = {
            svc: Queue(f"{svc}.events.dlq", channel=channel).queue_declare(passive=True).message_count for svc in QUEUED
        }
    counts = topo.count(
        "poison messages",
        since,
        poison_published=sum(sum(e.values()) for e in expected.values()),
        dead_lettered=int(sum(grown.values())),
        dead_lettered_by_reason=",".join(
            f"{r}:{int(sum(now[svc].get(r, 0) - before[svc].get(r, 0) for svc in QUEUED))}"
            for r in ("invalid", "unknown_type", "rejected", "failed")
        ),
        in_dlq=sum(in_dlq.values()),
        writes_ok=len(writer.ok()),
        writes_failed=len(writer.failed()),
    )
    assert counted() == expected, (now, before)
    assert all(in_dlq[svc] >= sum(expected[svc].values()) for svc in QUEUED), in_dlq
    assert not writer.failed() and counts["produced"] == len(writer.ok()) > 0, counts
    assert counts["lost"] == 0 and counts["duplicated"] == 0, counts
