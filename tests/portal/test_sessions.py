"""The portal's sessions live on the server: the cookie is an opaque random id, the person's API
token never leaves the server, logout and an operator's revocation end a session for good, and
a session ends after PORTAL_SESSION_MINUTES or when left idle (PORTAL_SESSION_IDLE_MINUTES)."""

from __future__ import annotations

import base64
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from werkzeug.test import Client

from kinerja.cli import main
from services.common.config import ConfigError
from services.portal import sessions
from services.portal.settings import PortalSettings
from tests.plans.support import KASI_A, STAFF_A
from tests.portal.support import Browser
from tests.portal.support import text as page_text

COOKIE = "kinerja_portal"


def _cookie(b: Browser) -> str:
    cookie = b.client.get_cookie(COOKIE)
    assert cookie is not None, "signed in without a session cookie"
    return cookie.value


def _with_cookie(stack, value: str) -> Client:
    """Another browser presenting ``value`` as its session cookie (e.g. one copied before logout)."""
    client = Client(stack.emb.wsgi)
    client.set_cookie(COOKIE, value)
    return client


def _signed_in(client: Client) -> bool:
    resp = client.get("/inbox")
    if resp.status_code == 302:
        assert resp.headers["Location"].startswith("/login"), resp.headers["Location"]
        return False
    assert resp.status_code == 200 and "Notifikasi" in resp.get_data(as_text=True)
    return True


def _store(stack) -> sessions.SessionStore:
    return stack.emb.wsgi.portal.extensions["portal"].sessions


def _rows(stack) -> list[dict]:
    engine = create_engine(_store(stack).url)
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(text(f"SELECT * FROM {sessions.TABLE}"))]
    finally:
        engine.dispose()


