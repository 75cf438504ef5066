"""Two small gaps of issue 14's abuse limits:

- a portal session longer than the longest token the services accept (``PORTAL_SESSION_MINUTES`` ×
  60 > ``JWT_MAX_TTL``) is refused when the portal starts — before, the development login minted a
  token the services refused (401 ``auth.lifetime``), and every page sent the person back to the login;
- a read-model rebuild fed a well-formed page whose items lack fields answers 502 problem+json
  ``readmodel.incomplete`` and changes nothing — before, a ``KeyError`` (reviews) or the bus's
  ``Reject`` (notifications) was a 500 halfway through."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import import_module

import pytest
from sqlalchemy import func, inspect, select, table

from services.common.auth import issue_token
from services.common.config import Config, ConfigError
from services.portal.settings import PortalSettings
from tests import figures

PROBLEM = "application/problem+json"


# ---------------------------------------------------------------- the portal's session and the tokens


def test_a_session_longer_than_the_longest_token_is_refused_at_start(tmp_path):
    env = {"KINERJA_VAR": str(tmp_path), "PORTAL_SESSION_MINUTES": "1500"}  # 25 h > 24 h
    with pytest.raises(ConfigError, match="PORTAL_SESSION_MINUTES.*JWT_MAX_TTL"):
        PortalSettings.from_env(env)
    with pytest.raises(ConfigError, match="PORTAL_SESSION_MINUTES"):
        PortalSettings.from_env({**env, "PORTAL_SESSION_MINUTES": "61", "JWT_MAX_TTL": "3600"})
    assert PortalSettings.from_env({**env, "PORTAL_SESSION_MINUTES": "60", "JWT_MAX_TTL": "3600"}).session_minutes == 60
    assert PortalSettings.from_env({"KINERJA_VAR": str(tmp_path)}).session_minutes == 480  # the defaults agree
    figures.record("limits", "portal session longer than JWT_MAX_TTL", configurations=2, refused_at_start=2)


# ---------------------------------------------------------------- a rebuild fed pages lacking fields


class _Plans:
    """A stand-in for the plans API: each path (without its query) answers its page; others an empty one."""

    def __init__(self):
        self.replies: dict[str, object] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                reply = outer.replies.get(self.path.partition("?")[0], {"items": [], "next_cursor": None})
                body = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def page(*items):
    return {"items": list(items), "next_cursor": None}


P = "/plans/api/v1"
UNIT = {"id": 1, "agency_code": "PKMB", "code": "DINKES", "name": "Dinas Kesehatan", "parent_code": None}
EMPLOYEE = {"nip": "198001012006041001", "agency_code": "PKMB", "name": "Sari", "position": "Perawat"}
EMPLOYEE |= {
    "grade": "III/a",
    "unit_code": "DINKES",
    "unit_name": "Dinas Kesehatan",
    "superior_nip": None,
    "active": True,
}
CYCLE = {
    "id": 7,
    "agency_code": "PKMB",
    "year": 2026,
    "name": "Periode 2026",
    "period_type": "annual",
    "stage": "planning",
}
CYCLE["periods"] = [{"seq": 1, "name_id": "Tahunan", "start": "2026-01-01", "end": "2026-12-31"}]
PLAN = {"id": 3, "revision": 1}
PLAN_FULL = {"employee_nip": EMPLOYEE["nip"], "penilai_nip": None, "unit_id": 1, "status": "approved"}
PLAN_FULL |= {"is_head_of_unit": False}
SNAPSHOT = {"snapshot": {"approach": "kuantitatif", "rhk": [], "behaviour": []}}


def _without(d: dict, key: str) -> dict:
    return {k: v for k, v in d.items() if k != key}


CASES = {
    "notifications": {
        "a unit without its code": {f"{P}/units": page(_without(UNIT, "code"))},
        "a person without an agency": {
            f"{P}/units": page(UNIT),
            f"{P}/employees": page(_without(EMPLOYEE, "agency_code")),
        },
    },
    "reviews": {
        "a unit without its name": {f"{P}/units": page(_without(UNIT, "name"))},
        "a person without a position": {
            f"{P}/units": page(UNIT),
            f"{P}/employees": page(_without(EMPLOYEE, "position")),
        },
        "a cycle without its periods": {
            f"{P}/units": page(UNIT),
            f"{P}/employees": page(EMPLOYEE),
            f"{P}/cycles": page(_without(CYCLE, "periods")),
        },
        "a plan's version without its snapshot": {
            f"{P}/units": page(UNIT),
            f"{P}/employees": page(EMPLOYEE),
            f"{P}/cycles": page(CYCLE),
            f"{P}/plans": page(PLAN),
            f"{P}/plans/3": PLAN_FULL,
            f"{P}/plans/3/versions/1": {"revision": 1},
        },
        "a realisation without its evidence": {
            f"{P}/units": page(UNIT),
            f"{P}/employees": page(EMPLOYEE),
            f"{P}/cycles": page(CYCLE),
            f"{P}/plans": page(PLAN),
            f"{P}/plans/3": PLAN_FULL,
            f"{P}/plans/3/versions/1": SNAPSHOT,
            f"{P}/plans/3/realisations": [{"id": 9, "plan_id": 3, "iki_id": 1, "period_seq": 1, "value": 5}],
        },
    },
}


def _counts(app) -> dict:
    engine = app.extensions["kinerja"].engine
    names = [n for n in inspect(engine).get_table_names() if n not in ("idempotency_keys",)]
    with engine.connect() as conn:
        return {n: conn.scalar(select(func.count()).select_from(table(n))) for n in names}


@pytest.mark.parametrize("service", ["notifications", "reviews"])
def test_a_rebuild_fed_pages_lacking_fields_is_a_502_and_changes_nothing(tmp_path, service):
    stub = _Plans()
    config = Config.from_env(service, env={"KINERJA_VAR": str(tmp_path)}, testing=True)
    config.extra["plans_url"] = stub.url
    app = import_module(f"services.{service}.app").create_app(config)
    try:
        client = app.test_client()
        token = issue_token(app.extensions["kinerja"].config.jwt_secret, roles=["hr"], agency="PKMB")
        headers = {"Authorization": f"Bearer {token}"}
        before, answers = _counts(app), []
        for what, replies in CASES[service].items():
            stub.replies = replies
            r = client.post(f"/{service}/api/v1/read-model/rebuild", headers=headers)
            answers.append(r.status_code)
            assert r.status_code == 502, (what, r.status_code, r.get_data(as_text=True)[:300])
            body = r.get_json()
            assert r.mimetype == PROBLEM and body["code"] == "readmodel.incomplete", what
            assert body["path"].startswith(P) and "tidak lengkap" in body["detail"], (what, body)
            assert _counts(app) == before, what  # what was copied before the gap is rolled back
        figures.record(
            "limits",
            f"{service} read-model rebuild fed pages lacking fields",
            cases=len(CASES[service]),
            answered_502=answers.count(502),
            rows_changed=0,
        )
        stub.replies = CASES[service][next(iter(CASES[service]))] | {f"{P}/units": page(UNIT)}
        assert client.post(f"/{service}/api/v1/read-model/rebuild", headers=headers).status_code == 200
    finally:
        stub.close()
        app.extensions["kinerja"].engine.dispose()
