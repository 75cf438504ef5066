"""A development OpenID Connect provider for the production wiring on one machine (``make up``).

Production verifies RS256 tokens against the agency's identity provider (``JWT_JWKS_URL``) and
the portal signs people in with OpenID Connect. On one machine there is no such provider, so this
one stands in for it, speaking the same protocol the real one does:

- ``/.well-known/openid-configuration`` (discovery) and ``/jwks.json`` (the public key);
- ``/authorize``: authorization code with PKCE (S256 required), a sign-in form of its own users;
- ``/token``: ``authorization_code`` (returns an RS256 access token and an ID token with the
  request's ``nonce``) and ``client_credentials`` (machine clients: the flows' worker, an agency's
  systems): the token's ``scope`` is what the request's ``scope`` asks for among the client's
  registered scopes (all of them when it asks for none); a scope it may not have is
  ``invalid_scope``;
- ``/userinfo``.

Access tokens carry the claims Kinerja reads: ``sub``, ``exp``, ``roles``, ``agency``, ``nip``,
with ``iss`` and ``aud`` (``JWT_ISSUER``, ``JWT_AUDIENCE``). Keys, users and clients live in one
directory (``DEV_IDP_DIR``): ``key.pem`` (made on first use), ``users.json``, ``clients.json``.

It is never on by default: nothing starts it but ``make up`` (or an operator on purpose), and it
refuses an issuer that is not on this machine. An agency's production uses its own provider
(Keycloak, as ``deploy/compose.yaml`` shows, or any OpenID Connect provider that can put those
claims in its tokens). Codes live in memory: run it as one process (one gunicorn worker).

This module holds the provider's settings and its web app (the routes above); what it keeps (key,
users, clients, codes) and the tokens it signs are in :mod:`kinerja.devidp_store`."""

from __future__ import annotations

import hashlib
import html
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import jwt

from services.common import public_limit
from services.common.config import ConfigError, env_int

from .devidp_store import CodeStore, IdpStore, b64
from .registry import SCOPES

__all__ = ["IdpSettings", "IdpStore", "create_app"]

LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


@dataclass
class IdpSettings:
    directory: Path
    issuer: str
    audience: str | None = "kinerja"
    token_seconds: int = 8 * 3600
    public_rate_per_minute: int = 60  # /authorize and /token per client address and minute (0: no limit)

    @classmethod
    def from_env(cls, env: dict | None = None) -> "IdpSettings":
        env = os.environ if env is None else env
        directory = (env.get("DEV_IDP_DIR") or "").strip()
        issuer = (env.get("DEV_IDP_ISSUER") or "").strip().rstrip("/")
        if not directory:
            raise ConfigError(
                "the development identity provider keeps its key and users in a directory: set DEV_IDP_DIR"
            )
        if not issuer:
            raise ConfigError("set DEV_IDP_ISSUER to the provider's own base URL, e.g. http://127.0.0.1:8090")
        host = urlsplit(issuer).hostname or ""
        if host not in LOOPBACK and env.get("DEV_IDP_ALLOW_REMOTE") != "1":
            raise ConfigError(
                f"DEV_IDP_ISSUER {issuer} is not on this machine: the development identity provider "
                "is for one machine (use the agency's own provider, or set DEV_IDP_ALLOW_REMOTE=1 "
                "for a private test network)"
            )
        try:
            seconds = int(env.get("DEV_IDP_TOKEN_SECONDS") or 8 * 3600)
        except ValueError:
            raise ConfigError("DEV_IDP_TOKEN_SECONDS must be a whole number of seconds") from None
        # access tokens always name an audience (an ID token, whose audience is the client, is never one)
        audience = (env.get("JWT_AUDIENCE") or "").strip() or "kinerja"
        return cls(Path(directory), issuer, audience, seconds, env_int(env, "PUBLIC_RATE_PER_MINUTE", 60))


# ---------------------------------------------------------------------- the web app

_LOGIN_PAGE = """<!doctype html><html lang="id"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Masuk — Kinerja (IdP pengembangan)</title>
<style>body{{font:16px system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem}}
label{{display:block;margin:.8rem 0 .2rem}}input{{width:100%;padding:.5rem;font:inherit}}
button{{margin-top:1rem;padding:.6rem 1.2rem;font:inherit}}.err{{color:#a00}}</style></head><body>
<h1>Masuk ke Kinerja</h1><p>Penyedia identitas pengembangan (bukan untuk produksi).
<br><small lang="en">Development identity provider — not for production.</small></p>
{error}<form method="post" action="authorize">
{hidden}<label for="username">Nama pengguna <small lang="en">/ username</small></label>
<input id="username" name="username" autocomplete="username" required value="{username}">
<label for="password">Kata sandi <small lang="en">/ password</small></label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Masuk <small lang="en">/ Sign in</small></button></form></body></html>"""

