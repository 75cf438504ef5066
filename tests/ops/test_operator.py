"""What an operator meets running the production wiring: a missing or wrong variable stops a
process at start with a message naming it (never a traceback), ``kinerja token`` in production
only with the development provider, the gateway's forwarded headers honoured, JSON access logs and
one set of Prometheus counters for all of a gunicorn server's workers."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import jwt
import pytest
from click.testing import CliRunner
from flask import request

from kinerja.cli import main
from kinerja.devidp import IdpStore
from services.common.config import Config, ConfigError

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
PRODUCTION = {
    "KINERJA_MODE": "production",
    "JWT_JWKS_URL": "http://127.0.0.1:1/jwks.json",
    "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres",
    "BROKER_URL": "amqp://guest:guest@127.0.0.1//",
}


@pytest.mark.parametrize(
    "env, named",
    [
        ({"PROXY_HOPS": "one"}, "PROXY_HOPS must be a whole number"),
        ({"MAX_CONTENT_LENGTH": "1MB"}, "MAX_CONTENT_LENGTH"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL must be"),
        ({"KINERJA_MODE": "prod"}, "KINERJA_MODE"),
        ({"KINERJA_MODE": "production"}, "set JWT_JWKS_URL"),
        ({**PRODUCTION, "DATABASE_URL": ""}, "set DATABASE_URL"),
        ({**PRODUCTION, "BROKER_URL": ""}, "set BROKER_URL"),
    ],
)
def test_a_wrong_setting_names_the_variable(env, named):
    with pytest.raises(ConfigError, match=named):
        Config.from_env("plans", env=env)


def test_a_worker_without_its_secret_stops_with_the_variable_named(monkeypatch):
    for k, v in PRODUCTION.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("SURVEYS_FORM_SECRET", raising=False)
    out = CliRunner().invoke(main, ["worker", "--service", "surveys"])
    assert out.exit_code == 1 and "set SURVEYS_FORM_SECRET" in out.output
    assert "Traceback" not in out.output
    out = CliRunner().invoke(main, ["worker", "--service", "billing"])
    assert out.exit_code == 2 and "'billing' is not one of" in out.output


def test_gunicorn_stops_at_start_naming_the_missing_variable(tmp_path):
    done = subprocess.run(
        [GUNICORN, "-c", "python:kinerja.gunicorn_conf", "services.surveys.app:create_app()"],
        env={
            **os.environ,
            "KINERJA_MODE": "production",
            "BIND": "127.0.0.1:0",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert "production mode verifies RS256 tokens: set JWT_JWKS_URL" in done.stderr
    assert "Traceback" not in done.stderr


def test_token_in_production_needs_the_development_provider_and_then_signs_rs256(monkeypatch, tmp_path):
    for k, v in PRODUCTION.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("JWT_AUDIENCE", "kinerja")
    monkeypatch.delenv("DEV_IDP_DIR", raising=False)
    refused = CliRunner().invoke(main, ["token", "--role", "hr", "--agency", "PKTD"])
    assert refused.exit_code == 1 and "identity provider" in refused.output
    monkeypatch.setenv("DEV_IDP_DIR", str(tmp_path / "idp"))
    monkeypatch.setenv("DEV_IDP_ISSUER", "http://127.0.0.1:18190")
    out = CliRunner().invoke(main, ["token", "--role", "hr", "--agency", "PKTD"])
    assert out.exit_code == 0, out.output
    token = out.output.strip()
    claims = jwt.decode(
        token,
        jwt.PyJWK(IdpStore(tmp_path / "idp").public_jwk()).key,
        algorithms=["RS256"],
        audience="kinerja",
        issuer="http://127.0.0.1:18190",
    )
    assert claims["roles"] == ["hr"] and claims["agency"] == "PKTD"
    assert jwt.get_unverified_header(token)["alg"] == "RS256"


def test_behind_the_gateway_the_app_sees_the_client_scheme_host_and_port(tmp_path):
    from services.plans.app import create_app

    app = create_app(Config.from_env("plans", env={"KINERJA_VAR": str(tmp_path), "PROXY_HOPS": "1"}))
    app.add_url_rule("/plans/_seen", "seen", lambda: {"root": request.url_root, "client": request.remote_addr})
    seen = (
        app.test_client()
        .get(
            "/plans/_seen",
            headers={
                "X-Forwarded-Proto": "https",
                "X-Forwarded-Host": "kinerja.example.go.id:8443",
                "X-Forwarded-For": "203.0.113.9, 10.0.0.5",
            },
        )
        .get_json()
    )
    assert seen == {"root": "https://kinerja.example.go.id:8443/", "client": "10.0.0.5"}  # one hop trusted
    plain = create_app(Config.from_env("plans", env={"KINERJA_VAR": str(tmp_path / "b")}))
    plain.add_url_rule("/plans/_seen", "seen", lambda: {"root": request.url_root})
    assert plain.test_client().get("/plans/_seen", headers={"X-Forwarded-Host": "evil.example"}).get_json() == {
        "root": "http://localhost/"
    }  # without PROXY_HOPS the headers are not believed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_under_gunicorn_access_lines_are_json_and_metrics_count_every_worker(tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "KINERJA_VAR": str(tmp_path / "var"),
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "3",
        "THREADS": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    log = open(tmp_path / "server.log", "w")
    server = subprocess.Popen(
        [GUNICORN, "-c", "python:kinerja.gunicorn_conf", "services.plans.app:create_app()"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/plans/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        for _ in range(30):  # new connections, so the workers share them
            with httpx.Client() as c:
                r = c.get(f"{url}/plans/readyz", headers={"X-Request-ID": "req-abc"})
                assert r.status_code == 200 and r.headers["X-Request-ID"] == "req-abc"
        metrics = httpx.get(f"{url}/plans/metrics", timeout=5).text
        counted = sum(
            float(v)
            for v in re.findall(
                r'kinerja_http_requests_total\{[^}]*endpoint="/plans/readyz"[^}]*status="200"[^}]*\} ([0-9.e+]+)',
                metrics,
            )
        )
        assert counted == 30, metrics[:2000]
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    lines = [json.loads(line) for line in (tmp_path / "server.log").read_text().splitlines() if line.startswith("{")]
    ready = [e for e in lines if e.get("path") == "/plans/readyz"]
    assert len(ready) == 30 and all(e["request_id"] == "req-abc" and e["status"] == 200 for e in ready)
    pids = {p.name.split("_")[-1] for p in (tmp_path / "metrics").glob("*.db")}
    assert len(pids) >= 2, "the requests were not spread over several workers"


def test_make_up_without_the_servers_says_which_is_missing_and_starts_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("KINERJA_UP_DIR", str(tmp_path / "up"))
    monkeypatch.setenv("UP_POSTGRES_URL", f"postgresql://postgres@127.0.0.1:{_free_port()}/postgres")
    monkeypatch.setenv("UP_RABBITMQ_URL", f"amqp://guest:guest@127.0.0.1:{_free_port()}/")
    monkeypatch.setenv("UP_PORT", str(_free_port()))
    monkeypatch.setenv("UP_PORT_BASE", str(_free_port() // 2))
    out = CliRunner().invoke(main, ["up"])
    assert out.exit_code == 1, out.output
    assert "PostgreSQL is not answering" in out.output and "RabbitMQ is not answering" in out.output
    assert "Traceback" not in out.output
    assert not list((tmp_path / "up").glob("run/*.pid"))  # nothing started
    done = CliRunner().invoke(main, ["down"])
    assert done.exit_code == 0 and "nothing" in done.output


@pytest.mark.parametrize(
    "service, env, named",
    [
        ("reviews", {"REVIEWS_OBJECTION_DAYS": "two weeks"}, "REVIEWS_OBJECTION_DAYS"),
        ("reviews", {"REVIEWS_REQUIRE_SELF_ASSESSMENT": "perhaps"}, "REVIEWS_REQUIRE_SELF_ASSESSMENT"),
        ("notifications", {"NOTIFICATIONS_RETRY_DELAYS": "60,soon"}, "NOTIFICATIONS_RETRY_DELAYS"),
        ("notifications", {"WEBHOOK_TIMEOUT": "ten"}, "WEBHOOK_TIMEOUT"),
    ],
)
def test_a_service_setting_with_a_wrong_value_names_its_variable(service, env, named):
    import importlib

    from services.common.config import load_settings

    settings_cls = importlib.import_module(f"services.{service}.settings").Settings
    with pytest.raises(ConfigError, match=named):
        load_settings(settings_cls, env)
    assert load_settings(settings_cls, {}) == settings_cls()  # nothing set: the defaults


def test_service_settings_are_typed_and_read_once():
    from services.common.config import load_settings
    from services.notifications.settings import Settings as NotificationSettings
    from services.reviews.settings import Settings as ReviewSettings

    r = load_settings(ReviewSettings, {"REVIEWS_OBJECTION_DAYS": "21", "REVIEWS_REQUIRE_SELF_ASSESSMENT": "yes"})
    assert (r.objection_days, r.require_self_assessment, r.suggest_threshold) == (21, True, 0.05)
    n = load_settings(
        NotificationSettings,
        {"NOTIFICATIONS_RETRY_DELAYS": "30, 90", "SMTP_URL": ""},
        overrides={"webhook_allow_private": True},
    )
    assert (n.email_retry_delays, n.smtp_url, n.webhook_allow_private) == ((30, 90), None, True)
