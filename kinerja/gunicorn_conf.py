"""gunicorn settings for one Kinerja web app, from the environment:

    gunicorn -c python:kinerja.gunicorn_conf 'services.plans.app:create_app()'

| variable | default | meaning |
|---|---|---|
| ``BIND`` | ``127.0.0.1:8000`` | address to listen on (the image sets ``0.0.0.0:8000``: its port is published to the gateway only) |
| ``WEB_CONCURRENCY`` | ``2`` | worker processes; each holds its own database pool (5 + 10 overflow). About 2 per core, less when several services share a host |
| ``THREADS`` | ``4`` | threads per worker (``gthread``): requests wait mostly on PostgreSQL |
| ``GUNICORN_TIMEOUT`` | ``30`` | seconds a request may take before its worker is restarted |
| ``PROMETHEUS_MULTIPROC_DIR`` | a fresh temporary directory | where the workers' Prometheus counters live, so ``/<service>/metrics`` reports the whole server; emptied when the server starts. Give each server its own |

Access lines come from the app itself (JSON, with request id and traceparent), not gunicorn."""  # noqa: E501 (the table above)

from __future__ import annotations

import os
import shutil
import tempfile


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from None


bind = os.environ.get("BIND", "").strip() or "127.0.0.1:8000"
workers = _int("WEB_CONCURRENCY", 2)
threads = _int("THREADS", 4)
worker_class = "gthread"
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 20
keepalive = 5
accesslog = None  # the app writes JSON access logs with request id and traceparent
errorlog = "-"
limit_request_line = 8190
# The app is built once, before the workers fork: a configuration error stops the server at start
# with its message ("Error: … set JWT_JWKS_URL"), exit 1, instead of workers failing one by one.
# Nothing connects while the app is built (database pools and the JWKS are opened on first use).
preload_app = True
forwarded_allow_ips = "*"  # X-Forwarded-* are judged by the app (PROXY_HOPS), not by gunicorn

# Prometheus multiprocess mode: must be set before prometheus_client is first imported (the apps
# import it), so it is decided here, when gunicorn reads this file.
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
if not _metrics_dir:
    _metrics_dir = tempfile.mkdtemp(prefix="kinerja-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir


def on_starting(server):  # noqa: ARG001 - gunicorn hook
    """JSON logs in either mode (the factories configure them in production too); counters of a
    previous run of this server would be summed in: start from none."""
    from services.common.observability import configure_logging

    configure_logging(os.environ.get("LOG_LEVEL", "").strip().upper() or "INFO")
    os.makedirs(_metrics_dir, exist_ok=True)
    for entry in os.listdir(_metrics_dir):
        path = os.path.join(_metrics_dir, entry)
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)


def child_exit(server, worker):  # noqa: ARG001 - gunicorn hook
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
