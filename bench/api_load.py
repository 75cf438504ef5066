"""The api benchmark (issue 17): a mixed staff/supervisor workload under gunicorn behind the nginx gateway,
driven by wrk at fixed concurrency, beside a bare Flask + SQLAlchemy floor in the same run.

1. Starts a private production topology with the project's own launcher (``kinerja up`` with
   ``UP_NAME=kinerja_bench_api``, ``KINERJA_UP_DIR=var/bench/up-api``, ports from 18400, gateway 18480).
2. Seeds it through the API as an office would: HR imports the sample agency's directory (``--employees``
   people), opens the year's quarterly cycle; everyone drafts a cascaded SKP, submits it, the superior
   writes the expectations and approves it; HR moves the cycle to monitoring, and the reviews worker
   opens one evaluation per approved SKP (from the events, through RabbitMQ).
3. Starts the floor: ``bench/api_floor_app.py`` under the same gunicorn settings (``kinerja.gunicorn_conf``,
   ``WEB_WORKERS`` × ``THREADS`` of ``kinerja/up_config.py``), one server for /plans and one for /reviews as
   Kinerja has, behind an nginx of its own rendered from the same gateway template.
4. Sends one request of each kind to both gateways (any non-2xx stops the run, naming it), then wrk with
   ``bench/api_load.lua``: a warm-up run of each, then ``--rounds`` alternating runs (floor, Kinerja, …), and
   reports the median requests/s and p50/p95/p99 of each, the ratio, and the peak RSS of the gunicorn
   workers. Every answer that is not 2xx, and every socket error or timeout, makes the run fail (exit 1)
   with the statuses and the first bodies.
5. Stops everything it started (the floor, ``kinerja down``) and drops what it made: the databases
   ``kinerja_bench_api_*``, the role ``kinerja_bench_api_app``, the RabbitMQ vhost ``kinerja_bench_api``,
   ``var/bench/up-api``.

    .venv/bin/python bench/api_load.py [--employees 300] [--connections 16] [--threads 2]
        [--duration 20] [--warmup 5] [--rounds 2] [--mix 30,20,10,10,10,20] [--keep | --reuse]
        [--name kinerja_bench_api --port-base 18400]  (another name and ports: beside a run of the defaults)

Needs the local PostgreSQL and RabbitMQ (``UP_POSTGRES_URL``, ``UP_RABBITMQ_URL`` as ``make up``),
nginx and wrk from Debian's packages (installed with apt-get when missing and running as root, as
``make up`` does for nginx; otherwise the run says how and exits 2)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NAME = "kinerja_bench_api"
AGENCY = "PKTD"  # the sample agency's code
PORT_BASE = 18400  # the apps at +1…+5, Prefect +42, the identity provider +90
GATEWAY_PORT = 18480
FLOOR_PORT_BASE = 18410  # the floor's /plans server at +1, its /reviews server at +2
FLOOR_GATEWAY_PORT = 18481
KINDS = ("plan_get", "log_post", "realisation_post", "team_logs", "team_plans", "evaluation_get")
DEFAULT_MIX = "30,20,10,10,10,20"
P = "/plans/api/v1"
R = "/reviews/api/v1"
TARGET_RATIO, TARGET_P95_MS = 0.5, 100.0


class BenchError(RuntimeError):
    """The run is broken: its figures would mean nothing."""


def say(text: str = "") -> None:
    print(text, flush=True)


def set_names(name: str, port_base: int) -> None:
    """``--name``/``--port-base``: a second private topology beside the default one (e.g. a before/after pair)."""
    global NAME, PORT_BASE, GATEWAY_PORT, FLOOR_PORT_BASE, FLOOR_GATEWAY_PORT
    if not name.replace("_", "").isalnum() or name != name.lower():
        raise SystemExit(f"--name takes lower-case letters, digits and _, not {name!r}")
    NAME, PORT_BASE = name, port_base
    GATEWAY_PORT, FLOOR_PORT_BASE, FLOOR_GATEWAY_PORT = port_base + 80, port_base + 10, port_base + 81


# ---------------------------------------------------------------------- pure helpers (tests/bench)


def parse_mix(text: str) -> dict[str, int]:
    """``"30,20,10,10,10,20"`` → the weight of each kind of :data:`KINDS`, in that order."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != len(KINDS) or not all(p.isdigit() for p in parts) or not any(int(p) for p in parts):
        raise ValueError(f"--mix takes {len(KINDS)} whole weights ({', '.join(KINDS)}), not {text!r}")
    return dict(zip(KINDS, (int(p) for p in parts), strict=True))


