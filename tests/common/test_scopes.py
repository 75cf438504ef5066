"""Scopes of machine clients (issue 16): the ``scope`` claim, ``@accepts`` on an operation, the 403
that names the scopes a machine client lacks, and the OpenAPI's security requirements — on a
generic service of the platform, as every service uses them."""

from __future__ import annotations

import time
from types import SimpleNamespace

import jwt
import pytest
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import MetaData

from services.common.app import create_service_app
from services.common.auth import Principal, TokenVerifier, issue_token, parse_scopes
from services.common.config import Config
from services.common.errors import Problem
from services.common.scopes import accepts
from services.common.tables import define_platform_tables

PROBLEM = "application/problem+json"


def _app(tmp_path, **env):
    blp = Blueprint("probe", __name__, url_prefix="/demo/api/v1")

    @blp.route("/things")
    class Things(MethodView):
        @accepts("things:read", "things:audit")
        @blp.response(200)
        def get(self):
            return {"things": []}

        def post(self):  # declares no scope: no machine client may create
            return {"created": True}, 201

    @blp.route("/counts")
    class Counts(MethodView):
        @blp.response(200)
        @accepts("things:read")  # under flask-smorest's decorators as well as above them
        def get(self):
            return {"count": 0}

    md = MetaData()
    config = Config.from_env("demo", env={"DATABASE_URL": f"sqlite:///{tmp_path}/d.db", **env})
    models = SimpleNamespace(platform_tables=define_platform_tables(md))
    app = create_service_app(config, tmp_path, models, SimpleNamespace(PUBLISHES=[]), [blp], migrate=False)
    md.create_all(app.extensions["kinerja"].engine)
    return app


def _bearer(app, **kw) -> dict:
    return {"Authorization": "Bearer " + issue_token(app.extensions["kinerja"].config.jwt_secret, **kw)}


def test_the_scope_claim_is_a_space_separated_string_or_a_list():
    assert parse_scopes("results:read  plans:read") == {"results:read", "plans:read"}
    assert parse_scopes(["results:read", "plans:read"]) == {"results:read", "plans:read"}
    assert parse_scopes(None) == frozenset()
    for bad in (7, {"results:read": True}, ["results:read", 3]):
        with pytest.raises(Problem) as err:
            parse_scopes(bad)
        assert (err.value.status, err.value.code) == (401, "auth.invalid")


def test_a_token_gives_its_scopes_and_who_is_a_machine_client():
    verifier = TokenVerifier(Config.from_env("demo", env={}))
    secret = verifier.config.jwt_secret
    now = int(time.time())
    listed = jwt.encode(
        {"sub": "bkd", "roles": ["agency"], "agency": "PKMB", "scope": ["a:read", "b:write"], "exp": now + 60},
        secret,
        algorithm="HS256",
    )
    p = verifier.verify(listed)
    assert p.scopes == {"a:read", "b:write"} and p.is_machine and p.has_scope("b:write", "c")
    p = verifier.verify(issue_token(secret, sub="bkd", roles=["agency"], agency="PKMB", scope="a:read"))
    assert p.claims["scope"] == "a:read" and p.scopes == {"a:read"}
    assert not Principal("x", frozenset({"agency", "hr"})).is_machine
    assert not Principal("x", frozenset({"agency"}), nip="198503152010012003").is_machine
    assert not Principal("x", frozenset({"employee"})).is_machine


def test_a_machine_client_needs_one_of_the_operations_scopes(tmp_path):
    app = _app(tmp_path)
    c = app.test_client()
    machine = {"roles": ["agency"], "agency": "PKMB", "sub": "bkd-sync"}
    assert c.get("/demo/api/v1/things", headers=_bearer(app, **machine, scope="things:audit")).status_code == 200
    assert c.get("/demo/api/v1/counts", headers=_bearer(app, **machine, scope="other things:read")).status_code == 200

    r = c.get("/demo/api/v1/things", headers=_bearer(app, **machine, scope="other:read") | {"Accept-Language": "en"})
    body = r.get_json()
    assert r.status_code == 403 and r.mimetype == PROBLEM
    assert body["code"] == "auth.scope_missing" and body["scopes"] == ["things:read", "things:audit"]
    assert "things:read things:audit" in body["detail"] and body["instance"] == "/demo/api/v1/things"
    r = c.get("/demo/api/v1/things", headers=_bearer(app, **machine))  # no scope at all, in Bahasa Indonesia
    assert r.status_code == 403 and r.get_json()["scopes"] == ["things:read", "things:audit"]
    assert "scope yang membukanya: things:read things:audit" in r.get_json()["detail"]

    # an operation that declares none refuses every machine client, whatever it holds
    r = c.post("/demo/api/v1/things", headers=_bearer(app, **machine, scope="things:read things:audit"))
    assert r.status_code == 403 and r.get_json()["code"] == "auth.scope_missing" and r.get_json()["scopes"] == []
    # an unknown path is still a 404, not a refusal
    assert c.get("/demo/api/v1/nothing", headers=_bearer(app, **machine)).status_code == 404


def test_people_are_not_asked_for_scopes(tmp_path):
    app = _app(tmp_path)
    c = app.test_client()
    for who in (
        {"roles": ["hr"], "agency": "PKMB"},
        {"roles": ["employee"], "agency": "PKMB", "nip": "198503152010012003"},
        {"roles": ["agency", "hr"], "agency": "PKMB"},  # HR, even with the agency role
        {"roles": ["admin"]},
    ):
        assert c.get("/demo/api/v1/things", headers=_bearer(app, **who)).status_code == 200, who
        assert c.post("/demo/api/v1/things", headers=_bearer(app, **who, scope="nothing")).status_code == 201, who


def test_the_openapi_names_the_scopes_of_each_operation(tmp_path):
    spec = _app(tmp_path, JWT_ISSUER="http://127.0.0.1:9000").test_client().get("/demo/openapi.json").get_json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"]["scheme"] == "bearer"
    flow = schemes["clientCredentials"]["flows"]["clientCredentials"]
    assert schemes["clientCredentials"]["type"] == "oauth2"
    assert flow["tokenUrl"] == "http://127.0.0.1:9000/token"
    assert set(flow["scopes"]) == {"things:read", "things:audit"}
    assert "GET /demo/api/v1/counts" in flow["scopes"]["things:read"]
    paths = spec["paths"]
    assert paths["/demo/api/v1/things"]["get"]["security"] == [
        {"bearer": []},
        {"clientCredentials": ["things:read", "things:audit"]},
    ]
    assert paths["/demo/api/v1/counts"]["get"]["security"] == [{"bearer": []}, {"clientCredentials": ["things:read"]}]
    assert "security" not in paths["/demo/api/v1/things"]["post"]  # the default: bearer, people only
    assert spec["security"] == [{"bearer": []}]
    token_url = _app(tmp_path, OAUTH_TOKEN_URL="https://sso.example.go.id/realms/x/protocol/openid-connect/token")
    doc = token_url.test_client().get("/demo/openapi.json").get_json()
    assert doc["components"]["securitySchemes"]["clientCredentials"]["flows"]["clientCredentials"]["tokenUrl"] == (
        "https://sso.example.go.id/realms/x/protocol/openid-connect/token"
    )


def test_accepts_wants_scope_names():
    for bad in ((), ("",), ("a b",)):
        with pytest.raises(ValueError):
            accepts(*bad)
