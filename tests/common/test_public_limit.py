"""Every endpoint that needs no login is limited per client address in the apps themselves (issue 14,
Deliver 5), whatever the gateway does: the public operations each service's OpenAPI marks
``security: []``, its OpenAPI documents, the public survey form, the portal's sign-in pages and the
development identity provider's ``/authorize`` and ``/token``. The request past the limit gets 429
problem+json with Retry-After and the catalogue's message (Bahasa Indonesia first); a signed-in
request, the probes and another address are not refused; the next minute admits again."""

from __future__ import annotations

import time

import pytest
from werkzeug.test import Client

from kinerja.devidp import IdpSettings
from kinerja.devidp import create_app as create_idp
from kinerja.embedded import Embedded
from services.common.auth import issue_token
from services.portal.auth import User
from tests import figures
from tests.plans.support import FakeClock

LIMIT = 5
SERVICES = ("plans", "reviews", "surveys", "notifications")
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def emb(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("public_limit")
    clock = FakeClock()
    e = Embedded(env={"KINERJA_VAR": str(tmp), "PUBLIC_RATE_PER_MINUTE": str(LIMIT)}, clock=clock)
    e.clock = clock
    yield e
    e.close()


def _token(emb, **claims) -> dict:
    secret = emb.platform("plans").config.jwt_secret
    return {"Authorization": f"Bearer {issue_token(secret, **claims)}"}


def public_endpoints(emb) -> list[tuple[str, str]]:
    """``(method, path)`` of everything that needs no login: the operations each service's OpenAPI
    marks ``security: []`` (path parameters filled in), its OpenAPI documents, the survey form, the
    portal's sign-in pages."""
    found = []
    client = Client(emb.wsgi)
    hr = _token(emb, roles=["hr"], agency="PKMB")  # signed in: reading the documents is not counted
    for service in SERVICES:
        spec = client.get(f"/{service}/openapi.json", headers=hr).get_json()
        for path, ops in spec["paths"].items():
            for method, op in ops.items():
                if isinstance(op, dict) and op.get("security") == []:
                    filled = path.replace("{slug}", "tidak-ada").replace("{campaign_id}", "1")
                    found.append((method.upper(), filled))
        found += [("GET", f"/{service}/openapi.json"), ("GET", f"/{service}/docs")]
    found += [("GET", "/surveys/s/tidak-ada"), ("POST", "/surveys/s/tidak-ada")]
    found += [("GET", "/surveys/results/PKMB"), ("GET", "/surveys/results/PKMB/1")]  # the published results
    found += [("GET", "/login"), ("POST", "/login"), ("GET", "/auth/callback"), ("GET", "/")]
    return found


def _send(client, method, path, address, **kw):
    return client.open(path, method=method, environ_base={"REMOTE_ADDR": address}, **kw)


def test_every_endpoint_without_a_login_is_limited_per_address(emb):
    client = Client(emb.wsgi)
    endpoints = public_endpoints(emb)
    # the kiosk API and the sample-size calculator are among them: the OpenAPI is read, not retyped
    assert ("POST", "/surveys/api/v1/public/tidak-ada/responses") in endpoints
    assert ("GET", "/surveys/api/v1/sample-size") in endpoints
    sent = refused = 0
    for i, (method, path) in enumerate(endpoints):
        address = f"10.14.5.{i + 1}"
        answers = [_send(client, method, path, address).status_code for _ in range(LIMIT + 1)]
        sent += len(answers)
        refused += answers.count(429)
        assert 429 not in answers[:LIMIT], (method, path, answers)
        assert answers[LIMIT] == 429, (method, path, answers)
    figures.record(
        "limits",
        "apps: requests without a login, per address",
        limit=LIMIT,
        endpoints=len(endpoints),
        sent=sent,
        refused=refused,
    )
    assert refused == len(endpoints)


def test_the_refusal_says_why_and_when_in_both_languages(emb):
    client = Client(emb.wsgi)
    address = "10.14.6.1"
    path = "/surveys/api/v1/sample-size?population=1000"
    for _ in range(LIMIT):
        assert _send(client, "GET", path, address).status_code == 200
    r = _send(client, "GET", path, address)
    assert r.status_code == 429 and r.mimetype == PROBLEM
    body = r.get_json()
    assert body["code"] == "http.rate_limited" and body["limit"] == LIMIT and body["status"] == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 60 and body["retry_after"] == int(r.headers["Retry-After"])
    assert "Terlalu banyak permintaan" in body["detail"] and f"batas {LIMIT} per menit" in body["detail"]
    en = _send(client, "GET", path, address, headers={"Accept-Language": "en"}).get_json()
    assert en["detail"].startswith("Too many requests") and en["title"] == "Too many requests"


def test_signed_in_requests_probes_and_other_addresses_are_not_refused(emb):
    client = Client(emb.wsgi)
    address = "10.14.7.1"
    for _ in range(LIMIT + 1):
        _send(client, "GET", "/plans/openapi.json", address)
    assert _send(client, "GET", "/plans/openapi.json", address).status_code == 429
    hr = _token(emb, roles=["hr"], agency="PKMB")
    signed_in = [_send(client, "GET", "/plans/openapi.json", address, headers=hr).status_code for _ in range(3 * LIMIT)]
    signed_in += [
        _send(client, "GET", "/plans/api/v1/units", address, headers=hr).status_code for _ in range(3 * LIMIT)
    ]
    assert set(signed_in) == {200}
    probes = [
        _send(client, "GET", f"/{s}/{p}", address).status_code
        for s in SERVICES
        for p in ("healthz", "readyz", "metrics")
        for _ in range(2 * LIMIT)
    ]
    probes += [_send(client, "GET", "/healthz", address).status_code for _ in range(2 * LIMIT)]  # the portal's
    assert set(probes) == {200}
    assert _send(client, "GET", "/plans/openapi.json", "10.14.7.2").status_code == 200
    figures.record(
        "limits",
        "apps: signed-in requests and probes past the limit",
        limit=LIMIT,
        sent=len(signed_in) + len(probes),
        refused=len(signed_in + probes) - (signed_in + probes).count(200),
    )
    emb.clock.advance(seconds=60)  # the next minute of the apps' clock
    assert _send(client, "GET", "/plans/openapi.json", address).status_code == 200


def test_a_signed_in_portal_user_is_not_counted(emb):
    portal = emb.wsgi.portal.extensions["portal"]
    token = _token(emb, roles=["hr"], agency="PKMB", sub="hr-PKMB")["Authorization"][7:]
    user = User(token, None, "HR PKMB", ("hr",), "PKMB", time.time() + 3600, "hr-PKMB")
    client = Client(emb.wsgi)
    client.set_cookie("kinerja_portal", portal.sessions.save(None, {"user": user.as_session()}))
    address = "10.14.8.1"
    answers = [_send(client, "GET", "/", address).status_code for _ in range(3 * LIMIT)]
    assert answers == [200] * (3 * LIMIT), answers
    client.delete_cookie("kinerja_portal")
    assert [_send(client, "GET", "/", address).status_code for _ in range(LIMIT + 1)][-1] == 429


def test_x_forwarded_for_counts_only_behind_a_trusted_proxy(tmp_path):
    """Without PROXY_HOPS a client cannot dodge the limit by sending another X-Forwarded-For each time;
    behind the gateway (PROXY_HOPS=1) the address it forwards is the one counted."""
    for hops, expected in (("0", [200] * LIMIT + [429] * 3), ("1", [200] * (LIMIT + 3))):
        env = {"KINERJA_VAR": str(tmp_path), "PUBLIC_RATE_PER_MINUTE": str(LIMIT), "PROXY_HOPS": hops}
        e = Embedded(env=env, clock=FakeClock(), services=("surveys",), portal=False)
        try:
            client = Client(e.wsgi)
            answers = [
                _send(
                    client,
                    "GET",
                    "/surveys/api/v1/sample-size?population=100",
                    "10.14.9.1",
                    headers={"X-Forwarded-For": f"203.0.113.{i}"},
                ).status_code
                for i in range(LIMIT + 3)
            ]
            assert answers == expected, (hops, answers)
        finally:
            e.close()


def test_the_development_identity_provider_limits_sign_in_and_token_guesses(tmp_path):
    settings = IdpSettings(tmp_path / "idp", "http://127.0.0.1:18999", public_rate_per_minute=LIMIT)
    client = create_idp(settings).test_client()
    env = {"REMOTE_ADDR": "10.14.10.1"}
    guesses = [
        client.post(
            "/token", data={"grant_type": "client_credentials"}, auth=("kinerja-flows", f"guess-{i}"), environ_base=env
        ).status_code
        for i in range(LIMIT + 3)
    ]
    assert guesses[:LIMIT] == [401] * LIMIT and guesses[LIMIT:] == [429] * 3, guesses
    r = client.get("/authorize", environ_base=env)
    assert r.status_code == 429 and r.mimetype == PROBLEM and r.headers["Retry-After"]
    assert client.get("/healthz", environ_base=env).status_code == 200
    assert client.get("/.well-known/openid-configuration", environ_base=env).status_code == 200
    figures.record(
        "limits",
        "development identity provider: secret guesses",
        limit=LIMIT,
        sent=len(guesses) + 1,
        refused=guesses.count(429) + 1,
    )
