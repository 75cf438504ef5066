"""What ``make up`` runs with: the folder, the names (database prefix, vhost), the ports, the
secrets that persist between runs, the environment every process gets, the processes of the
topology and the gateway's nginx configuration."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import string
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

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


def program(name: str) -> str:
    here = Path(sys.executable).parent
    return str(here / name) if (here / name).exists() else (shutil.which(name) or name)


def _nginx() -> str:
    return shutil.which("nginx") or "/usr/sbin/nginx"


# ---------------------------------------------------------------------- settings that persist


def persistent_secrets(base: Path) -> dict:
    path = base / "secrets.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    changed = False
    for key in (
        "surveys_form_secret",
        "portal_secret_key",
        "portal_client_secret",
        "flows_client_secret",
        "agency_client_secret",
        "audit_anchor_key",
        "hr_password",
        "db_app_password",
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


def owner_database_url() -> str:
    """``UP_POSTGRES_URL``: a role that may create databases and roles (it owns the tables; only
    ``kinerja db upgrade`` and the Prefect server connect as it)."""
    return os.environ.get("UP_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def app_role() -> str:
    """The role the services connect as (``<UP_NAME>_app``): reads and writes, but may not change
    the append-only tables (``kinerja db upgrade --grant-to``)."""
    return f"{up_name().lower()}_app"


def environment(base: Path, port: int, agency: str, sec: dict) -> dict:
    """The environment every process of the topology gets (the variables of README 'Run in production')."""
    from sqlalchemy.engine import make_url

    PORTS, DB_PREFIX, VHOST = ports(), up_name() + "_", up_name()
    pg = owner_database_url()
    as_app = make_url(pg).set(username=app_role(), password=sec["db_app_password"])
    amqp = os.environ.get("UP_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
    gateway = f"http://127.0.0.1:{port}"
    issuer = f"http://127.0.0.1:{PORTS['idp']}"
    return {
        "KINERJA_MODE": "production",
        "DATABASE_URL": as_app.render_as_string(hide_password=False),
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
        "AUDIT_ANCHOR_KEY": sec["audit_anchor_key"],  # signs the audit anchors; the databases never hold it
        "AUDIT_ANCHOR_DIR": str(base / "audit"),
        "PORTAL_SECURE_COOKIES": "0",  # plain HTTP on loopback: a Secure cookie would never come back
        # one machine: the agency systems tried against it (examples/agency_client.py) listen on loopback too
        "WEBHOOK_ALLOW_PRIVATE": "1",
        "DEV_IDP_DIR": str(base / "idp"),
        "DEV_IDP_ISSUER": issuer,
        "PREFECT_API_URL": f"http://127.0.0.1:{PORTS['prefect']}/api",
        "PREFECT_HOME": str(base / "prefect"),
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": pg.replace("postgresql://", "postgresql+asyncpg://", 1).rsplit(
            "/", 1
        )[0]
        + f"/{DB_PREFIX}prefect",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # the worker asks for due flow runs every 2 s, not every 10: a run started by HR or a stage
        # deadline begins within seconds (see deploy/k8s/prefect.yaml)
        "PREFECT_WORKER_QUERY_SECONDS": "2",
        "DO_NOT_TRACK": "1",
        "KINERJA_BASE_URL": gateway,
        "KINERJA_TOKEN_URL": f"{issuer}/token",
        "KINERJA_CLIENT_ID": "kinerja-flows",
        "KINERJA_CLIENT_SECRET": sec["flows_client_secret"],
        "UP_AGENCY": agency,
        # what the operator's shell may hold must not reach the topology: a short-lived token would
        # win over the worker's client credentials, a per-service database URL over the prefix
        "KINERJA_TOKEN": "",
        **{f"{svc.upper()}_DATABASE_URL": "" for svc in (*SERVICES, "portal")},
    }


# ---------------------------------------------------------------------- the topology


def processes(base: Path, env: dict, port: int) -> list[Proc]:
    PORTS = ports()
    gunicorn = [program("gunicorn"), "-c", "python:kinerja.gunicorn_conf"]
    procs = [
        Proc(
            "idp",
            [
                program("gunicorn"),
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
        procs.append(Proc(f"{name}-worker", [program("kinerja"), "worker", "--service", name]))
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
            [program("prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(PORTS["prefect"])],
            ready=f"http://127.0.0.1:{PORTS['prefect']}/api/health",
        )
    )
    procs.append(
        Proc(
            "prefect-worker",
            [program("prefect"), "worker", "start", "--pool", "kinerja", "--type", "process", "--name", up_name()],
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
