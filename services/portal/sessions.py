"""The portal's sessions, kept on the server (``PORTAL_DATABASE_URL``) behind an opaque cookie.

The cookie holds only a random id (256 bits); the session — who is signed in, their API token,
the CSRF token, the language, the sign-in state of OpenID Connect — is a row of ``portal_session``,
shared by every gunicorn worker and portal instance:

- the row is found by a **hash** of the id, and its data is **encrypted** (AES-256-GCM) with a key
  derived from the id: a read of the database gives neither a usable cookie nor a token;
- **logout** deletes the row: the old cookie then gets the login page;
- a session **ends** ``PORTAL_SESSION_MINUTES`` after sign-in (absolute) and after
  ``PORTAL_SESSION_IDLE_MINUTES`` without a request (0: no idle limit);
- :func:`revoke` ends every session of a person (``kinerja portal sessions revoke --user <sub>``:
  what an operator runs after a password or role change), and a sign-in whose fresh token carries
  other roles than a session of the same person ends that session (``revoke_other_roles``).

:class:`ServerSessionInterface` plugs the store into Flask, so ``flask.session`` keeps working."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import Column, Float, LargeBinary, MetaData, String, Table, delete, inspect, select, update
from sqlalchemy.exc import DBAPIError
from werkzeug.datastructures import CallbackDict

from services.common.db import ensure_database, make_engine

TABLE = "portal_session"
TOUCH_SECONDS = 60  # the last-seen time is written at most once a minute per session (idle precision)
GRACE_SECONDS = 12 * 3600  # an ended session is remembered (without its data) this long
PURGE_SECONDS = 300  # ended rows are deleted at most every five minutes per process
USER_KEY = "user"

metadata = MetaData()
table = Table(
    TABLE,
    metadata,
    Column("id_hash", String(64), primary_key=True),  # sha256 of the cookie's id, never the id itself
    Column("subject", String(255), index=True),  # the person (token ``sub``): what revoke names
    Column("nip", String(32), index=True),
    Column("roles", String(255)),  # of the token signed in with, sorted, space-separated
    Column("created_at", Float, nullable=False),  # seconds since the epoch
    Column("seen_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False, index=True),  # created_at + PORTAL_SESSION_MINUTES
    Column("data", LargeBinary, nullable=False),  # nonce + AES-GCM of the session's JSON
)


def upgrade(url: str) -> None:
    """Create the portal's database (PostgreSQL, if missing) and its session table, idempotently.

    ``metadata.create_all``, not an Alembic history: the table holds only sessions, which are
    disposable — a later change of its shape may drop and re-create it (everyone signs in again)."""
    ensure_database(url)
    engine = make_engine(url)
    try:
        try:
            metadata.create_all(engine, checkfirst=True)
        except DBAPIError:  # two processes creating it at once: fine when the other one won
            if not inspect(engine).has_table(TABLE):
                raise
    finally:
        engine.dispose()


def revoke(url: str, *, subject: str | None = None, nip: str | None = None) -> int:
    """End every session of the person ``subject`` (or with ``nip``); the number ended."""
    if not subject and not nip:
        raise ValueError("name the person: subject or nip")
    engine = make_engine(url)
    try:
        if not inspect(engine).has_table(TABLE):
            return 0  # the portal never ran here: nobody is signed in
        stmt = delete(table).where(table.c.subject == subject if subject else table.c.nip == nip)
        with engine.begin() as conn:
            return conn.execute(stmt).rowcount
    finally:
        engine.dispose()


def _hash(sid: str) -> str:
    return hashlib.sha256(b"kinerja.portal.session.id:" + sid.encode()).hexdigest()


def _key(sid: str) -> bytes:
    return hashlib.sha256(b"kinerja.portal.session.key:" + sid.encode()).digest()


def _seal(sid: str, data: dict) -> bytes:
    nonce = os.urandom(12)
    plain = json.dumps(data, separators=(",", ":"), default=str).encode()
    return nonce + AESGCM(_key(sid)).encrypt(nonce, plain, _hash(sid).encode())


def _open(sid: str, blob: bytes) -> dict | None:
    try:
        plain = AESGCM(_key(sid)).decrypt(bytes(blob[:12]), bytes(blob[12:]), _hash(sid).encode())
        data = json.loads(plain)
    except (InvalidTag, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _person(data: dict) -> dict:
    user = data.get(USER_KEY) if isinstance(data.get(USER_KEY), dict) else {}
    roles = user.get("roles") or []
    return {
        "subject": user.get("sub") or user.get("nip"),
        "nip": user.get("nip"),
        "roles": " ".join(sorted(str(r) for r in roles))[:255] if user else None,
    }


@dataclass
class Loaded:
    data: dict
    created_at: float
    seen_at: float
    expires_at: float
    ended: bool = False  # it existed but has expired (absolute or idle): "your session has ended"


class SessionStore:
    """The sessions in the database at ``url``; nothing is opened before the first session is
    read or written. ``create``: make the table then (embedded mode; production runs
    ``kinerja portal sessions upgrade`` beforehand and the web app runs no DDL)."""

    def __init__(
        self,
        url: str,
        *,
        absolute_minutes: int,
        idle_minutes: int,
        now: Callable[[], float] | None = None,
        create: bool = False,
    ):
        self.url = url
        self.create = create
        self.absolute = timedelta(minutes=absolute_minutes)
        self.idle = timedelta(minutes=idle_minutes)
        self.now = now or (lambda: time.time())  # looked up at each call: tests move it
        self._engine = None
        self._purged = 0.0
        self._lock = threading.RLock()

    @property
    def engine(self):
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    if self.create:
                        upgrade(self.url)
                    self._engine = make_engine(self.url)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    def ping(self) -> str:
        try:
            with self.engine.connect() as conn:
                conn.execute(select(table.c.id_hash).limit(1))
            return "ok"
        except DBAPIError as exc:
            return f"error: {type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__}"

    def _ended(self, row, now: float) -> bool:
        idle = self.idle.total_seconds()
        return now >= row.expires_at or bool(idle and now >= row.seen_at + idle)

    def load(self, sid: str) -> Loaded | None:
        """The session of cookie ``sid``; None when there is none (never was, logged out, revoked)."""
        h = _hash(sid)
        with self.engine.connect() as conn:
            row = conn.execute(select(table).where(table.c.id_hash == h)).first()
        if row is None:
            return None
        if self._ended(row, self.now()):
            self._delete(h)
            return Loaded({}, row.created_at, row.seen_at, row.expires_at, ended=True)
        data = _open(sid, row.data)
        if data is None:  # not this id's data: treat as no session
            return None
        return Loaded(data, row.created_at, row.seen_at, row.expires_at)

    def save(self, sid: str | None, data: dict, *, rotate: bool = False) -> str | None:
        """Write the session ``data``: under a new id when there was none or ``rotate`` (sign-in:
        the id a visitor had before signing in is never the signed-in one). Returns the id; None
        when the session was ended meanwhile (logout elsewhere, revoked): it is not brought back."""
        now = self.now()
        person = _person(data)
        if sid is not None and not rotate:
            with self.engine.begin() as conn:
                done = conn.execute(
                    update(table)
                    .where(table.c.id_hash == _hash(sid))
                    .values(data=_seal(sid, data), seen_at=now, **person)
                ).rowcount
            return sid if done else None
        if sid is not None:
            self._delete(_hash(sid))
        self._purge_now_and_then(now)
        new = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(
                table.insert().values(
                    id_hash=_hash(new),
                    created_at=now,
                    seen_at=now,
                    expires_at=now + self.absolute.total_seconds(),
                    data=_seal(new, data),
                    **person,
                )
            )
        return new

    def touch(self, sid: str, seen_at: float) -> None:
        """Record a request (at most once a minute): the idle limit counts from the last one."""
        now = self.now()
        if now - seen_at < TOUCH_SECONDS:
            return
        with self.engine.begin() as conn:
            conn.execute(update(table).where(table.c.id_hash == _hash(sid)).values(seen_at=now))

    def delete(self, sid: str) -> None:
        self._delete(_hash(sid))

    def _delete(self, h: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(table).where(table.c.id_hash == h))

    def revoke_other_roles(self, sid: str, data: dict) -> int:
        """A sign-in's fresh token: end the person's other sessions signed in with other roles."""
        person = _person(data)
        if not person["subject"]:
            return 0
        stmt = delete(table).where(
            table.c.subject == person["subject"],
            table.c.id_hash != _hash(sid),
            table.c.roles.is_distinct_from(person["roles"]),
        )
        with self.engine.begin() as conn:
            return conn.execute(stmt).rowcount

    def purge(self) -> int:
        """Forget the sessions that have ended: their data at once, their row (which lets the
        login page say "your session has ended") after GRACE_SECONDS. The number deleted."""
        now = self.now()
        idle = self.idle.total_seconds()

        def ended_before(t: float):
            cond = table.c.expires_at <= t
            return (cond | (table.c.seen_at <= t - idle)) if idle else cond

        with self.engine.begin() as conn:
            conn.execute(update(table).where(ended_before(now), table.c.data != b"").values(data=b""))
            return conn.execute(delete(table).where(ended_before(now - GRACE_SECONDS))).rowcount

    def _purge_now_and_then(self, now: float) -> None:
        with self._lock:
            if now - self._purged < PURGE_SECONDS and self._purged <= now:
                return
            self._purged = now
        self.purge()


class ServerSession(CallbackDict, SessionMixin):
    """``flask.session``: a dict that knows its id, whether it changed, and whether it must get a
    new id (``rotate``, at sign-in) or be deleted (``clear`` then nothing written: logout)."""

    def __init__(self, initial: dict | None = None, sid: str | None = None, loaded: Loaded | None = None):
        def on_update(s):
            s.modified = True
            s.accessed = True

        super().__init__(initial, on_update)
        self.sid = sid
        self.loaded = loaded
        self.modified = False
        self.accessed = False
        self.rotate = False
        self.ended = bool(loaded and loaded.ended)  # the cookie named a session that has expired
        self.new = sid is None


class ServerSessionInterface(SessionInterface):
    def __init__(self, store: SessionStore):
        self.store = store

    def open_session(self, app, request) -> ServerSession:
        sid = request.cookies.get(self.get_cookie_name(app))
        if not sid or len(sid) > 100:
            return ServerSession()
        loaded = self.store.load(sid)
        if loaded is None:
            return ServerSession()
        if loaded.ended:
            fresh = ServerSession(loaded=loaded)
            fresh.modified = True  # the cookie is cleared (or replaced) on the way out
            return fresh
        return ServerSession(loaded.data, sid=sid, loaded=loaded)

    def save_session(self, app, session: ServerSession, response) -> None:
        name, domain, path = self.get_cookie_name(app), self.get_cookie_domain(app), self.get_cookie_path(app)
        if not session:
            if session.sid is not None:  # emptied (logout): the session is gone for good
                self.store.delete(session.sid)
            if session.sid is not None or session.modified:
                response.delete_cookie(name, domain=domain, path=path, httponly=True)
            return
        if session.sid is not None and not session.modified and not session.rotate:
            self.store.touch(session.sid, session.loaded.seen_at)
            return
        sid = self.store.save(session.sid, dict(session), rotate=session.rotate)
        if sid is None:  # ended by someone else during this request
            response.delete_cookie(name, domain=domain, path=path, httponly=True)
            return
        if session.rotate:
            self.store.revoke_other_roles(sid, dict(session))
        if sid != session.sid:
            response.set_cookie(
                name,
                sid,
                # the browser keeps it a while past the end, so an ended session can say so
                max_age=int(self.store.absolute.total_seconds() + GRACE_SECONDS),
                domain=domain,
                path=path,
                secure=self.get_cookie_secure(app),
                httponly=True,
                samesite=self.get_cookie_samesite(app) or "Lax",
            )
