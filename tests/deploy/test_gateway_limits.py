"""The gateway's abuse limits (deploy/gateway/kinerja.conf.template, as `make up` renders it): every
path that needs no login is in a location limited by the zone ``kinerja_public``, past which nginx
answers 429 application/problem+json with Retry-After; a request with a bearer token and the paths
that need a login are not limited by it. Run against a real nginx (Debian's nginx-light, as the
production-topology test uses) in front of a stand-in upstream."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kinerja import up_config
from tests import figures

from . import helpers as h

# what needs no login, each a path the gateway must limit (the apps' own list is checked against the
# OpenAPI in tests/common/test_public_limit.py)
PUBLIC = [
    *(f"/{s}/{doc}" for s in h.SERVICES for doc in ("openapi.json", "asyncapi.json", "docs")),
    "/surveys/s/loket-ktp",
    "/surveys/s/loket-ktp/thanks",
    "/surveys/api/v1/public/loket-ktp",
    "/surveys/api/v1/public/loket-ktp/responses",
    "/surveys/api/v1/sample-size",
    "/surveys/results/PKMB",
    "/surveys/results/PKMB/7",
    "/login",
    "/login/oidc",
    "/auth/callback",
]
SIGNED_IN = ["/plans/api/v1/units", "/surveys/api/v1/campaigns", "/", "/skp"]


def _locations(text: str) -> list[tuple[str, str, str]]:
    """``(modifier, path, body)`` of each location block (``=``, ``~``, or "" for a prefix)."""
    return [(m, p, b) for m, p, b in re.findall(r"location\s+(=|~\*?|)\s*(\S+)\s*\{([^}]*)\}", text)]


def _resolve(locations, path: str) -> str:
    """nginx's choice for ``path``: an exact match, else a matching regex, else the longest prefix."""
    for mod, loc, body in locations:
        if mod == "=" and loc == path:
            return body
    for mod, loc, body in locations:
        if mod.startswith("~") and re.search(loc, path):
            return body
    prefixes = [(loc, body) for mod, loc, body in locations if mod == "" and path.startswith(loc)]
    return max(prefixes, key=lambda lb: len(lb[0]))[1]


def test_every_public_path_is_limited_and_the_refusal_is_a_problem():
    text = h.GATEWAY_TEMPLATE.read_text(encoding="utf-8")
    zone = re.search(r"limit_req_zone\s+\$(\w+)\s+zone=kinerja_public:\d+m\s+rate=(\d+)r/m;", text)
    assert zone, "no limit_req_zone kinerja_public"
    assert re.search(rf"map\s+\$http_authorization\s+\${zone.group(1)}\s*\{{", text), "the key must skip bearer tokens"
    assert re.search(r"client_max_body_size\s+\d+m;", text)
    assert re.search(r"limit_req_status\s+429;", text) and re.search(r"error_page\s+429\s+@(\w+);", text)
    named = re.search(r"location\s+@too_many_requests\s*\{([^}]*)\}", text).group(1)
    assert "default_type application/problem+json;" in named and re.search(r"add_header\s+Retry-After\s+\d+", named)
    locations = _locations(text)
    for path in PUBLIC:
        assert "limit_req zone=kinerja_public" in _resolve(locations, path), path
    for path in SIGNED_IN:
        assert "limit_req" not in _resolve(locations, path), path


