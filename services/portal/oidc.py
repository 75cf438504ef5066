"""Production sign-in: OpenID Connect (authorization code with PKCE) against the agency's
identity provider, through Authlib's Flask client.

The provider's discovery document (``PORTAL_OIDC_METADATA_URL``) names its endpoints and keys;
Authlib checks the ID token (signature, issuer, audience, nonce). The **access token** is what
the portal sends to the services as the bearer token — the services verify it themselves against
``JWT_JWKS_URL`` — so the portal reads its claims (``nip``, ``roles``, ``agency``, ``exp``) only
to lay out the pages, never to grant anything."""

from __future__ import annotations

import time

import jwt
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, current_app, redirect, request, session, url_for

from . import auth
from .auth import User
from .web import error_page, t

bp = Blueprint("oidc", __name__)


def register_oidc(app, settings) -> None:
    oauth = OAuth(app)
    oauth.register(
        "idp",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=settings.oidc_metadata_url,
        client_kwargs={"scope": settings.oidc_scope, "code_challenge_method": "S256"},
    )
    app.extensions["portal"].oidc = oauth
    app.register_blueprint(bp)


@bp.get("/login/oidc")
def login():
    nxt = auth.safe_next(request.args.get("next"))
    session["oidc_next"] = nxt
    client = current_app.extensions["portal"].oidc.idp
    return client.authorize_redirect(url_for("oidc.callback", _external=True))


@bp.get("/auth/callback")
def callback():

    client = current_app.extensions["portal"].oidc.idp
    try:
        token = client.authorize_access_token()
    except OAuthError as exc:
        return error_page(401, "error.generic", detail=t("login.oidc_failed", reason=exc.description or exc.error))
    user = user_from_token(token)
    if user is None:
        return error_page(401, "error.generic", detail=t("login.oidc_failed", reason="access token without claims"))
    nxt = session.pop("oidc_next", None)
    auth.sign_in(user)
    return redirect(auth.safe_next(nxt))


def user_from_token(token: dict) -> User | None:
    access = token.get("access_token")
    if not access:
        return None
    info = dict(token.get("userinfo") or {})
    try:  # what the services will see; verified by them, read here for the layout only
        claims = jwt.decode(access, options={"verify_signature": False, "verify_exp": False})
    except jwt.InvalidTokenError:
        claims = {}
    claims = {**info, **claims}
    roles = claims.get("roles") or []
    if isinstance(roles, str):
        roles = roles.split()
    expires = float(token.get("expires_at") or claims.get("exp") or time.time() + 3600)
    return User(
        token=access,
        nip=claims.get("nip"),
        name=info.get("name") or claims.get("name") or claims.get("sub", ""),
        roles=tuple(roles),
        agency=claims.get("agency"),
        expires_at=expires,
        sub=claims.get("sub") or None,
    )
