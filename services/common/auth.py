"""JWT bearer authentication (PyJWT) and role checks.

Claims: ``sub`` and ``exp`` (required), ``roles`` (subset of ROLES), ``agency`` (agency code),
``nip`` for people, ``scope`` (OAuth 2.0: space-separated, or a list) for machine clients.
Embedded mode verifies HS256 with JWT_SECRET; production verifies RS256
against the identity provider's JWKS (JWT_JWKS_URL), refetched for an unknown ``kid`` at most once
per JWT_JWKS_MIN_REFRESH seconds. No token may live longer than JWT_MAX_TTL seconds (24 h).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable

import jwt
from flask import g

from .config import Config
from .errors import Problem

log = logging.getLogger("kinerja.auth")
ROLES = ("employee", "supervisor", "hr", "agency", "admin")


@dataclass(frozen=True)
class Principal:
    sub: str
    roles: frozenset[str]
    agency: str | None = None
    nip: str | None = None
    claims: dict = field(default_factory=dict, compare=False)
    scopes: frozenset[str] = frozenset()

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def has_scope(self, *scopes: str) -> bool:
        return bool(self.scopes.intersection(scopes))

    @property
    def is_machine(self) -> bool:
        """A machine client: role ``agency``, no person behind the token (no NIP), not HR or admin.
        Only a machine client's scopes count (see :mod:`services.common.scopes`)."""
        return "agency" in self.roles and not (self.nip or self.roles.intersection(("hr", "admin")))

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