class Clock:
    """The sessions' clock (seconds since the epoch), moved by the test."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += minutes * 60


def test_after_logout_the_old_cookie_gets_the_login_page(stack):
    b = stack.browser()
    b.login(STAFF_A[0])
    kept = _cookie(b)  # what someone copied from the browser (or a proxy log) before the logout
    assert _signed_in(_with_cookie(stack, kept))
    b.post("/logout")
    assert not _signed_in(b.client)
    assert not _signed_in(_with_cookie(stack, kept)), "the cookie still signs in after logout"


def test_the_cookie_is_an_opaque_random_value_that_holds_no_token(stack):
    b = stack.browser()
    b.login(STAFF_A[0])
    value = _cookie(b)
    # a random id (256 bits, URL-safe base64), nothing signed or encoded in it
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value), value
    decoded = base64.urlsafe_b64decode(value + "=")
    assert len(decoded) == 32 and b"token" not in decoded and b"eyJ" not in decoded
    other = stack.browser()
    other.login(STAFF_A[0])
    assert _cookie(other) != value  # each sign-in its own id
    login = b.client.post("/logout", data={"csrf_token": b.csrf}, follow_redirects=False)
    assert login.status_code == 302
    b.login(STAFF_A[0])
    assert _cookie(b) != value  # a new sign-in never reuses the old id
    set_cookie = b.client.post(
        "/login", data={"person": STAFF_A[1], "csrf_token": b.csrf}, follow_redirects=False
    ).headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    # the database holds neither the cookie's value nor a token: a read of it signs nobody in
    rows = _rows(stack)
    assert rows and all(set(r) >= {"id_hash", "subject", "expires_at"} for r in rows)
    dump = repr(rows)
    assert _cookie(b) not in dump and _cookie(other) not in dump and "eyJ" not in dump


def test_revoking_a_person_ends_every_session_of_theirs_and_no_one_elses(stack):
    laptop, phone, colleague = stack.browser(), stack.browser(), stack.browser()
    laptop.login(STAFF_A[0])
    phone.login(STAFF_A[0])
    colleague.login(STAFF_A[1])
    assert all(_signed_in(b.client) for b in (laptop, phone, colleague))
    assert sessions.revoke(_store(stack).url, subject=STAFF_A[0]) == 2
    assert not _signed_in(laptop.client) and not _signed_in(phone.client)
    assert _signed_in(colleague.client)
    assert sessions.revoke(_store(stack).url, subject=STAFF_A[0]) == 0


def test_the_operator_revokes_a_person_from_the_command_line(stack):
    b, colleague = stack.browser(), stack.browser()
    b.login(STAFF_A[0])
    colleague.login(STAFF_A[1])
    env = {"PORTAL_DATABASE_URL": _store(stack).url, "KINERJA_MODE": "embedded"}
    result = CliRunner().invoke(main, ["portal", "sessions", "revoke", "--user", STAFF_A[0]], env=env)
    assert result.exit_code == 0, result.output
    assert "1" in result.output
    assert not _signed_in(b.client) and _signed_in(colleague.client)
    refused = CliRunner().invoke(main, ["portal", "sessions", "revoke"], env=env)
    assert refused.exit_code != 0 and "--user" in refused.output  # never "everyone" by omission


def test_a_session_ends_after_its_minutes_and_when_left_idle(stack):
    clock = Clock()
    store = _store(stack)
    store.now = clock
    idle, absolute = store.idle.total_seconds() / 60, store.absolute.total_seconds() / 60
    assert (absolute, idle) == (480, 60)
    # idle: an hour without a request ends it; the login page says so and leads back
    b = stack.browser()
    b.login(STAFF_A[0])
    clock.advance(idle - 1)
    assert _signed_in(b.client)
    clock.advance(idle - 1)  # active a minute before the limit: still signed in
    assert _signed_in(b.client)
    clock.advance(idle + 1)
    resp = b.get("/inbox", follow_redirects=False)
    assert resp.status_code == 302 and "expired=1" in resp.headers["Location"]
    assert "Sesi Anda telah berakhir" in page_text(b.get(resp.headers["Location"]))
    # absolute: busy all day, the session still ends PORTAL_SESSION_MINUTES after sign-in
    b.login(STAFF_A[0])
    for _ in range(int(absolute // 30) - 1):
        clock.advance(30)
        assert _signed_in(b.client)
    clock.advance(31)
    resp = b.get("/inbox", follow_redirects=False)
    assert resp.status_code == 302 and "expired=1" in resp.headers["Location"]
    # a session nobody comes back to: its data is dropped once it has ended, its row half a day later
    other = stack.browser()
    other.login(STAFF_A[1])
    clock.advance(idle + 1)
    store.purge()
    assert [r["data"] for r in _rows(stack) if r["subject"] == STAFF_A[1]] == [b""]
    clock.advance(sessions.GRACE_SECONDS / 60)
    assert store.purge() == 1 and not [r for r in _rows(stack) if r["subject"] == STAFF_A[1]]


def test_signing_in_with_other_roles_ends_the_sessions_that_had_the_old_ones(stack):
    old, same, new = stack.browser(), stack.browser(), stack.browser()
    old.login(KASI_A)
    same.login(KASI_A)
    engine = create_engine(_store(stack).url)
    with engine.begin() as conn:  # the first sign-in happened before Kasi A led a team
        first = conn.execute(text(f"SELECT id_hash FROM {sessions.TABLE} WHERE subject = :s"), {"s": KASI_A}).first()
        conn.execute(text(f"UPDATE {sessions.TABLE} SET roles = 'employee' WHERE id_hash = :h"), {"h": first.id_hash})
    engine.dispose()
    signed = [_signed_in(old.client), _signed_in(same.client)]
    assert signed == [True, True]
    new.login(KASI_A)  # a fresh token: employee and supervisor
    assert _signed_in(new.client)
    # the session with the old roles ended, the other one (same roles) did not
    assert sorted([_signed_in(old.client), _signed_in(same.client)]) == [False, True]


def test_production_keeps_sessions_in_a_shared_database():
    base = {
        "KINERJA_MODE": "production",
        "PORTAL_SECRET_KEY": "x" * 40,
        "PORTAL_API_URL": "http://gateway",
        "PORTAL_OIDC_METADATA_URL": "http://idp/.wk",
        "PORTAL_OIDC_CLIENT_ID": "portal",
    }
    with pytest.raises(ConfigError, match="PORTAL_DATABASE_URL"):
        PortalSettings.from_env(base)
    shared = PortalSettings.from_env({**base, "DATABASE_URL": "postgresql://k:pw@db:5432/postgres"})
    assert shared.database_url == "postgresql://k:pw@db:5432/kinerja_portal"
    own = PortalSettings.from_env({**base, "PORTAL_DATABASE_URL": "postgresql://k:pw@db:5432/sessions"})
    assert own.database_url.endswith("/sessions")
    embedded = PortalSettings.from_env({"KINERJA_VAR": "/srv/kinerja"})
    assert embedded.database_url == "sqlite:////srv/kinerja/portal.db"
    assert (embedded.session_minutes, embedded.session_idle_minutes) == (480, 60)


def test_the_session_table_on_postgresql(postgres_url):
    sessions.upgrade(postgres_url)
    sessions.upgrade(postgres_url)  # again: nothing to do
    now = [1_800_000_000.0]
    store = sessions.SessionStore(postgres_url, absolute_minutes=480, idle_minutes=60, now=lambda: now[0])
    try:
        a = store.save(None, {"user": {"sub": "p1", "roles": ["employee"], "token": "t"}}, rotate=False)
        b = store.save(None, {"user": {"sub": "p1", "roles": ["employee"], "token": "t"}}, rotate=False)
        c = store.save(None, {"user": {"sub": "p2", "roles": ["hr"], "token": "t"}}, rotate=False)
        assert store.load(a).data["user"]["sub"] == "p1"
        assert sessions.revoke(postgres_url, subject="p1") == 2
        assert store.load(a) is None and store.load(b) is None and store.load(c).data["user"]["sub"] == "p2"
        d = store.save(None, {"user": {"sub": "p2", "roles": ["hr", "employee"], "token": "t"}}, rotate=True)
        assert store.revoke_other_roles(d, store.load(d).data) == 1 and store.load(c) is None  # p2's roles changed
        now[0] += 61 * 60
        assert store.load(d).ended and store.load(d) is None
        assert store.purge() == 0  # nothing left past the grace
    finally:
        store.close()
