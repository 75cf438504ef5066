"""Portal settings from the environment (embedded defaults; production needs its secrets)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from services.common.config import DEV_JWT_SECRET, ConfigError, env_flag, env_float, env_int, env_log_level


def _env(env: dict, name: str, default: str | None = None) -> str | None:
    value = env.get(name)
    return value if value not in (None, "") else default


@dataclass
class PortalSettings:
    mode: str = "embedded"
    api_url: str | None = None  # PORTAL_API_URL: the gateway; None = the embedded services in-process
    secret_key: str = ""  # signs the session cookie
    jwt_secret: str = DEV_JWT_SECRET  # embedded development login only
    dev_login: bool = True  # the "pick a user" login (embedded mode only)
    oidc_metadata_url: str | None = None  # production: the identity provider's discovery document
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_scope: str = "openid profile"
    session_minutes: int = 480
    api_timeout: float = 15.0
    secure_cookies: bool = False
    proxy_hops: int = 0  # PROXY_HOPS: trusted proxies in front (the gateway: 1)
    log_level: str = "INFO"
    testing: bool = False

    @property
    def embedded(self) -> bool:
        return self.mode == "embedded"

    @classmethod
    def from_env(cls, env: dict | None = None, **overrides) -> "PortalSettings":
        env = os.environ if env is None else env
        mode = _env(env, "KINERJA_MODE", "embedded")
        jwt_secret = _env(env, "JWT_SECRET", DEV_JWT_SECRET)
        secret = _env(env, "PORTAL_SECRET_KEY")
        if not secret and mode == "embedded":  # a stable dev secret: sessions survive a restart
            secret = hashlib.sha256(f"kinerja.portal:{jwt_secret}".encode()).hexdigest()
        s = cls(
            mode=mode,
            api_url=_env(env, "PORTAL_API_URL"),
            secret_key=secret or "",
            jwt_secret=jwt_secret,
            dev_login=mode == "embedded",
            oidc_metadata_url=_env(env, "PORTAL_OIDC_METADATA_URL"),
            oidc_client_id=_env(env, "PORTAL_OIDC_CLIENT_ID"),
            oidc_client_secret=_env(env, "PORTAL_OIDC_CLIENT_SECRET"),
            oidc_scope=_env(env, "PORTAL_OIDC_SCOPE", "openid profile"),
            session_minutes=env_int(env, "PORTAL_SESSION_MINUTES", 480),
            api_timeout=env_float(env, "PORTAL_API_TIMEOUT", 15.0),
            # Secure cookies in production; PORTAL_SECURE_COOKIES=0 only for plain HTTP on this machine (make up)
            secure_cookies=env_flag(env, "PORTAL_SECURE_COOKIES", mode == "production"),
            proxy_hops=env_int(env, "PROXY_HOPS", 0),
            log_level=env_log_level(env),
        )
        for key, value in overrides.items():
            setattr(s, key, value)
        s.validate()
        return s

    def validate(self) -> None:
        if self.mode not in ("embedded", "production"):
            raise ConfigError(f"KINERJA_MODE must be 'embedded' or 'production', not {self.mode!r}")
        if self.mode == "production":
            if not self.secret_key:
                raise ConfigError("the portal in production needs PORTAL_SECRET_KEY (signs the session cookie)")
            if not self.api_url:
                raise ConfigError(
                    "the portal in production needs PORTAL_API_URL (the gateway in front of the services)"
                )
            if not (self.oidc_metadata_url and self.oidc_client_id):
                raise ConfigError(
                    "the portal in production signs people in with OpenID Connect: set "
                    "PORTAL_OIDC_METADATA_URL and PORTAL_OIDC_CLIENT_ID"
                )
