"""What every service refuses before a view sees it: a streamed (chunked) body beyond the 1 MiB limit
— on a real HTTP server, since a test client sends no chunked body — and JSON it cannot store or
even parse (nested 1,000 deep, a 5,000-digit number, a lone surrogate, a NUL character): 4xx
problem+json, never a 500, and nothing changed."""

from __future__ import annotations

import http.client
import json
import os
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import import_module
from types import SimpleNamespace

import pytest
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import MetaData, func, inspect, select, table
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server
from werkzeug.test import Client

from kinerja.embedded import Embedded
from services.common.app import create_service_app
from services.common.auth import issue_token
from services.common.config import Config
from services.common.db import drop_database, ensure_database
from services.common.tables import define_platform_tables
from services.plans.app import create_app as create_plans_app
from services.reviews.app import create_app as create_reviews_app
from services.surveys.app import create_app as create_surveys_app
from tests.conftest import PG_URL, _reachable
from tests.plans.support import STAFF_A, FakeClock, Org, Tokens, seed
from tests.surveys.support import NOW, Surveys, questionnaire, seed_units

MiB = 1024 * 1024
PROBLEM = "application/problem+json"


# ---------------------------------------------------------------- a real HTTP server, a chunked body


class _Served:
    def __init__(self, app):
        self.httpd = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.httpd.server_port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def post_chunked(port: int, path: str, body: bytes, headers: dict, chunk: int = 64 * 1024):
    """POST ``body`` with Transfer-Encoding: chunked, sent from a thread while the answer is read (a
    server that answers early and stops reading must not leave the client stuck): (status,
    headers, body, seconds)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nTransfer-Encoding: chunked\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "Connection: close\r\n\r\n"

    def send():
        try:
            sock.sendall(head.encode())
            for i in range(0, len(body), chunk):
                part = body[i : i + chunk]
                sock.sendall(b"%x\r\n%s\r\n" % (len(part), part))
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed before the rest

    started = time.perf_counter()
    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        data = resp.read()
        return resp.status, dict(resp.getheaders()), data, time.perf_counter() - started
    finally:
        sock.close()


@pytest.fixture
def plans_server(tmp_path):
    app = create_plans_app(Config.from_env("plans", env={"KINERJA_VAR": str(tmp_path)}, testing=True))
    served = _Served(app)
    served.app = app
    yield served
    served.close()
    app.extensions["kinerja"].engine.dispose()


def test_an_8_mb_chunked_body_is_refused_at_the_limit_quickly(plans_server):
    secret = plans_server.app.extensions["kinerja"].config.jwt_secret
    token = issue_token(secret, roles=["employee"], agency="PKMB", nip=STAFF_A[0])
    body = json.dumps({"date": "2026-01-05", "activity": "x" * 8_000_000, "minutes": 90}).encode()
    status, headers, data, seconds = post_chunked(
        plans_server.port,
        "/plans/api/v1/daily-logs",
        body,
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept-Language": "en"},
    )
    assert status == 413, data[:300]
    assert headers["Content-Type"].startswith(PROBLEM)
    problem = json.loads(data)
    assert problem["code"] == "http.too_large" and problem["limit"] == MiB
    assert seconds < 2.0, f"{seconds:.2f} s to refuse an 8 MB chunked body"


def _generic_app(tmp_path):
    """A service with a JSON echo and an upload, to show what the platform does with each."""
    blp = Blueprint("probe", __name__, url_prefix="/demo/api/v1")

    @blp.route("/echo")
    class Echo(MethodView):
        def post(self):
            return {"items": len(request.get_json()["items"])}

    @blp.route("/upload")
    class Upload(MethodView):
        def post(self):
            return {"size": len(request.files["file"].read())}

    md = MetaData()
    config = Config.from_env("demo", env={"DATABASE_URL": f"sqlite:///{tmp_path}/d.db"})
    models = SimpleNamespace(platform_tables=define_platform_tables(md))
    app = create_service_app(config, tmp_path, models, SimpleNamespace(PUBLISHES=[]), [blp], migrate=False)
    md.create_all(app.extensions["kinerja"].engine)
    return app


def test_chunked_json_and_csv_hold_the_1_mib_limit_and_uploads_keep_theirs(tmp_path):
    app = _generic_app(tmp_path)
    served = _Served(app)
    auth = {"Authorization": "Bearer " + issue_token(app.extensions["kinerja"].config.jwt_secret, roles=["hr"])}
    try:
        small = json.dumps({"items": [{"n": i} for i in range(20_000)]}).encode()  # ~200 kB: passes
        status, _, data, _ = post_chunked(
            served.port, "/demo/api/v1/echo", small, auth | {"Content-Type": "application/json"}
        )
        assert (status, json.loads(data)) == (200, {"items": 20_000})
        big = json.dumps({"items": [{"n": i} for i in range(200_000)]}).encode()  # ~2.3 MB
        status, headers, data, _ = post_chunked(
            served.port, "/demo/api/v1/echo", big, auth | {"Content-Type": "application/json"}
        )
        assert status == 413 and headers["Content-Type"].startswith(PROBLEM)
        csv = b"nip,name\n" + b"198503152010012003,Nama\n" * 100_000  # ~2.5 MB
        status, _, data, _ = post_chunked(served.port, "/demo/api/v1/echo", csv, auth | {"Content-Type": "text/csv"})
        assert (status, json.loads(data)["code"]) == (413, "http.too_large")
        boundary = "kinerja-boundary"
        upload = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="bukti.pdf"\r\n'
                "Content-Type: application/pdf\r\n\r\n"
            ).encode()
            + b"%PDF"
            + b"\x00" * (3 * MiB)
            + f"\r\n--{boundary}--\r\n".encode()
        )
        status, _, data, _ = post_chunked(
            served.port,
            "/demo/api/v1/upload",
            upload,
            auth | {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert (status, json.loads(data)) == (200, {"size": 3 * MiB + 4})  # an evidence file: 10 MiB allowed
    finally:
        served.close()


# ---------------------------------------------------------------- JSON no service can take

DEEP = "[" * 1000 + "]" * 1000
BAD = {
    "nested 1,000 deep": (DEEP, 400, "http.json_depth", None),
    "a 5,000-digit number": ("1" + "0" * 5000, 422, "validation", "field.number_range"),
    "a lone surrogate": ('"Rapat \\ud800 koordinasi"', 422, "validation", "field.surrogate"),
    "a NUL character": ('"Rapat \\u0000 koordinasi"', 422, "validation", "field.nul"),
}
HOLE = "@@bad@@"


def _counts(app) -> dict:
    engine = app.extensions["kinerja"].engine
    names = [n for n in inspect(engine).get_table_names() if n not in ("idempotency_keys", "rate_counters")]
    with engine.connect() as conn:
        return {n: conn.scalar(select(func.count()).select_from(table(n))) for n in names}


def _assert_refused_and_nothing_changed(app, send, body: dict, field: str):
    """``send(raw_bytes)`` each bad value in place of ``HOLE`` in ``body``: 4xx problem+json naming
    what is wrong (and the field), and no row written."""
    template = json.dumps(body)
    assert f'"{HOLE}"' in template
    before = _counts(app)
    for what, (value, status, code, field_code) in BAD.items():
        r = send(template.replace(f'"{HOLE}"', value).encode())
        assert r.status_code == status, (what, r.status_code, r.get_data(as_text=True)[:300])
        assert r.mimetype == PROBLEM, what
        problem = r.get_json()
        assert problem["code"] == code, what
        if field_code:
            assert {(e["field"], e["code"]) for e in problem["errors"]} == {(field, field_code)}, what
        else:
            assert problem["limit"] == 32
    assert _counts(app) == before


def test_plans_daily_log_refuses_json_it_cannot_store(tmp_path):
    clock = FakeClock()
    app = create_plans_app(Config.from_env("plans", env={"KINERJA_VAR": str(tmp_path)}, testing=True), clock=clock)
    try:
        client = app.test_client()
        org = Org(app, client, Tokens(app.extensions["kinerja"].config.jwt_secret), clock)
        seed(org)
        headers = org.as_(STAFF_A[0]) | {"Content-Type": "application/json"}
        ok = client.post(
            "/plans/api/v1/daily-logs",
            headers=headers,
            data=b'{"date": "2026-01-05", "activity": "Rapat", "minutes": 30}',
        )
        assert ok.status_code == 201, ok.get_json()
        _assert_refused_and_nothing_changed(
            app,
            lambda raw: client.post("/plans/api/v1/daily-logs", headers=headers, data=raw),
            {"date": "2026-01-05", "activity": HOLE, "minutes": 30},
            "activity",
        )
        # in a key too, and the problem names it without the unencodable half
        raw = b'{"date": "2026-01-05", "activity": "Rapat", "minutes": 30, "catatan\\ud800": "a\\u0000"}'
        r = client.post("/plans/api/v1/daily-logs", headers=headers, data=raw)
        assert r.status_code == 422 and r.mimetype == PROBLEM
        errors = {(e["field"], e["code"]) for e in r.get_json()["errors"]}
        assert errors == {("body", "field.surrogate"), ("catatan?", "field.nul")}
        # in a query string too: a NUL in a filter
        r = client.get("/plans/api/v1/daily-logs?employee_nip=%00", headers=headers)
        assert (r.status_code, r.get_json()["errors"][0]["code"]) == (422, "field.nul")
    finally:
        app.extensions["kinerja"].engine.dispose()


def test_reviews_rules_refuse_json_it_cannot_store(tmp_path):
    app = create_reviews_app(Config.from_env("reviews", env={"KINERJA_VAR": str(tmp_path)}, testing=True))
    try:
        client = app.test_client()
        token = issue_token(app.extensions["kinerja"].config.jwt_secret, roles=["hr"], agency="PKMB")
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        rules = client.get("/reviews/api/v1/distribution-rules", headers=headers).get_json()["rules"]
        rules[0]["org_result"] = HOLE
        _assert_refused_and_nothing_changed(
            app,
            lambda raw: client.put("/reviews/api/v1/distribution-rules", headers=headers, data=raw),
            {"rules": rules},
            "rules[0].org_result",
        )
    finally:
        app.extensions["kinerja"].engine.dispose()


def test_surveys_kiosk_response_refuses_json_it_cannot_store(tmp_path):
    config = Config.from_env("surveys", env={"KINERJA_VAR": str(tmp_path)}, testing=True)
    app = create_surveys_app(config, clock=FakeClock(NOW))
    try:
        seed_units(app)  # a campaign names a unit the directory has
        sv = Surveys(app, app.test_client())
        campaign = sv.open()
        path = f"/surveys/api/v1/campaigns/{campaign['id']}/responses"
        headers = sv.kiosk | {"Content-Type": "application/json"}
        _assert_refused_and_nothing_changed(
            app,
            lambda raw: sv.client.post(path, headers=headers, data=raw),
            questionnaire(suggestion=HOLE),
            "suggestion",
        )
    finally:
        app.extensions["kinerja"].engine.dispose()


def test_notifications_preferences_refuse_json_they_cannot_store(tmp_path):
    emb = Embedded(env={"KINERJA_VAR": str(tmp_path)}, clock=FakeClock(), services=("plans", "notifications"))
    try:
        app = emb.apps["notifications"]
        client = Client(emb.wsgi)
        token = issue_token(
            app.extensions["kinerja"].config.jwt_secret, roles=["employee"], agency="PKMB", nip=STAFF_A[0]
        )
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        _assert_refused_and_nothing_changed(
            app,
            lambda raw: client.patch("/notifications/api/v1/preferences", headers=headers, data=raw),
            {"language": "id", "overrides": {"plan.*": [HOLE]}},
            "overrides.plan.*[0]",
        )
    finally:
        emb.close()


# ---------------------------------------------------------------- a read-model rebuild fed a broken page


class _PlansStub:
    """A stand-in for the plans API answering every GET with ``reply`` (bytes, sent as JSON)."""

    def __init__(self):
        self.reply = b"{}"
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(outer.reply)))
                self.end_headers()
                self.wfile.write(outer.reply)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


BROKEN_PAGES = {
    "cut short": b'{"items": [{"code": "U1", "na',
    "a list, not a page": b'[{"code": "U1"}]',
    "items not a list": b'{"items": {"code": "U1"}}',
    "items not objects": b'{"items": ["U1", "U2"]}',
    "a cursor not a string": b'{"items": [], "next_cursor": 7}',
    "the same cursor again and again": b'{"items": [], "next_cursor": "abc"}',
}


@pytest.mark.parametrize("service", ["notifications", "reviews"])
def test_a_rebuild_fed_a_broken_page_is_a_503_not_a_500(tmp_path, service):
    stub = _PlansStub()
    config = Config.from_env(service, env={"KINERJA_VAR": str(tmp_path)}, testing=True)
    config.extra["plans_url"] = stub.url
    app = import_module(f"services.{service}.app").create_app(config)
    try:
        client = app.test_client()
        token = issue_token(app.extensions["kinerja"].config.jwt_secret, roles=["hr"], agency="PKMB")
        before = _counts(app)
        for what, reply in BROKEN_PAGES.items():
            stub.reply = reply
            r = client.post(f"/{service}/api/v1/read-model/rebuild", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 503, (what, r.status_code, r.get_data(as_text=True)[:300])
            assert r.mimetype == PROBLEM and r.get_json()["code"] == "readmodel.plans_unreachable", what
        assert _counts(app) == before
    finally:
        stub.close()
        app.extensions["kinerja"].engine.dispose()


# ---------------------------------------------------------------- PostgreSQL, which stores no NUL


@pytest.fixture
def k14_postgres():
    """A PostgreSQL database of this test's own (``k14_9_…``), dropped afterwards."""
    if not _reachable("127.0.0.1", 5432):
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("REQUIRE_SERVICES=1 but PostgreSQL is not reachable at 127.0.0.1:5432")
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432")
    url = make_url(PG_URL).set(database=f"k14_9_{uuid.uuid4().hex[:10]}").render_as_string(hide_password=False)
    ensure_database(url)
    yield url
    drop_database(url)


