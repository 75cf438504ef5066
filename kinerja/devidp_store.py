"""What the development identity provider keeps: its signing key, users and clients (files in
``DEV_IDP_DIR``), the one-time authorization codes (in memory), and the tokens it signs."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import threading
import time
import uuid
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from services.common.auth import ROLES

from .registry import SCOPES

CODE_SECONDS = 120


def b64(data: bytes) -> str:
    """Base64url without padding (JWK members, PKCE challenges)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hash_password(password: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), 120_000)
    return f"pbkdf2_sha256${salt}${digest.hex()}"


def _check_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (``pbkdf2_sha256$salt$digest``), in constant time."""
    try:
        _, salt, _ = stored.split("$")
    except ValueError:
        return False
    return secrets.compare_digest(_hash_password(password, salt), stored)


_DUMMY_HASH = _hash_password(secrets.token_hex(8))


def _check_roles(roles) -> None:
    for role in roles:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; choose from {', '.join(ROLES)}")


class IdpStore:
    """The provider's key, users and clients, in ``directory`` (files only this user can read)."""

    def __init__(self, directory: str | Path):
        self.dir = Path(directory)
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ key

    @property
    def key_path(self) -> Path:
        return self.dir / "key.pem"

    def private_key(self):
        if not self.key_path.exists():
            self.dir.mkdir(parents=True, exist_ok=True)
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
        return serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)

    def public_jwk(self) -> dict:
        numbers = self.private_key().public_key().public_numbers()

        def enc(n: int) -> str:
            return b64(n.to_bytes((n.bit_length() + 7) // 8, "big"))

        jwk = {"e": enc(numbers.e), "kty": "RSA", "n": enc(numbers.n)}
        # RFC 7638 thumbprint as the key id: stable for the key, new when the key is replaced
        kid = b64(hashlib.sha256(json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()).digest())[:16]
        return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}

    def sign(self, claims: dict) -> str:
        return jwt.encode(claims, self.private_key(), algorithm="RS256", headers={"kid": self.public_jwk()["kid"]})

    # ------------------------------------------------------------------ users and clients

    def _read(self, name: str) -> dict:
        path = self.dir / name
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}

    def _write(self, name: str, data: dict) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / name
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, ensure_ascii=False)
        tmp.replace(path)

    def users(self) -> dict:
        return self._read("users.json")

    def clients(self) -> dict:
        return self._read("clients.json")

    def put_user(
        self, username: str, password: str, *, name: str, roles: list[str], agency: str | None, nip: str | None = None
    ) -> None:
        _check_roles(roles)
        with self._lock:
            users = self.users()
            users[username] = {
                "name": name,
                "roles": list(roles),
                "agency": agency,
                "nip": nip,
                "password": _hash_password(password),
            }
            self._write("users.json", users)

    def put_client(
        self,
        client_id: str,
        secret: str | None,
        *,
        redirect_uris: list[str] = (),
        grant_types: list[str] = ("authorization_code",),
        roles: list[str] = (),
        agency: str | None = None,
        scopes: list[str] = (),
    ) -> None:
        """A client; a machine client (client credentials) with ``scopes``, those its tokens may carry."""
        _check_roles(roles)
        unknown = [s for s in scopes if s not in SCOPES]
        if unknown:
            raise ValueError(f"unknown scope(s) {', '.join(unknown)}; choose from {', '.join(SCOPES)}")
        with self._lock:
            clients = self.clients()
            clients[client_id] = {
                "secret": _hash_password(secret) if secret else None,
                "redirect_uris": list(redirect_uris),
                "grant_types": list(grant_types),
                "roles": list(roles),
                "agency": agency,
                "scopes": list(scopes),
            }
            self._write("clients.json", clients)

    def authenticate_user(self, username: str, password: str) -> dict | None:
        user = self.users().get(username)
        # an unknown name costs the same hashing as a known one: no probing of usernames by timing
        ok = _check_password(password, user.get("password", "") if user else _DUMMY_HASH)
        if user and ok:
            return {"username": username, **{k: v for k, v in user.items() if k != "password"}}
        return None

    def authenticate_client(self, client_id: str | None, secret: str | None) -> dict | None:
        client = self.clients().get(client_id or "")
        if client is None:
            _check_password(secret or "", _DUMMY_HASH)
            return None
        if client.get("secret"):
            if not secret or not _check_password(secret, client["secret"]):
                return None
        return {"client_id": client_id, **client}

    # ------------------------------------------------------------------ tokens

    def access_token(
        self,
        *,
        issuer: str,
        audience: str | None,
        sub: str,
        roles: list[str],
        agency: str | None,
        nip: str | None = None,
        name: str | None = None,
        client_id: str | None = None,
        scope: str | None = None,
        ttl: int = 8 * 3600,
        now: float | None = None,
    ) -> str:
        now = int(time.time() if now is None else now)
        claims = {
            "iss": issuer,
            "sub": sub,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
            "roles": list(roles),
        }
        if audience:
            claims["aud"] = audience
        for key, value in (("agency", agency), ("nip", nip), ("name", name), ("azp", client_id), ("scope", scope)):
            if value:
                claims[key] = value
        return self.sign(claims)


class CodeStore:
    """The authorization codes waiting for their ``/token`` exchange: in memory (hence one process),
    each usable once and for :data:`CODE_SECONDS`."""

    def __init__(self, seconds: int = CODE_SECONDS):
        self.seconds = seconds
        self._codes: dict[str, dict] = {}
        self._lock = threading.Lock()

    def issue(self, entry: dict) -> str:
        """A new code for ``entry`` (it gets ``expires`` and ``auth_time``); stale codes are dropped."""
        code = secrets.token_urlsafe(32)
        with self._lock:
            now = time.time()
            for stale in [c for c, v in self._codes.items() if v["expires"] < now]:
                self._codes.pop(stale, None)
            self._codes[code] = {**entry, "expires": now + self.seconds, "auth_time": int(now)}
        return code

    def take(self, code: str) -> dict | None:
        """The entry of ``code``, removed: a code is used once only."""
        with self._lock:
            return self._codes.pop(code, None)
