"""``create_app``: the portal's composition root (settings, API client, catalogue, the server-side
sessions, CSRF, login, the pages of each role)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import httpx
from flask import Flask, g, request, session
from werkzeug.middleware.proxy_fix import ProxyFix

from services.common import observability, public_limit
from services.common.i18n import Catalogue, negotiate

from . import auth
from .client import Api
from .oidc import register_oidc
from .sessions import ServerSessionInterface, SessionStore
from .settings import PortalSettings
from .web import CSRF_FIELD, check_csrf, csrf_token, lang_url, register, t

HERE = Path(__file__).parent
MESSAGES = HERE / "messages"


class Portal:
    """What the views reach through ``current_app.extensions["portal"]``."""

    def __init__(self, settings, wsgi=None, clock: Callable[[], datetime] | None = None):
        self.settings = settings
        self.wsgi = wsgi  # the embedded dispatcher (set after it is built); None = PORTAL_API_URL
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        dirs = [MESSAGES, *sorted(p for p in MESSAGES.iterdir() if p.is_dir())]
        self.catalogue = Catalogue(*dirs)
        self.oidc = None
        # the login pages, the OpenID Connect callback: requests of nobody signed in, per address and minute
        self.public_limit = public_limit.PublicLimit(settings.public_rate_per_minute, self.clock)
        self.sessions = SessionStore(
            settings.database_url,
            absolute_minutes=settings.session_minutes,
            idle_minutes=settings.session_idle_minutes,
            create=settings.embedded,  # embedded: the table is made at first use (sessions.upgrade)
        )

    def ping(self) -> str:
        if not self.settings.api_url:
            return "ok"  # embedded: the services are in this process
        try:
            r = httpx.get(self.settings.api_url.rstrip("/") + "/plans/healthz", timeout=2.0)
            return "ok" if r.status_code == 200 else f"error: HTTP {r.status_code}"
        except httpx.HTTPError as exc:
            return f"error: {type(exc).__name__}"

    def client(self, token: str | None, lang: str = "id") -> Api:
        return Api(
            token=token,
            lang=lang,
            base_url=self.settings.api_url,
            wsgi=None if self.settings.api_url else self.wsgi,
            timeout=self.settings.api_timeout,
        )


def create_app(settings=None, *, wsgi=None, clock: Callable[[], datetime] | None = None) -> Flask:
    settings = settings or PortalSettings.from_env()
    app = Flask(
        "kinerja.portal",
        static_folder=str(HERE / "static"),
        static_url_path="/assets",
        template_folder=str(HERE / "templates"),
    )
    app.secret_key = settings.secret_key
    app.config.update(
        SESSION_COOKIE_NAME="kinerja_portal",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        MAX_CONTENT_LENGTH=12 * 1024 * 1024,
        TESTING=settings.testing,
    )
    portal = Portal(settings, wsgi=wsgi, clock=clock)
    app.extensions["portal"] = portal
    app.session_interface = ServerSessionInterface(portal.sessions)  # the cookie: an opaque id
    if not settings.embedded and not settings.testing:  # gunicorn: JSON logs from the factory
        observability.configure_logging(settings.log_level)
    observability.install_access_log(app, "portal")
    if settings.proxy_hops:  # the gateway's scheme, host and port: the OIDC callback URL is built from them
        h = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=h, x_proto=h, x_host=h, x_port=h)
    if not settings.embedded or settings.oidc_metadata_url:
        register_oidc(app, settings)

    @app.before_request
    def _begin():
        override = request.args.get("lang")
        if override in ("id", "en"):
            session["lang"] = override
        g.lang = session.get("lang") or negotiate(None)
        auth.load_user()
        if g.user is None and not request.path.startswith(f"{app.static_url_path}/"):
            refused = public_limit.check(portal.public_limit)  # no login: counted per client address
            if refused is not None:
                return refused
        if request.method == "POST":
            check_csrf()

    @app.teardown_request
    def _end(exc):
        client = g.pop("api_client", None)
        if client is not None:
            client.close()

    @app.after_request
    def _headers(resp):
        resp.headers.setdefault("Content-Language", g.get("lang", "id"))
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        if resp.mimetype == "text/html":
            resp.headers.setdefault("Cache-Control", "no-store")
            resp.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                "script-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                "base-uri 'none'",
            )
        return resp

    # globals reach imported macros too (a context processor's names do not)
    app.jinja_env.globals.update(t=t, csrf_token=csrf_token, CSRF_FIELD=CSRF_FIELD, lang_url=lang_url)

    @app.context_processor
    def _request_globals():
        return {"lang": g.get("lang", "id"), "user": auth.current_user()}

    @app.get("/healthz")
    def healthz():
        return {"status": "ok", "service": "portal"}

    @app.get("/readyz")
    def readyz():
        """Ready when the services answer through PORTAL_API_URL and the sessions' database does."""
        checks = {"api": portal.ping(), "sessions": portal.sessions.ping()}
        ok = all(v == "ok" for v in checks.values())
        return {"status": "ready" if ok else "not ready", "checks": checks}, (200 if ok else 503)

    register(app)
    return app
