"""The development identity provider of ``make up`` speaks OpenID Connect as a real one does:
discovery, JWKS, authorization code with PKCE (required), one-use codes, an ID token with the
request's nonce, client credentials for machine clients, userinfo — and refuses what a real
provider refuses."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from kinerja.devidp import IdpSettings, IdpStore, create_app
from services.common.config import ConfigError

ISSUER = "http://127.0.0.1:18190"
REDIRECT = "http://127.0.0.1:8080/auth/callback"


@pytest.fixture
def idp(tmp_path):
    settings = IdpSettings(tmp_path / "idp", ISSUER, "kinerja")
    store = IdpStore(settings.directory)
    store.put_client("kinerja-portal", "portal-secret", redirect_uris=[REDIRECT])
    store.put_client("kinerja-flows", "flows-secret", grant_types=["client_credentials"], roles=["hr"], agency="PKTD")
    store.put_user("hr.pktd", "rahasia-123", name="Admin SDM", roles=["hr"], agency="PKTD")
    store.put_user("siti", "sandi-456", name="Siti Aminah", roles=["employee"], agency="PKTD", nip="198004152005042002")
    app = create_app(settings)
    return app.test_client(), store


def verify(store: IdpStore, token: str, audience: str) -> dict:
    key = jwt.PyJWK(store.public_jwk()).key
    assert jwt.get_unverified_header(token)["kid"] == store.public_jwk()["kid"]
    return jwt.decode(token, key, algorithms=["RS256"], audience=audience, issuer=ISSUER)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize(client, challenge: str, **extra) -> dict:
    return {
        "client_id": "kinerja-portal",
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "openid profile",
        "state": "st-1",
        "nonce": "n-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }


def sign_in(client, params: dict, username="siti", password="sandi-456"):
    return client.post("/authorize", data={**params, "username": username, "password": password})


def test_discovery_names_the_endpoints_and_the_jwks_holds_the_signing_key(idp):
    client, store = idp
    meta = client.get("/.well-known/openid-configuration").get_json()
    assert meta["issuer"] == ISSUER and meta["jwks_uri"] == f"{ISSUER}/jwks.json"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    keys = client.get("/jwks.json").get_json()["keys"]
    assert keys == [store.public_jwk()] and keys[0]["alg"] == "RS256" and "d" not in keys[0]


def test_a_person_signs_in_with_pkce_and_gets_tokens_with_the_claims_kinerja_reads(idp):
    client, store = idp
    verifier, challenge = pkce()
    params = authorize(client, challenge)
    form = client.get("/authorize", query_string=params)
    assert form.status_code == 200 and 'name="code_challenge"' in form.text
    assert sign_in(client, params, password="salah").status_code == 401
    back = sign_in(client, params)
    assert back.status_code == 302
    query = parse_qs(urlsplit(back.location).query)
    assert back.location.startswith(REDIRECT + "?") and query["state"] == ["st-1"]
    code = query["code"][0]
    bad = client.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": "not-the-verifier",
        },
        auth=("kinerja-portal", "portal-secret"),
    )
    assert bad.status_code == 400 and bad.get_json()["error"] == "invalid_grant"
    # that code is spent; a new sign-in with the right verifier
    code = parse_qs(urlsplit(sign_in(client, params).location).query)["code"][0]
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    tokens = client.post("/token", data=body, auth=("kinerja-portal", "portal-secret"))
    assert tokens.status_code == 200 and tokens.headers["Cache-Control"] == "no-store"
    access = verify(store, tokens.get_json()["access_token"], "kinerja")
    assert (access["sub"], access["nip"], access["agency"], access["roles"]) == (
        "siti",
        "198004152005042002",
        "PKTD",
        ["employee"],
    )
    ident = verify(store, tokens.get_json()["id_token"], "kinerja-portal")
    assert ident["nonce"] == "n-1" and ident["name"] == "Siti Aminah"
    again = client.post("/token", data=body, auth=("kinerja-portal", "portal-secret"))
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"  # one use only
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {tokens.get_json()['access_token']}"})
    assert info.get_json() == {
        "sub": "siti",
        "name": "Siti Aminah",
        "nip": "198004152005042002",
        "agency": "PKTD",
        "roles": ["employee"],
    }


def test_requests_a_real_provider_refuses_are_refused(idp):
    client, _ = idp
    _, challenge = pkce()
    # an unregistered redirect: an error page, never a redirect to it
    r = client.get("/authorize", query_string=authorize(client, challenge, redirect_uri="https://evil.example/cb"))
    assert r.status_code == 400 and r.location is None
    # no PKCE: back to the client with the error
    r = client.get("/authorize", query_string=authorize(client, "", code_challenge_method=""))
    assert r.status_code == 302 and "error=invalid_request" in r.location and "state=st-1" in r.location
    # a wrong client secret, a grant the client may not use
    r = client.post("/token", data={"grant_type": "client_credentials"}, auth=("kinerja-flows", "wrong"))
    assert r.status_code == 401 and r.get_json()["error"] == "invalid_client"
    r = client.post("/token", data={"grant_type": "client_credentials"}, auth=("kinerja-portal", "portal-secret"))
    assert r.status_code == 400 and r.get_json()["error"] == "unauthorized_client"
    assert client.get("/userinfo", headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_a_machine_client_gets_a_token_by_client_credentials(idp):
    client, store = idp
    r = client.post("/token", data={"grant_type": "client_credentials"}, auth=("kinerja-flows", "flows-secret"))
    claims = verify(store, r.get_json()["access_token"], "kinerja")
    assert (claims["sub"], claims["roles"], claims["agency"]) == ("kinerja-flows", ["hr"], "PKTD")


def test_an_agency_client_gets_the_scopes_it_asks_for_among_its_own(idp):
    """Issue 16: a registered machine client has its allowed scopes; ``scope`` asks for a subset
    (all of them by default), a scope it may not have is ``invalid_scope``; the token carries them."""
    client, store = idp
    store.put_client(
        "bkd-tpp",
        "tpp-secret",
        grant_types=["client_credentials"],
        roles=["agency"],
        agency="PKTD",
        scopes=["results:read", "directory:read"],
    )
    auth = ("bkd-tpp", "tpp-secret")
    r = client.post("/token", data={"grant_type": "client_credentials"}, auth=auth)
    assert r.status_code == 200 and r.get_json()["scope"] == "results:read directory:read"
    claims = verify(store, r.get_json()["access_token"], "kinerja")
    assert (claims["sub"], claims["roles"], claims["agency"]) == ("bkd-tpp", ["agency"], "PKTD")
    assert claims["scope"] == "results:read directory:read" and "nip" not in claims
    r = client.post("/token", data={"grant_type": "client_credentials", "scope": "results:read"}, auth=auth)
    assert verify(store, r.get_json()["access_token"], "kinerja")["scope"] == "results:read"
    r = client.post("/token", data={"grant_type": "client_credentials", "scope": "results:read plans:read"}, auth=auth)
    body = r.get_json()
    assert r.status_code == 400 and body["error"] == "invalid_scope" and "plans:read" in body["error_description"]
    assert "access_token" not in body
    # the worker's client has no scopes: its token carries none (HR's role decides)
    r = client.post("/token", data={"grant_type": "client_credentials"}, auth=("kinerja-flows", "flows-secret"))
    assert "scope" not in verify(store, r.get_json()["access_token"], "kinerja")
    r = client.post(
        "/token",
        data={"grant_type": "client_credentials", "scope": "results:read"},
        auth=("kinerja-flows", "flows-secret"),
    )
    assert r.get_json()["error"] == "invalid_scope"
    supported = client.get("/.well-known/openid-configuration").get_json()["scopes_supported"]
    assert {"openid", "results:read", "directory:read", "plans:read", "webhooks:manage"} <= set(supported)
    with pytest.raises(ValueError, match="unknown scope"):
        store.put_client("x", "y", grant_types=["client_credentials"], roles=["agency"], scopes=["results:write"])


def test_the_key_is_made_once_private_and_kept(tmp_path):
    store = IdpStore(tmp_path / "idp")
    kid = store.public_jwk()["kid"]
    assert (store.key_path.stat().st_mode & 0o777) == 0o600
    assert IdpStore(tmp_path / "idp").public_jwk()["kid"] == kid


@pytest.mark.parametrize(
    "env, named",
    [
        ({}, "DEV_IDP_DIR"),
        ({"DEV_IDP_DIR": "/tmp/x"}, "DEV_IDP_ISSUER"),
        ({"DEV_IDP_DIR": "/tmp/x", "DEV_IDP_ISSUER": "https://login.example.go.id"}, "not on this machine"),
    ],
)
def test_it_is_never_on_by_accident(env, named):
    with pytest.raises(ConfigError, match=named):
        IdpSettings.from_env(env)


def test_the_sign_in_form_may_post_and_then_redirect_to_the_registered_callback_only(idp):
    client, _ = idp
    _, challenge = pkce()
    csp = client.get("/authorize", query_string=authorize(client, challenge)).headers["Content-Security-Policy"]
    assert "form-action 'self' http://127.0.0.1:8080" in csp  # Chromium checks the redirect after the POST too
    assert "evil" not in client.get(
        "/authorize", query_string=authorize(client, challenge, redirect_uri="https://evil.example/cb")
    ).headers.get("Content-Security-Policy", "")
