"""``make up`` / ``make down``: the production topology as local processes on one machine.

Against this machine's PostgreSQL and RabbitMQ, in a database prefix (``kinerja_up_``) and a
RabbitMQ vhost (``kinerja_up``) of its own, so it never touches the tests' data:

- ``kinerja db upgrade`` for every service;
- the development identity provider (``kinerja.devidp``: RS256 key, JWKS, OpenID Connect);
- gunicorn per service and for the portal, on loopback, with explicit bind and worker count;
- ``kinerja worker`` per service (outbox relay, consumer; the notifications dispatcher);
- the gateway: nginx from Debian's packages with ``deploy/gateway/kinerja.conf.template``, the
  same file the compose gateway renders;
- a Prefect server on PostgreSQL, the deployments (``kinerja flows deploy``) and a process worker
  whose flow runs get their token from the provider by client credentials;
- the first agency and its HR administrator (``kinerja admin bootstrap``).

Everything it makes lives under ``var/up`` (``KINERJA_UP_DIR``): logs, pid files, the
provider's key and users, secrets. ``make up`` again starts only what is not running;
``make down`` stops exactly the processes whose pid files it wrote (checking each is still the
process it started) and nothing else."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("plans", "reviews", "surveys", "notifications")
OFFSETS = {"plans": 1, "reviews": 2, "surveys": 3, "notifications": 4, "portal": 5, "prefect": 42, "idp": 90}
WEB_WORKERS = 2  # gunicorn processes per app: 5 apps × 2 on a 2-core machine is enough for one office
THREADS = 4


class UpError(RuntimeError):
    """Something ``make up`` needs is missing: the message says what and how to fix it."""


@dataclass
class Proc:
    name: str
    argv: list[str]
    env: dict = field(default_factory=dict)
    ready: str | None = None  # URL answering 200 once it is up


def up_dir() -> Path:
    return Path(os.environ.get("KINERJA_UP_DIR") or ROOT / "var" / "up").resolve()


def up_name() -> str:
    """``UP_NAME`` (default ``kinerja_up``): the RabbitMQ vhost, and the prefix of the databases."""
    value = os.environ.get("UP_NAME") or "kinerja_up"
    if not value.replace("_", "").isalnum() or not value[0].isalpha():
        raise UpError(f"UP_NAME must be letters, digits and _ (it names databases), not {value!r}")
    return value


def ports() -> dict[str, int]:
    """Loopback ports of the apps behind the gateway: ``UP_PORT_BASE`` (default 18100) + an offset."""
    base = int(os.environ.get("UP_PORT_BASE") or 18100)
    return {app: base + offset for app, offset in OFFSETS.items()}


def say(text: str) -> None:
    print(text, flush=True)


def _port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


# ---------------------------------------------------------------------- settings that persist


def _secrets(base: Path) -> dict:
    path = base / "secrets.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    changed = False
    for key in (
        "surveys_form_secret",
        "portal_secret_key",
        "portal_client_secret",
        "flows_client_secret",
        "hr_password",
    ):
        if not data.get(key):
            data[key] = secrets.token_urlsafe(18 if key == "hr_password" else 32)
            changed = True
    if changed:
        base.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
    return data


def environment(base: Path, port: int, agency: str, sec: dict) -> dict:
    """The environment every process of the topology gets (the variables of README 'Run in production')."""
    PORTS, DB_PREFIX, VHOST = ports(), up_name() + "_", up_name()
    pg = os.environ.get("UP_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    amqp = os.environ.get("UP_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
    gateway = f"http://127.0.0.1:{port}"
    issuer = f"http://127.0.0.1:{PORTS['idp']}"
    return {
        "KINERJA_MODE": "production",
        "DATABASE_URL": pg,
        "DATABASE_PREFIX": DB_PREFIX,
        "BROKER_URL": amqp.rstrip("/") + "/" + VHOST,
        "JWT_JWKS_URL": f"{issuer}/jwks.json",
        "JWT_ISSUER": issuer,
        "JWT_AUDIENCE": "kinerja",
        "PROXY_HOPS": "1",
        "LOG_LEVEL": "INFO",
        "PLANS_URL": f"http://127.0.0.1:{PORTS['plans']}",
        "SURVEYS_FORM_SECRET": sec["surveys_form_secret"],
        "SURVEYS_PUBLIC_URL": gateway,
        "PORTAL_URL": gateway,
        "PORTAL_API_URL": gateway,
        "PORTAL_SECRET_KEY": sec["portal_secret_key"],
        "PORTAL_OIDC_METADATA_URL": f"{issuer}/.well-known/openid-configuration",
        "PORTAL_OIDC_CLIENT_ID": "kinerja-portal",
        "PORTAL_OIDC_CLIENT_SECRET": sec["portal_client_secret"],
        "PORTAL_SECURE_COOKIES": "0",  # plain HTTP on loopback: a Secure cookie would never come back
        "DEV_IDP_DIR": str(base / "idp"),
        "DEV_IDP_ISSUER": issuer,
        "PREFECT_API_URL": f"http://127.0.0.1:{PORTS['prefect']}/api",
        "PREFECT_HOME": str(base / "prefect"),
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": pg.replace("postgresql://", "postgresql+asyncpg://", 1).rsplit(
            "/", 1
        )[0]
        + f"/{DB_PREFIX}prefect",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "KINERJA_BASE_URL": gateway,
        "KINERJA_TOKEN_URL": f"{issuer}/token",
        "KINERJA_CLIENT_ID": "kinerja-flows",
        "KINERJA_CLIENT_SECRET": sec["flows_client_secret"],
        "UP_AGENCY": agency,
        # what the operator's shell may hold must not reach the topology: a short-lived token would
        # win over the worker's client credentials, a per-service database URL over the prefix
        "KINERJA_TOKEN": "",
        **{f"{svc.upper()}_DATABASE_URL": "" for svc in SERVICES},
    }


# ---------------------------------------------------------------------- preflight


def preflight(env: dict) -> None:
    from sqlalchemy.engine import make_url

    PORTS = ports()
    pg = make_url(env["DATABASE_URL"])
    amqp = httpx.URL(env["BROKER_URL"])
    missing = []
    if not _port_open(pg.port or 5432, pg.host or "127.0.0.1"):
        missing.append(
            f"PostgreSQL is not answering on {pg.host}:{pg.port or 5432} — start it "
            "(pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) or set UP_POSTGRES_URL"
        )
    if not _port_open(amqp.port or 5672, amqp.host or "127.0.0.1"):
        missing.append(
            f"RabbitMQ is not answering on {amqp.host}:{amqp.port or 5672} — start it "
            "(rabbitmq-server -detached) or set UP_RABBITMQ_URL"
        )
    if not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists():
        if os.geteuid() == 0 and shutil.which("apt-get"):
            say("installing the gateway (nginx-light, from Debian's packages) …")
            quiet = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            subprocess.run(["apt-get", "update", "-qq"], check=False, env=quiet, capture_output=True)
            done = subprocess.run(
                ["apt-get", "install", "-y", "-qq", "nginx-light"], env=quiet, capture_output=True, text=True
            )
            if done.returncode != 0:
                missing.append(f"nginx could not be installed (apt-get install nginx-light): {done.stderr[-500:]}")
        else:
            missing.append("the gateway needs nginx: sudo apt-get install nginx-light")
    process_of = {"prefect": "prefect-server"}
    busy = [f"{name} ({p})" for name, p in PORTS.items() if _port_open(p) and not _ours(process_of.get(name, name))]
    if busy:
        missing.append("ports in use by something else: " + ", ".join(busy))
    if missing:
        raise UpError("make up cannot start:\n  - " + "\n  - ".join(missing))


def _nginx() -> str:
    return shutil.which("nginx") or "/usr/sbin/nginx"


def ensure_vhost(env: dict) -> None:
    """The topology's own RabbitMQ vhost (rabbitmqctl; else the management API)."""
    amqp = httpx.URL(env["BROKER_URL"])
    user = amqp.username or "guest"
    VHOST = up_name()
    ctl = shutil.which("rabbitmqctl") or ("/usr/sbin/rabbitmqctl" if Path("/usr/sbin/rabbitmqctl").exists() else None)
    if ctl:
        listed = subprocess.run([ctl, "-q", "list_vhosts"], capture_output=True, text=True, timeout=60)
        if listed.returncode == 0:
            if VHOST not in listed.stdout.split():
                subprocess.run([ctl, "-q", "add_vhost", VHOST], check=True, capture_output=True, timeout=60)
            subprocess.run(
                [ctl, "-q", "set_permissions", "-p", VHOST, user, ".*", ".*", ".*"],
                check=True,
                capture_output=True,
                timeout=60,
            )
            return
    try:
        api = f"http://{amqp.host}:15672/api"
        auth = (user, amqp.password or "guest")
        httpx.put(f"{api}/vhosts/{VHOST}", auth=auth, timeout=5).raise_for_status()
        httpx.put(
            f"{api}/permissions/{VHOST}/{user}",
            auth=auth,
            timeout=5,
            json={"configure": ".*", "write": ".*", "read": ".*"},
        ).raise_for_status()
    except httpx.HTTPError as exc:
        raise UpError(
            f"cannot create the RabbitMQ vhost {VHOST}: rabbitmqctl is not usable here and the "
            f"management API answered {exc}; create it by hand (rabbitmqctl add_vhost {VHOST})"
        ) from None


