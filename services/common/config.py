"""Configuration from environment variables, with the embedded defaults of DESIGN.md §2.

Embedded (default): one SQLite file per service under ``var/``, kombu ``memory://``,
HS256 JWTs with a development secret. Production (``KINERJA_MODE=production``):
PostgreSQL, RabbitMQ, RS256 JWTs verified against the agency's JWKS.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

DEV_JWT_SECRET = "kinerja-dev-secret-change-me-0123456789"
EMBEDDED = "embedded"
PRODUCTION = "production"


class ConfigError(RuntimeError):
    """The configuration cannot run: the message says which variable to fix."""


def _env(env: dict, name: str, default: str | None = None) -> str | None:
    value = env.get(name)
    return value if value not in (None, "") else default


def env_int(env: dict, name: str, default: int) -> int:
    """A whole number ≥ 0 from ``env[name]``; a wrong value names the variable."""
    raw = _env(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must be 0 or more, not {value}")
    return value


def env_log_level(env: dict) -> str:
    level = (_env(env, "LOG_LEVEL", "INFO") or "INFO").upper()
    level = {"WARN": "WARNING", "FATAL": "CRITICAL"}.get(level, level)
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {level!r}")
    return level


def env_timezone(env: dict, name: str = "KINERJA_TIMEZONE", default: str = "Asia/Jakarta") -> str:
    """An IANA time zone (Asia/Jakarta = WIB, Asia/Makassar = WITA, Asia/Jayapura = WIT)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    value = _env(env, name, default)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{name} must be a time zone such as Asia/Jakarta, Asia/Makassar or Asia/Jayapura, not {value!r}"
        ) from None
    return value


def env_float(env: dict, name: str, default: float) -> float:
    raw = _env(env, name)
    try:
        return default if raw is None else float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None


def env_flag(env: dict, name: str, default: bool) -> bool:
    raw = _env(env, name)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1 or 0, not {raw!r}")


def local_secret(path: Path, make=lambda: secrets.token_urlsafe(48)) -> str:
    """A random secret kept in ``path``: made once by ``make()`` (readable by this user only; two
    processes starting together agree on the first one written), then read."""
    path = Path(path)
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(make())
    return path.read_text().strip()


def embedded_secret(var_dir: Path) -> str:
    """The embedded installation's own HS256 secret (``<var>/jwt-secret``), shared by every service,
    the portal and ``kinerja token`` of this folder — never the development secret published in
    the repository."""
    return local_secret(Path(var_dir) / "jwt-secret")


def service_database_url(service: str, env: dict | None = None, var_dir: Path | None = None) -> str:
    """``<SERVICE>_DATABASE_URL``, else ``DATABASE_URL`` with the database ``kinerja_<service>``,
    else a SQLite file ``var/<service>.db``."""
    env = os.environ if env is None else env
    specific = _env(env, f"{service.upper()}_DATABASE_URL")
    if specific:
        return specific
    shared = _env(env, "DATABASE_URL")
    if shared:
        if shared.startswith("sqlite"):
            return shared
        from sqlalchemy.engine import make_url

        url = make_url(shared)
        prefix = _env(env, "DATABASE_PREFIX", "kinerja_")
        return url.set(database=f"{prefix}{service}").render_as_string(hide_password=False)
    var_dir = var_dir or Path(_env(env, "KINERJA_VAR", "var"))
    return f"sqlite:///{(var_dir / f'{service}.db').as_posix()}"