_AUTH_PARAMS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
)


def create_app(settings: IdpSettings | None = None):
    """The provider as a WSGI app: ``gunicorn -w 1 'kinerja.devidp:create_app()'``."""
    from flask import Flask, Response, jsonify, redirect, request

    settings = settings or IdpSettings.from_env()
    store = IdpStore(settings.directory)
    store.private_key()  # made now, not by the first request
    app = Flask("kinerja.devidp")
    codes = CodeStore()
    issuer = settings.issuer

    def no_store(body: dict, status: int = 200, headers: dict | None = None):
        """A JSON answer of the token endpoints: never cached."""
        resp = jsonify(body)
        resp.status_code = status
        resp.headers["Cache-Control"] = "no-store"
        for k, v in (headers or {}).items():
            resp.headers[k] = v
        return resp

    def oauth_error(error: str, description: str, status: int = 400, headers: dict | None = None):
        return no_store({"error": error, "error_description": description}, status, headers)

    limit = public_limit.PublicLimit(settings.public_rate_per_minute)

    @app.before_request
    def _limit():
        """Password and client-secret guesses are slowed down: the sign-in form and the token endpoint
        are counted per client address and minute (429 problem+json past the limit)."""
        if request.path in ("/authorize", "/token"):
            return public_limit.check(limit)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok", "service": "devidp"}

    @app.get("/.well-known/openid-configuration")
    def discovery():
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "userinfo_endpoint": f"{issuer}/userinfo",
            "jwks_uri": f"{issuer}/jwks.json",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "client_credentials"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "profile", *SCOPES],
            "claims_supported": ["sub", "name", "nip", "agency", "roles"],
        }

    @app.get("/jwks.json")
    def jwks():
        resp = jsonify({"keys": [store.public_jwk()]})
        resp.headers["Cache-Control"] = "public, max-age=300"
        return resp

    def page(params: dict, error: str = "", username: str = "", status: int = 200):
        hidden = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(params.get(k) or "")}">' for k in _AUTH_PARAMS
        )
        body = _LOGIN_PAGE.format(
            error=f'<p class="err" role="alert">{html.escape(error)}</p>' if error else "",
            hidden=hidden,
            username=html.escape(username),
        )
        # form-action covers the redirect after the POST too (Chromium): allow the registered callback's origin
        target = urlsplit(params.get("redirect_uri") or "")
        callback = f" {target.scheme}://{target.netloc}" if target.scheme in ("http", "https") else ""
        return Response(
            body,
            status=status,
            mimetype="text/html",
            headers={
                "Cache-Control": "no-store",
                "X-Frame-Options": "DENY",
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                f"form-action 'self'{callback}",
            },
        )

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize():
        params = {k: (request.values.get(k) or "") for k in _AUTH_PARAMS}
        client = store.clients().get(params["client_id"])
        if client is None or params["redirect_uri"] not in client.get("redirect_uris", []):
            # never redirect to an address the client did not register (RFC 6749 §4.1.2.1)
            return Response(
                "Permintaan masuk tidak sah: client_id atau redirect_uri tidak terdaftar.\n"
                "Invalid sign-in request: unknown client_id or unregistered redirect_uri.\n",
                status=400,
                mimetype="text/plain",
            )

        def back(**query):
            sep = "&" if urlsplit(params["redirect_uri"]).query else "?"
            if params["state"]:
                query["state"] = params["state"]
            return redirect(params["redirect_uri"] + sep + urlencode(query))

        if params["response_type"] != "code":
            return back(error="unsupported_response_type", error_description="only response_type=code")
        if "openid" not in params["scope"].split():
            return back(error="invalid_scope", error_description="scope must include openid")
        if params["code_challenge_method"] != "S256" or len(params["code_challenge"]) < 43:
            return back(error="invalid_request", error_description="PKCE with code_challenge_method=S256 is required")
        if request.method == "GET":
            return page(params)
        username = (request.form.get("username") or "").strip()
        user = store.authenticate_user(username, request.form.get("password") or "")
        if user is None:
            return page(
                params,
                "Nama pengguna atau kata sandi salah. / Wrong username or password.",
                username=username,
                status=401,
            )
        code = codes.issue(
            {
                "client_id": params["client_id"],
                "redirect_uri": params["redirect_uri"],
                "user": user,
                "nonce": params["nonce"],
                "challenge": params["code_challenge"],
                "scope": params["scope"],
            }
        )
        return back(code=code)

    def client_from_request():
        auth = request.authorization
        if auth is not None and auth.type == "basic":
            return store.authenticate_client(auth.username, auth.password), auth.username
        client_id = request.form.get("client_id")
        return store.authenticate_client(client_id, request.form.get("client_secret")), client_id

    @app.post("/token")
    def token():
        client, client_id = client_from_request()
        if client is None:
            return oauth_error(
                "invalid_client",
                f"unknown client or wrong secret: {client_id}",
                401,
                {"WWW-Authenticate": 'Basic realm="kinerja-devidp"'},
            )
        grant = request.form.get("grant_type")
        if grant not in client.get("grant_types", []):
            return oauth_error("unauthorized_client", f"client {client_id} may not use grant_type={grant}")
        now = int(time.time())
        if grant == "client_credentials":
            allowed = client.get("scopes") or []
            asked = list(dict.fromkeys((request.form.get("scope") or "").split())) or allowed
            refused = [s for s in asked if s not in allowed]
            if refused:
                return oauth_error(
                    "invalid_scope",
                    f"client {client_id} may not have {' '.join(refused)}; allowed: {' '.join(allowed) or '-'}",
                )
            scope = " ".join(asked) or None
            access = store.access_token(
                issuer=issuer,
                audience=settings.audience,
                sub=client_id,
                roles=client.get("roles") or [],
                agency=client.get("agency"),
                client_id=client_id,
                scope=scope,
                ttl=settings.token_seconds,
                now=now,
            )
            body = {"access_token": access, "token_type": "Bearer", "expires_in": settings.token_seconds}
            return no_store(body | ({"scope": scope} if scope else {}))
        if grant != "authorization_code":
            return oauth_error("unsupported_grant_type", f"grant_type={grant}")
        entry = codes.take(request.form.get("code") or "")  # one use only
        if entry is None or entry["expires"] < now or entry["client_id"] != client_id:
            return oauth_error("invalid_grant", "the code is unknown, used or expired")
        if entry["redirect_uri"] != request.form.get("redirect_uri"):
            return oauth_error("invalid_grant", "redirect_uri differs from the authorization request")
        verifier = request.form.get("code_verifier") or ""
        if not secrets.compare_digest(b64(hashlib.sha256(verifier.encode()).digest()), entry["challenge"]):
            return oauth_error("invalid_grant", "code_verifier does not match the code_challenge (PKCE)")
        user = entry["user"]
        access = store.access_token(
            issuer=issuer,
            audience=settings.audience,
            sub=user["username"],
            roles=user.get("roles") or [],
            agency=user.get("agency"),
            nip=user.get("nip"),
            name=user.get("name"),
            client_id=client_id,
            scope=entry["scope"],
            ttl=settings.token_seconds,
            now=now,
        )
        id_claims = {
            "iss": issuer,
            "sub": user["username"],
            "aud": client_id,
            "iat": now,
            "exp": now + settings.token_seconds,
            "auth_time": entry["auth_time"],
            "name": user.get("name"),
            "nip": user.get("nip"),
            "agency": user.get("agency"),
            "roles": user.get("roles") or [],
        }
        if entry["nonce"]:
            id_claims["nonce"] = entry["nonce"]
        return no_store(
            {
                "access_token": access,
                "id_token": store.sign(id_claims),
                "token_type": "Bearer",
                "expires_in": settings.token_seconds,
                "scope": entry["scope"],
            }
        )

    @app.route("/userinfo", methods=["GET", "POST"])
    def userinfo():
        header = request.headers.get("Authorization", "")
        if not header.lower().startswith("bearer "):
            return oauth_error(
                "invalid_token", "a bearer access token is required", 401, {"WWW-Authenticate": "Bearer"}
            )
        try:
            claims = jwt.decode(
                header[7:].strip(),
                store.private_key().public_key(),
                algorithms=["RS256"],
                issuer=issuer,
                options={"verify_aud": False},
            )
        except jwt.InvalidTokenError as exc:
            return oauth_error("invalid_token", str(exc), 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return {k: claims[k] for k in ("sub", "name", "nip", "agency", "roles") if k in claims}

    return app