class _Upstream:
    """Every app behind the gateway: answers 200 JSON to anything."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                body = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gateway(tmp_path, monkeypatch):
    if not os.path.exists(up_config._nginx()) and not shutil.which("nginx"):
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("REQUIRE_SERVICES=1 but nginx is not installed (.ci/run installs nginx-light)")
        pytest.skip("nginx is not installed")
    upstream = _Upstream()
    monkeypatch.setattr(up_config, "ports", lambda: {app: upstream.port for app in up_config.OFFSETS})
    port = _free_port()
    up_config.render_gateway(tmp_path, port)  # runs nginx -t on it
    gw = tmp_path / "gateway"
    proc = subprocess.Popen(
        [up_config._nginx(), "-p", str(gw), "-c", str(gw / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "nginx did not start listening"
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        upstream.close()


def _get(conn, path, headers=None):
    conn.request("GET", path, headers=headers or {})
    r = conn.getresponse()
    return r.status, dict(r.getheaders()), r.read()


def test_the_gateway_refuses_a_burst_without_a_login_and_lets_tokens_through(gateway):
    conn = http.client.HTTPConnection("127.0.0.1", gateway, timeout=5)
    sent = 40
    answers = [_get(conn, "/surveys/api/v1/sample-size?population=100") for _ in range(sent)]
    statuses = [a[0] for a in answers]
    assert statuses[:20] == [200] * 20, statuses  # the burst
    refused = [a for a in answers if a[0] == 429]
    assert len(refused) >= sent - 21 - 10, statuses  # one more a second at most while these were sent
    _, headers, body = refused[0]
    assert headers["Content-Type"] == "application/problem+json" and int(headers["Retry-After"]) >= 1
    problem = json.loads(body)
    assert problem["status"] == 429 and problem["code"] == "http.rate_limited"
    assert problem["detail"].startswith("Terlalu banyak permintaan") and problem["title"] == "Terlalu banyak permintaan"
    _, _, body = _get(conn, "/login", {"Accept-Language": "en-US,en;q=0.9"})  # the same address, another public path
    assert json.loads(body)["detail"].startswith("Too many requests")
    with_token = [_get(conn, "/surveys/api/v1/sample-size", {"Authorization": "Bearer x"})[0] for _ in range(sent)]
    signed_in_paths = [_get(conn, "/plans/api/v1/units")[0] for _ in range(sent)]
    assert set(with_token) == {200} and set(signed_in_paths) == {200}
    figures.record(
        "limits",
        "gateway: public path, one address, no token",
        limit="60/min burst 20",
        sent=sent,
        refused=len(refused),
    )
    figures.record(
        "limits",
        "gateway: with a bearer token or a signed-in path",
        sent=2 * sent,
        refused=(with_token + signed_in_paths).count(429),
    )


def test_the_kubernetes_ingress_limits_the_same_paths():
    """deploy/k8s: a second Ingress holds every public path with ingress-nginx's per-address limit, to
    the same backend as the main Ingress would pick; the paths needing a login stay unlimited."""
    import yaml

    docs = [d for d in yaml.safe_load_all((h.K8S / "ingress.yaml").read_text(encoding="utf-8")) if d]
    ingresses = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Ingress"}
    public, main = ingresses["kinerja-public"], ingresses["kinerja"]
    notes = public["metadata"]["annotations"]
    assert int(notes["nginx.ingress.kubernetes.io/limit-rpm"]) == 60
    assert not any("snippet" in a for a in notes) and "limit" not in " ".join(main["metadata"]["annotations"])

    def routes(ingress):
        return [
            (p["path"], p["pathType"], p["backend"]["service"]["name"])
            for p in ingress["spec"]["rules"][0]["http"]["paths"]
        ]

    def pick(table, path):
        """The route the Ingress API gives ``path``: an Exact match, else the longest matching Prefix."""
        exact = [r for r in table if r[1] == "Exact" and r[0] == path]
        prefixes = [r for r in table if r[1] == "Prefix" and (path == r[0] or path.startswith(r[0].rstrip("/") + "/"))]
        return exact[0] if exact else max(prefixes, key=lambda r: len(r[0]), default=None)

    limited = routes(public)
    for path in PUBLIC:
        route = pick(limited, path)
        assert route, f"{path} is not limited by kinerja-public"
        assert pick(limited + routes(main), path) == route, f"{path}: a route of the main Ingress wins"
        assert route[2] == pick(routes(main), path)[2], f"{path}: limited, but sent to another app"
    for path in SIGNED_IN:
        assert pick(limited, path) is None, path
