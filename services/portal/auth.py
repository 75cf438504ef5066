"""Who is signed in: the session (kept on the server, ``sessions.py``; the cookie is an opaque id)
holds the user's API token and what the pages need to know of them (subject, NIP, name, roles,
agency, the token's expiry). The token never reaches the browser.

- Embedded mode: a development login that picks a person of the directory (or HR of an agency)
  and mints an HS256 token with the embedded secret, the same token ``kinerja token`` gives.
- Production: OpenID Connect (Authlib) against the agency's identity provider; the provider's
  access token (RS256, verified by every service against ``JWT_JWKS_URL``) is the bearer token.

An expired session (``PORTAL_SESSION_MINUTES`` after sign-in, ``PORTAL_SESSION_IDLE_MINUTES`` without
a request, or its token expired), or a token an API refuses (401), sends the person to the login page
and back to the page they asked for afterwards. Logout deletes the session on the server."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for

SESSION_KEY = "user"


@dataclass(frozen=True)
class User:
    token: str
    nip: str | None
    name: str
    roles: tuple[str, ...]
    agency: str | None
    expires_at: float
    sub: str | None = None  # the token's subject: whose sessions ``kinerja portal sessions revoke`` ends

    def has(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles) or "admin" in self.roles

    @property
    def is_hr(self) -> bool:
        return self.has("hr")

    @property
    def is_supervisor(self) -> bool:
        return "supervisor" in self.roles

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires_at

    def as_session(self) -> dict:
        return {
            "token": self.token,
            "nip": self.nip,
            "name": self.name,
            "roles": list(self.roles),
            "agency": self.agency,
            "expires_at": self.expires_at,
            "sub": self.sub,
        }

    @classmethod
    def from_session(cls, data: dict | None) -> "User | None":
        if not isinstance(data, dict) or not data.get("token"):
            return None
        try:
            return cls(
                token=data["token"],
                nip=data.get("nip"),
                name=data.get("name") or "",
                roles=tuple(data.get("roles") or ()),
                agency=data.get("agency"),
                expires_at=float(data.get("expires_at") or 0),
                sub=data.get("sub"),
            )
        except (TypeError, ValueError):
            return None


def sign_in(user: User) -> None:
    """A new session under a new id (what a visitor had before signing in is dropped); the person's
    other sessions signed in with other roles end (``ServerSessionInterface.save_session``)."""
    session.clear()
    session[SESSION_KEY] = user.as_session()
    session.rotate = True


def sign_out() -> None:
    """The session is deleted on the server: its cookie, wherever a copy of it is, signs nobody in."""
    session.clear()


def current_user() -> User | None:
    return g.get("user")


def load_user() -> None:
    """``before_request``: the session's user, or nobody when it is missing or has expired."""
    user = User.from_session(session.get(SESSION_KEY))
    if getattr(session, "ended", False):  # the cookie's session expired (PORTAL_SESSION_*MINUTES)
        g.session_expired = True
    if user is not None and user.expired:
        session.pop(SESSION_KEY, None)
        g.session_expired = True
        user = None
    g.user = user


def safe_next(target: str | None) -> str:
    """Only a path on this site (never another host) is a place to return to after login."""
    if not target:
        return url_for("portal.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("portal.home")
    return target


def to_login(expired: bool = False):
    nxt = request.full_path if request.method == "GET" else (request.referrer and urlsplit(request.referrer).path)
    nxt = nxt.rstrip("?") if nxt else None
    return redirect(url_for("portal.login", next=nxt, expired=1 if expired else None))


def login_required(*roles: str):
    """A page for signed-in people (with one of ``roles`` when given; else a 403 page)."""

    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            user = current_user()
            if user is None:
                return to_login(expired=bool(g.get("session_expired")))
            if request.method == "POST" and g.get("csrf_failed"):
                from .web import error_page

                return error_page(400, "error.csrf")
            if roles and not user.has(*roles):
                from .web import forbidden

                return forbidden()
            return view(*args, **kwargs)

        return inner

    return wrap


def api():
    """The API client of this request, with the signed-in user's token."""
    client = g.get("api_client")
    if client is None:
        user = current_user()
        client = current_app.extensions["portal"].client(user.token if user else None, g.get("lang", "id"))
        g.api_client = client
    return client
