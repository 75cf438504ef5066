"""Production sign-in through OpenID Connect, against a local fake identity provider that speaks
the protocol (discovery, authorization code with PKCE, token endpoint, JWKS, RS256 ID token).

The fake hands out, as the access token, a token the embedded services accept (HS256 with the
embedded secret): in production the provider's RS256 access token is verified by the services
against JWT_JWKS_URL; what is tested here is the portal's side of the exchange."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from urllib.parse import urlencode, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify, redirect, request
from werkzeug.serving import make_server

from services.common.auth import issue_token
from services.portal.app import create_app
from services.portal.settings import PortalSettings
from tests.plans.support import STAFF_A
from tests.portal.support import text

CLIENT_ID, CLIENT_SECRET = "kinerja-portal", "portal-secret"


class FakeIdP:
    def __init__(self, access_token_for):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.codes: dict[str, dict] = {}
        self.access_token_for = access_token_for
        app = Flask("fake-idp")
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))

        @app.get("/.well-known/openid-configuration")
        def metadata():
            return jsonify(
                issuer=self.url,
                authorization_endpoint=f"{self.url}/authorize",
                token_endpoint=f"{self.url}/token",
                jwks_uri=f"{self.url}/jwks",
                response_types_supported=["code"],
                id_token_signing_alg_values_supported=["RS256"],
                code_challenge_methods_supported=["S256"],
            )

        @app.get("/jwks")
        def jwks():
            return jsonify(keys=[{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}])

        @app.get("/authorize")
        def authorize():
            a = request.args
            assert a["client_id"] == CLIENT_ID and a["response_type"] == "code"
            assert a["code_challenge_method"] == "S256"
            code = secrets.token_urlsafe(8)
            self.codes[code] = dict(a)
            return redirect(f"{a['redirect_uri']}?{urlencode({'code': code, 'state': a['state']})}")

        @app.post("/token")
        def token():
            f = request.form
            grant = self.codes.pop(f.get("code", ""), None)
            if grant is None:
                return jsonify(error="invalid_grant"), 400
            digest = base64.urlsafe_b64encode(hashlib.sha256(f["code_verifier"].encode()).digest()).rstrip(b"=")
            if digest.decode() != grant["code_challenge"]:
                return jsonify(error="invalid_grant", error_description="PKCE"), 400
            now = int(time.time())
            id_token = jwt.encode(
                {
                    "iss": self.url,
                    "aud": CLIENT_ID,
                    "sub": STAFF_A[0],
                    "nonce": grant.get("nonce"),
                    "name": "Rina Wati",
                    "iat": now,
                    "exp": now + 600,
                },
                self.key,
                algorithm="RS256",
                headers={"kid": "k1"},
            )
            return jsonify(
                access_token=self.access_token_for(STAFF_A[0]), token_type="Bearer", expires_in=3600, id_token=id_token
            )

        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def idp(stack):
    secret = stack.emb.platform("plans").config.jwt_secret
    fake = FakeIdP(lambda nip: issue_token(secret, roles=["employee"], agency="PKMB", nip=nip, sub=nip))
    yield fake
    fake.close()


def _portal(stack, idp):
    settings = PortalSettings(
        dev_login=False,
        oidc_metadata_url=f"{idp.url}/.well-known/openid-configuration",
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        secret_key="k" * 48,
        database_url=stack.emb.wsgi.portal.extensions["portal"].settings.database_url,  # the stack's var/
    )
    return create_app(settings, wsgi=stack.emb.wsgi, clock=stack.clock)


def test_sign_in_with_the_identity_provider_and_return_to_the_page(stack, idp):
    client = _portal(stack, idp).test_client()
    resp = client.get("/inbox")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login?next=/inbox")
    resp = client.get(resp.headers["Location"])
    assert resp.headers["Location"].startswith("/login/oidc")
    resp = client.get(resp.headers["Location"])
    at_idp = resp.headers["Location"]
    assert at_idp.startswith(f"{idp.url}/authorize?")
    back = httpx.get(at_idp, follow_redirects=False).headers["location"]  # the person signs in at the provider
    parts = urlsplit(back)
    resp = client.get(f"{parts.path}?{parts.query}")
    assert resp.status_code == 302 and resp.headers["Location"] == "/inbox"
    home = client.get("/")
    assert home.status_code == 200 and "Selamat datang, Rina Wati" in text(home)


def test_a_forged_callback_signs_nobody_in(stack, idp):
    client = _portal(stack, idp).test_client()
    client.get("/login/oidc")
    resp = client.get("/auth/callback?" + urlencode({"code": "stolen", "state": "not-the-state"}))
    assert resp.status_code == 401 and "gagal" in text(resp)
    assert client.get("/", follow_redirects=False).status_code == 302


def test_production_portal_refuses_to_start_without_its_settings():
    from services.common.config import ConfigError

    with pytest.raises(ConfigError, match="PORTAL_SECRET_KEY"):
        PortalSettings.from_env({"KINERJA_MODE": "production"})
    with pytest.raises(ConfigError, match="PORTAL_OIDC_METADATA_URL"):
        PortalSettings.from_env(
            {"KINERJA_MODE": "production", "PORTAL_SECRET_KEY": "x" * 40, "PORTAL_API_URL": "http://gateway"}
        )
    s = PortalSettings.from_env(
        {
            "KINERJA_MODE": "production",
            "PORTAL_SECRET_KEY": "x" * 40,
            "PORTAL_API_URL": "http://gateway",
            "PORTAL_OIDC_METADATA_URL": "http://idp/.wk",
            "PORTAL_OIDC_CLIENT_ID": "portal",
            "DATABASE_URL": "postgresql://kinerja@db:5432/postgres",  # the sessions: database kinerja_portal
        }
    )
    assert not s.dev_login and s.secure_cookies