class JwksCache:
    """The identity provider's signing keys by ``kid``, fetched when first needed and again after
    ``lifespan`` seconds. A ``kid`` it does not know refetches them at most once per ``min_refresh``
    seconds (the provider rotated its key); within that time the token is refused at once, so tokens
    with made-up kids cannot make every request call the provider. A failed fetch keeps the keys
    it had."""

    def __init__(
        self,
        url: str,
        *,
        min_refresh: float = 60,
        lifespan: float = 300,
        timeout: float = 10,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.url, self.min_refresh, self.lifespan, self.clock = url, min_refresh, lifespan, clock
        self._client = jwt.PyJWKClient(url, cache_jwk_set=False, timeout=timeout)
        self._keys: dict[str, jwt.PyJWK] = {}
        self._loaded_at: float | None = None  # the last fetch that gave keys
        self._tried_at: float | None = None  # the last fetch, successful or not
        self._lock = threading.Lock()

    def key(self, kid: str | None) -> jwt.PyJWK:
        if not kid or not isinstance(kid, str):
            raise jwt.PyJWKClientError("the token names no signing key (kid)")
        key = self._keys.get(kid)
        if key is not None and not self._stale(self.clock()):
            return key
        with self._lock:  # one fetch at a time; the others then find its keys
            now = self.clock()
            key = self._keys.get(kid)
            wanted = key is None or self._stale(now)
            if wanted and (self._tried_at is None or now - self._tried_at >= self.min_refresh):
                self._fetch(now)
                key = self._keys.get(kid)
        if key is None:
            if not self._keys:
                raise jwt.PyJWKClientError(f"the identity provider's keys could not be fetched from {self.url}")
            raise jwt.PyJWKClientError(f'no signing key matches the kid "{kid}"')
        return key

    def _stale(self, now: float) -> bool:
        return self._loaded_at is None or now - self._loaded_at >= self.lifespan

    def _fetch(self, now: float) -> None:
        self._tried_at = now
        try:
            keys = jwt.PyJWKSet.from_dict(self._client.fetch_data()).keys
        except Exception as exc:  # noqa: BLE001 - unreachable, not JSON, no usable key: keep what we had
            log.warning("JWKS fetch from %s failed: %s", self.url, exc)
            return
        usable = {k.key_id: k for k in keys if k.key_id and k.public_key_use in ("sig", None)}
        if usable:
            self._keys, self._loaded_at = usable, now
        else:
            log.warning("JWKS at %s holds no signing key", self.url)


class TokenVerifier:
    """Checks a bearer token: signature (HS256 with JWT_SECRET embedded, RS256 against the JWKS in
    production), ``exp`` and ``sub`` required, a lifetime of at most ``JWT_MAX_TTL`` seconds
    (``exp − iat``, or ``exp − now`` without ``iat``), audience, issuer and roles."""

    LEEWAY = 30  # seconds of clock skew allowed on exp, nbf and iat
    REMEMBERED = 4096  # verified tokens kept (a person's token serves every request of a session)

    def __init__(self, config: Config, *, clock: Callable[[], float] = time.monotonic):
        self.config = config
        self._jwks = None
        if not config.embedded:
            self._jwks = JwksCache(config.jwt_jwks_url, min_refresh=config.jwt_jwks_min_refresh, clock=clock)
        # token -> (principal, exp, kid, key it was verified with): the signature and the claims of
        # a token never change, so a token seen before is not decoded and verified again while it
        # is unexpired and its key is still the provider's (a rotated-out key refuses it at once).
        self._verified: dict[str, tuple[Principal, float, str | None, object]] = {}

    def verify(self, token: str) -> Principal:
        seen = self._verified.get(token)
        if seen is not None:
            principal, exp, kid, key = seen
            if time.time() <= exp + self.LEEWAY and self._current_key(kid) is key:
                return principal
            self._verified.pop(token, None)  # expired or re-keyed: verified afresh (and refused)
        principal, exp, kid, key = self._verify(token)
        if len(self._verified) >= self.REMEMBERED:
            self._verified.clear()  # simple and bounded; the busy tokens come back at once
        self._verified[token] = (principal, exp, kid, key)
        return principal

    def _current_key(self, kid: str | None):
        if self._jwks is None:
            return self.config.jwt_secret
        try:
            return self._jwks.key(kid)
        except jwt.PyJWKClientError:
            return None

    def _verify(self, token: str) -> tuple[Principal, float, str | None, object]:
        options = {"require": ["exp", "sub"]}
        kwargs = {}
        if self.config.jwt_audience:
            kwargs["audience"] = self.config.jwt_audience
        else:
            options["verify_aud"] = False
        if self.config.jwt_issuer:
            kwargs["issuer"] = self.config.jwt_issuer
        kid, key = None, self.config.jwt_secret
        try:
            if self._jwks is not None:
                kid = jwt.get_unverified_header(token).get("kid")
                key = self._jwks.key(kid)
                claims = jwt.decode(token, key.key, algorithms=["RS256"], options=options, leeway=self.LEEWAY, **kwargs)
            else:
                claims = jwt.decode(token, key, algorithms=["HS256"], options=options, leeway=self.LEEWAY, **kwargs)
        except jwt.ExpiredSignatureError:
            raise Problem(401, "auth.expired", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        except (jwt.InvalidTokenError, jwt.PyJWKClientError) as exc:
            raise Problem(
                401, "auth.invalid", reason=str(exc), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )
        self._check_lifetime(claims)
        roles = claims.get("roles") or []
        if isinstance(roles, str):
            roles = roles.split()
        if not isinstance(roles, list) or any(r not in ROLES for r in roles):
            raise Problem(401, "auth.invalid", reason=f"roles must be a list drawn from {', '.join(ROLES)}")
        principal = Principal(
            sub=str(claims["sub"]),
            roles=frozenset(roles),
            agency=claims.get("agency"),
            nip=claims.get("nip"),
            claims=claims,
            scopes=parse_scopes(claims.get("scope")),
        )
        return principal, claims["exp"], kid, key

    def _check_lifetime(self, claims: dict) -> None:
        """A token valid for longer than ``JWT_MAX_TTL`` is refused: a leaked one would work for
        that long. Measured from ``iat`` (from now when it is missing or in the future)."""
        now = time.time()
        exp = claims["exp"]  # a number: PyJWT refused anything else
        iat = claims.get("iat")
        start = min(iat, now) if isinstance(iat, (int, float)) and not isinstance(iat, bool) else now
        limit = self.config.jwt_max_ttl
        if exp - start > limit:
            raise Problem(
                401,
                "auth.lifetime",
                limit=limit,
                lifetime=int(exp - start),
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )


def parse_scopes(value) -> frozenset[str]:
    """The ``scope`` claim: a space-separated string (RFC 6749 §3.3, RFC 9068), or a list of strings
    as some providers send it; absent gives none. Anything else refuses the token (401)."""
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return frozenset(s for v in value for s in v.split())
    raise Problem(401, "auth.invalid", reason="scope must be a space-separated string or a list of strings")


def issue_token(
    secret: str,
    *,
    sub: str | None = None,
    roles: list[str],
    agency: str | None = None,
    nip: str | None = None,
    scope: str | list[str] | None = None,
    ttl_seconds: int = 8 * 3600,
    now: float | None = None,
) -> str:
    """HS256 token for embedded mode, the demo and tests."""
    for r in roles:
        if r not in ROLES:
            raise ValueError(f"unknown role {r!r}; choose from {', '.join(ROLES)}")
    now = time.time() if now is None else now
    claims = {
        "sub": sub or (nip or f"{'-'.join(roles)}-{uuid.uuid4().hex[:8]}"),
        "roles": roles,
        "iat": int(now),
        "exp": int(now + ttl_seconds),
    }
    if agency:
        claims["agency"] = agency
    if nip:
        claims["nip"] = nip
    if scope:
        claims["scope"] = scope if isinstance(scope, str) else " ".join(scope)
    return jwt.encode(claims, secret, algorithm="HS256")


def current_principal() -> Principal:
    principal = getattr(g, "principal", None)
    if principal is None:
        raise Problem(401, "auth.missing", headers={"WWW-Authenticate": "Bearer"})
    return principal


def require_roles(*roles: str) -> Principal:
    principal = current_principal()
    if not principal.has(*roles) and not principal.is_admin:
        raise Problem(403, "auth.role", roles=", ".join(sorted(principal.roles)) or "-", required=", ".join(roles))
    return principal


def forbid() -> Problem:
    return Problem(403, "auth.forbidden")
