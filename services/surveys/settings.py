"""Settings of the surveys service beyond the platform's :class:`~services.common.config.Config`,
from environment variables (each with an embedded default)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from services.common.config import Config, ConfigError, env_int, env_timezone


@dataclass
class Settings:
    form_secret: str
    rate_limit_per_minute: int = 5  # accepted public responses per client address, campaign and minute
    public_url: str | None = None  # e.g. https://layanan.example.go.id (QR codes); default: the request's host
    proxy_hops: int = 0  # trusted reverse proxies setting X-Forwarded-For (the gateway: 1)
    timezone: str = "Asia/Jakarta"  # campaign dates are local dates
    csrf_max_age: int = 4 * 3600  # seconds a rendered form stays valid
    batch_max: int = 1000  # responses per batch request

    @classmethod
    def from_env(cls, config: Config, env: dict | None = None) -> "Settings":
        env = os.environ if env is None else env

        def get(name: str, default: str | None = None) -> str | None:
            value = env.get(name)
            return value if value not in (None, "") else default

        secret = get("SURVEYS_FORM_SECRET")
        if not secret:
            if not config.embedded:
                raise ConfigError(
                    "production mode signs the public survey form: set SURVEYS_FORM_SECRET "
                    "(the same long random value in every surveys process)"
                )
            secret = hashlib.sha256(b"surveys-form:" + config.jwt_secret.encode()).hexdigest()
        try:
            return cls(
                form_secret=secret,
                rate_limit_per_minute=env_int(env, "SURVEYS_RATE_LIMIT_PER_MINUTE", 5),
                public_url=(get("SURVEYS_PUBLIC_URL") or "").rstrip("/") or None,
                proxy_hops=env_int(env, "SURVEYS_PROXY_HOPS", config.proxy_hops),
                timezone=env_timezone(env, "SURVEYS_TIMEZONE", config.timezone),
                csrf_max_age=env_int(env, "SURVEYS_FORM_MAX_AGE", 4 * 3600),
                batch_max=env_int(env, "SURVEYS_BATCH_MAX", 1000),
            )
        except ValueError as exc:
            raise ConfigError(f"surveys settings: {exc}") from None
