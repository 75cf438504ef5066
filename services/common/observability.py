"""JSON logs with request id and traceparent, Prometheus metrics, health and readiness."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import uuid

from flask import Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from sqlalchemy import text

from .context import child_traceparent, get_request_id, get_traceparent, set_request_id, set_traceparent


class JsonFormatter(logging.Formatter):
    _second: tuple[int, str] | None = None  # the last whole second formatted, and its text

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self._time(record) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": get_request_id(),
            "traceparent": get_traceparent(),
        }
        for key in ("service", "method", "path", "status", "duration_ms", "event_type", "event_id"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)

    def _time(self, record: logging.LogRecord) -> str:
        """``formatTime(record, "%Y-%m-%dT%H:%M:%S")``, formatted once per second (every access line
        formatted it again)."""
        second = int(record.created)
        last = self._second
        if last is None or last[0] != second:
            last = self._second = (second, self.formatTime(record, "%Y-%m-%dT%H:%M:%S"))
        return last[1]


def configure_logging(level: str = "INFO", stream=None) -> None:
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)


class Metrics:
    def __init__(self, service: str):
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "kinerja_http_requests_total",
            "HTTP requests",
            ["service", "method", "endpoint", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "kinerja_http_request_seconds",
            "HTTP request duration",
            ["service", "method", "endpoint"],
            registry=self.registry,
        )
        self.service = service
        self._children: dict[tuple, tuple] = {}  # (method, endpoint, status) → (counter, histogram)

    def observe(self, method: str, endpoint: str, status: str, seconds: float) -> None:
        """Count a request and its duration: ``labels()`` looked up once per label set (it validates
        the labels and takes the metric's lock every time), then the children reused."""
        key = (method, endpoint, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self.requests.labels(self.service, method, endpoint, status),
                self.latency.labels(self.service, method, endpoint),
            )
        children[0].inc()
        children[1].observe(seconds)


def exposition_registry(own: CollectorRegistry) -> CollectorRegistry:
    """What ``/metrics`` reports: under gunicorn (``PROMETHEUS_MULTIPROC_DIR`` set, see
    ``kinerja/gunicorn_conf.py``) the sum over every worker process of this server, else this
    process's own registry."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return own
    from prometheus_client import multiprocess

    merged = CollectorRegistry()
    multiprocess.MultiProcessCollector(merged)
    return merged


def install_access_log(app: Flask, service: str, metrics: Metrics | None = None) -> None:
    """Request id and traceparent for every request (taken from the gateway's headers or made),
    echoed in the response, and one JSON access line per request (``kinerja.<service>.access``)."""
    access = logging.getLogger(f"kinerja.{service}.access")

    @app.before_request
    def _start():
        rid = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        set_request_id(rid[:64])
        set_traceparent(child_traceparent(request.headers.get("traceparent")))
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response):
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        method, status = request.method, response.status_code
        if metrics is not None:
            endpoint = request.url_rule.rule if request.url_rule else "unmatched"
            metrics.observe(method, endpoint, str(status), elapsed)
        response.headers["X-Request-ID"] = get_request_id() or ""
        traceparent = get_traceparent()
        if traceparent:
            response.headers["traceparent"] = traceparent
        if access.isEnabledFor(logging.INFO):
            # access.info("request", extra=…) without looking up its caller in the stack (the
            # record's file, line and function are this function's; the JSON line shows none of them)
            extra = {
                "service": service,
                "method": method,
                "path": request.path,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
            }
            access.handle(
                access.makeRecord(access.name, logging.INFO, __file__, 0, "request", (), None, "_finish", extra)
            )
        return response


def install(app: Flask, service: str, prefix: str) -> Metrics:
    metrics = Metrics(service)
    install_access_log(app, service, metrics)

    @app.get(f"{prefix}/healthz")
    def healthz():
        return {"status": "ok", "service": service}

    @app.get(f"{prefix}/readyz")
    def readyz():
        platform = current_app.extensions["kinerja"]
        checks = {}
        try:
            with platform.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            checks["database"] = f"error: {type(exc).__name__}"
        checks["broker"] = platform.broker_check()
        ok = all(v == "ok" for v in checks.values())
        return {"status": "ready" if ok else "not ready", "checks": checks}, (200 if ok else 503)

    @app.get(f"{prefix}/metrics")
    def metrics_view():
        from .dead_letters import exposition as dead_letters  # counted from the database: the workers write it

        body = generate_latest(exposition_registry(metrics.registry)) + dead_letters(current_app.extensions["kinerja"])
        return Response(body, mimetype=CONTENT_TYPE_LATEST)

    return metrics
