"""What every request pays for, made cheaper without changing what it does (issue 17, api): the
access line and the request metrics."""

from __future__ import annotations

import io
import json
import logging
import time
from types import SimpleNamespace

import pytest
from sqlalchemy import MetaData

from services.common.app import create_service_app
from services.common.config import Config
from services.common.observability import JsonFormatter
from services.common.tables import define_platform_tables


def _app(tmp_path):
    md = MetaData()
    cfg = Config(service="demo", database_url=f"sqlite:///{tmp_path}/t.db", testing=True)
    models = SimpleNamespace(platform_tables=define_platform_tables(md))
    app = create_service_app(cfg, tmp_path, models, SimpleNamespace(PUBLISHES=[]), [], migrate=False)
    md.create_all(app.extensions["kinerja"].engine)
    return app


@pytest.fixture
def access_lines():
    """The JSON access lines of the ``demo`` service, as the production handler formats them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("kinerja.demo.access")
    logger.addHandler(handler)
    level, logger.level = logger.level, logging.INFO
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


# ---------------------------------------------------------------- the access line


def test_one_access_line_per_request_with_its_fields(tmp_path, access_lines):
    client = _app(tmp_path).test_client()
    ok = client.get("/demo/healthz", headers={"X-Request-ID": "rid-1"})
    refused = client.get("/demo/api/v1/anything")
    assert (ok.status_code, refused.status_code) == (200, 401)
    first, second = access_lines()
    assert set(first) >= {"time", "level", "logger", "message", "request_id", "traceparent", "service", "method"}
    assert (first["level"], first["logger"], first["message"]) == ("info", "kinerja.demo.access", "request")
    assert (first["service"], first["method"], first["path"], first["status"]) == ("demo", "GET", "/demo/healthz", 200)
    assert first["request_id"] == "rid-1" == ok.headers["X-Request-ID"]
    assert first["traceparent"] == ok.headers["traceparent"]
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] >= 0
    assert (second["path"], second["status"]) == ("/demo/api/v1/anything", 401)
    assert first["time"].endswith("Z") and len(first["time"]) == len("2026-12-06T22:00:00.000Z")


def test_the_access_logger_level_and_filters_still_decide(tmp_path, access_lines):
    client = _app(tmp_path).test_client()
    logger = logging.getLogger("kinerja.demo.access")
    logger.setLevel(logging.WARNING)
    client.get("/demo/healthz")
    assert access_lines() == []
    logger.setLevel(logging.INFO)

    class DropAll(logging.Filter):
        def filter(self, record):
            return False

    drop = DropAll()
    logger.addFilter(drop)
    try:
        client.get("/demo/healthz")
    finally:
        logger.removeFilter(drop)
    assert access_lines() == []
    client.get("/demo/healthz")
    assert len(access_lines()) == 1


def test_the_formatter_time_is_formattime_of_each_record():
    formatter = JsonFormatter()
    plain = logging.Formatter()
    base = int(time.time())
    for created in (base + 0.1, base + 0.9, base + 1.0, base + 1.5, base - 3600.2, base + 2.999):
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
        record.created, record.msecs = created, (created - int(created)) * 1000
        expected = plain.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z"
        assert json.loads(formatter.format(record))["time"] == expected


# ---------------------------------------------------------------- the request metrics


def test_requests_are_counted_per_method_endpoint_and_status(tmp_path):
    app = _app(tmp_path)
    client = app.test_client()
    for _ in range(3):
        client.get("/demo/healthz")
    client.get("/demo/api/v1/anything")
    client.get("/demo/api/v1/anything")
    registry = app.extensions["kinerja"].metrics.registry

    def count(endpoint, status):
        labels = {"service": "demo", "method": "GET", "endpoint": endpoint, "status": status}
        return registry.get_sample_value("kinerja_http_requests_total", labels)

    assert count("/demo/healthz", "200") == 3
    assert count("unmatched", "401") == 2
    seconds = registry.get_sample_value(
        "kinerja_http_request_seconds_count", {"service": "demo", "method": "GET", "endpoint": "/demo/healthz"}
    )
    assert seconds == 3
