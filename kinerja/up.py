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
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx

from .devidp_store import IdpStore
from .up_config import (
    SERVICES,
    UpError,
    app_role,
    environment,
    owner_database_url,
    persistent_secrets,
    ports,
    processes,
    program,
    render_gateway,
    up_dir,
    up_name,
)
from .up_processes import ours, run_once, running, start, stop, wait_ready

__all__ = ["AGENCY_CLIENT_SCOPES", "UpError", "agency_client_id", "down", "up"]

AGENCY_CLIENT_SCOPES = ("results:read", "webhooks:manage", "directory:read")


def agency_client_id(agency: str) -> str:
    """The development machine client ``make up`` registers for its agency (``tpp-demo``)."""
    return f"tpp-{agency.lower()}"


def say(text: str) -> None:
    print(text, flush=True)


def _port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


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
    busy = [f"{name} ({p})" for name, p in PORTS.items() if _port_open(p) and not ours(process_of.get(name, name))]
    if busy:
        missing.append("ports in use by something else: " + ", ".join(busy))
    if missing:
        raise UpError("make up cannot start:\n  - " + "\n  - ".join(missing))


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
    sec = persistent_secrets(base)
    env = environment(base, port, agency, sec)
    if _port_open(port) and not ours("gateway"):
        raise UpError(f"port {port} is taken by another program: choose another gateway port (UP_PORT=8081 make up)")
    preflight(env)
    ensure_vhost(env)
    ensure_prefect_database(env)
    say(f"databases: {DB_PREFIX}<service> on {env['DATABASE_URL'].rsplit('@', 1)[-1]}; RabbitMQ vhost {VHOST}")
    # as the owner: creates the services' role (or sets its password) and grants it (kinerja db upgrade)
    owner_env = {
        **env,
        "DATABASE_URL": owner_database_url(),
        "DATABASE_APP_ROLE": app_role(),
        "DATABASE_APP_PASSWORD": sec["db_app_password"],
    }
    run_once([program("kinerja"), "db", "upgrade"], owner_env, "kinerja db upgrade", base)

    # the identity provider's clients: the portal (code + PKCE) and the flows' worker (client credentials)
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
    # another agency's system to try the integration with (examples/agency_client.py): the regional
    # finance office's allowance (TPP) system, a machine client of the agency with the feed's scopes
    store.put_client(
        agency_client_id(agency),
        sec["agency_client_secret"],
        grant_types=["client_credentials"],
        roles=["agency"],
        agency=agency,
        scopes=list(AGENCY_CLIENT_SCOPES),
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
    deployed = run_once([program("kinerja"), "flows", "deploy"], env, "kinerja flows deploy", base)
    if start(by_name["prefect-worker"], base, env):
        started.append("prefect-worker")

    boot = run_once(
        [program("kinerja"), "admin", "bootstrap", "--agency", agency, "--name", f"Instansi {agency}"],
        {**env, "KINERJA_HR_PASSWORD": sec["hr_password"]},
        "kinerja admin bootstrap",
        base,
    )
    time.sleep(1.0)
    dead = [p.name for p in procs if not running(p.name)]
    if dead:
        raise UpError(
            "stopped right after starting: "
            + ", ".join(dead)
            + "; see "
            + ", ".join(str(base / "logs" / f"{n}.log") for n in dead)
        )
    seconds = time.monotonic() - started_at
    gateway = f"http://127.0.0.1:{port}"
    client = agency_client_id(agency)
    say(boot.strip())
    say("deployments: " + ", ".join(line.split(":")[0] for line in deployed.splitlines() if line.strip()))
    say(f"""
Kinerja runs in the production wiring on this machine
({len(procs)} processes, {len(started)} started now, {seconds:.0f} s).

  Portal:          {gateway}/   (sign in: hr.{agency.lower()} / {sec["hr_password"]})
  APIs:            {gateway}/plans/docs, /reviews/docs, /surveys/docs, /notifications/docs
  Prefect:         http://127.0.0.1:{PORTS["prefect"]}/  (work pool 'kinerja', worker '{VHOST}')
  Identity:        http://127.0.0.1:{PORTS["idp"]}/.well-known/openid-configuration  (development provider)
  Agency client:   {client} / {sec["agency_client_secret"]}  (client credentials; {" ".join(AGENCY_CLIENT_SCOPES)})
                   KINERJA_URL={gateway} KINERJA_TOKEN_URL={env["KINERJA_TOKEN_URL"]} \\
                   KINERJA_CLIENT_ID={client} KINERJA_CLIENT_SECRET={sec["agency_client_secret"]} \\
                   .venv/bin/python examples/agency_client.py
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


def _down() -> list[str]:
    run_dir = up_dir() / "run"
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
    stopped = stop(names)
    for path in run_dir.glob("*.pid"):
        path.unlink(missing_ok=True)
    say("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return stopped