def ensure_prefect_database(env: dict) -> None:
    from services.common.db import ensure_database

    ensure_database(env["PREFECT_SERVER_DATABASE_CONNECTION_URL"].replace("+asyncpg", "+psycopg", 1))


# ---------------------------------------------------------------------- processes


def _bin(name: str) -> str:
    here = Path(sys.executable).parent
    return str(here / name) if (here / name).exists() else (shutil.which(name) or name)


def processes(base: Path, env: dict, port: int) -> list[Proc]:
    PORTS = ports()
    gunicorn = [_bin("gunicorn"), "-c", "python:kinerja.gunicorn_conf"]
    procs = [
        Proc(
            "idp",
            [
                _bin("gunicorn"),
                "-w",
                "1",
                "--threads",
                "4",
                "--preload",
                "-b",
                f"127.0.0.1:{PORTS['idp']}",
                "--access-logfile",
                "-",
                "kinerja.devidp:create_app()",
            ],
            ready=f"http://127.0.0.1:{PORTS['idp']}/healthz",
        )
    ]
    for name in (*SERVICES, "portal"):
        web = {
            "BIND": f"127.0.0.1:{PORTS[name]}",
            "WEB_CONCURRENCY": str(WEB_WORKERS),
            "THREADS": str(THREADS),
            "PROMETHEUS_MULTIPROC_DIR": str(base / "metrics" / name),
        }
        health = f"/{name}/readyz" if name != "portal" else "/healthz"
        procs.append(
            Proc(
                name,
                [*gunicorn, f"services.{name}.app:create_app()"],
                web,
                ready=f"http://127.0.0.1:{PORTS[name]}{health}",
            )
        )
    for name in SERVICES:
        procs.append(Proc(f"{name}-worker", [_bin("kinerja"), "worker", "--service", name]))
    procs.append(
        Proc(
            "gateway",
            [_nginx(), "-p", str(base / "gateway"), "-c", str(base / "gateway" / "nginx.conf"), "-g", "daemon off;"],
            ready=f"http://127.0.0.1:{port}/plans/healthz",
        )
    )
    procs.append(
        Proc(
            "prefect-server",
            [_bin("prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(PORTS["prefect"])],
            ready=f"http://127.0.0.1:{PORTS['prefect']}/api/health",
        )
    )
    procs.append(
        Proc(
            "prefect-worker",
            [_bin("prefect"), "worker", "start", "--pool", "kinerja", "--type", "process", "--name", up_name()],
        )
    )
    return procs


def render_gateway(base: Path, port: int) -> None:
    """``deploy/gateway/kinerja.conf.template`` rendered as the nginx image would, inside a main
    file of this machine's own (paths under var/up)."""
    template = (ROOT / "deploy" / "gateway" / "kinerja.conf.template").read_text()
    PORTS = ports()
    values = {
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        **{f"{name.upper()}_UPSTREAM": f"127.0.0.1:{PORTS[name]}" for name in (*SERVICES, "portal")},
    }
    server = string.Template(template).safe_substitute(values)
    gw = base / "gateway"
    for sub in ("logs", "tmp"):
        (gw / sub).mkdir(parents=True, exist_ok=True)
    (gw / "kinerja.conf").write_text(server)
    mime = "/etc/nginx/mime.types"
    (
        gw / "nginx.conf"
    ).write_text(f"""# written by make up (kinerja/up.py); the server block is deploy/gateway/kinerja.conf.template
worker_processes 1;
pid {gw}/nginx.pid;
error_log {gw}/logs/error.log warn;
events {{ worker_connections 512; }}
http {{
  {"include " + mime + ";" if Path(mime).exists() else ""}
  access_log {gw}/logs/access.log;
  # nginx's workers run as an unprivileged user who may not enter this folder: keep request bodies
  # (evidence files up to 10 MiB) and responses in memory rather than in temporary files here
  client_body_buffer_size 11m;
  proxy_max_temp_file_size 0;
  client_body_temp_path {gw}/tmp/body;
  proxy_temp_path {gw}/tmp/proxy;
  fastcgi_temp_path {gw}/tmp/fastcgi;
  uwsgi_temp_path {gw}/tmp/uwsgi;
  scgi_temp_path {gw}/tmp/scgi;
  include {gw}/kinerja.conf;
}}
""")
    check = subprocess.run(
        [_nginx(), "-t", "-p", str(gw), "-c", str(gw / "nginx.conf")], capture_output=True, text=True
    )
    if check.returncode != 0:
        raise UpError(f"the gateway's configuration is refused by nginx:\n{check.stderr}")


def _pidfile(name: str) -> Path:
    return up_dir() / "run" / f"{name}.pid"


def _cmdline(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return None


def _started(pid: int) -> str | None:
    """The process's start time (clock ticks since boot, /proc/<pid>/stat field 22): with the pid,
    it names one process for good — a reused pid has another."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _running(name: str) -> int | None:
    """The pid of ``name`` if the process we started is still that process."""
    path = _pidfile(name)
    if not path.exists():
        return None
    try:
        info = json.loads(path.read_text())
        pid = int(info["pid"])
    except (ValueError, KeyError, OSError):
        return None
    if info.get("started") and _started(pid) != info["started"]:
        return None  # gone, or the pid now belongs to another process
    cmd = _cmdline(pid)
    argv = info.get("argv") or []
    if not cmd or not argv or Path(argv[0]).name not in cmd or " ".join(argv[1:]) not in cmd:
        return None
    return pid


def _ours(name: str) -> bool:
    return _running(name) is not None


def start(proc: Proc, base: Path, env: dict) -> bool:
    """Start ``proc`` unless it runs already; returns True when it was started now."""
    if _running(proc.name):
        return False
    (base / "logs").mkdir(parents=True, exist_ok=True)
    (base / "run").mkdir(parents=True, exist_ok=True)
    for key in ("PROMETHEUS_MULTIPROC_DIR",):
        if key in proc.env:
            Path(proc.env[key]).mkdir(parents=True, exist_ok=True)
    log = open(base / "logs" / f"{proc.name}.log", "ab")
    child = subprocess.Popen(
        proc.argv,
        env={**os.environ, **env, **proc.env},
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=str(base),
        start_new_session=True,
    )
    log.close()
    started = None
    for _ in range(100):  # until the child has become the program (exec done)
        cmd = _cmdline(child.pid) or ""
        if Path(proc.argv[0]).name in cmd and " ".join(proc.argv[1:]) in cmd:
            started = _started(child.pid)
            break
        if child.poll() is not None:
            break
        time.sleep(0.02)
    _pidfile(proc.name).write_text(json.dumps({"pid": child.pid, "started": started, "argv": proc.argv}))
    return True


def wait_ready(proc: Proc, base: Path, timeout: float = 90.0) -> None:
    if not proc.ready:
        return
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if not _running(proc.name):
            break
        try:
            r = httpx.get(proc.ready, timeout=3)
            if r.status_code == 200:
                return
            last = f"HTTP {r.status_code}: {r.text[:200]}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.3)
    tail = _tail(base / "logs" / f"{proc.name}.log")
    state = "is not ready" if _running(proc.name) else "exited"
    raise UpError(
        f"{proc.name} {state} ({proc.ready}: {last or 'no answer'}); the end of its log "
        f"({base / 'logs' / (proc.name + '.log')}):\n{tail}"
    )


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _run(argv: list[str], env: dict, what: str, base: Path) -> str:
    done = subprocess.run(argv, env={**os.environ, **env}, capture_output=True, text=True, cwd=str(base))
    if done.returncode != 0:
        raise UpError(
            f"{what} failed ({' '.join(argv[:4])} …, exit {done.returncode}):\n{(done.stderr or done.stdout)[-3000:]}"
        )
    return done.stdout


# ---------------------------------------------------------------------- up / down


@contextlib.contextmanager
def _locked():
    """One ``make up`` or ``make down`` at a time per folder (a second waits for the first)."""
    import fcntl

    up_dir().mkdir(parents=True, exist_ok=True)
    with open(up_dir() / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def up(port: int | None = None, agency: str | None = None) -> dict:
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with _locked():
            return _up(port, agency)
    except ValueError as exc:
        raise UpError(f"a setting of make up is wrong: {exc} (UP_PORT and UP_PORT_BASE are port numbers)") from None
    except SQLAlchemyError as exc:
        raise UpError(
            f"PostgreSQL answers but refused make up: {exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0]} — give UP_POSTGRES_URL a user that may create databases "
            "(e.g. postgresql://postgres:<password>@127.0.0.1:5432/postgres)"
        ) from None
    except subprocess.CalledProcessError as exc:
        raise UpError(
            f"{' '.join(exc.cmd[:3])} failed (exit {exc.returncode}): "
            f"{(exc.stderr or b'').decode(errors='replace')[-500:]}"
        ) from None


def _up(port: int | None, agency: str | None) -> dict:
    started_at = time.monotonic()
    base = up_dir()
    PORTS, DB_PREFIX, VHOST = ports(), up_name() + "_", up_name()
    base.mkdir(parents=True, exist_ok=True)
    port = port or int(os.environ.get("UP_PORT") or 8080)
    agency = agency or os.environ.get("UP_AGENCY") or "DEMO"
    sec = _secrets(base)
    env = environment(base, port, agency, sec)
    if _port_open(port) and not _ours("gateway"):
        raise UpError(f"port {port} is taken by another program: choose another gateway port (UP_PORT=8081 make up)")
    preflight(env)
    ensure_vhost(env)
    ensure_prefect_database(env)
    say(f"databases: {DB_PREFIX}<service> on {env['DATABASE_URL'].rsplit('@', 1)[-1]}; RabbitMQ vhost {VHOST}")
    _run([_bin("kinerja"), "db", "upgrade"], env, "kinerja db upgrade", base)

    # the identity provider's clients: the portal (code + PKCE) and the flows' worker (client credentials)
    from .devidp import IdpStore

    store = IdpStore(base / "idp")
    store.private_key()
    store.put_client(
        "kinerja-portal",
        sec["portal_client_secret"],
        redirect_uris=[f"http://127.0.0.1:{port}/auth/callback", f"http://localhost:{port}/auth/callback"],
        grant_types=["authorization_code"],
    )
    store.put_client(
        "kinerja-flows", sec["flows_client_secret"], grant_types=["client_credentials"], roles=["hr"], agency=agency
    )
    render_gateway(base, port)

    procs = processes(base, env, port)
    started = []
    by_name = {p.name: p for p in procs}
    for name in ("idp", *SERVICES, "portal", "prefect-server"):
        if start(by_name[name], base, env):
            started.append(name)
    for name in ("idp", *SERVICES, "portal"):
        wait_ready(by_name[name], base)
    for name in (f"{s}-worker" for s in SERVICES):
        if start(by_name[name], base, env):
            started.append(name)
    if start(by_name["gateway"], base, env):
        started.append("gateway")
    wait_ready(by_name["gateway"], base, timeout=30)
    wait_ready(by_name["prefect-server"], base, timeout=120)
    deployed = _run([_bin("kinerja"), "flows", "deploy"], env, "kinerja flows deploy", base)
    if start(by_name["prefect-worker"], base, env):
        started.append("prefect-worker")

    boot = _run(
        [_bin("kinerja"), "admin", "bootstrap", "--agency", agency, "--name", f"Instansi {agency}"],
        {**env, "KINERJA_HR_PASSWORD": sec["hr_password"]},
        "kinerja admin bootstrap",
        base,
    )
    time.sleep(1.0)
    dead = [p.name for p in procs if not _running(p.name)]
    if dead:
        raise UpError(
            "stopped right after starting: "
            + ", ".join(dead)
            + "; see "
            + ", ".join(str(base / "logs" / f"{n}.log") for n in dead)
        )
    seconds = time.monotonic() - started_at
    gateway = f"http://127.0.0.1:{port}"
    say(boot.strip())
    say("deployments: " + ", ".join(line.split(":")[0] for line in deployed.splitlines() if line.strip()))
    say(f"""
Kinerja runs in the production wiring on this machine
({len(procs)} processes, {len(started)} started now, {seconds:.0f} s).

  Portal:          {gateway}/   (sign in: hr.{agency.lower()} / {sec["hr_password"]})
  APIs:            {gateway}/plans/docs, /reviews/docs, /surveys/docs, /notifications/docs
  Prefect:         http://127.0.0.1:{PORTS["prefect"]}/  (work pool 'kinerja', worker '{VHOST}')
  Identity:        http://127.0.0.1:{PORTS["idp"]}/.well-known/openid-configuration  (development provider)
  API token:       KINERJA_MODE=production DEV_IDP_DIR={base / "idp"} DEV_IDP_ISSUER={env["DEV_IDP_ISSUER"]} \\
                   JWT_JWKS_URL={env["JWT_JWKS_URL"]} JWT_AUDIENCE=kinerja \\
                   .venv/bin/kinerja token --role hr --agency {agency}
  More people:     DEV_IDP_DIR={base / "idp"} DEV_IDP_ISSUER={env["DEV_IDP_ISSUER"]} .venv/bin/kinerja idp user …
  Logs:            {base / "logs"}/
  Stop:            make down
""")
    return {"gateway": gateway, "started": started, "seconds": seconds, "env": env}


def down() -> list[str]:
    if not (up_dir() / "run").exists():
        say("nothing to stop (make up has not run here)")
        return []
    with _locked():
        return _down()


def _processes() -> dict[int, tuple[int, int]]:
    """Every live process: pid → (parent pid, process group)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z":
            out[int(entry.name)] = (int(fields[1]), int(fields[2]))
    return out


def _groups_under(pid: int) -> set[int]:
    """The process groups of ``pid`` and all its descendants (a Prefect process worker starts each
    flow run in a session of its own, which the worker's group does not include)."""
    table = _processes()
    children: dict[int, list[int]] = {}
    for child, (parent, _) in table.items():
        children.setdefault(parent, []).append(child)
    groups, todo = {pid}, [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            groups.add(table[child][1])
            todo.append(child)
    return groups


def _down() -> list[str]:
    run_dir = up_dir() / "run"
    stopped = []
    order = [
        "prefect-worker",
        "gateway",
        *(f"{s}-worker" for s in SERVICES),
        "portal",
        *SERVICES,
        "prefect-server",
        "idp",
    ]
    names = order + sorted(p.stem for p in run_dir.glob("*.pid") if p.stem not in order)
    groups: dict[str, set[int]] = {}
    for name in names:
        pid = _running(name)
        if pid:
            groups[name] = _groups_under(pid)
            for group in groups[name]:
                try:
                    os.killpg(group, signal.SIGTERM)
                except ProcessLookupError:
                    pass
    deadline = time.monotonic() + 20
    while groups and time.monotonic() < deadline:
        for name, owned in list(groups.items()):
            if not any(_group_alive(g) for g in owned):
                stopped.append(name)
                groups.pop(name)
        time.sleep(0.2)
    for name, owned in groups.items():  # did not stop in time
        for group in owned:
            try:
                os.killpg(group, signal.SIGKILL)
            except ProcessLookupError:
                pass
        stopped.append(f"{name} (killed)")
    for path in run_dir.glob("*.pid"):
        path.unlink(missing_ok=True)
    say("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return stopped


def _group_alive(pgid: int) -> bool:
    """Whether any process of the group is still alive (zombies do not count)."""
    return any(group == pgid for _, group in _processes().values())