def test_a_nul_character_is_a_422_on_postgresql_and_nothing_is_written(tmp_path, k14_postgres):
    clock = FakeClock()
    env = {"KINERJA_VAR": str(tmp_path), "PLANS_DATABASE_URL": k14_postgres}
    app = create_plans_app(Config.from_env("plans", env=env, testing=True), clock=clock)
    try:
        client = app.test_client()
        org = Org(app, client, Tokens(app.extensions["kinerja"].config.jwt_secret), clock)
        seed(org)
        headers = org.as_(STAFF_A[0])
        before = _counts(app)
        for body in (
            {"date": "2026-01-05", "activity": "Rapat \u0000 koordinasi", "minutes": 30},
            {"date": "2026-01-05", "activity": "Rapat koordinasi", "minutes": 30, "note\u0000": "x"},
        ):
            r = client.post("/plans/api/v1/daily-logs", headers=headers, json=body)
            assert r.status_code == 422, r.get_data(as_text=True)[:300]
            assert r.mimetype == PROBLEM and r.get_json()["errors"][0]["code"] == "field.nul"
        assert _counts(app) == before
        r = client.post(
            "/plans/api/v1/daily-logs", headers=headers, json={"date": "2026-01-05", "activity": "Rapat", "minutes": 30}
        )
        assert r.status_code == 201, r.get_json()
    finally:
        app.extensions["kinerja"].engine.dispose()