@dataclass
class Config:
    service: str
    mode: str = EMBEDDED
    database_url: str = ""
    broker_url: str = "memory://"
    jwt_secret: str = DEV_JWT_SECRET
    jwt_jwks_url: str | None = None
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    jwt_max_ttl: int = 24 * 3600  # the longest lifetime (exp - iat) a token may have, in seconds
    jwt_jwks_min_refresh: int = 60  # an unknown kid refetches the JWKS at most this often, in seconds
    oauth_token_url: str | None = None  # the provider's token endpoint, as the OpenAPI names it to machine clients
    max_content_length: int = 1 * 1024 * 1024  # JSON bodies and CSV imports
    max_upload_bytes: int = 10 * 1024 * 1024  # evidence files
    page_size_default: int = 50
    page_size_max: int = 200
    confirm_timeout: float = 5.0
    max_delivery_attempts: int = 5
    var_dir: Path = field(default_factory=lambda: Path("var"))
    timezone: str = "Asia/Jakarta"  # "today" for deadlines and windows: the agency's local date
    proxy_hops: int = 0  # trusted reverse proxies in front (the gateway: 1) whose X-Forwarded-* count
    public_rate_per_minute: int = 60  # requests without a login per client address and minute (0: no limit)
    log_level: str = "INFO"
    testing: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def embedded(self) -> bool:
        return self.mode == EMBEDDED

    @classmethod
    def from_env(cls, service: str, env: dict | None = None, **overrides) -> "Config":
        env = os.environ if env is None else env
        mode = _env(env, "KINERJA_MODE", EMBEDDED)
        if mode not in (EMBEDDED, PRODUCTION):
            raise ConfigError(f"KINERJA_MODE must be '{EMBEDDED}' or '{PRODUCTION}', not {mode!r}")
        var_dir = Path(_env(env, "KINERJA_VAR", "var"))
        cfg = cls(
            service=service,
            mode=mode,
            database_url=service_database_url(service, env, var_dir),
            broker_url=_env(env, "BROKER_URL", "memory://"),
            # embedded without JWT_SECRET: this installation's own random secret, not the published one
            jwt_secret=_env(env, "JWT_SECRET") or (embedded_secret(var_dir) if mode == EMBEDDED else DEV_JWT_SECRET),
            jwt_jwks_url=_env(env, "JWT_JWKS_URL"),
            jwt_audience=_env(env, "JWT_AUDIENCE"),
            jwt_issuer=_env(env, "JWT_ISSUER"),
            jwt_max_ttl=env_int(env, "JWT_MAX_TTL", 24 * 3600),
            jwt_jwks_min_refresh=env_int(env, "JWT_JWKS_MIN_REFRESH", 60),
            oauth_token_url=_env(env, "OAUTH_TOKEN_URL"),
            max_content_length=env_int(env, "MAX_CONTENT_LENGTH", 1024 * 1024),
            max_upload_bytes=env_int(env, "MAX_UPLOAD_BYTES", 10 * 1024 * 1024),
            timezone=env_timezone(env),
            proxy_hops=env_int(env, "PROXY_HOPS", 0),
            public_rate_per_minute=env_int(env, "PUBLIC_RATE_PER_MINUTE", 60),
            log_level=env_log_level(env),
            var_dir=var_dir,
            extra={"jwt_secret_set": bool(_env(env, "JWT_SECRET"))},
        )
        for key, value in overrides.items():
            setattr(cfg, key, value)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        if self.jwt_max_ttl < 1:
            raise ConfigError("JWT_MAX_TTL is the longest token lifetime in seconds: at least 1")
        if self.mode == PRODUCTION:
            if not self.jwt_jwks_url:
                raise ConfigError("production mode verifies RS256 tokens: set JWT_JWKS_URL")
            if self.extra.get("jwt_secret_set") and self.jwt_secret == DEV_JWT_SECRET:
                raise ConfigError("production mode refuses the development JWT_SECRET; unset it (RS256 only)")
            if self.database_url.startswith("sqlite"):
                raise ConfigError("production mode needs PostgreSQL: set DATABASE_URL")
            if self.broker_url.startswith("memory"):
                raise ConfigError("production mode needs RabbitMQ: set BROKER_URL")


# ---------------------------------------------------------------------- a service's own settings


def setting(variable: str, default, parse=None):
    """A field of a service's settings dataclass, read from ``variable`` (see :func:`load_settings`);
    ``parse`` turns the text into the value when the field's type is not str, int, float or bool."""
    from dataclasses import field

    return field(default=default, metadata={"env": variable, "parse": parse})


def load_settings(cls, env: dict | None = None, overrides: dict | None = None):
    """One typed settings object of a service (``cls`` a dataclass of :func:`setting` fields),
    read once from the environment: a field given in ``overrides`` (``Config.extra``: tests, the
    embedded runner) wins, an unset or empty variable keeps the default, a wrong value is a
    :class:`ConfigError` naming the variable."""
    from dataclasses import fields

    env = os.environ if env is None else env
    overrides = overrides or {}
    values = {}
    for f in fields(cls):
        if "env" not in f.metadata:  # a field not read from the environment keeps its default
            if f.name in overrides:
                values[f.name] = overrides[f.name]
            continue
        if f.name in overrides:
            values[f.name] = overrides[f.name]
            continue
        variable, parse = f.metadata["env"], f.metadata.get("parse")
        raw = _env(env, variable)
        if raw is None:
            continue
        kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
        try:
            if parse is not None:
                values[f.name] = parse(raw)
            elif kind.startswith("bool"):
                values[f.name] = env_flag({variable: raw}, variable, False)
            elif kind.startswith("int"):
                values[f.name] = int(raw)
            elif kind.startswith("float"):
                values[f.name] = float(raw)
            else:
                values[f.name] = raw
        except ValueError as exc:
            raise ConfigError(f"{variable}: {exc}") from None
    return cls(**values)
