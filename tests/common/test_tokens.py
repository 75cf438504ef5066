"""Bearer tokens the identity provider's keys cannot vouch for: a made-up ``kid`` must not make the
service fetch the JWKS again on every request, and a token living longer than ``JWT_MAX_TTL`` (or
without ``exp``) is refused."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import MetaData

from services.common.app import create_service_app
from services.common.auth import TokenVerifier, issue_token
from services.common.config import DEV_JWT_SECRET, PRODUCTION, Config, ConfigError
from services.common.errors import Problem
from services.common.tables import define_platform_tables

YEAR = 365 * 24 * 3600


def _jwk(key, kid: str) -> dict:
    pub = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    pub.update(kid=kid, use="sig", alg="RS256")
    return pub


class _JwksServer:
    """A JWKS endpoint on 127.0.0.1 that counts the fetches it answers."""

    def __init__(self, keys: list[dict]):
        self.keys, self.fetches = keys, 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.fetches += 1
                body = json.dumps({"keys": outer.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def idp():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    server = _JwksServer([_jwk(key, "k1")])
    server.key = key
    yield server
    server.close()


def _rs256(key, kid: str, lifetime: float = 600, **claims) -> str:
    now = time.time()
    body = {"sub": "198503152010012003", "roles": ["hr"], "agency": "PKTD", "iat": int(now), "exp": int(now + lifetime)}
    body.update(claims)
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm="RS256", headers={"kid": kid})


def _production_app(tmp_path, jwks_url: str, **config):
    """A service in production mode (RS256 against ``jwks_url``) on a SQLite file: only auth matters here."""
    md = MetaData()
    cfg = Config(service="demo", mode=PRODUCTION, database_url=f"sqlite:///{tmp_path}/t.db", jwt_jwks_url=jwks_url)
    for k, v in config.items():
        setattr(cfg, k, v)
    models = SimpleNamespace(platform_tables=define_platform_tables(md))
    app = create_service_app(cfg, tmp_path, models, SimpleNamespace(PUBLISHES=[]), [], migrate=False)
    md.create_all(app.extensions["kinerja"].engine)
    return app


# ---------------------------------------------------------------- the JWKS cache


def test_unknown_kid_fetches_the_jwks_at_most_once_a_minute(tmp_path, idp):
    app = _production_app(tmp_path, idp.url)
    client = app.test_client()
    forged = _rs256(rsa.generate_private_key(public_exponent=65537, key_size=2048), "made-up")
    started = time.perf_counter()
    answers = [client.get("/demo/api/v1/anything", headers={"Authorization": f"Bearer {forged}"}) for _ in range(20)]
    elapsed = time.perf_counter() - started
    assert [r.status_code for r in answers] == [401] * 20
    assert {r.mimetype for r in answers} == {"application/problem+json"}
    assert idp.fetches <= 1, f"{idp.fetches} JWKS fetches for 20 requests with an unknown kid"
    assert elapsed < 2.0
    # a good token is still accepted from the keys already fetched, without another fetch
    good = _rs256(idp.key, "k1")
    assert client.get("/demo/api/v1/anything", headers={"Authorization": f"Bearer {good}"}).status_code == 404
    assert idp.fetches <= 1


def test_a_rotated_key_is_fetched_once_the_minute_has_passed(idp):
    clock = [1000.0]
    cfg = Config(service="demo", mode=PRODUCTION, jwt_jwks_url=idp.url, jwt_jwks_min_refresh=60)
    verifier = TokenVerifier(cfg, clock=lambda: clock[0])
    assert verifier.verify(_rs256(idp.key, "k1")).roles == {"hr"}
    assert idp.fetches == 1
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    idp.keys = [_jwk(idp.key, "k1"), _jwk(new_key, "k2")]  # the provider rotates its key
    clock[0] += 10
    for _ in range(5):  # within the minute: refused at once, no fetch
        with pytest.raises(Problem) as exc:
            verifier.verify(_rs256(new_key, "k2"))
        assert exc.value.status == 401
    assert idp.fetches == 1
    clock[0] += 51  # a minute after the last fetch: the unknown kid is looked up again, once
    assert verifier.verify(_rs256(new_key, "k2")).sub == "198503152010012003"
    assert verifier.verify(_rs256(new_key, "k2")).sub == "198503152010012003"
    assert idp.fetches == 2


def test_a_token_seen_before_is_not_verified_again_until_it_expires_or_its_key_goes(idp, monkeypatch):
    """Every request of a session carries the same token: its signature is checked once, and the
    token is still refused the moment it expires or the provider stops publishing its key."""
    clock = [1000.0]
    verifier = TokenVerifier(
        Config(service="demo", mode=PRODUCTION, jwt_jwks_url=idp.url, jwt_jwks_min_refresh=60), clock=lambda: clock[0]
    )
    decoded = []
    real_decode = jwt.decode
    monkeypatch.setattr(jwt, "decode", lambda *a, **kw: decoded.append(1) or real_decode(*a, **kw))
    token, other = _rs256(idp.key, "k1"), _rs256(idp.key, "k1", roles=["employee"])
    assert [verifier.verify(token).roles for _ in range(5)] == [{"hr"}] * 5
    assert verifier.verify(other).roles == {"employee"}
    assert len(decoded) == 2
    # the provider rotates k1 out; once its keys are stale, the token signed with it is refused
    idp.keys = [_jwk(rsa.generate_private_key(public_exponent=65537, key_size=2048), "k2")]
    clock[0] += 301
    with pytest.raises(Problem) as exc:
        verifier.verify(token)
    assert (exc.value.status, exc.value.code) == (401, "auth.invalid")
    # a token that expires after it was seen is refused as expired, not served from memory
    verifier = TokenVerifier(Config.from_env("plans", env={"JWT_SECRET": DEV_JWT_SECRET}))
    verifier.LEEWAY = 0
    short = issue_token(DEV_JWT_SECRET, roles=["hr"], ttl_seconds=1)
    assert verifier.verify(short).roles == {"hr"}
    time.sleep(2.1)
    with pytest.raises(Problem) as exc:
        verifier.verify(short)
    assert (exc.value.status, exc.value.code) == (401, "auth.expired")


def test_the_verified_tokens_kept_are_bounded():
    verifier = TokenVerifier(Config.from_env("plans", env={"JWT_SECRET": DEV_JWT_SECRET}))
    verifier.REMEMBERED = 10
    for n in range(25):
        assert verifier.verify(issue_token(DEV_JWT_SECRET, sub=f"u{n}", roles=["hr"])).sub == f"u{n}"
        assert len(verifier._verified) <= 10


def test_jwks_min_refresh_is_configurable_and_checked():
    env = {
        "KINERJA_MODE": "production",
        "DATABASE_URL": "postgresql://p@h/d",
        "BROKER_URL": "amqp://g:g@h//",
        "JWT_JWKS_URL": "https://idp.example/jwks.json",
    }
    cfg = Config.from_env("plans", env=env | {"JWT_JWKS_MIN_REFRESH": "300", "JWT_MAX_TTL": "3600"})
    assert (cfg.jwt_jwks_min_refresh, cfg.jwt_max_ttl) == (300, 3600)
    assert Config.from_env("plans", env=env).jwt_max_ttl == 24 * 3600
    with pytest.raises(ConfigError, match="JWT_MAX_TTL"):
        Config.from_env("plans", env=env | {"JWT_MAX_TTL": "0"})


# ---------------------------------------------------------------- the token's lifetime


def test_a_hundred_year_token_is_refused_with_a_clear_code(tmp_path, idp):
    app = _production_app(tmp_path, idp.url)
    client = app.test_client()
    for token in (
        _rs256(idp.key, "k1", lifetime=100 * YEAR),
        _rs256(idp.key, "k1", lifetime=100 * YEAR, iat=None),  # no iat: measured from now
    ):
        r = client.get("/demo/api/v1/anything", headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"})
        assert r.status_code == 401 and r.mimetype == "application/problem+json"
        body = r.get_json()
        assert body["code"] == "auth.lifetime"
        assert "86400" in body["detail"]
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    future_iat = _rs256(idp.key, "k1", lifetime=100 * YEAR, iat=int(time.time() + 100 * YEAR - 600))
    assert client.get("/demo/api/v1/anything", headers={"Authorization": f"Bearer {future_iat}"}).status_code == 401
    ok = _rs256(idp.key, "k1", lifetime=24 * 3600)
    assert client.get("/demo/api/v1/anything", headers={"Authorization": f"Bearer {ok}"}).status_code == 404


def test_max_ttl_applies_to_hs256_tokens_and_a_token_without_exp_is_refused():
    verifier = TokenVerifier(Config.from_env("plans", env={"JWT_MAX_TTL": "3600", "JWT_SECRET": DEV_JWT_SECRET}))
    assert verifier.verify(issue_token(DEV_JWT_SECRET, roles=["hr"], ttl_seconds=3600)).roles == {"hr"}
    with pytest.raises(Problem) as exc:
        verifier.verify(issue_token(DEV_JWT_SECRET, roles=["hr"], ttl_seconds=3601 + 60))
    assert (exc.value.status, exc.value.code) == (401, "auth.lifetime")
    no_exp = jwt.encode({"sub": "a", "roles": ["hr"], "iat": int(time.time())}, DEV_JWT_SECRET, algorithm="HS256")
    with pytest.raises(Problem) as exc:
        verifier.verify(no_exp)
    assert exc.value.status == 401


def test_the_cli_and_the_dev_idp_issue_tokens_within_the_maximum(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from kinerja.cli import main
    from kinerja.devidp import IdpSettings, IdpStore

    for var in ("KINERJA_MODE", "JWT_SECRET", "JWT_MAX_TTL", "DATABASE_URL", "BROKER_URL"):
        monkeypatch.delenv(var, raising=False)
    result = CliRunner().invoke(main, ["token", "--role", "hr", "--agency", "PKTD"])
    assert result.exit_code == 0, result.output
    assert TokenVerifier(Config.from_env("plans", env={})).verify(result.output.strip()).roles == {"hr"}

    settings = IdpSettings.from_env({"DEV_IDP_DIR": str(tmp_path / "idp"), "DEV_IDP_ISSUER": "http://127.0.0.1:8090"})
    store = IdpStore(settings.directory)
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [store.public_jwk()]}))
    cfg = Config(
        service="plans",
        mode=PRODUCTION,
        jwt_jwks_url=jwks.as_uri(),
        jwt_audience=settings.audience,
        jwt_issuer=settings.issuer,
    )
    token = store.access_token(
        issuer=settings.issuer,
        audience=settings.audience,
        sub="hr-PKTD",
        roles=["hr"],
        agency="PKTD",
        ttl=settings.token_seconds,
    )
    assert TokenVerifier(cfg).verify(token).agency == "PKTD"
