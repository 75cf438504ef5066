"""JWT bearer authentication (PyJWT) and role checks.

Claims: ``sub`` and ``exp`` (required), ``roles`` (subset of ROLES), ``agency`` (agency code),
``nip`` for people. Embedded mode verifies HS256 with JWT_SECRET; production verifies RS256
against the identity provider's JWKS (JWT_JWKS_URL).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

import jwt
from flask import g

from .config import Config
from .errors import Problem

ROLES = ("employee", "supervisor", "hr", "agency", "admin")


@dataclass(frozen=True)
class Principal:
    sub: str
    roles: frozenset[str]
    agency: str | None = None
    nip: str | None = None
    claims: dict = field(default_factory=dict, compare=False)

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


class TokenVerifier:
    def __init__(self, config: Config):
        self.config = config
        self._jwks = None
        if not config.embedded:
            self._jwks = jwt.PyJWKClient(config.jwt_jwks_url, cache_keys=True, lifespan=300)

    def verify(self, token: str) -> Principal:
        options = {"require": ["exp", "sub"]}
        kwargs = {}
        if self.config.jwt_audience:
            kwargs["audience"] = self.config.jwt_audience
        else:
            options["verify_aud"] = False
        if self.config.jwt_issuer:
            kwargs["issuer"] = self.config.jwt_issuer
        try:
            if self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token).key
                claims = jwt.decode(token, key, algorithms=["RS256"], options=options, leeway=30, **kwargs)
            else:
                claims = jwt.decode(
                    token, self.config.jwt_secret, algorithms=["HS256"], options=options, leeway=30, **kwargs
                )
        except jwt.ExpiredSignatureError:
            raise Problem(401, "auth.expired", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        except (jwt.InvalidTokenError, jwt.PyJWKClientError) as exc:
            raise Problem(
                401, "auth.invalid", reason=str(exc), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )
        roles = claims.get("roles") or []
        if isinstance(roles, str):
            roles = roles.split()
        if not isinstance(roles, list) or any(r not in ROLES for r in roles):
            raise Problem(401, "auth.invalid", reason=f"roles must be a list drawn from {', '.join(ROLES)}")
        return Principal(
            sub=str(claims["sub"]),
            roles=frozenset(roles),
            agency=claims.get("agency"),
            nip=claims.get("nip"),
            claims=claims,
        )


def issue_token(
    secret: str,
    *,
    sub: str | None = None,
    roles: list[str],
    agency: str | None = None,
    nip: str | None = None,
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
