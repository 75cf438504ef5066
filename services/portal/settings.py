"""Settings of the portal: one typed object, read once (``services.common.config.load_settings``),
with the embedded defaults; production needs its secrets (a missing or wrong one is a
``ConfigError`` naming the variable)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from services.common.config import (
    ConfigError,
    embedded_secret,
    env_log_level,
    env_timezone,
    load_settings,
    service_database_url,
    setting,
)

MODES = ("embedded", "production")


def _count(text: str) -> int:
    """A whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"must be a whole number, not {text!r}") from None
    if value < 0:
        raise ValueError(f"must be 0 or more, not {value}")
    return value


def _log_level(text: str) -> str:
    return env_log_level({"LOG_LEVEL": text})


def _zone(text: str) -> str:
    try:
        return env_timezone({"KINERJA_TIMEZONE": text})
    except ConfigError as exc:
        raise ValueError(str(exc).removeprefix("KINERJA_TIMEZONE ")) from None


@dataclass
class PortalSettings:
    mode: str = setting("KINERJA_MODE", "embedded")
    api_url: str | None = setting("PORTAL_API_URL", None)  # the gateway; None = the embedded services in-process
    # Flask's secret key (the session cookie is an opaque id, see sessions.py); embedded and unset: derived
    secret_key: str = setting("PORTAL_SECRET_KEY", "")
    # embedded development login only; unset: this installation's secret in KINERJA_VAR, as the services read it
    jwt_secret: str = setting("JWT_SECRET", "")
    var_dir: str = setting("KINERJA_VAR", "var")
    oidc_metadata_url: str | None = setting("PORTAL_OIDC_METADATA_URL", None)  # production: the provider's discovery
    oidc_client_id: str | None = setting("PORTAL_OIDC_CLIENT_ID", None)
    oidc_client_secret: str | None = setting("PORTAL_OIDC_CLIENT_SECRET", None)
    oidc_scope: str = setting("PORTAL_OIDC_SCOPE", "openid profile")
    session_minutes: int = setting("PORTAL_SESSION_MINUTES", 480, _count)  # a session ends this long after sign-in
    session_idle_minutes: int = setting("PORTAL_SESSION_IDLE_MINUTES", 60, _count)  # ... or without a request; 0: never
    # the longest token lifetime the services accept (seconds, as they read it): a session may not outlast it
    jwt_max_ttl: int = setting("JWT_MAX_TTL", 24 * 3600, _count)
    # the sessions' store, shared by every worker and instance; unset: DATABASE_URL's server with the
    # database kinerja_portal (DATABASE_PREFIX), else (embedded) the SQLite file var/portal.db
    database_url: str = setting("PORTAL_DATABASE_URL", "")
    api_timeout: float = setting("PORTAL_API_TIMEOUT", 15.0)
    # None = in production only; PORTAL_SECURE_COOKIES=0 only for plain HTTP on this machine (make up)
    secure_cookies: bool | None = setting("PORTAL_SECURE_COOKIES", None)
    proxy_hops: int = setting("PROXY_HOPS", 0, _count)  # trusted proxies in front (the gateway: 1)
    # requests of nobody signed in (login pages, the OpenID Connect callback) per client address and minute; 0: no limit
    public_rate_per_minute: int = setting("PUBLIC_RATE_PER_MINUTE", 60, _count)
    log_level: str = setting("LOG_LEVEL", "INFO", _log_level)
    # the agency's time zone, as the services read it: dates and times on the pages, "today" for windows
    timezone: str = setting("KINERJA_TIMEZONE", "Asia/Jakarta", _zone)
    # the reviews service's rules the pages explain (the same variables it reads)
    objection_days: int = setting("REVIEWS_OBJECTION_DAYS", 14)  # the window after acknowledging
    suggest_threshold: float = setting("REVIEWS_SUGGEST_THRESHOLD", 0.05)  # t of the suggestion rule
    # not from the environment: the "pick a user" login (None = in embedded mode only), and tests
    dev_login: bool | None = None
    testing: bool = False

    def __post_init__(self) -> None:
        if self.dev_login is None:
            self.dev_login = self.embedded
        if self.secure_cookies is None:
            self.secure_cookies = self.mode == "production"
        if not self.database_url:  # made directly (tests): the embedded default, no environment read
            self.database_url = service_database_url("portal", {})
        if not self.jwt_secret and self.embedded:
            self.jwt_secret = embedded_secret(Path(self.var_dir))
        if not self.secret_key and self.embedded:
            self.secret_key = hashlib.sha256(f"kinerja.portal:{self.jwt_secret}".encode()).hexdigest()

    @property
    def embedded(self) -> bool:
        return self.mode == "embedded"

    @classmethod
    def from_env(cls, env: dict | None = None, **overrides) -> "PortalSettings":
        """The settings from ``env`` (default ``os.environ``), ``overrides`` winning, checked."""
        env = os.environ if env is None else env
        if not overrides.get("database_url"):
            overrides = {**overrides, "database_url": service_database_url("portal", env)}
        settings = load_settings(cls, env, overrides)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"KINERJA_MODE must be 'embedded' or 'production', not {self.mode!r}")
        if self.session_minutes * 60 > self.jwt_max_ttl:
            # the development login mints the session's token for its whole length, and the services refuse
            # a token that lives longer than JWT_MAX_TTL: every page would send the person back to the login
            raise ConfigError(
                f"PORTAL_SESSION_MINUTES ({self.session_minutes}) is longer than JWT_MAX_TTL ({self.jwt_max_ttl} s, "
                f"{self.jwt_max_ttl // 60} minutes), the longest token the services accept: a session must end "
                "before its token does; lower PORTAL_SESSION_MINUTES or raise JWT_MAX_TTL"
            )
        if self.mode == "production":
            if not self.secret_key:
                raise ConfigError("the portal in production needs PORTAL_SECRET_KEY (Flask's secret key)")
            if not self.api_url:
                raise ConfigError(
                    "the portal in production needs PORTAL_API_URL (the gateway in front of the services)"
                )
            if not (self.oidc_metadata_url and self.oidc_client_id):
                raise ConfigError(
                    "the portal in production signs people in with OpenID Connect: set "
                    "PORTAL_OIDC_METADATA_URL and PORTAL_OIDC_CLIENT_ID"
                )
            if self.database_url.startswith("sqlite"):
                raise ConfigError(
                    "the portal in production keeps its sessions in PostgreSQL, shared by its workers and "
                    "instances: set PORTAL_DATABASE_URL (or DATABASE_URL: its server, database kinerja_portal)"
                )
