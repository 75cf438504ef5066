"""Settings of the surveys service beyond the platform's Config: one typed object, read once
(``services.common.config.load_settings``). Three fall back on the platform when unset: the form
secret (derived from the development JWT secret, embedded mode only), the proxy hops (``PROXY_HOPS``)
and the time zone (``KINERJA_TIMEZONE``)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace

from services.common.config import Config, ConfigError, env_timezone, load_settings, setting


def _whole(raw: str) -> int:
    """A whole number ≥ 0 (a wrong value is a ConfigError naming the variable)."""
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"must be a whole number, not {raw!r}") from None
    if value < 0:
        raise ValueError(f"must be 0 or more, not {value}")
    return value


def _url(raw: str) -> str | None:
    return raw.rstrip("/") or None


def _timezone(raw: str) -> str:
    return env_timezone({"SURVEYS_TIMEZONE": raw}, "SURVEYS_TIMEZONE")


@dataclass
class Settings:
    form_secret: str | None = setting("SURVEYS_FORM_SECRET", None)  # signs the public form; required in production
    rate_limit_per_minute: int = setting("SURVEYS_RATE_LIMIT_PER_MINUTE", 5, _whole)  # per address, campaign, minute
    public_url: str | None = setting("SURVEYS_PUBLIC_URL", None, _url)  # base of QR links; default: the request's host
    proxy_hops: int | None = setting("SURVEYS_PROXY_HOPS", None, _whole)  # proxies setting X-Forwarded-For (gateway: 1)
    timezone: str | None = setting("SURVEYS_TIMEZONE", None, _timezone)  # campaign dates are local dates
    csrf_max_age: int = setting("SURVEYS_FORM_MAX_AGE", 4 * 3600, _whole)  # seconds a rendered form stays valid
    batch_max: int = setting("SURVEYS_BATCH_MAX", 1000, _whole)  # responses per batch request
    # the index feeds employees' results: a new campaign admits one response per one-time token unless HR
    # opens its form to anyone, with a reason (``open_form``); 0 restores the former default (tokens only once issued)
    tokens_by_default: bool = setting("SURVEYS_TOKENS_BY_DEFAULT", True)
    # a form open to anyone (no tokens): responses per address, campaign and day (UTC), on top of the minute's limit
    open_form_per_day: int = setting("SURVEYS_OPEN_FORM_PER_DAY", 20, _whole)
    # where the units read model is rebuilt from (POST /read-model/rebuild); embedded: this very server
    plans_url: str | None = setting("PLANS_URL", None, _url)

    @classmethod
    def from_env(cls, config: Config, env: dict | None = None) -> Settings:
        """Read once from ``env`` (default: the process environment), with the platform's values
        for what is unset; in production a missing form secret stops the service."""
        env = os.environ if env is None else env
        settings = load_settings(cls, env, overrides=config.extra)
        secret = settings.form_secret
        if not secret:
            if not config.embedded:
                raise ConfigError(
                    "production mode signs the public survey form: set SURVEYS_FORM_SECRET "
                    "(the same long random value in every surveys process)"
                )
            secret = hashlib.sha256(b"surveys-form:" + config.jwt_secret.encode()).hexdigest()
        return replace(
            settings,
            form_secret=secret,
            proxy_hops=config.proxy_hops if settings.proxy_hops is None else settings.proxy_hops,
            timezone=settings.timezone or config.timezone,
        )