def parse_wrk(output: str) -> dict:
    """The figures of one wrk run from its output (the ``WRK_JSON`` line ``api_load.lua`` prints)."""
    line = next((ln for ln in output.splitlines() if ln.startswith("WRK_JSON ")), None)
    if line is None:
        raise BenchError(f"wrk printed no WRK_JSON line; its output:\n{output[-2000:]}")
    raw = json.loads(line[len("WRK_JSON ") :])
    seconds = raw["duration_us"] / 1e6
    lat = raw["latency_us"]
    # the Lua encoder writes an empty table as {}: any of these may be {} or [] when empty
    statuses = {int(k): int(v) for k, v in (raw.get("statuses") or {}).items()}
    errors = {k: int(v) for k, v in (raw.get("errors") or {}).items()}
    samples = raw.get("samples") or []
    samples = list(samples.values()) if isinstance(samples, dict) else samples
    not_2xx = {s: n for s, n in statuses.items() if not 200 <= s <= 299}
    socket = {k: v for k, v in errors.items() if k != "status" and v}
    return {
        "requests": int(raw["requests"]),
        "seconds": seconds,
        "rps": raw["requests"] / seconds if seconds else 0.0,
        "p50_ms": lat["p50"] / 1000,
        "p90_ms": lat["p90"] / 1000,
        "p95_ms": lat["p95"] / 1000,
        "p99_ms": lat["p99"] / 1000,
        "mean_ms": lat["mean"] / 1000,
        "max_ms": lat["max"] / 1000,
        "statuses": statuses,
        "sent": raw.get("sent") or {},
        "not_2xx": not_2xx,
        "socket_errors": socket,
        "samples": samples,
        "failed": sum(not_2xx.values()) + sum(socket.values()),
    }


def medians(runs: list[dict]) -> dict:
    """The median of each figure over runs (each figure on its own)."""
    keys = ("rps", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "mean_ms", "max_ms")
    return {k: statistics.median(r[k] for r in runs) for k in keys} | {"requests": sum(r["requests"] for r in runs)}


def lua_value(value) -> str:
    """A Python value (str, int, float, list, dict with str keys) as a Lua literal."""
    if isinstance(value, bool) or value is None:
        raise TypeError("booleans and None are not used in the data file")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
        return f'"{escaped}"'
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(lua_value(v) for v in value) + "}"
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            if not (isinstance(k, str) and k.isidentifier()):
                raise ValueError(f"Lua table keys here are identifiers, not {k!r}")
            items.append(f"{k} = {lua_value(v)}")
        return "{" + ", ".join(items) + "}"
    raise TypeError(f"no Lua literal for {type(value).__name__}")


# ---------------------------------------------------------------------- tools


def ensure_wrk() -> str:
    """wrk from Debian's packages: installed with apt-get when missing and running as root (as
    ``make up`` installs nginx-light); otherwise say how, exit 2."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("installing the load generator (wrk, from Debian's packages) …")
        quiet = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=quiet, capture_output=True)
        done = subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=quiet, capture_output=True, text=True)
        found = shutil.which("wrk")
        if found:
            return found
        say(f"apt-get install wrk failed: {done.stderr[-500:]}")
    say("bench/api_load.py needs wrk, the HTTP load generator: sudo apt-get install wrk")
    raise SystemExit(2)


def port_open(port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


# ---------------------------------------------------------------------- the topology


def up_env(up_dir: Path) -> dict:
    return {
        "UP_NAME": NAME,
        "KINERJA_UP_DIR": str(up_dir),
        "UP_PORT_BASE": str(PORT_BASE),
        "UP_PORT": str(GATEWAY_PORT),
        "UP_AGENCY": AGENCY,
        # this checkout's services (the editable install maps them to the checkout that made the .venv)
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }


@contextlib.contextmanager
def environ(values: dict):
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


def kinerja(command: str, env: dict, timeout: float) -> subprocess.CompletedProcess:
    from kinerja.up_config import program

    return subprocess.run(
        [program("kinerja"), command],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def owner_engine():
    from sqlalchemy import create_engine

    from kinerja.up_config import owner_database_url

    url = owner_database_url().replace("postgresql://", "postgresql+psycopg://", 1)
    return create_engine(url, isolation_level="AUTOCOMMIT")


def drop_everything(env: dict) -> list[str]:
    """The databases ``kinerja_bench_api_*``, the role ``kinerja_bench_api_app`` and the vhost: what
    ``kinerja up`` made for this benchmark (the names are this benchmark's own)."""
    from sqlalchemy import text

    done = []
    with environ(env):
        engine = owner_engine()
        try:
            with engine.connect() as conn:
                names = conn.execute(
                    text("SELECT datname FROM pg_database WHERE datname LIKE :p"), {"p": NAME + r"\_%"}
                ).scalars()
                for db in list(names):
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
                    done.append(db)
                role = f"{NAME}_app"
                if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar():
                    conn.execute(text(f'DROP ROLE "{role}"'))
                    done.append(f"role {role}")
        finally:
            engine.dispose()
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    if Path(ctl).exists():
        listed = subprocess.run([ctl, "-q", "list_vhosts"], capture_output=True, text=True, timeout=60)
        if NAME in listed.stdout.split():
            subprocess.run([ctl, "-q", "delete_vhost", NAME], capture_output=True, timeout=60, check=False)
            done.append(f"vhost {NAME}")
    return done


class PagedApi:
    """``all()``: every page of a list, for the ``call()`` of an API client (HTTP or in process)."""

    def all(self, path: str, token: str) -> list[dict]:
        items, cursor = [], None
        while True:
            sep = "&" if "?" in path else "?"
            page, _ = self.call("GET", path + (f"{sep}cursor={cursor}" if cursor else ""), token)
            items.extend(page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                return items


class HttpApi(PagedApi):
    """What ``kinerja.demo_planning`` calls (``api.call``), over HTTP through the gateway."""

    def __init__(self, base_url: str):
        import httpx

        self.client = httpx.Client(base_url=base_url, timeout=120)
        self.calls = 0

    def call(
        self, method, path, token, *, json_body=None, data=None, content_type=None, expect=(200, 201), headers=None
    ):
        h = {"Authorization": f"Bearer {token}", **(headers or {})}
        if content_type:
            h["Content-Type"] = content_type
        resp = self.client.request(method, path, json=json_body, content=data, headers=h)
        self.calls += 1
        if resp.status_code not in expect:
            raise BenchError(f"seeding: {method} {path} → {resp.status_code}: {resp.text[:800]}")
        return (resp.json() if resp.content else None), resp

    def close(self):
        self.client.close()


def seed(up_dir: Path, employees: int) -> dict:
    """The sample agency of ``employees`` people with approved SKPs and open evaluations, through the API."""
    from kinerja import sample_agency
    from kinerja.devidp_store import IdpStore

    store = IdpStore(up_dir / "idp")
    issuer = f"http://127.0.0.1:{PORT_BASE + 90}"
    agency = sample_agency.build(seed=2026, employees_target=employees)
    if agency.code != AGENCY:
        raise BenchError(f"the sample agency's code is {agency.code}, the topology was started for {AGENCY}")

    def token(sub, roles, nip=None):
        return store.access_token(issuer=issuer, audience="kinerja", sub=sub, roles=roles, agency=AGENCY, nip=nip)

    def opened(cycle: dict, plans: int, hr: str) -> list[dict]:
        # the reviews worker opens one evaluation per approved SKP from the events (RabbitMQ)
        deadline, evaluations = time.monotonic() + 300, []
        while time.monotonic() < deadline:
            evaluations = api.all(f"{R}/evaluations?cycle_id={cycle['id']}&period_seq=1&limit=100", hr)
            if len(evaluations) >= plans:
                return evaluations
            time.sleep(2)
        raise BenchError(
            f"seeding: {len(evaluations)} evaluations opened for {plans} approved SKPs after 300 s "
            f"(the reviews worker's log: {up_dir / 'logs' / 'reviews-worker.log'})"
        )

    api = HttpApi(f"http://127.0.0.1:{GATEWAY_PORT}")
    t0 = time.monotonic()
    try:
        data = seed_through(api, agency, token, workers=4, seed=2026, opened=opened)
    finally:
        api.close()
    return {**data, "seconds": round(time.monotonic() - t0, 1)}


def seed_through(api, agency, token, *, workers: int, seed: int, opened, approved=lambda: None) -> dict:
    """Through ``api``: import ``agency``, open a cycle, draft every SKP (``kinerja.demo_planning``),
    submit and approve them (``workers`` at a time), ``approved()``, move the cycle to monitoring and
    take the evaluations ``opened(cycle, plans, hr_token)`` waits for. Returns the staff and supervisors
    the request mix acts as (``api_load.lua``, ``api_cpu.py``)."""
    from kinerja import sample_agency
    from kinerja.demo_planning import EXPECTATIONS, draft_plans, reporting_lines

    by_nip, reports, order = reporting_lines(agency)
    tokens = {nip: token(nip, ["employee"] + (["supervisor"] if nip in reports else []), nip) for nip in by_nip}
    hr = token("hr-bench", ["hr"])
    for kind, csv in (("units", sample_agency.units_csv(agency)), ("employees", sample_agency.employees_csv(agency))):
        report, _ = api.call(
            "POST", f"{P}/directory/import?kind={kind}", hr, data=csv.encode(), content_type="text/csv"
        )
        if report.get("errors"):
            raise BenchError(f"seeding: the sample {kind} do not import: {report['errors'][:3]}")
    year = date.today().year
    cycle, _ = api.call("POST", f"{P}/cycles", hr, json_body={"year": year, "period_type": "quarterly"})
    cycle, _ = api.call("POST", f"{P}/cycles/{cycle['id']}/advance", hr, json_body={"expected": "draft"})
    plans = draft_plans(api, cycle, order, by_nip, tokens.__getitem__, random.Random(seed))

    def approve(nip: str) -> dict:
        plan, resp = api.call("POST", f"{P}/plans/{plans[nip]['id']}/submit", tokens[nip])
        sup = by_nip[nip].superior_nip
        approver = tokens[sup] if sup else hr
        plan, resp = api.call(
            "PUT",
            f"{P}/plans/{plan['id']}/behaviour",
            approver,
            json_body={"behaviour": dict(EXPECTATIONS)},
            headers={"If-Match": resp.headers["ETag"]},
        )
        plan, _ = api.call("POST", f"{P}/plans/{plan['id']}/approve", approver)
        return plan

    with ThreadPoolExecutor(workers) as pool:
        for nip, plan in zip(order, pool.map(approve, order) if workers > 1 else map(approve, order), strict=True):
            plans[nip] = plan
    approved()
    cycle, _ = api.call("POST", f"{P}/cycles/{cycle['id']}/advance", hr, json_body={"expected": "planning"})
    if cycle["state"] != "monitoring:1:check_in" and cycle.get("stage") != "monitoring":
        raise BenchError(f"seeding: the cycle did not reach monitoring: {cycle.get('state')}")
    eval_of = {e["employee_nip"]: e["id"] for e in opened(cycle, len(plans), hr)}
    staff = [
        {
            "nip": nip,
            "token": tokens[nip],
            "plan": plans[nip]["id"],
            "iki": [i["id"] for r in plans[nip]["rhk"] for i in r["iki"]],
        }
        for nip in order
    ]
    supervisors = [
        {"nip": nip, "token": tokens[nip], "evals": [eval_of[n] for n in reports[nip] if n in eval_of]}
        for nip in order
        if nip in reports
    ]
    return {
        "cycle": cycle["id"],
        "date": date.today().isoformat(),
        "employees": staff,
        "supervisors": [s for s in supervisors if s["evals"]],
        "calls": api.calls,
    }


# ---------------------------------------------------------------------- the floor


class Floor:
    """Two gunicorn servers of ``bench/api_floor_app.py`` (for /plans and /reviews, as Kinerja has) with
    Kinerja's gunicorn settings, behind an nginx rendered from the same gateway template."""

    def __init__(self, base: Path, up_dir: Path):
        self.base, self.up_dir = base, up_dir
        self.procs: list[subprocess.Popen] = []
        self.masters: dict[str, int] = {}

    def database_urls(self) -> dict:
        from sqlalchemy.engine import make_url

        from kinerja.up_config import environment, persistent_secrets

        with environ(up_env(self.up_dir)):
            env = environment(self.up_dir, GATEWAY_PORT, AGENCY, persistent_secrets(self.up_dir))
        url = make_url(env["DATABASE_URL"]).set(drivername="postgresql+psycopg")
        prefix = env["DATABASE_PREFIX"]
        return {
            "FLOOR_PLANS_DATABASE_URL": url.set(database=f"{prefix}plans").render_as_string(hide_password=False),
            "FLOOR_REVIEWS_DATABASE_URL": url.set(database=f"{prefix}reviews").render_as_string(hide_password=False),
        }

    def start(self) -> None:
        from kinerja.up_config import THREADS, WEB_WORKERS, program, render_gateway

        urls = self.database_urls()
        logs = self.base / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        for offset, name in ((1, "plans"), (2, "reviews")):
            env = {
                **os.environ,
                **urls,
                "BIND": f"127.0.0.1:{FLOOR_PORT_BASE + offset}",
                "WEB_CONCURRENCY": str(WEB_WORKERS),
                "THREADS": str(THREADS),
                "PROMETHEUS_MULTIPROC_DIR": str(self.base / "metrics" / name),
            }
            with open(logs / f"floor-{name}.log", "ab") as log:
                proc = subprocess.Popen(
                    [program("gunicorn"), "-c", "python:kinerja.gunicorn_conf", "bench.api_floor_app:create_app()"],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            self.procs.append(proc)
            self.masters[name] = proc.pid
        # the same gateway configuration as Kinerja's, pointed at the floor's servers
        with environ({"UP_PORT_BASE": str(FLOOR_PORT_BASE)}):
            render_gateway(self.base / "floor", FLOOR_GATEWAY_PORT)
        gw = self.base / "floor" / "gateway"
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        with open(logs / "floor-gateway.log", "ab") as log:
            self.procs.append(
                subprocess.Popen(
                    [nginx, "-p", str(gw), "-c", str(gw / "nginx.conf"), "-g", "daemon off;"],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            dead = [p.args[0] for p in self.procs if p.poll() is not None]
            if dead:
                raise BenchError(f"the floor's {dead} exited; see {logs}")
            try:
                # any answer from gunicorn through nginx (a 404 for an unknown plan is an answer)
                r = httpx.get(f"http://127.0.0.1:{FLOOR_GATEWAY_PORT}{R}/evaluations/0", timeout=3)
                r2 = httpx.get(f"http://127.0.0.1:{FLOOR_GATEWAY_PORT}{P}/plans/0", timeout=3)
                if r.status_code == 404 and r2.status_code == 404:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise BenchError(f"the floor did not answer within 60 s; see {logs}")

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


# ---------------------------------------------------------------------- measuring


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return out


def peak_rss_mib(pid: int) -> float | None:
    """VmHWM: the process's peak resident set, MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def workers_peak_rss(masters: dict[str, int]) -> dict[str, float]:
    """The largest peak RSS among each server's gunicorn workers, MiB."""
    out = {}
    for name, pid in masters.items():
        peaks = [p for p in (peak_rss_mib(c) for c in children(pid)) if p is not None]
        if peaks:
            out[name] = round(max(peaks), 1)
    return out


def kinerja_masters(up_dir: Path) -> dict[str, int]:
    out = {}
    for name in ("plans", "reviews"):
        with contextlib.suppress(OSError, ValueError, KeyError):
            out[name] = int(json.loads((up_dir / "run" / f"{name}.pid").read_text())["pid"])
    return out


def preflight(gateway: str, label: str, data: dict) -> None:
    """One request of each kind, as the Lua script sends it; any non-2xx stops the run, named."""
    import httpx

    e, s = data["employees"][0], data["supervisors"][0]

    def h(person):
        return {"Authorization": f"Bearer {person['token']}", "X-Bench-Nip": person["nip"]}

    requests = {
        "plan_get": ("GET", f"{P}/plans/{e['plan']}", e, None),
        "log_post": (
            "POST",
            f"{P}/daily-logs",
            e,
            {"date": data["date"], "minutes": 30, "activity": "Uji beban: entri pertama", "iki_id": e["iki"][0]},
        ),
        "realisation_post": (
            "POST",
            f"{P}/plans/{e['plan']}/realisations",
            e,
            {"iki_id": e["iki"][0], "period_seq": 1, "value": 1},
        ),
        "team_logs": ("GET", f"{P}/daily-logs?team=true&limit=50", s, None),
        "team_plans": ("GET", f"{P}/plans?cycle_id={data['cycle']}&penilai_nip={s['nip']}&limit=50", s, None),
        "evaluation_get": ("GET", f"{R}/evaluations/{s['evals'][0]}", s, None),
    }
    with httpx.Client(base_url=gateway, timeout=30) as client:
        for kind, (method, path, person, body) in requests.items():
            r = client.request(method, path, headers=h(person), json=body)
            if not 200 <= r.status_code <= 299:
                raise BenchError(f"{label}: {kind} ({method} {path}) answered {r.status_code}: {r.text[:600]}")


def run_wrk(wrk: str, url: str, data_file: Path, args, seconds: int) -> dict:
    argv = [
        wrk,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(ROOT / "bench" / "api_load.lua"),
        url,
        "--",
        str(data_file),
        str(args.threads),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise BenchError(f"wrk exited {done.returncode}: {done.stderr[-1000:]}{done.stdout[-1000:]}")
    return parse_wrk(done.stdout)


def check(result: dict, label: str) -> None:
    if result["failed"] or result["requests"] == 0:
        raise BenchError(
            f"{label}: {result['failed']} of {result['requests']} requests failed — statuses {result['statuses']}, "
            f"socket errors {result['socket_errors']}; first answers not 2xx:\n  " + "\n  ".join(result["samples"])
        )


def line(label: str, r: dict) -> str:
    return (
        f"{label:<22} {r['rps']:>8.1f} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} {r['p99_ms']:>8.1f} "
        f"{r['max_ms']:>8.1f} {r['requests']:>9}"
    )


# ---------------------------------------------------------------------- main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--employees", type=int, default=300, help="people in the sample agency (default 300)")
    ap.add_argument("--connections", type=int, default=16, help="wrk -c (default 16)")
    ap.add_argument("--threads", type=int, default=2, help="wrk -t (default 2)")
    ap.add_argument("--duration", type=int, default=20, help="seconds of each measured run (default 20)")
    ap.add_argument("--warmup", type=int, default=5, help="seconds of the warm-up run of each (default 5)")
    ap.add_argument("--rounds", type=int, default=2, help="alternating floor/Kinerja pairs (default 2)")
    ap.add_argument("--mix", default=DEFAULT_MIX, help=f"weights of {', '.join(KINDS)} (default {DEFAULT_MIX})")
    ap.add_argument("--keep", action="store_true", help="leave the topology up and seeded (for --reuse)")
    ap.add_argument("--reuse", action="store_true", help="use the topology and seed a --keep run left")
    ap.add_argument("--name", default=NAME, help=f"UP_NAME of the private topology (default {NAME})")
    ap.add_argument(
        "--port-base",
        type=int,
        default=PORT_BASE,
        help=f"its ports: +1…+90, the gateways +80/+81 (default {PORT_BASE})",
    )
    args = ap.parse_args(argv)
    set_names(args.name, args.port_base)
    mix = parse_mix(args.mix)
    wrk = ensure_wrk()
    from kinerja.up_config import THREADS, WEB_WORKERS

    up_dir = (ROOT / "var" / "bench" / ("up-api" if NAME == "kinerja_bench_api" else f"up-{NAME}")).resolve()
    env = up_env(up_dir)
    seed_file = up_dir / "bench-seed.json"
    (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)  # a fresh clone has no var/ yet
    work = Path(tempfile.mkdtemp(prefix="api-load-", dir=ROOT / "var" / "bench"))
    floor = Floor(work, up_dir)
    started_up = False
    failed = True
    try:
        if args.reuse:
            if not seed_file.exists():
                raise BenchError(f"--reuse: no {seed_file} (run once with --keep first)")
            data = json.loads(seed_file.read_text())
            say(f"reusing the topology of {up_dir} (seeded: {len(data['employees'])} employees)")
        else:
            busy = [p for p in (GATEWAY_PORT, FLOOR_GATEWAY_PORT, PORT_BASE + 1, FLOOR_PORT_BASE + 1) if port_open(p)]
            if busy:
                raise BenchError(
                    f"ports {busy} are taken: another run of bench/api_load.py (or one left with --keep: "
                    f"UP_NAME={NAME} KINERJA_UP_DIR={up_dir} .venv/bin/kinerja down)?"
                )
            drop_everything(env)  # what an interrupted run may have left, by this benchmark's own names
            shutil.rmtree(up_dir, ignore_errors=True)
            t0 = time.monotonic()
            started_up = True
            done = kinerja("up", env, 600)
            if done.returncode != 0:
                raise BenchError(f"kinerja up failed (exit {done.returncode}):\n{(done.stderr or done.stdout)[-3000:]}")
            say(f"kinerja up: the production topology in {time.monotonic() - t0:.0f} s (gateway :{GATEWAY_PORT})")
            data = seed(up_dir, args.employees)
            seed_file.write_text(json.dumps(data))
            say(
                f"seeded through the API in {data['seconds']} s ({data['calls']} calls): {len(data['employees'])} "
                f"employees with approved SKPs, {len(data['supervisors'])} supervisors with their staff's "
                f"evaluations, cycle {data['cycle']} in monitoring"
            )
        data_file = work / "data.lua"
        lua = {k: v for k, v in data.items() if k in ("cycle", "date", "employees", "supervisors")}
        data_file.write_text("return " + lua_value({**lua, "weights": mix}) + "\n")

        floor.start()
        kinerja_url, floor_url = f"http://127.0.0.1:{GATEWAY_PORT}", f"http://127.0.0.1:{FLOOR_GATEWAY_PORT}"
        preflight(kinerja_url, "Kinerja", data)
        preflight(floor_url, "floor", data)
        say(
            f"wrk -t{args.threads} -c{args.connections}, {args.duration} s per run after a {args.warmup} s warm-up "
            f"of each; mix {mix}; {os.cpu_count()} CPUs; both behind nginx (the gateway template), gunicorn "
            f"{WEB_WORKERS} workers × {THREADS} threads per server (kinerja/up_config.py)"
        )
        targets = {"floor": floor_url, "kinerja": kinerja_url}
        for label, url in targets.items():
            check(run_wrk(wrk, url, data_file, args, args.warmup), f"{label} warm-up")
        runs: dict[str, list[dict]] = {"floor": [], "kinerja": []}
        say()
        say(f"{'run (UTC)':<22} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'requests':>9}")
        for n in range(args.rounds):
            for label, url in targets.items():
                result = run_wrk(wrk, url, data_file, args, args.duration)
                check(result, f"{label} run {n + 1}")
                runs[label].append(result)
                say(line(f"{label} {n + 1} ({time.strftime('%H:%M:%S', time.gmtime())})", result))
        med = {label: medians(rs) for label, rs in runs.items()}
        ratio = med["kinerja"]["rps"] / med["floor"]["rps"]
        rss = {
            "kinerja": workers_peak_rss(kinerja_masters(up_dir)),
            "floor": workers_peak_rss(floor.masters),
        }
        say()
        say(line("floor (median)", med["floor"]))
        say(line("Kinerja (median)", med["kinerja"]))
        say(
            f"Kinerja/floor: {ratio:.2f} of the floor's requests/s (target ≥ {TARGET_RATIO}); Kinerja p95 "
            f"{med['kinerja']['p95_ms']:.1f} ms (target ≤ {TARGET_P95_MS:.0f} ms)"
            + ("" if ratio >= TARGET_RATIO and med["kinerja"]["p95_ms"] <= TARGET_P95_MS else " — target missed")
        )
        say(f"peak RSS of a gunicorn worker, MiB: Kinerja {rss['kinerja']}, floor {rss['floor']}")
        sent = {k: sum(r["sent"].get(k, 0) for r in runs["kinerja"]) for k in KINDS}
        say(f"Kinerja's requests by kind over its runs: {sent}")

        from bench.record import record

        common = {
            "connections": args.connections,
            "wrk_threads": args.threads,
            "duration_s": args.duration,
            "rounds": args.rounds,
            "employees": len(data["employees"]),
            "supervisors": len(data["supervisors"]),
            "mix": mix,
            "gateway": "nginx for both (deploy/gateway/kinerja.conf.template)",
            "target_ratio": TARGET_RATIO,
            "target_p95_ms": TARGET_P95_MS,
        }
        k, f = med["kinerja"], med["floor"]
        record(
            "api_load.rps",
            round(k["rps"], 1),
            "requests/s",
            floor=round(f["rps"], 1),
            p50_ms=round(k["p50_ms"], 1),
            p95_ms=round(k["p95_ms"], 1),
            p99_ms=round(k["p99_ms"], 1),
            floor_p50_ms=round(f["p50_ms"], 1),
            floor_p95_ms=round(f["p95_ms"], 1),
            floor_p99_ms=round(f["p99_ms"], 1),
            worker_peak_rss_mib=rss,
            runs={lbl: [round(r["rps"], 1) for r in rs] for lbl, rs in runs.items()},
            **common,
        )
        record(
            "api_load.p95",
            round(k["p95_ms"], 1),
            "ms",
            floor=round(f["p95_ms"], 1),
            ratio=round(f["p95_ms"] / k["p95_ms"], 3) if k["p95_ms"] else None,
            **common,
        )
        failed = False
        return 0
    except BenchError as exc:
        say(f"bench/api_load.py: the run is broken: {exc}")
        return 1
    finally:
        floor.stop()
        if args.keep:
            say(
                f"--keep: the topology stays up ({up_dir}); next: --reuse; stop: "
                f"UP_NAME={NAME} KINERJA_UP_DIR={up_dir} .venv/bin/kinerja down"
            )
        elif started_up or args.reuse:
            down = kinerja("down", env, 300)
            dropped = drop_everything(env)
            say(
                f"stopped the topology ({down.stdout.strip() or down.stderr.strip()[-300:]}); "
                f"dropped {', '.join(dropped) or 'nothing'}"
            )
            if failed:
                say(f"kept the logs of the failed run: {up_dir / 'logs'} and {work / 'logs'}")
            else:
                shutil.rmtree(up_dir, ignore_errors=True)
        if not failed:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
